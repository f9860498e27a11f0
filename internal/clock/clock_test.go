package clock

import (
	"testing"
	"time"
)

// TestClock checks the package clock against the monotonic clock it is
// calibrated on: the two agree to well under a microsecond a second, and
// a duration is never negative.
func TestClock(t *testing.T) {
	if d := firstCalibration - time.Since(epoch); d > 0 {
		time.Sleep(d)
	}
	calibrate(time.Since(epoch))
	t.Logf("time-stamp counter: %v", haveTSC)
	prev := Now()
	for i := range 100_000 {
		m1 := time.Since(epoch)
		pc := Now()
		m2 := time.Since(epoch)
		// The reading falls between the two monotonic ones, give or
		// take the rate's error, a few parts per million.
		tol := time.Microsecond + m2/100_000
		if pc < m1-tol || pc > m2+tol {
			t.Fatalf("reading %d: package clock %v, monotonic clock %v to %v", i, pc, m1, m2)
		}
		if pc < prev-time.Microsecond {
			t.Fatalf("reading %d went back from %v to %v", i, prev, pc)
		}
		prev = pc
	}
	if d := Since(Now() + time.Second); d != 0 {
		t.Errorf("since a later reading = %v, want 0", d)
	}
	start := Now()
	time.Sleep(2 * time.Millisecond)
	if d := Since(start); d < 2*time.Millisecond || d > time.Second {
		t.Errorf("a 2ms sleep measured %v", d)
	}
}
