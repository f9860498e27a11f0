package querytrace

import (
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
