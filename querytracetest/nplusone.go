package querytracetest

import (
	"context"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/human"
)

// NoNPlusOne starts a trace on ctx and returns the traced context; the test
// fails if the report of the statements run with it finds an N+1: one
// statement run twice or more from one call site with different arguments.
// Duplicates (same arguments) are marked in the failure, not failed on.
//
// allow exempts known and accepted repeats, each with its reason; so does
// running them under querytrace.Pause.
func NoNPlusOne(t testing.TB, ctx context.Context, allow ...querytrace.Allow) context.Context {
	t.Helper()
	for _, a := range allow {
		if a.Reason == "" {
			t.Fatalf("querytracetest.NoNPlusOne: an Allow entry without a Reason: %+v", a)
		}
	}
	d := testDetector
	d.Allow = allow
	ctx = watch(t, ctx, func(r *querytrace.Report) {
		t.Helper()
		if n := len(r.NPlusOne); n > 0 {
			t.Errorf("querytrace: %s in %s (db time %s)\n%s",
				human.Plural(n, "N+1 pattern", "N+1 patterns"), human.Plural(r.Statements, "statement", "statements"), human.Duration(r.DBTime), details(r))
		}
	})
	querytrace.FromContext(ctx).SetDetector(&d)
	return ctx
}
