package pgxtrace

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/wrapmark"
)

func TestBoundary(t *testing.T) {
	for sql, want := range map[string]querytrace.Kind{
		"begin":                                querytrace.KindBegin,
		"  BEGIN ISOLATION LEVEL SERIALIZABLE": querytrace.KindBegin,
		"start transaction read only":          querytrace.KindBegin,
		"commit":                               querytrace.KindCommit,
		"COMMIT;":                              querytrace.KindCommit,
		"end":                                  querytrace.KindCommit,
		"rollback":                             querytrace.KindRollback,
		"abort":                                querytrace.KindRollback,
		"rollback to savepoint sp_1":           0,
		"commit prepared 'x'":                  0,
		"begin; insert into t values (1); commit": 0,
		"savepoint sp_1":   0,
		"select 1":         0,
		"starts":           0,
		"beginning":        0,
		"":                 0,
		"set x = 1":        0,
		"explain select 1": 0,
	} {
		if got := boundary(sql); got != want {
			t.Errorf("boundary(%q) = %v, want %v", sql, got, want)
		}
	}
}

func TestStatementKind(t *testing.T) {
	for _, c := range []struct {
		tag, sql string
		stmt     bool
		want     querytrace.Kind
	}{
		{"SELECT 3", "select 1", false, querytrace.KindQuery},
		{"INSERT 0 1", "insert ...", false, querytrace.KindExec},
		{"UPDATE 2", "update ...", true, querytrace.KindStmtExec},
		{"SELECT 1", "x", true, querytrace.KindStmtQuery},
		{"", "  with x as (select 1) select * from x", false, querytrace.KindQuery},
		{"", "delete from t", false, querytrace.KindExec},
	} {
		if got := statementKind(pgconn.NewCommandTag(c.tag), c.sql, c.stmt); got != c.want {
			t.Errorf("statementKind(%q, %q, %v) = %v, want %v", c.tag, c.sql, c.stmt, got, c.want)
		}
	}
}

type userID int64

func TestHashArgs(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	s := "x"
	same := [][2][]any{
		{{int64(1)}, {int64(1)}},
		{{1}, {int64(1)}},
		{{int16(1)}, {int64(1)}},
		{{userID(7)}, {int64(7)}},
		{{&s}, {"x"}},
		{{(*string)(nil)}, {nil}},
		{{pgx.NamedArgs{"a": 1, "b": "x"}}, {pgx.NamedArgs{"b": "x", "a": 1}}},
		{{pgtype.Int8{Int64: 5, Valid: true}}, {pgtype.Int8{Int64: 5, Valid: true}}},
		{{[]int64{1, 2}}, {[]int64{1, 2}}},
		{{ts}, {ts}},
	}
	for _, p := range same {
		if a, b := hashArgs(p[0]), hashArgs(p[1]); a != b || a == 0 {
			t.Errorf("%#v and %#v: %x, %x: want equal and non-zero", p[0], p[1], a, b)
		}
	}
	differ := [][2][]any{
		{{int64(1)}, {int64(2)}},
		{{userID(1)}, {userID(2)}},
		{{int8(1)}, {int8(2)}},
		{{uint32(1)}, {uint32(2)}},
		{{float32(1)}, {float32(2)}},
		{{"a", "b"}, {"b", "a"}},
		{{pgx.NamedArgs{"a": 1}}, {pgx.NamedArgs{"a": 2}}},
		{{pgtype.Int8{Int64: 5, Valid: true}}, {pgtype.Int8{Int64: 6, Valid: true}}},
		{{[]int64{1, 2}}, {[]int64{1, 3}}},
		{{[16]byte{1}}, {[16]byte{2}}},
		{{ts}, {ts.Add(time.Second)}},
	}
	for _, p := range differ {
		if a, b := hashArgs(p[0]), hashArgs(p[1]); a == b {
			t.Errorf("%#v and %#v hash alike", p[0], p[1])
		}
	}
	if hashArgs(nil) != 0 {
		t.Error("no arguments must hash to 0")
	}
}

