//go:build amd64 || arm64

package callstack

import "testing"

// TestFollowed checks the one comparison that decides whether a walk goes
// on to the next frame: only upwards, and by maxFrameGap at most.
func TestFollowed(t *testing.T) {
	base := uintptr(1 << 40)
	for _, c := range []struct {
		fp, up uintptr
		want   bool
	}{
		{base, base + 16, true},
		{base, base + maxFrameGap, true},
		{base, base + maxFrameGap + 1, false},
		{base, base, false},
		{base, base - 16, false},
		{base, 0, false},
		{^uintptr(0) - 8, ^uintptr(0), true},
	} {
		if got := followed(c.fp, c.up); got != c.want {
			t.Errorf("followed(%#x, %#x) = %v, want %v", c.fp, c.up, got, c.want)
		}
	}
}
