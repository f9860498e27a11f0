package pgxtrace_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/pgx/v5/tracelog"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/pgxtrace"
)

// postgresDSN returns the DSN of the test server, or skips.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		tb.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the pgx tracer's tests against a real server")
	}
	return dsn
}

// newPool opens a pool whose connections run a Tracer, composed with
// others after it when there are others, and closes it when the test
// ends.
func newPool(tb testing.TB, others ...pgx.QueryTracer) (*pgxpool.Pool, *pgxtrace.Tracer) {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(postgresDSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tr := &pgxtrace.Tracer{}
	cfg.ConnConfig.Tracer = tr
	if len(others) > 0 {
		cfg.ConnConfig.Tracer = multitracer.New(append([]pgx.QueryTracer{tr}, others...)...)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool, tr
}

var tableSeq atomic.Int64

// newTable creates a table of its own for the test, with n rows (id 1..n,
// name "item <id>"), and drops it when the test ends. The statements run
// with no trace on their context.
func newTable(tb testing.TB, pool *pgxpool.Pool, n int) string {
	tb.Helper()
	// Test names may hold any character; a table name gets letters,
	// digits and underscores.
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(tb.Name()))
	name := fmt.Sprintf("pgxtrace_%s_%d_%d", safe, os.Getpid(), tableSeq.Add(1))
	if len(name) > 60 {
		name = fmt.Sprintf("pgxtrace_t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, tableSeq.Add(1))
	}
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE "+name+" (id bigint PRIMARY KEY, name text NOT NULL, owner bigint)"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+name); err != nil {
			tb.Errorf("dropping %s: %v", name, err)
		}
	})
	if n > 0 {
		if _, err := pool.Exec(ctx, "INSERT INTO "+name+" (id, name, owner) SELECT g, 'item ' || g, g % 3 FROM generate_series(1, $1::bigint) g", n); err != nil {
			tb.Fatal(err)
		}
	}
	return name
}

// line returns the line it is called from.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// site is the call site a group of this file reports for line l.
func site(l int) string { return fmt.Sprintf("pgxtrace_test.go:%d", l) }

// groupLike returns the one group whose shape contains sub, failing the
// test unless there is exactly one.
func groupLike(t *testing.T, r *querytrace.Report, sub string) *querytrace.Group {
	t.Helper()
	var found []*querytrace.Group
	for _, g := range r.Groups {
		if strings.Contains(strings.ToLower(g.Shape), strings.ToLower(sub)) {
			found = append(found, g)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one group with %q in its shape, got %d:\n%s", sub, len(found), dump(r))
	}
	return found[0]
}

func dump(r *querytrace.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "statements=%d prepares=%d begins=%d commits=%d rollbacks=%d rows=%d errors=%d canceled=%d\n",
		r.Statements, r.Prepares, r.Begins, r.Commits, r.Rollbacks, r.Rows, r.Errors, r.Canceled)
	for _, g := range r.Groups {
		fmt.Fprintf(&b, "  [%s] count=%d statements=%d rows=%d errors=%d distinct=%d site=%s shape=%q\n",
			g.Kind, g.Count, g.Statements, g.Rows, g.Errors, g.Distinct, g.CallSite(), g.Shape)
	}
	return b.String()
}

func TestQuery(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 5)
	ctx, tr := querytrace.Start(context.Background(), "query")

	l := line() + 1
	rows, err := pool.Query(ctx, "SELECT id, name FROM "+table+" WHERE id <= $1 ORDER BY id", 3)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		ID   int64
		Name string
	}])
	if err != nil || len(names) != 3 {
		t.Fatalf("rows: %v, %v", names, err)
	}
	var n int64
	lRow := line() + 1
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 5 {
		t.Fatalf("count: %d, %v", n, err)
	}

	r := tr.Finish()
	if r.Statements != 2 || r.Rows != 4 || r.Errors != 0 {
		t.Errorf("want 2 statements, 4 rows, no error:\n%s", dump(r))
	}
	g := groupLike(t, r, "where id <= ?")
	if g.Kind != querytrace.KindQuery || g.Count != 1 || g.Rows != 3 {
		t.Errorf("query group: %s count=%d rows=%d", g.Kind, g.Count, g.Rows)
	}
	if !strings.Contains(g.Shape, table) || strings.Contains(g.Shape, " 3") {
		t.Errorf("shape %q", g.Shape)
	}
	if got := g.CallSite(); !strings.Contains(got, site(l)) {
		t.Errorf("call site %q, want %s", got, site(l))
	}
	if g.Total <= 0 {
		t.Errorf("no time: %v", g.Total)
	}
	g = groupLike(t, r, "count(")
	if g.Kind != querytrace.KindQuery || g.Rows != 1 || !strings.Contains(g.CallSite(), site(lRow)) {
		t.Errorf("QueryRow group: %s rows=%d site=%s, want %s", g.Kind, g.Rows, g.CallSite(), site(lRow))
	}
	if r.DBTime <= 0 {
		t.Errorf("no db time")
	}
}

