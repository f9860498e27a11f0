//go:build amd64 || arm64

package querytrace

import "unsafe"

// framePointer returns the frame pointer register of its caller's frame.
// It is written in assembly because Go offers no portable way to read it.
func framePointer() unsafe.Pointer

// walkStack fills pcs with return addresses by following the frame-pointer
// chain, the way the runtime's execution tracer does. It costs about a
// nanosecond a frame where runtime.Callers costs tens, which is what lets a
// call site ride along with every statement. The addresses are the same kind
// runtime.Callers returns, so runtime.CallersFrames symbolizes them, inlined
// frames included.
//
// maxFrameGap bounds the distance between two frames that walkStack follows.
const maxFrameGap = 1 << 20

//go:nosplit
func walkStack(pcs []uintptr) int {
	fp := framePointer()
	n := 0
	for n < len(pcs) && fp != nil {
		pcs[n] = *(*uintptr)(unsafe.Add(fp, unsafe.Sizeof(uintptr(0))))
		n++
		next := *(*unsafe.Pointer)(fp)
		// Callers' frames sit above ours on the same stack. A chain that
		// goes down or leaps far (a cgo callback's C frames) is not
		// followed.
		if uintptr(next) <= uintptr(fp) || uintptr(next)-uintptr(fp) > maxFrameGap {
			break
		}
		fp = next
	}
	return n
}
