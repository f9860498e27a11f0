// Package callstack captures the call stacks that issue statements, cheaply
// enough to ride along with every one, and turns them into the application's
// own frames when a report needs them.
package callstack

import (
	"sync/atomic"

	"github.com/querytrace/querytrace/internal/fnv1a"
)

// Depth is how many return addresses a Stack keeps. Between the
// application and the driver, database/sql alone takes about ten frames,
// and a web application's handler sits below a dozen more of net/http and
// middleware: the loop that repeats a statement can be far from it.
const Depth = 48

// A Stack is a call stack as raw return addresses, the innermost first:
// cheap to capture on every statement and turned into file:line only when
// a report needs it.
type Stack struct {
	n   int
	pcs [Depth]uintptr
}

// Capture fills s with the stack of its caller.
//
//go:noinline
func (s *Stack) Capture() {
	s.n, _ = walk(&s.pcs)
}

// Site returns the interned stack of its caller and the stack's hash.
// Not being inlined, it is always the caller of walk and walkHash, whose
// frame they leave out.
// Once a call site has been seen, that costs a walk that stores nothing
// and a table lookup; the first time, a second walk keeps the addresses.
//
//go:noinline
func Site() (*Stack, uint64) {
	h := walkHash()
	if p := lookup(h); p != nil {
		return p, h
	}
	var s Stack
	s.n, _ = walk(&s.pcs)
	return Intern(&s, h), h
}

// Len returns the number of return addresses in s.
func (s *Stack) Len() int { return s.n }

// PCs returns the captured return addresses, for runtime.CallersFrames.
func (s *Stack) PCs() []uintptr { return s.pcs[:s.n] }

// Hash identifies the call site: the same loop calls through the same
// addresses every time.
func (s *Stack) Hash() uint64 { return hashPCs(s.pcs[:s.n]) }

// hashPCs is the hash walk computes as it goes.
func hashPCs(pcs []uintptr) uint64 {
	h := uint64(fnv1a.Offset)
	for _, pc := range pcs {
		h = hashPC(h, pc)
	}
	return hashEnd(h, len(pcs))
}

// hashPC folds one return address into a stack's hash; hashEnd closes it
// with the number of addresses. walk and hashPCs share them so that a
// stack hashes the same whichever computed it.
func hashPC(h uint64, pc uintptr) uint64 { return (h ^ uint64(pc)) * fnv1a.Prime }
func hashEnd(h uint64, n int) uint64     { return (h ^ uint64(n)) * fnv1a.Prime }

// The intern table holds one copy of each call site's stack, so that a
// statement in flight (the rows of a query) carries a pointer where it
// would carry Depth addresses. Call sites are few and fixed for the life
// of a program; a program with more than the table holds keeps a copy per
// statement for the rest, which costs an allocation, not a wrong call
// site.
const (
	internSlots = 1 << 12
	internProbe = 8
)

type internedStack struct {
	hash uint64
	s    Stack
}

var interned [internSlots]atomic.Pointer[internedStack]

// lookup returns the table's stack whose hash is h, or nil.
func lookup(h uint64) *Stack {
	for i := range uint64(internProbe) {
		p := interned[(h+i)%internSlots].Load()
		if p == nil {
			return nil
		}
		if p.hash == h {
			return &p.s
		}
	}
	return nil
}

// Intern returns the table's copy of s, whose hash is h, adding it if
// there is room. The hash is the call site's identity (groups are keyed
// by it), so a stack with the same hash is the same call site. The result
// is shared: it must not be written.
func Intern(s *Stack, h uint64) *Stack {
	for i := range uint64(internProbe) {
		slot := &interned[(h+i)%internSlots]
		p := slot.Load()
		if p == nil {
			n := &internedStack{hash: h, s: *s}
			if slot.CompareAndSwap(nil, n) {
				return &n.s
			}
			p = slot.Load()
		}
		if p.hash == h {
			return &p.s
		}
	}
	c := *s
	return &c
}
