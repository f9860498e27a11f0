package clock

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestClock checks the clock against the monotonic clock it is calibrated
// on: the two agree to well under a microsecond a second, and a duration
// is never negative.
func TestClock(t *testing.T) {
	if d := firstCalibration - time.Since(epoch); d > 0 {
		time.Sleep(d)
	}
	calibrate(time.Since(epoch))
	t.Logf("time-stamp counter: %v", useTSC.Load())
	prev := Now()
	for i := range 100_000 {
		m1 := time.Since(epoch)
		pc := Now()
		m2 := time.Since(epoch)
		// The reading falls between the two monotonic ones, give or
		// take the rate's error, a few parts per million.
		tol := time.Microsecond + m2/100_000
		if pc < m1-tol || pc > m2+tol {
			t.Fatalf("reading %d: clock %v, monotonic clock %v to %v", i, pc, m1, m2)
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

func TestTrustTSC(t *testing.T) {
	cases := []struct {
		invariant   bool
		clocksource string
		want        bool
	}{
		{true, "tsc\n", true},
		{true, "tsc", true},
		{true, "kvm-clock\n", false}, // the kernel does not keep time with it
		{true, "hpet\n", false},
		{true, "tsc-early\n", false}, // not yet checked against another clock
		{true, "", false},            // no sysfs: not Linux, or not mounted
		{false, "tsc\n", false},
	}
	for _, c := range cases {
		if got := trustTSC(c.invariant, c.clocksource); got != c.want {
			t.Errorf("trustTSC(%v, %q) = %v, want %v", c.invariant, c.clocksource, got, c.want)
		}
	}
}

// TestClocksourceEnv checks that QUERYTRACE_CLOCKSOURCE stands for the
// kernel's clocksource at start-up, whatever this machine's kernel keeps
// time with: the test binary, run again with it set to kvm-clock, reads
// the monotonic clock (TestMonotonicClock, which runs only then).
func TestClocksourceEnv(t *testing.T) {
	if os.Getenv(clocksourceEnv) != "" {
		t.Skipf("%s is set: this is the run the test makes", clocksourceEnv)
	}
	t.Setenv(clocksourceEnv, "hpet")
	if got := clocksource(); got != "hpet" {
		t.Errorf("clocksource() = %q with %s=hpet", got, clocksourceEnv)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMonotonicClock$", "-test.v")
	cmd.Env = append(os.Environ(), clocksourceEnv+"=kvm-clock")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestMonotonicClock") {
		t.Fatalf("with %s=kvm-clock: %v\n%s", clocksourceEnv, err, out)
	}
}

// TestMonotonicClock checks, in the run that TestClocksourceEnv makes,
// that the clock reads the monotonic clock and nothing else: no reading
// falls outside the two monotonic readings around it, well past the time
// the counter's rate would have been measured.
func TestMonotonicClock(t *testing.T) {
	if cs := os.Getenv(clocksourceEnv); cs != "kvm-clock" {
		t.Skipf("runs with %s=kvm-clock (TestClocksourceEnv runs it)", clocksourceEnv)
	}
	if d := firstCalibration + 10*time.Millisecond - time.Since(epoch); d > 0 {
		time.Sleep(d)
	}
	for i := range 10_000 {
		m1 := time.Since(epoch)
		n := Now()
		if m2 := time.Since(epoch); n < m1 || n > m2 {
			t.Fatalf("reading %d: %v, not between the monotonic clock's %v and %v", i, n, m1, m2)
		}
	}
	if Counter() || tscScale.Load() != 0 {
		t.Errorf("the counter is read with the kernel's clocksource kvm-clock")
	}
}

// withCounter runs f with the clock reading the time-stamp counter at
// rate times its true rate, from a fresh origin, and restores the clock
// after.
func withCounter(t testing.TB, rate float64, f func()) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the time-stamp counter is read on amd64 only")
	}
	savedEpoch, savedTSC := epoch, tscEpoch
	savedUse, savedScale, savedCal := useTSC.Load(), tscScale.Load(), calibrated.Load()
	defer func() {
		epoch, tscEpoch = savedEpoch, savedTSC
		useTSC.Store(savedUse)
		tscScale.Store(savedScale)
		calibrated.Store(savedCal)
	}()
	// Measure the true rate over 20ms.
	var t1, t2 uint64
	var m1, m2 time.Duration
	for ok := false; !ok; {
		t1, m1, ok = pairedReading()
	}
	time.Sleep(20 * time.Millisecond)
	for ok := false; !ok; {
		t2, m2, ok = pairedReading()
	}
	scale := float64(m2-m1) / float64(t2-t1)
	for ok := false; !ok; {
		var mono time.Duration
		if tscEpoch, mono, ok = pairedReading(); ok {
			epoch = epoch.Add(mono)
		}
	}
	calibrated.Store(0)
	useTSC.Store(true)
	tscScale.Store(math.Float64bits(scale * rate))
	f()
}

// TestSinceBoundedAbove checks that a counter whose rate went wrong (here
// ten times too fast) cannot make a duration longer than the monotonic
// clock's, and is not read again.
func TestSinceBoundedAbove(t *testing.T) {
	withCounter(t, 10, func() {
		wall := time.Now()
		start := Now()
		time.Sleep(5 * time.Millisecond)
		d := Since(start)
		elapsed := time.Since(wall)
		if d > elapsed || d < 0 {
			t.Errorf("a %v sleep measured %v with a counter running 10x fast", elapsed, d)
		}
		if useTSC.Load() || tscScale.Load() != 0 {
			t.Error("the counter is still trusted after it ran ahead of the monotonic clock")
		}
		m1 := time.Since(epoch)
		n := Now()
		if m2 := time.Since(epoch); n < m1 || n > m2 {
			t.Errorf("after distrust, Now() = %v, want the monotonic clock, between %v and %v", n, m1, m2)
		}
	})
}

// TestRecalibrationDistrusts checks that a recalibration that finds the
// counter far from the monotonic clock stops reading the counter instead
// of folding the error into its rate.
func TestRecalibrationDistrusts(t *testing.T) {
	withCounter(t, 1.5, func() {
		time.Sleep(firstCalibration + 10*time.Millisecond)
		calibrated.Store(-int64(recalibration)) // a recalibration is due
		calibrate(time.Since(epoch))
		if useTSC.Load() || tscScale.Load() != 0 {
			t.Error("the counter is still trusted after it strayed 50% from the monotonic clock")
		}
	})
}

// TestRecalibrationKeepsGoodCounter checks that a counter at its true rate
// survives a recalibration.
func TestRecalibrationKeepsGoodCounter(t *testing.T) {
	withCounter(t, 1, func() {
		time.Sleep(firstCalibration + 10*time.Millisecond)
		calibrated.Store(-int64(recalibration))
		calibrate(time.Since(epoch))
		if !useTSC.Load() || tscScale.Load() == 0 {
			t.Error("a counter at its true rate was distrusted")
		}
		start := Now()
		time.Sleep(2 * time.Millisecond)
		if d := Since(start); d < 2*time.Millisecond || !useTSC.Load() {
			t.Errorf("a 2ms sleep measured %v; counter trusted: %v", d, useTSC.Load())
		}
	})
}

// BenchmarkNow reads the clock as this machine allows (see the log) and,
// on amd64, the counter forced on and the monotonic clock alone.
func BenchmarkNow(b *testing.B) {
	b.Logf("time-stamp counter trusted here: %v", useTSC.Load())
	b.Run("default", func(b *testing.B) {
		for b.Loop() {
			Now()
		}
	})
	b.Run("counter", func(b *testing.B) {
		withCounter(b, 1, func() {
			for b.Loop() {
				Now()
			}
		})
	})
	b.Run("monotonic", func(b *testing.B) {
		for b.Loop() {
			time.Since(epoch)
		}
	})
}
