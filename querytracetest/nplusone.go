package querytracetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/querytrace/querytrace"
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
				pluralNPlusOne(n), plural(r.Statements, "statement"), dur(r.DBTime), details(r))
		}
	})
	querytrace.FromContext(ctx).SetDetector(&d)
	return ctx
}

func pluralNPlusOne(n int) string {
	if n == 1 {
		return "1 N+1 pattern"
	}
	return fmt.Sprintf("%d N+1 patterns", n)
}
