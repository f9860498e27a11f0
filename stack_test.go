package querytrace

import (
	"strings"
	"testing"
)

// twoSites calls siteOf from two lines.
func twoSites() (a, b *Stack, ha, hb uint64) {
	a, ha = siteOf()
	b, hb = siteOf()
	return
}

// TestSiteOf checks the hot path's call sites: the walk's hash is the
// stored stack's, one line is one interned stack, and two lines are two.
func TestSiteOf(t *testing.T) {
	var got [2]*Stack
	var hashes [2]uint64
	for i := range got {
		got[i], hashes[i] = siteOf() // the same line twice
	}
	if got[0] != got[1] || hashes[0] != hashes[1] {
		t.Errorf("one call site gave two stacks: %p %p, hashes %x %x", got[0], got[1], hashes[0], hashes[1])
	}
	if h := got[0].hash(); h != hashes[0] {
		t.Errorf("walk hashed %x, the stored stack hashes %x", hashes[0], h)
	}
	a, b, ha, hb := twoSites()
	if a == b || ha == hb {
		t.Errorf("two call sites gave one stack")
	}
	frames := got[0].appFrames(1)
	if len(frames) != 1 || !strings.HasSuffix(frames[0].File, "stack_test.go") || frames[0].Function != "github.com/querytrace/querytrace.TestSiteOf" {
		t.Errorf("the call site is %v, want this test's line", frames)
	}
}

// TestCaptureStack checks that CaptureStack starts at its caller's line:
// two calls on two lines are two call sites.
func TestCaptureStack(t *testing.T) {
	a := CaptureStack()
	b := CaptureStack()
	if a.n == 0 || a.hash() == b.hash() {
		t.Fatalf("two lines gave the same stack (%d frames)", a.n)
	}
	f := a.appFrames(1)
	if len(f) != 1 || f[0].Function != "github.com/querytrace/querytrace.TestCaptureStack" {
		t.Errorf("CaptureStack's first application frame is %v", f)
	}
}

// TestIntern checks the intern table: the same hash gives the same copy,
// and a stack that finds the table crowded still gets a copy of its own.
func TestIntern(t *testing.T) {
	s := CaptureStack()
	h := s.hash()
	p := intern(&s, h)
	if p == &s || *p != s || intern(&s, h) != p || lookupStack(h) != p {
		t.Fatalf("intern did not keep one copy of the stack")
	}
	// Fill every slot that hash c probes with other stacks: c finds no
	// room, and its stack must still come back whole.
	base := h + 1<<40
	for i := range uint64(internProbe) {
		other := s
		other.pcs[0] += uintptr(i + 1)
		intern(&other, base+i)
	}
	c := base + 7*internSlots
	crowded := s
	crowded.pcs[1]++
	q := intern(&crowded, c)
	if *q != crowded || lookupStack(c) != nil {
		t.Errorf("a crowded table lost the stack or took it anyway")
	}
}