func TestExec(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 10)
	ctx, tr := querytrace.Start(context.Background(), "exec")

	tag, err := pool.Exec(ctx, "UPDATE "+table+" SET name = $1 WHERE owner = $2", "x", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO "+table+" (id, name) VALUES ($1, $2)", 100, "new"); err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if r.Statements != 2 {
		t.Errorf("statements:\n%s", dump(r))
	}
	g := groupLike(t, r, "update")
	if g.Kind != querytrace.KindExec || g.Rows != tag.RowsAffected() || g.Rows == 0 {
		t.Errorf("update: %s rows=%d, want exec rows=%d", g.Kind, g.Rows, tag.RowsAffected())
	}
	g = groupLike(t, r, "insert")
	if g.Kind != querytrace.KindExec || g.Rows != 1 {
		t.Errorf("insert: %s rows=%d", g.Kind, g.Rows)
	}
}

func TestPrepared(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 5)
	ctx, tr := querytrace.Start(context.Background(), "prepared")

	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	const name = "pgxtrace_get_name"
	query := "SELECT name FROM " + table + " WHERE id = $1"
	if _, err := c.Conn().Prepare(ctx, name, query); err != nil {
		t.Fatal(err)
	}
	// Prepare is idempotent in pgx: the second one is no round trip.
	if _, err := c.Conn().Prepare(ctx, name, query); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := c.QueryRow(ctx, name, 2).Scan(&s); err != nil || s != "item 2" {
		t.Fatalf("by name: %q, %v", s, err)
	}
	upd := "UPDATE " + table + " SET owner = $1 WHERE id = $2"
	if _, err := c.Conn().Prepare(ctx, upd, upd); err != nil { // pgx: name == sql
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, upd, 7, 1); err != nil {
		t.Fatal(err)
	}

	r := tr.Finish()
	if r.Prepares != 2 || r.Statements != 2 {
		t.Errorf("want 2 prepares and 2 statements:\n%s", dump(r))
	}
	var stmtQuery, stmtExec bool
	for _, g := range r.Groups {
		switch g.Kind {
		case querytrace.KindStmtQuery:
			stmtQuery = strings.Contains(g.Shape, "where id = ?") && g.Rows == 1
		case querytrace.KindStmtExec:
			stmtExec = strings.Contains(strings.ToLower(g.Shape), "update") && g.Rows == 1
		}
		if strings.Contains(g.Shape, name) {
			t.Errorf("a group is shaped by the statement's name: %q", g.Shape)
		}
	}
	if !stmtQuery || !stmtExec {
		t.Errorf("want a prepared query and a prepared exec shaped by their SQL:\n%s", dump(r))
	}
}

