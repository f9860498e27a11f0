package querytrace

import (
	"strings"
	"testing"
)

// TestCaptureStack checks that CaptureStack starts at its caller's line:
// two calls on two lines are two call sites.
func TestCaptureStack(t *testing.T) {
	a := CaptureStack()
	b := CaptureStack()
	if a.s.Len() == 0 || a.s.Hash() == b.s.Hash() {
		t.Fatalf("two lines gave the same stack (%d frames)", a.s.Len())
	}
	f := framesOf(a.s.AppFrames(1))
	if len(f) != 1 || f[0].Function != "github.com/querytrace/querytrace.TestCaptureStack" {
		t.Errorf("CaptureStack's first application frame is %v", f)
	}
}

// TestRecentShapes checks the table of recent query strings: a string at a
// new address with the text of another gets that text's shape, and two
// texts never share one.
func TestRecentShapes(t *testing.T) {
	q1 := "SELECT a FROM t WHERE id = 1"
	s1, fp1 := shapeOf(q1, DialectGeneric)
	again, fpAgain := shapeOf(q1, DialectGeneric)
	copied := strings.Clone(q1)
	s2, fp2 := shapeOf(copied, DialectGeneric)
	other, fpOther := shapeOf(strings.Replace(q1, "a", "b", 1), DialectGeneric)
	if s1 != again || fp1 != fpAgain || s1 != s2 || fp1 != fp2 {
		t.Errorf("one text, two shapes: %q %q %q", s1, again, s2)
	}
	if other == s1 || fpOther == fp1 {
		t.Errorf("two texts, one shape %q", other)
	}
	pg, _ := shapeOf(`SELECT "a" FROM t`, DialectPostgres)
	my, _ := shapeOf(`SELECT "a" FROM t`, DialectMySQL)
	if pg == my {
		t.Errorf("the dialect is not part of the key: %q for both", pg)
	}
}
