package callstack

import (
	"runtime"
	"strings"
	"testing"
)

// twoSites calls Site from two lines.
func twoSites() (a, b *Stack, ha, hb uint64) {
	a, ha = Site()
	b, hb = Site()
	return
}

// TestSite checks the hot path's call sites: the walk's hash is the
// stored stack's, one line is one interned stack, and two lines are two.
func TestSite(t *testing.T) {
	var got [2]*Stack
	var hashes [2]uint64
	for i := range got {
		got[i], hashes[i] = Site() // the same line twice
	}
	if got[0] != got[1] || hashes[0] != hashes[1] {
		t.Errorf("one call site gave two stacks: %p %p, hashes %x %x", got[0], got[1], hashes[0], hashes[1])
	}
	if h := got[0].Hash(); h != hashes[0] {
		t.Errorf("walk hashed %x, the stored stack hashes %x", hashes[0], h)
	}
	a, b, ha, hb := twoSites()
	if a == b || ha == hb {
		t.Errorf("two call sites gave one stack")
	}
	frames := got[0].AppFrames(1)
	if len(frames) != 1 || !strings.HasSuffix(frames[0].File, "stack_test.go") || frames[0].Function != "github.com/querytrace/querytrace/internal/callstack.TestSite" {
		t.Errorf("the call site is %v, want this test's line", frames)
	}
}

// TestCapture checks that Capture starts at its caller's line: two calls
// on two lines are two call sites.
func TestCapture(t *testing.T) {
	var a, b Stack
	a.Capture()
	b.Capture()
	if a.Len() == 0 || a.Hash() == b.Hash() {
		t.Fatalf("two lines gave the same stack (%d frames)", a.Len())
	}
	f := a.AppFrames(1)
	if len(f) != 1 || f[0].Function != "github.com/querytrace/querytrace/internal/callstack.TestCapture" {
		t.Errorf("Capture's first application frame is %v", f)
	}
	all, app := a.Frames()
	if len(all) <= 1 || len(all) != len(app) || app[len(app)-1] {
		t.Errorf("Frames = %v %v, want this test and testing's frames above it, those not the application's", all, app)
	}
}

// TestIntern checks the intern table: the same hash gives the same copy,
// and a stack that finds the table crowded still gets a copy of its own.
func TestIntern(t *testing.T) {
	var s Stack
	s.Capture()
	h := s.Hash()
	p := Intern(&s, h)
	if p == &s || *p != s || Intern(&s, h) != p || lookup(h) != p {
		t.Fatalf("Intern did not keep one copy of the stack")
	}
	// Fill every slot that hash c probes with other stacks: c finds no
	// room, and its stack must still come back whole.
	base := h + 1<<40
	for i := range uint64(internProbe) {
		other := s
		other.pcs[0] += uintptr(i + 1)
		Intern(&other, base+i)
	}
	c := base + 7*internSlots
	crowded := s
	crowded.pcs[1]++
	q := Intern(&crowded, c)
	if *q != crowded || lookup(c) != nil {
		t.Errorf("a crowded table lost the stack or took it anyway")
	}
}

//go:noinline
func forkOutside(s *Stack) { s.Capture() }

// forkLoop and forkStatement may be inlined: Fork then finds the line
// among the frames of one return address.
func forkLoop(s *Stack)      { forkStatement(s) }
func forkStatement(s *Stack) { s.Capture() }

// TestFork checks that Fork names the line where one stack's path leaves
// another's: the loop's line, two calls above the statement.
func TestFork(t *testing.T) {
	var outside, loop Stack
	forkOutside(&outside)
	_, _, want, _ := runtime.Caller(0)
	forkLoop(&loop) // the line after Caller's
	f, depth, ok := loop.Fork(&outside)
	if !ok || f.Function != "github.com/querytrace/querytrace/internal/callstack.TestFork" || f.Line != want+1 {
		t.Errorf("Fork = %v, %v, want TestFork:%d", f, ok, want+1)
	}
	if depth < 0 || depth >= loop.Len() {
		t.Errorf("depth %d of %d addresses", depth, loop.Len())
	}
	if _, _, ok := loop.Fork(&loop); ok {
		t.Errorf("a stack forks from itself")
	}
	if _, _, ok := loop.Fork(&Stack{}); ok {
		t.Errorf("a stack forks from an empty one")
	}
	if f, ok := loop.Outermost(); !ok || f.Function != "github.com/querytrace/querytrace/internal/callstack.TestFork" {
		t.Errorf("Outermost = %v, %v, want TestFork", f, ok)
	}
}

//go:noinline
func rulesLater(s *Stack) { s.Capture() }

// TestRulesAfterRead checks that a rule added after a stack was read
// applies when it is read again: the stack table's entry for it is stale.
func TestRulesAfterRead(t *testing.T) {
	var s Stack
	rulesLater(&s)
	const helper = "github.com/querytrace/querytrace/internal/callstack.rulesLater"
	if f := s.AppFrames(1); len(f) != 1 || f[0].Function != helper {
		t.Fatalf("first application frame %v, want %s", f, helper)
	}
	Library(helper)
	if f := s.AppFrames(1); len(f) != 1 || f[0].Function != "github.com/querytrace/querytrace/internal/callstack.TestRulesAfterRead" {
		t.Errorf("after Library(%s), the first application frame is %v", helper, f)
	}
}

// bothWalks returns the hashes walk and walkHash find from one frame.
//
//go:noinline
func bothWalks() (uint64, uint64) {
	_, h := walk(nil)
	return h, walkHash()
}

//go:noinline
func walksAt(depth int) (uint64, uint64) {
	if depth > 0 {
		return walksAt(depth - 1)
	}
	return bothWalks()
}

// TestWalkHash checks that walkHash hashes what walk does, on stacks
// shorter and longer than Depth.
func TestWalkHash(t *testing.T) {
	for _, d := range []int{0, 5, Depth - 10, Depth, 2 * Depth} {
		if a, b := walksAt(d); a != b {
			t.Errorf("at depth %d: walk hashed %x, walkHash %x", d, a, b)
		}
	}
}