func TestTransaction(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 3)
	ctx, tr := querytrace.Start(context.Background(), "tx")

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE "+table+" SET name = 'a' WHERE id = $1", 1); err != nil {
		t.Fatal(err)
	}
	// A savepoint is a statement, its rollback no transaction boundary.
	err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		_, err := sp.Exec(ctx, "UPDATE "+table+" SET name = 'b' WHERE id = $1", 2)
		if err != nil {
			return err
		}
		return errors.New("undo")
	})
	if err == nil || err.Error() != "undo" {
		t.Fatalf("savepoint: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	r := tr.Finish()
	if r.Begins != 2 || r.Commits != 1 || r.Rollbacks != 1 {
		t.Errorf("want 2 begins, 1 commit, 1 rollback:\n%s", dump(r))
	}
	// Two updates, savepoint and rollback to savepoint.
	if r.Statements != 4 {
		t.Errorf("want 4 statements:\n%s", dump(r))
	}
	for _, g := range r.Groups {
		if v := strings.ToLower(g.Shape); strings.HasPrefix(v, "begin") || strings.HasPrefix(v, "commit") || v == "rollback" {
			t.Errorf("a transaction boundary was grouped as a statement: %q", g.Shape)
		}
	}
}

func TestBatch(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 100)
	ctx, tr := querytrace.Start(context.Background(), "batch")

	b := &pgx.Batch{}
	for id := 1; id <= 100; id++ {
		b.Queue("SELECT name FROM "+table+" WHERE id = $1", id)
	}
	l := line() + 1
	br := pool.SendBatch(ctx, b)
	for i := 0; i < 100; i++ {
		var s string
		if err := br.QueryRow().Scan(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}

	// A batch that also writes, inside a transaction queued with it.
	b = &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue("UPDATE "+table+" SET owner = $1 WHERE id = $2", 9, 1)
	b.Queue("DELETE FROM "+table+" WHERE id = $1", 2)
	tbr := pool.SendBatch(ctx, b)
	if err := tbr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tbr.Tx().Commit(ctx); err != nil {
		t.Fatal(err)
	}

	r := tr.Finish()
	if r.Statements != 102 {
		t.Errorf("want the 102 batched statements counted:\n%s", dump(r))
	}
	g := groupLike(t, r, "select name from")
	if g.Kind != querytrace.KindBatch || g.Count != 1 || g.Statements != 100 || g.Rows != 100 {
		t.Errorf("batch group: %s count=%d statements=%d rows=%d", g.Kind, g.Count, g.Statements, g.Rows)
	}
	if !strings.Contains(g.CallSite(), site(l)) {
		t.Errorf("batch call site %q, want %s", g.CallSite(), site(l))
	}
	g = groupLike(t, r, "update")
	if g.Kind != querytrace.KindBatch || g.Statements != 2 || g.Rows != 2 || !strings.Contains(strings.ToLower(g.Shape), "delete") {
		t.Errorf("mixed batch: %s statements=%d rows=%d shape=%q", g.Kind, g.Statements, g.Rows, g.Shape)
	}
	if r.Begins != 1 || r.Commits != 1 {
		t.Errorf("the batch's transaction: begins=%d commits=%d", r.Begins, r.Commits)
	}
	if len(r.NPlusOne) != 0 {
		t.Errorf("a batch is the fix for an N+1, not one: %+v", r.NPlusOne)
	}
}

func TestBatchError(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 1)
	ctx, tr := querytrace.Start(context.Background(), "batch error")

	b := &pgx.Batch{}
	b.Queue("INSERT INTO "+table+" (id, name) VALUES ($1, $2)", 1, "dup")
	b.Queue("SELECT 1")
	if err := pool.SendBatch(ctx, b).Close(); err == nil {
		t.Fatal("want a unique violation")
	}
	r := tr.Finish()
	// The insert failed; PostgreSQL skipped the SELECT after it.
	if r.Errors != 1 || r.Statements != 1 {
		t.Errorf("want one failed batch that ran 1 statement:\n%s", dump(r))
	}
}

// TestBatchFailsInTheMiddle: the second of three statements fails, and
// the batch (one implicit transaction) is rolled back. The report counts
// the two statements that ran, one failed, not three.
func TestBatchFailsInTheMiddle(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 0)
	ctx, tr := querytrace.Start(context.Background(), "batch middle")

	b := &pgx.Batch{}
	b.Queue("INSERT INTO "+table+" (id, name) VALUES ($1, $2)", 10, "first")
	b.Queue("SELECT 1/0")
	b.Queue("INSERT INTO "+table+" (id, name) VALUES ($1, $2)", 11, "third")
	if err := pool.SendBatch(ctx, b).Close(); err == nil {
		t.Fatal("want division by zero")
	}
	r := tr.Finish()
	if r.Statements != 2 || r.Errors != 1 {
		t.Errorf("want 2 statements run, 1 error:\n%s", dump(r))
	}
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after the failed batch: %d, %v; want 0 (rolled back)", n, err)
	}
}

