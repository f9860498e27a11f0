// Package clock is querytrace's statement clock: durations since an
// origin, read from the processor's time-stamp counter where both the
// processor and the kernel trust it, and from the monotonic clock
// elsewhere.
package clock

import (
	"math"
	"sync/atomic"
	"time"
)

// The package clock times every statement, two or three readings each, so
// its own cost shows: on a virtual machine whose kernel clock is
// kvm-clock, time.Since costs about 30 ns, a tenth of the whole budget of
// the wrapper on an SQLite query. Where the processor has an invariant
// time-stamp counter (one that ticks at a constant rate whatever the
// power state, on every core, as the kernel also relies on), a reading is
// the counter, about 10 ns, scaled to nanoseconds by a rate measured
// against the monotonic clock. Elsewhere, and for the first moments of
// the process until the rate is known, a reading is time.Since(epoch).
//
// The clock reads durations since epoch. Traces read their start from the
// monotonic clock and recalibrate the rate at most once a second, over the
// whole time since epoch, so the two clocks stay within a fraction of a
// microsecond of each other.

// epoch is the origin of the package clock; tscEpoch is the counter then.
var (
	epoch    time.Time
	tscEpoch uint64
	haveTSC  bool
)

// tscScale holds math.Float64bits of nanoseconds per tick, 0 until
// calibrated; calibrated is when that was, on the package clock.
var (
	tscScale   atomic.Uint64
	calibrated atomic.Int64
)

const (
	// firstCalibration is how long the counter runs before its rate is
	// trusted: long enough that the reading's own jitter (tens of ns)
	// is a few parts per million.
	firstCalibration = 50 * time.Millisecond
	// recalibration is how often traces refine the rate.
	recalibration = time.Second
)

func init() {
	haveTSC = invariantTSC()
	epoch = time.Now()
	if haveTSC {
		var ok bool
		for range 10 {
			var mono time.Duration
			if tscEpoch, mono, ok = pairedReading(); ok {
				epoch = epoch.Add(mono)
				break
			}
		}
		haveTSC = ok
	}
}

// maxPairTicks bounds the ticks between the two counter readings that
// bracket a reading of the monotonic clock: a pair further apart was
// interrupted (a preempted thread, a descheduled virtual processor) and
// would skew the rate.
const maxPairTicks = 2_000

// pairedReading reads the monotonic clock between two readings of the
// counter and returns the counter at the middle, the monotonic reading,
// and whether the pair was close enough to use.
func pairedReading() (tsc uint64, mono time.Duration, ok bool) {
	t1 := ticks()
	mono = time.Since(epoch)
	t2 := ticks()
	return t1 + (t2-t1)/2, mono, t2-t1 < maxPairTicks
}

// Now returns the time since the clock's origin.
func Now() time.Duration {
	if s := tscScale.Load(); s != 0 {
		return time.Duration(float64(ticks()-tscEpoch) * math.Float64frombits(s))
	}
	return calibrate(time.Since(epoch))
}

// calibrate measures the counter's rate when that is due, given mono, a
// reading of the monotonic clock just taken, and returns mono.
func calibrate(mono time.Duration) time.Duration {
	if !haveTSC || mono < firstCalibration {
		return mono
	}
	last := calibrated.Load()
	if last != 0 && mono-time.Duration(last) < recalibration {
		return mono
	}
	tsc, m, ok := pairedReading()
	if ok && calibrated.CompareAndSwap(last, int64(m)) {
		tscScale.Store(math.Float64bits(float64(m) / float64(tsc-tscEpoch)))
	}
	return mono
}

// Since returns the time from start, a reading of Now, until now; never
// negative, even across a recalibration.
func Since(start time.Duration) time.Duration {
	return max(Now()-start, 0)
}

// Of returns t, a reading of the monotonic clock, on this clock, and
// refines the counter's rate when that is due.
func Of(t time.Time) time.Duration {
	return calibrate(t.Sub(epoch))
}
