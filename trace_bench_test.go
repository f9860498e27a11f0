package querytrace

import (
	"context"
	"testing"

	"github.com/querytrace/querytrace/internal/clock"
)

// BenchmarkTraceLifecycle is what a request of 100 statements from one
// call site pays besides the statements: Start, folding each statement
// into its group, and Finish building and classifying the report.
func BenchmarkTraceLifecycle(b *testing.B) {
	st, h := siteOf()
	b.ReportAllocs()
	for b.Loop() {
		_, tr := Start(context.Background(), "request")
		for i := range 100 {
			r := rec{kind: KindQuery, sql: "SELECT v FROM t WHERE id = ?", stack: st, site: h, args: argSum{hash: uint64(i)}, start: clock.Now(), dur: 1000, rowsDur: 2000, rows: 1}
			tr.record(&r)
		}
		tr.Finish()
	}
}