func TestBatchOf(t *testing.T) {
	tr := &Tracer{}
	b := &pgx.Batch{}
	b.Queue("begin")
	for i := 0; i < 10; i++ {
		b.Queue("select $1::int", i)
	}
	b.Queue("commit")
	text, n, bounds, args := tr.batchOf(b)
	if text != "select $1::int" || n != 10 || len(bounds) != 2 || args == 0 {
		t.Errorf("batchOf: %q %d %v %x", text, n, bounds, args)
	}
	b2 := &pgx.Batch{}
	for i := 0; i < 10; i++ {
		b2.Queue("select $1::int", i+1)
	}
	b2.Queue("begin") // not first: still a boundary
	if _, _, _, a2 := tr.batchOf(b2); a2 == args {
		t.Error("batches with other arguments hash alike")
	}
	b3 := &pgx.Batch{}
	b3.Queue("select 1")
	b3.Queue("select 2;")
	b3.Queue("select 1")
	if text, n, _, args := tr.batchOf(b3); text != "select 1;\nselect 2" || n != 3 || args != 0 {
		t.Errorf("mixed batch: %q %d %x", text, n, args)
	}
}

// TestHooks drives the hooks by hand, with no server.
func TestHooks(t *testing.T) {
	tr := &Tracer{}
	ctx, trace := querytrace.Start(context.Background(), "hooks")

	qctx := tr.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{SQL: "select * from t where id = $1", Args: []any{1}})
	// Another tracer composed after this one wraps the context.
	qctx = context.WithValue(qctx, struct{}{}, 1)
	// An implicit prepare on the query's context is no prepare, and does
	// not end the query.
	pctx := tr.TracePrepareStart(qctx, nil, pgx.TracePrepareStartData{Name: "stmtcache_abc", SQL: "select * from t where id = $1"})
	tr.TracePrepareEnd(pctx, nil, pgx.TracePrepareEndData{})
	tr.TraceQueryEnd(qctx, nil, pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")})

	// The wrapper's statements are the wrapper's.
	mctx := tr.TraceQueryStart(wrapmark.With(ctx), nil, pgx.TraceQueryStartData{SQL: "select 2"})
	tr.TraceQueryEnd(mctx, nil, pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")})

	// An end with no start records nothing.
	tr.TraceQueryEnd(ctx, nil, pgx.TraceQueryEndData{})
	tr.TraceBatchEnd(ctx, nil, pgx.TraceBatchEndData{})
	tr.TraceCopyFromEnd(ctx, nil, pgx.TraceCopyFromEndData{})

	// A batch that failed early is ended twice by pgx: recorded once.
	b := &pgx.Batch{}
	b.Queue("select 1")
	bctx := tr.TraceBatchStart(ctx, nil, pgx.TraceBatchStartData{Batch: b})
	tr.TraceBatchEnd(bctx, nil, pgx.TraceBatchEndData{Err: context.Canceled})
	tr.TraceBatchEnd(bctx, nil, pgx.TraceBatchEndData{Err: context.Canceled})

	r := trace.Finish()
	if r.Statements != 2 || r.Prepares != 0 || r.Rows != 1 || r.Errors != 1 || r.Canceled != 1 {
		t.Errorf("statements=%d prepares=%d rows=%d errors=%d canceled=%d", r.Statements, r.Prepares, r.Rows, r.Errors, r.Canceled)
	}
}

func TestZeroTracer(t *testing.T) {
	var tr Tracer
	c := tr.TraceQueryStart(context.Background(), nil, pgx.TraceQueryStartData{SQL: "select 1"})
	tr.TraceQueryEnd(c, nil, pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")})
	if n := tr.Untraced().Snapshot().Statements; n != 1 {
		t.Errorf("fallback: %d", n)
	}
}
