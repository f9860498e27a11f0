//go:build !amd64 && !arm64

package querytrace

import "runtime"

// walkStack fills pcs with the return addresses of its callers. Platforms
// without a frame-pointer walk pay runtime.Callers' price.
func walkStack(pcs []uintptr) int {
	return runtime.Callers(2, pcs)
}
