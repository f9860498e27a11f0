package otelquerytrace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/querytrace/querytrace"
)

// countItems is the repository function a handler calls once per entry:
// the N+1's statement runs here, its loop is in the caller.
func countItems(ctx context.Context, db *sqlx.DB, entry int64) (int, error) {
	var n int
	err := db.GetContext(ctx, &n, `SELECT count(*) FROM items WHERE entry_id = ?`, entry)
	return n, err
}

// TestFindingLoopAndORMFix: an N+1 issued through sqlx, whose loop is in
// another function than its statement, reaches the span event with the
// loop's line (querytrace.loop, apart from querytrace.call_site) and the
// fix in sqlx's own API (querytrace.orm_fix), as the report has them.
func TestFindingLoopAndORMFix(t *testing.T) {
	s := newSDK(t)
	db := sqlx.NewDb(openInventory(t, 8), "sqlite3")
	ctx, span := s.tp.Tracer("app").Start(context.Background(), "GET /entries")
	ctx, tr := querytrace.Start(ctx, "GET /entries")
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `SELECT id FROM entries ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := countItems(ctx, db, id); err != nil {
			t.Fatal(err)
		}
	}
	rep := tr.Finish()
	s.bridge().Export(ctx, rep)
	span.End()

	if len(rep.NPlusOne) != 1 {
		t.Fatalf("report: %d N+1 findings, want 1:\n%s", len(rep.NPlusOne), rep)
	}
	f := rep.NPlusOne[0]
	if f.Loop == nil || !strings.Contains(f.Loop.Function, "TestFindingLoopAndORMFix") || !strings.HasPrefix(f.ORMFix, "sqlx:") {
		t.Fatalf("report: loop %v, ORM fix %q: want the loop in the test and a sqlx fix", f.Loop, f.ORMFix)
	}
	ev := s.spans.Ended()[0].Events()
	if len(ev) != 1 {
		t.Fatalf("events %v, want one N+1", ev)
	}
	a := attrs(ev[0].Attributes)
	site, loop := a["querytrace.call_site"].AsString(), a["querytrace.loop"].AsString()
	if !strings.Contains(site, "countItems") || loop != f.Loop.String() || loop == site {
		t.Errorf("event: call site %q, loop %q: want countItems and the report's loop %q", site, loop, f.Loop)
	}
	if got := a["querytrace.orm_fix"].AsString(); got != f.ORMFix {
		t.Errorf("event: querytrace.orm_fix %q, want the report's %q", got, f.ORMFix)
	}
}
