//go:build amd64 || arm64

package callstack

import (
	"unsafe"

	"github.com/querytrace/querytrace/internal/fnv1a"
)

// framePointer returns the frame pointer register of its caller's frame.
// It is written in assembly because Go offers no portable way to read it.
func framePointer() unsafe.Pointer

// maxFrameGap bounds the distance between two frames that walk follows.
const maxFrameGap = 1 << 20

// walk follows the frame-pointer chain, the way the runtime's execution
// tracer does, from the frame of its caller's caller: the return address
// into walk's caller is left out, so that every call of walk in one
// function sees the same stack. It hashes the return addresses (as
// hashPCs does) and, when pcs is not nil, stores them. It costs about a
// nanosecond a frame where runtime.Callers costs tens, which is what lets
// a call site ride along with every statement. The addresses are the kind
// runtime.Callers returns, so runtime.CallersFrames symbolizes them,
// inlined frames included.
//
//go:nosplit
func walk(pcs *[Depth]uintptr) (n int, h uint64) {
	h = fnv1a.Offset
	fp := next(framePointer())
	for n < Depth && fp != nil {
		pc := *(*uintptr)(unsafe.Add(fp, unsafe.Sizeof(uintptr(0))))
		if pcs != nil {
			pcs[n] = pc
		}
		h = hashPC(h, pc)
		n++
		fp = next(fp)
	}
	return n, hashEnd(h, n)
}

// next returns the frame above fp, or nil where the chain ends. Callers'
// frames sit above ours on the same stack; a chain that goes down or leaps
// far (a cgo callback's C frames) is not followed.
//
//go:nosplit
func next(fp unsafe.Pointer) unsafe.Pointer {
	if fp == nil {
		return nil
	}
	up := *(*unsafe.Pointer)(fp)
	if !followed(uintptr(fp), uintptr(up)) {
		return nil
	}
	return up
}

// followed reports whether walk goes from the frame at fp to the one at
// up: up lies above fp, by maxFrameGap at most. It is one comparison: for
// up at or below fp the difference wraps around past maxFrameGap.
//
//go:nosplit
func followed(fp, up uintptr) bool {
	return up-fp-1 < maxFrameGap
}

// walkHash is walk without the addresses: the hash alone, which is all a
// call site seen before needs, in a loop of its own that does no more
// than each frame needs.
//
//go:nosplit
func walkHash() uint64 {
	h := uint64(fnv1a.Offset)
	fp := next(framePointer())
	if fp == nil {
		return hashEnd(h, 0)
	}
	n := 1
	for ; ; n++ {
		h = hashPC(h, *(*uintptr)(unsafe.Add(fp, unsafe.Sizeof(uintptr(0)))))
		up := *(*unsafe.Pointer)(fp)
		if n == Depth || !followed(uintptr(fp), uintptr(up)) {
			break
		}
		fp = up
	}
	return hashEnd(h, n)
}
