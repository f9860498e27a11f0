package compare

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkInterleaved runs each workload through every wrapper in one
// benchmark: a request through each in turn, the order rotating from one
// round to the next, so that a slow spell of the machine, or the order
// itself, weighs on all of them alike. It reports each wrapper's time per
// op (<wrapper>-ns/op: a statement, a transaction for Tx5) and its ratio
// over the raw driver's in the same run (<wrapper>/raw), which is the
// figure to read. raw-control is the raw driver again, on a database of
// its own: its ratio is the harness's own error, and should read 1.00.
//
// COMPARE_WRAPPERS, a comma-separated list, picks the wrappers (raw is
// always run); by default all of them run:
//
//	COMPARE_WRAPPERS=querytrace,sqlhooks go test -run '^$' -bench Interleaved -count 10
func BenchmarkInterleaved(b *testing.B) {
	ws, err := interleavedWrappers(os.Getenv("COMPARE_WRAPPERS"))
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range workloads {
		for _, dbName := range dbs() {
			b.Run(w.name+"/db="+dbName, func(b *testing.B) {
				targets := make([]*target, len(ws))
				for i, wrapper := range ws {
					targets[i] = targetFor(b, dbName, wrapper)
				}
				times := make([]time.Duration, len(ws))
				b.ResetTimer()
				for done, round := 0, 0; done < b.N; round++ {
					n := min(w.perRequest, b.N-done)
					for k := range ws {
						i := (k + round) % len(ws)
						t0 := time.Now()
						runRequest(b, targets[i], ws[i], w, done, n)
						times[i] += time.Since(t0)
					}
					done += n
				}
				b.StopTimer()
				for i, wrapper := range ws {
					b.ReportMetric(float64(times[i].Nanoseconds())/float64(b.N), wrapper+"-ns/op")
					if i > 0 {
						b.ReportMetric(float64(times[i])/float64(times[0]), wrapper+"/raw")
					}
				}
				// ns/op of the benchmark itself is every wrapper's
				// time together: no figure to read.
			})
		}
	}
}

// interleavedWrappers returns the wrappers BenchmarkInterleaved runs:
// raw first, then raw-control and the others, or those list names (which
// may name diagnostics too).
func interleavedWrappers(list string) ([]string, error) {
	all := append([]string{"raw", "raw-control"}, wrappers[1:]...)
	if list == "" {
		return all, nil
	}
	all = append(all, diagnostics...)
	out := []string{"raw"}
	for _, w := range strings.Split(list, ",") {
		w = strings.TrimSpace(w)
		if w == "" || w == "raw" {
			continue
		}
		if !slices.Contains(all, w) {
			return nil, fmt.Errorf("COMPARE_WRAPPERS: unknown wrapper %q (known: %s)", w, strings.Join(all, ", "))
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out, nil
}
