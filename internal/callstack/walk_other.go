//go:build !amd64 && !arm64

package callstack

import "runtime"

// walk hashes and, when pcs is not nil, stores the return addresses of
// its caller's callers, as the frame-pointer walk does on amd64 and arm64.
// Platforms without that walk pay runtime.Callers' price.
func walk(pcs *[Depth]uintptr) (n int, h uint64) {
	var buf [Depth]uintptr
	n = runtime.Callers(3, buf[:])
	if pcs != nil {
		*pcs = buf
	}
	return n, hashPCs(buf[:n])
}

// walkHash is the hash walk returns.
func walkHash() uint64 {
	var buf [Depth]uintptr
	n := runtime.Callers(3, buf[:])
	return hashPCs(buf[:n])
}
