// Package clock is querytrace's statement clock: durations since an
// origin, read from the processor's time-stamp counter where both the
// processor and the kernel trust it, and from the monotonic clock
// elsewhere.
package clock

import (
	"math"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// The clock times every statement, two readings each, so its own
// cost shows: on a virtual machine whose kernel clock is kvm-clock,
// time.Since costs about 30 ns, a tenth of the whole budget of the wrapper
// on an SQLite query. Where the processor has an invariant time-stamp
// counter (one that ticks at a constant rate whatever the power state, on
// every core) and the kernel keeps its own time with it (its current
// clocksource is "tsc": the kernel found the counter stable and in step
// across processors, which the processor's flag alone does not promise on
// a virtual machine or an old multi-socket board), a reading is the
// counter, about 10 ns, scaled to nanoseconds by a rate measured against
// the monotonic clock. Elsewhere, and for the first moments of the process
// until the rate is known, a reading is time.Since(epoch).
//
// The clock reads durations since epoch. Traces read their start from the
// monotonic clock and recalibrate the rate at most once a second, over the
// whole time since epoch, so the two clocks stay within a fraction of a
// microsecond of each other. A recalibration that finds them further
// apart, or a duration longer than the monotonic clock says could have
// passed, means the counter cannot be trusted (it jumped, or its rate
// changed): the clock then reads the monotonic clock for the rest of the
// process, and the duration is bounded by the monotonic clock's.

// clocksourceFile names the kernel's current clocksource on Linux.
const clocksourceFile = "/sys/devices/system/clocksource/clocksource0/current_clocksource"

// clocksourceEnv names an environment variable that, when set, stands for
// the kernel's current clocksource as the clock reads it at start-up. It
// is for benchmarks: QUERYTRACE_CLOCKSOURCE=kvm-clock measures, on a
// machine whose kernel trusts the counter, what querytrace costs on one
// that keeps time with kvm-clock (the monotonic clock for every reading),
// without touching the machine's clocksource. "tsc" there does not make a
// processor without an invariant counter read it.
const clocksourceEnv = "QUERYTRACE_CLOCKSOURCE"

// clocksource returns the kernel's current clocksource, or what
// clocksourceEnv says in its place.
func clocksource() string {
	if cs := os.Getenv(clocksourceEnv); cs != "" {
		return cs
	}
	cs, _ := os.ReadFile(clocksourceFile)
	return string(cs)
}

// epoch is the origin of the clock; tscEpoch is the counter then.
var (
	epoch    time.Time
	tscEpoch uint64
)

// useTSC is whether the counter may be read; it only ever turns false.
// tscScale holds math.Float64bits of nanoseconds per tick, 0 until
// calibrated (and again once the counter is distrusted); calibrated is
// when that was, on the clock.
var (
	useTSC     atomic.Bool
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
	// checkAbove is the duration from which Since checks a counter
	// reading against the monotonic clock: a statement this long can
	// afford the 30 ns, and a counter gone wrong shows as long durations.
	checkAbove = time.Millisecond
)

func init() {
	ok := trustTSC(invariantTSC(), clocksource())
	epoch = time.Now()
	if ok {
		ok = false
		for range 10 {
			var mono time.Duration
			if tscEpoch, mono, ok = pairedReading(); ok {
				epoch = epoch.Add(mono)
				break
			}
		}
	}
	useTSC.Store(ok)
}

// trustTSC reports whether the counter may time statements: the processor
// says it is invariant and the kernel, whose current clocksource is
// clocksource, keeps its own time with it.
func trustTSC(invariant bool, clocksource string) bool {
	return invariant && strings.TrimSpace(clocksource) == "tsc"
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

// Counter reports whether the clock may read the time-stamp counter: it
// does once its rate is known, unless it is distrusted later. Benchmarks
// log it, since the clock's cost differs by a few times between the two.
func Counter() bool { return useTSC.Load() }

// Now returns the time since the clock's origin.
func Now() time.Duration {
	if s := tscScale.Load(); s != 0 {
		return scaled(ticks(), s)
	}
	mono := time.Since(epoch)
	if !useTSC.Load() {
		return mono // the monotonic clock alone: nothing to calibrate
	}
	return calibrate(mono)
}

// scaled returns the counter reading tsc in nanoseconds since epoch at the
// rate held in scale.
func scaled(tsc, scale uint64) time.Duration {
	return time.Duration(float64(tsc-tscEpoch) * math.Float64frombits(scale))
}

// calibrate measures the counter's rate when that is due, given mono, a
// reading of the monotonic clock just taken, and returns mono.
func calibrate(mono time.Duration) time.Duration {
	if mono < firstCalibration || !useTSC.Load() {
		return mono
	}
	last := calibrated.Load()
	if last != 0 && mono-time.Duration(last) < recalibration {
		return mono
	}
	tsc, m, ok := pairedReading()
	if !ok {
		return mono
	}
	if s := tscScale.Load(); s != 0 {
		if d := scaled(tsc, s) - m; d > tolerance(m) || -d > tolerance(m) {
			distrust()
			return mono
		}
	}
	if calibrated.CompareAndSwap(last, int64(m)) {
		tscScale.Store(math.Float64bits(float64(m) / float64(tsc-tscEpoch)))
		if !useTSC.Load() {
			tscScale.Store(0) // distrusted meanwhile
		}
	}
	return mono
}

// tolerance is how far a counter reading may stray from a reading of the
// monotonic clock, mono, taken with it: a millisecond and a thousandth of
// the time since the rate was last measured (the kernel slews its clock
// by at most 500 parts per million).
func tolerance(mono time.Duration) time.Duration {
	return time.Millisecond + max(mono-time.Duration(calibrated.Load()), 0)/1000
}

// distrust stops reading the counter for the rest of the process.
func distrust() {
	useTSC.Store(false)
	tscScale.Store(0)
}

// Since returns the time from start, a reading of Now, until now; never
// negative, even across a recalibration, and never longer than the
// monotonic clock says could have passed.
func Since(start time.Duration) time.Duration {
	n := Now()
	if d := n - start; d < checkAbove || !useTSC.Load() {
		return max(d, 0) // short, or read off the monotonic clock itself
	}
	return bounded(n, start, time.Since(epoch))
}

// bounded returns the duration from start to n, two readings of the clock,
// given mono, a reading of the monotonic clock taken just after n. A
// counter reading ahead of mono means the counter jumped or its rate went
// wrong: it is distrusted, and the duration ends at mono.
func bounded(n, start, mono time.Duration) time.Duration {
	if n > mono+tolerance(mono) {
		distrust()
	}
	return max(min(n, mono)-start, 0)
}

// Of returns t, a reading of the monotonic clock, on this clock, and
// refines the counter's rate when that is due.
func Of(t time.Time) time.Duration {
	return calibrate(t.Sub(epoch))
}
