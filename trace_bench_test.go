package querytrace

import (
	"context"
	"fmt"
	"testing"

	"github.com/querytrace/querytrace/internal/clock"
)

// BenchmarkTraceLifecycle is what a request of n statements from one call
// site pays besides the statements: Start, folding each statement into its
// group, and Finish building and classifying the report, with its N+1.
// Ten is the request of bench/compare, where this is most of querytrace's
// cost over the raw driver.
func BenchmarkTraceLifecycle(b *testing.B) {
	defer func(f func(*Report)) { reportBuilt = f }(reportBuilt)
	reportBuilt = nil // the package tests' own check
	st, h := siteOf()
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, tr := Start(context.Background(), "request")
				for i := range n {
					r := rec{kind: KindQuery, sql: "SELECT v FROM t WHERE id = ?", stack: st, site: h, args: argSum{hash: uint64(i)}, start: clock.Now(), dur: 1000, rowsDur: 2000, rows: 1}
					tr.record(&r)
				}
				tr.Finish()
			}
		})
	}
}
