// Package interleave compares two ways of doing one operation inside a Go
// benchmark, robustly on a noisy machine: it runs them in alternating
// blocks, and swaps which goes first on every block, so that a slow spell
// of the machine, or the order itself, hits both alike. querytrace's
// overhead benchmarks (the driver wrapper, the pgx tracer, the demo's page)
// all measure with it.
package interleave

import (
	"testing"
	"time"
)

// Run runs b.N operations of raw and of traced, each called with how many
// to run now (at most block), and reports the time per operation of each
// as "raw-ns/"+unit and "traced-ns/"+unit, and their ratio as
// "traced/raw". Everything traced does is timed, so work it does at the
// end of a block (finishing a trace, say) counts against it.
func Run(b *testing.B, block int, unit string, raw, traced func(n int)) {
	var rawTime, tracedTime time.Duration
	timed := func(side func(int), n int, total *time.Duration) {
		t0 := time.Now()
		side(n)
		*total += time.Since(t0)
	}
	b.ResetTimer()
	for done, k := 0, 0; done < b.N; done, k = done+block, k+1 {
		n := min(block, b.N-done)
		if k%2 == 0 {
			timed(raw, n, &rawTime)
			timed(traced, n, &tracedTime)
		} else {
			timed(traced, n, &tracedTime)
			timed(raw, n, &rawTime)
		}
	}
	b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/"+unit)
	b.ReportMetric(float64(tracedTime.Nanoseconds())/float64(b.N), "traced-ns/"+unit)
	b.ReportMetric(float64(tracedTime)/float64(rawTime), "traced/raw")
}