// TestCommitRolledBack: a transaction whose statement failed answers its
// COMMIT with ROLLBACK; pgx returns ErrTxCommitRollback. pgxtrace and the
// database/sql wrapper over pgx's stdlib both count a rollback, with the
// error, and no commit.
func TestCommitRolledBack(t *testing.T) {
	pool, _ := newPool(t)
	db := querytrace.OpenDB(stdlib.GetPoolConnector(pool))
	t.Cleanup(func() { db.Close() })
	paths := map[string]func(ctx context.Context) error{
		"pgx": func(ctx context.Context) error {
			tx, err := pool.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "SELECT 1/0"); err == nil {
				return errors.New("SELECT 1/0 succeeded")
			}
			return tx.Commit(ctx)
		},
		"database/sql": func(ctx context.Context) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SELECT 1/0"); err == nil {
				return errors.New("SELECT 1/0 succeeded")
			}
			return tx.Commit()
		},
	}
	for name, run := range paths {
		ctx, tr := querytrace.Start(context.Background(), name)
		if err := run(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
			t.Errorf("%s: commit returned %v, want pgx.ErrTxCommitRollback", name, err)
		}
		r := tr.Finish()
		if r.Begins != 1 || r.Commits != 0 || r.Rollbacks != 1 || r.Errors != 2 || r.Statements != 1 {
			t.Errorf("%s: want 1 begin, 0 commits, 1 rollback, 2 errors, 1 statement:\n%s", name, dump(r))
		}
	}
}

func TestCopyFrom(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 0)
	ctx, tr := querytrace.Start(context.Background(), "copy")

	rows := make([][]any, 500)
	for i := range rows {
		rows[i] = []any{int64(i + 1), fmt.Sprint("row ", i), nil}
	}
	l := line() + 1
	n, err := pool.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "name", "owner"}, pgx.CopyFromRows(rows))
	if err != nil || n != 500 {
		t.Fatalf("copy: %d, %v", n, err)
	}
	r := tr.Finish()
	if r.Statements != 1 || r.Rows != 500 {
		t.Errorf("want one statement of 500 rows:\n%s", dump(r))
	}
	g := groupLike(t, r, "copy")
	if g.Kind != querytrace.KindCopy || g.Rows != 500 || !strings.Contains(g.Shape, table) || !strings.Contains(g.CallSite(), site(l)) {
		t.Errorf("copy group: %s rows=%d shape=%q site=%s", g.Kind, g.Rows, g.Shape, g.CallSite())
	}
	if strings.Contains(g.Shape, "row 1") {
		t.Errorf("copied values in the shape: %q", g.Shape)
	}
}

func TestErrors(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 1)
	ctx, tr := querytrace.Start(context.Background(), "errors")

	if _, err := pool.Exec(ctx, "INSERT INTO "+table+" (id, name) VALUES ($1, $2)", 1, "dup"); err == nil {
		t.Fatal("want a unique violation")
	}
	rows, _ := pool.Query(ctx, "SELECT no_such_column FROM "+table)
	rows.Close()
	var pgErr *pgconn.PgError
	if !errors.As(rows.Err(), &pgErr) {
		t.Fatalf("want a server error, got %v", rows.Err())
	}
	if err := pool.QueryRow(ctx, "SELECT 1/0").Scan(new(int)); err == nil {
		t.Fatal("want division by zero")
	}

	r := tr.Finish()
	if r.Errors != 3 || r.Statements != 3 || r.Canceled != 0 {
		t.Errorf("want 3 failed statements:\n%s", dump(r))
	}
	if g := groupLike(t, r, "insert"); g.Errors != 1 || g.Kind != querytrace.KindExec {
		t.Errorf("insert: %s errors=%d", g.Kind, g.Errors)
	}
	if g := groupLike(t, r, "no_such_column"); g.Errors != 1 || g.Kind != querytrace.KindQuery {
		t.Errorf("select: %s errors=%d", g.Kind, g.Errors)
	}
}

