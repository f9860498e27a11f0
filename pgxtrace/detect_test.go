package pgxtrace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/querytrace/querytrace"
)

// detectName is the data-access helper the loop calls: the statement is
// two calls below the loop.
func detectName(ctx context.Context, pool *pgxpool.Pool, table string, id int64) error {
	return detectRow(ctx, pool, table, id)
}

func detectRow(ctx context.Context, pool *pgxpool.Pool, table string, id int64) error {
	var name string
	return pool.QueryRow(ctx, "SELECT name FROM "+table+" WHERE id = $1", id).Scan(&name)
}

// TestLoopOverOpenRows checks, through the pgx tracer, that a loop run
// while its source's rows are still open names that source (it started
// before the loop, though it ends after it) and the loop's own line,
// two calls above the statement.
func TestLoopOverOpenRows(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 5)
	ctx, tr := querytrace.Start(context.Background(), "loop")
	rows, err := pool.Query(ctx, "SELECT id FROM "+table+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var loop int
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		loop = line() + 1
		if err := detectName(ctx, pool, table, id); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	r := tr.Finish()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1 findings, want 1:\n%s", len(r.NPlusOne), r)
	}
	f := r.NPlusOne[0]
	if f.Source == nil || !strings.Contains(f.Source.Shape, "order by id") || f.PerRow != 1 {
		t.Errorf("source %v per row %d, want the id query, once per row:\n%s", f.Source, f.PerRow, r)
	}
	if s := f.Group.Stack; len(s) == 0 || !strings.HasSuffix(s[0].Function, ".detectRow") {
		t.Errorf("statement at %v, want detectRow", s)
	}
	if f.Loop == nil || f.Loop.Line != loop || !strings.HasSuffix(f.Loop.Function, ".TestLoopOverOpenRows") {
		t.Errorf("loop at %v, want line %d of the test", f.Loop, loop)
	}
}