func TestCancel(t *testing.T) {
	pool, _ := newPool(t)
	// Warm a connection so that the timeout hits the statement, not the
	// connect.
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, tr := querytrace.Start(context.Background(), "cancel")

	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := pool.Exec(tctx, "SELECT pg_sleep(5)")
	if err == nil {
		t.Fatal("want the statement canceled")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("note: pgx returned %v", err)
	}
	elapsed := time.Since(start)

	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, err = c.Exec(cctx, "SELECT 1")
	c.Release()
	if err == nil {
		t.Fatal("want an already canceled context to fail")
	}

	r := tr.Finish()
	if r.Statements != 2 || r.Errors != 2 || r.Canceled != 2 {
		t.Errorf("want 2 canceled statements:\n%s", dump(r))
	}
	g := groupLike(t, r, "pg_sleep")
	if g.Max > elapsed || g.Max < 40*time.Millisecond {
		t.Errorf("the canceled statement took %v of %v", g.Max, elapsed)
	}
}

func TestNPlusOne(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 20)
	ctx, tr := querytrace.Start(context.Background(), "n+1")

	rows, err := pool.Query(ctx, "SELECT id FROM "+table+" WHERE owner = $1 ORDER BY id", 1)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) < 5 {
		t.Fatalf("ids: %v %v", ids, err)
	}
	var l int
	for _, id := range ids {
		var name string
		l = line() + 1
		if err := pool.QueryRow(ctx, "SELECT name FROM "+table+" WHERE id = $1", id).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	r := tr.Finish()

	g := groupLike(t, r, "where id = ?")
	if g.Count != len(ids) || g.Distinct != len(ids) || g.Repeats != 0 || !strings.Contains(g.CallSite(), site(l)) {
		t.Errorf("loop group: count=%d distinct=%d repeats=%d site=%s, want %d, %d, 0, %s",
			g.Count, g.Distinct, g.Repeats, g.CallSite(), len(ids), len(ids), site(l))
	}
	// The detector is written elsewhere; this holds once it has landed.
	if len(r.NPlusOne) != 1 {
		t.Fatalf("want one N+1 finding, got %d:\n%s", len(r.NPlusOne), dump(r))
	}
	f := r.NPlusOne[0]
	if f.Count != len(ids) || f.Group == nil || !strings.Contains(f.Group.CallSite(), site(l)) {
		t.Errorf("finding: count=%d group=%+v, want %d at %s", f.Count, f.Group, len(ids), site(l))
	}
}

func TestDuplicateArgs(t *testing.T) {
	pool, _ := newPool(t)
	table := newTable(t, pool, 3)
	ctx, tr := querytrace.Start(context.Background(), "duplicates")
	for i := 0; i < 3; i++ {
		var s string
		if err := pool.QueryRow(ctx, "SELECT name FROM "+table+" WHERE id = $1", int64(2)).Scan(&s); err != nil {
			t.Fatal(err)
		}
	}
	r := tr.Finish()
	g := groupLike(t, r, "where id = ?")
	if g.Count != 3 || g.Distinct != 1 || g.Repeats != 2 {
		t.Errorf("same arguments: count=%d distinct=%d repeats=%d", g.Count, g.Distinct, g.Repeats)
	}
}

func TestUntraced(t *testing.T) {
	pool, tracer := newPool(t)
	before := tracer.Untraced().Snapshot().Statements
	var one int
	if err := pool.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	ctx, tr := querytrace.Start(context.Background(), "traced")
	if err := pool.QueryRow(ctx, "SELECT 2").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if got := tracer.Untraced().Snapshot().Statements - before; got != 1 {
		t.Errorf("want the statement with no trace in the fallback, got %d", got)
	}
	if r := tr.Finish(); r.Statements != 1 {
		t.Errorf("traced: %d", r.Statements)
	}
}

// TestBothPaths: the database/sql wrapper over pgx's stdlib driver and the
// tracer on the same pool count each statement once.
func TestBothPaths(t *testing.T) {
	pool, tracer := newPool(t)
	table := newTable(t, pool, 5)
	db := querytrace.OpenDB(stdlib.GetPoolConnector(pool))
	t.Cleanup(func() { db.Close() })

	fallback := tracer.Untraced().Snapshot().Statements
	ctx, tr := querytrace.Start(context.Background(), "both")

	// database/sql: query, exec, prepared statement, transaction.
	var s string
	if err := db.QueryRowContext(ctx, "SELECT name FROM "+table+" WHERE id = $1", 1).Scan(&s); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE "+table+" SET owner = $1 WHERE id = $2", 5, 1); err != nil {
		t.Fatal(err)
	}
	st, err := db.PrepareContext(ctx, "SELECT name FROM "+table+" WHERE id = $1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.QueryRowContext(ctx, 2).Scan(&s); err != nil {
		t.Fatal(err)
	}
	st.Close()
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlTx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = $1", 5); err != nil {
		t.Fatal(err)
	}
	if err := sqlTx.Commit(); err != nil {
		t.Fatal(err)
	}
	// pgx: query, batch, copy through the same pool.
	if err := pool.QueryRow(ctx, "SELECT name FROM "+table+" WHERE id = $1", 3).Scan(&s); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue("SELECT 1")
	b.Queue("SELECT 2")
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "name"}, pgx.CopyFromRows([][]any{{int64(50), "c"}})); err != nil {
		t.Fatal(err)
	}

	r := tr.Finish()
	// database/sql: 1 query, 1 exec, 1 prepared query, 1 exec in the tx;
	// pgx: 1 query, a batch of 2, 1 copy.
	if r.Statements != 8 || r.Prepares != 1 || r.Begins != 1 || r.Commits != 1 {
		t.Errorf("want 8 statements, 1 prepare, 1 begin, 1 commit, each counted once:\n%s", dump(r))
	}
	if got := tracer.Untraced().Snapshot().Statements - fallback; got != 0 {
		t.Errorf("%d statements leaked to the pgx tracer's fallback", got)
	}
	if u := querytrace.Untraced(db); u == nil || u.Snapshot().Statements != 0 {
		t.Errorf("statements leaked to the wrapper's fallback")
	}
}

// TestCompose: a tracer the application already has, composed with the
// Tracer by pgx's multitracer, keeps running, and the Tracer counts each
// statement once.
func TestCompose(t *testing.T) {
	var logged atomic.Int64
	logger := &tracelog.TraceLog{
		Logger: tracelog.LoggerFunc(func(_ context.Context, _ tracelog.LogLevel, msg string, _ map[string]any) {
			if msg == "Query" {
				logged.Add(1)
			}
		}),
		LogLevel: tracelog.LogLevelInfo,
	}
	pool, _ := newPool(t, logger)
	ctx, tr := querytrace.Start(context.Background(), "compose")
	for i := 0; i < 3; i++ {
		if _, err := pool.Exec(ctx, "SELECT $1::int", i); err != nil {
			t.Fatal(err)
		}
	}
	if r := tr.Finish(); r.Statements != 3 {
		t.Errorf("want 3 statements, counted once:\n%s", dump(r))
	}
	if logged.Load() != 3 {
		t.Errorf("tracelog saw %d statements, want 3", logged.Load())
	}
}

// TestNested: a handler's trace inside a test's trace both see the
// statement, as with the wrapper.
func TestNested(t *testing.T) {
	pool, _ := newPool(t)
	ctx, outer := querytrace.Start(context.Background(), "outer")
	ictx, inner := querytrace.Start(ctx, "inner")
	if _, err := pool.Exec(ictx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "SELECT 2"); err != nil {
		t.Fatal(err)
	}
	if a, b := inner.Finish().Statements, outer.Finish().Statements; a != 1 || b != 2 {
		t.Errorf("inner %d, outer %d; want 1, 2", a, b)
	}
}

// TestConcurrent runs statements from many goroutines into one trace, for
// the race detector.
func TestConcurrent(t *testing.T) {
	pool, _ := newPool(t)
	ctx, tr := querytrace.Start(context.Background(), "concurrent")
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				var n int
				if err := pool.QueryRow(ctx, "SELECT $1::int", i).Scan(&n); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if r := tr.Finish(); r.Statements != 160 {
		t.Errorf("statements: %d", r.Statements)
	}
}
