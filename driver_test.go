package querytrace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/DATA-DOG/go-sqlmock"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
)

// postgresDSN returns the DSN of the PostgreSQL server the tests use, or
// skips the test.
func postgresDSN(t testing.TB) string {
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the PostgreSQL tests (.ci/run does)")
	}
	return dsn
}

var memDBs atomic.Int64

// sqliteDSN returns the DSN of a new in-memory SQLite database.
func sqliteDSN() string {
	return fmt.Sprintf("file:qt%d?mode=memory&cache=shared", memDBs.Add(1))
}

// openSQLite opens a new in-memory database, raw or traced, with one
// connection so that the database lives as long as db.
func openSQLite(t testing.TB, traced bool, opts ...Option) *sql.DB {
	t.Helper()
	dsn := sqliteDSN()
	var db *sql.DB
	var err error
	if traced {
		db, err = Open("sqlite3", dsn, opts...)
	} else {
		db, err = sql.Open("sqlite3", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// outcome renders what a step returned so that raw and traced runs can be
// compared as text.
func outcome(v any, err error) string {
	if err != nil {
		return fmt.Sprintf("%v | err %T %v | badconn=%v", v, err, err, errors.Is(err, driver.ErrBadConn))
	}
	return fmt.Sprintf("%v", v)
}

// scanAll reads every row of rows as strings, with the column types'
// metadata, which goes through the optional Rows interfaces.
func scanAll(rows *sql.Rows, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	cts, err := rows.ColumnTypes()
	if err != nil {
		return "", err
	}
	for _, ct := range cts {
		n, nok := ct.Nullable()
		l, lok := ct.Length()
		p, s, pok := ct.DecimalSize()
		fmt.Fprintf(&b, "[%s %s %v %v/%v %v/%v %v/%v/%v]", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), n, nok, l, lok, p, s, pok)
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return b.String(), err
		}
		fmt.Fprintf(&b, " %v", vals)
	}
	return b.String(), rows.Err()
}

// behaviour is one step of the table run over raw and traced databases;
// what it returns must be the same for both.
type behaviour struct {
	name string
	run  func(ctx context.Context, db *sql.DB) (any, error)
}

// commonBehaviours run on SQLite and PostgreSQL alike; table is the
// dialect's table name, created by the setup.
func commonBehaviours(table, ph1, ph2 string) []behaviour {
	q := func(s string) string {
		return strings.NewReplacer("TBL", table, "$A", ph1, "$B", ph2).Replace(s)
	}
	return []behaviour{
		{"insert", func(ctx context.Context, db *sql.DB) (any, error) {
			res, err := db.ExecContext(ctx, q("INSERT INTO TBL (id, name, price) VALUES ($A, $B, 1.5)"), 1, "one")
			if err != nil {
				return nil, err
			}
			return res.RowsAffected()
		}},
		{"insert more", func(ctx context.Context, db *sql.DB) (any, error) {
			res, err := db.ExecContext(ctx, q("INSERT INTO TBL (id, name, price) VALUES (2, 'two', NULL), (3, 'three', 3.25)"))
			if err != nil {
				return nil, err
			}
			return res.RowsAffected()
		}},
		{"duplicate key", func(ctx context.Context, db *sql.DB) (any, error) {
			_, err := db.ExecContext(ctx, q("INSERT INTO TBL (id, name) VALUES ($A, $B)"), 1, "again")
			return nil, err
		}},
		{"syntax error", func(ctx context.Context, db *sql.DB) (any, error) {
			_, err := db.QueryContext(ctx, q("SELEKT * FROM TBL"))
			return nil, err
		}},
		{"query rows with column types", func(ctx context.Context, db *sql.DB) (any, error) {
			return scanAll(db.QueryContext(ctx, q("SELECT id, name, price FROM TBL ORDER BY id")))
		}},
		{"query row", func(ctx context.Context, db *sql.DB) (any, error) {
			var name string
			err := db.QueryRowContext(ctx, q("SELECT name FROM TBL WHERE id = $A"), 3).Scan(&name)
			return name, err
		}},
		{"no rows", func(ctx context.Context, db *sql.DB) (any, error) {
			var name string
			err := db.QueryRowContext(ctx, q("SELECT name FROM TBL WHERE id = $A"), 99).Scan(&name)
			return name, err
		}},
		{"prepared statement", func(ctx context.Context, db *sql.DB) (any, error) {
			st, err := db.PrepareContext(ctx, q("SELECT name FROM TBL WHERE id = $A"))
			if err != nil {
				return nil, err
			}
			defer st.Close()
			var out []string
			for _, id := range []int{1, 2, 3} {
				var name string
				if err := st.QueryRowContext(ctx, id).Scan(&name); err != nil {
					return out, err
				}
				out = append(out, name)
			}
			return out, nil
		}},
		{"transaction commit", func(ctx context.Context, db *sql.DB) (any, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, q("UPDATE TBL SET name = $A WHERE id = $B"), "uno", 1); err != nil {
				tx.Rollback()
				return nil, err
			}
			return nil, tx.Commit()
		}},
		{"transaction rollback", func(ctx context.Context, db *sql.DB) (any, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, q("DELETE FROM TBL")); err != nil {
				tx.Rollback()
				return nil, err
			}
			if err := tx.Rollback(); err != nil {
				return nil, err
			}
			var n int
			err = db.QueryRowContext(ctx, q("SELECT count(*) FROM TBL")).Scan(&n)
			return n, err
		}},
		{"read-only transaction", func(ctx context.Context, db *sql.DB) (any, error) {
			tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				return nil, err
			}
			defer tx.Rollback()
			var n int
			err = tx.QueryRowContext(ctx, q("SELECT count(*) FROM TBL")).Scan(&n)
			return n, err
		}},
		{"canceled context", func(ctx context.Context, db *sql.DB) (any, error) {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := db.ExecContext(ctx, q("UPDATE TBL SET name = name"))
			return nil, err
		}},
		{"ping", func(ctx context.Context, db *sql.DB) (any, error) {
			return nil, db.PingContext(ctx)
		}},
		{"raw conn", func(ctx context.Context, db *sql.DB) (any, error) {
			c, err := db.Conn(ctx)
			if err != nil {
				return nil, err
			}
			defer c.Close()
			var typ string
			err = c.Raw(func(dc any) error {
				typ = fmt.Sprintf("%T", Unwrap(dc))
				return nil
			})
			return typ, err
		}},
	}
}

// runBehaviours runs the table over a raw and a traced database and
// requires the same outcome from both.
func runBehaviours(t *testing.T, raw, traced *sql.DB, setup string, bs []behaviour) {
	ctx := context.Background()
	for _, db := range []*sql.DB{raw, traced} {
		if _, err := db.ExecContext(ctx, setup); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	tctx, tr := Start(ctx, t.Name())
	for _, b := range bs {
		want := outcome(b.run(ctx, raw))
		got := outcome(b.run(tctx, traced))
		if got != want {
			t.Errorf("%s:\n raw    %s\n traced %s", b.name, want, got)
		}
	}
	r := tr.Finish()
	if r.Statements == 0 {
		t.Errorf("traced run recorded no statements")
	}
}

func TestBehaviourSQLite(t *testing.T) {
	raw, traced := openSQLite(t, false), openSQLite(t, true)
	runBehaviours(t, raw, traced,
		"CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)",
		append(commonBehaviours("things", "?", "?"), behaviour{"named arguments", func(ctx context.Context, db *sql.DB) (any, error) {
			var name string
			err := db.QueryRowContext(ctx, "SELECT name FROM things WHERE id = :id", sql.Named("id", 2)).Scan(&name)
			return name, err
		}}))
}

func TestBehaviourPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	traced, err := Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	// Each database gets its own table: they share one server.
	for _, db := range []struct {
		db    *sql.DB
		table string
	}{{raw, "qt_behaviour_raw"}, {traced, "qt_behaviour_traced"}} {
		db.db.Exec("DROP TABLE IF EXISTS " + db.table)
		t.Cleanup(func() { db.db.Exec("DROP TABLE IF EXISTS " + db.table) })
	}
	ctx := context.Background()
	tctx, tr := Start(ctx, "pg")
	for _, b := range []struct {
		db    *sql.DB
		ctx   context.Context
		table string
	}{{raw, ctx, "qt_behaviour_raw"}, {traced, tctx, "qt_behaviour_traced"}} {
		if _, err := b.db.ExecContext(b.ctx, "CREATE TABLE "+b.table+" (id int PRIMARY KEY, name text NOT NULL, price numeric(8,2))"); err != nil {
			t.Fatal(err)
		}
	}
	rawB := commonBehaviours("qt_behaviour_raw", "$1", "$2")
	tracedB := commonBehaviours("qt_behaviour_traced", "$1", "$2")
	for i := range rawB {
		want := outcome(rawB[i].run(ctx, raw))
		got := outcome(tracedB[i].run(tctx, traced))
		want = strings.ReplaceAll(want, "qt_behaviour_raw", "T")
		got = strings.ReplaceAll(got, "qt_behaviour_traced", "T")
		if got != want {
			t.Errorf("%s:\n raw    %s\n traced %s", rawB[i].name, want, got)
		}
	}
	// database/sql checks a context before it calls the driver; a
	// statement canceled while it runs is what the driver reports.
	sctx, cancel := context.WithTimeout(tctx, 50*time.Millisecond)
	_, err = traced.ExecContext(sctx, "SELECT pg_sleep(2)")
	cancel()
	if err == nil {
		t.Errorf("pg_sleep outlived its context")
	}
	r := tr.Finish()
	if r.Statements < len(rawB) {
		t.Errorf("traced run recorded %d statements, want at least %d", r.Statements, len(rawB))
	}
	if r.Errors == 0 || r.Canceled == 0 {
		t.Errorf("errors %d, canceled %d: want both counted", r.Errors, r.Canceled)
	}
}

// TestBehaviourSQLMock injects the driver's signals and errors and
// requires that database/sql sees them unchanged: ErrBadConn makes it
// retry on a new connection, so the outcomes and the expectations met must
// be the same.
func TestBehaviourSQLMock(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name   string
		expect func(m sqlmock.Sqlmock)
		run    func(ctx context.Context, db *sql.DB) (any, error)
	}{
		{"query error", func(m sqlmock.Sqlmock) {
			m.ExpectQuery("SELECT name").WillReturnError(errBoom)
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			_, err := db.QueryContext(ctx, "SELECT name FROM t WHERE id = ?", 1)
			return nil, err
		}},
		{"bad connection on exec", func(m sqlmock.Sqlmock) {
			m.ExpectExec("UPDATE t").WillReturnError(driver.ErrBadConn)
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			_, err := db.ExecContext(ctx, "UPDATE t SET a = 1")
			return nil, err
		}},
		{"bad connection on begin", func(m sqlmock.Sqlmock) {
			m.ExpectBegin().WillReturnError(driver.ErrBadConn)
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			_, err := db.BeginTx(ctx, nil)
			return nil, err
		}},
		{"rows", func(m sqlmock.Sqlmock) {
			m.ExpectQuery("SELECT id").WillReturnRows(sqlmock.NewRows([]string{"id", "name"}).AddRow(1, "a").AddRow(2, "b"))
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			return scanAll(db.QueryContext(ctx, "SELECT id, name FROM t"))
		}},
		{"row error", func(m sqlmock.Sqlmock) {
			m.ExpectQuery("SELECT id").WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(1).AddRow(2).RowError(1, errBoom))
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			return scanAll(db.QueryContext(ctx, "SELECT id FROM t"))
		}},
		{"exec result", func(m sqlmock.Sqlmock) {
			m.ExpectExec("INSERT").WithArgs("x").WillReturnResult(sqlmock.NewResult(7, 1))
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			res, err := db.ExecContext(ctx, "INSERT INTO t (a) VALUES (?)", "x")
			if err != nil {
				return nil, err
			}
			id, _ := res.LastInsertId()
			n, _ := res.RowsAffected()
			return [2]int64{id, n}, nil
		}},
		{"commit error", func(m sqlmock.Sqlmock) {
			m.ExpectBegin()
			m.ExpectCommit().WillReturnError(errBoom)
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			return nil, tx.Commit()
		}},
		{"prepare error", func(m sqlmock.Sqlmock) {
			m.ExpectPrepare("SELECT").WillReturnError(errBoom)
		}, func(ctx context.Context, db *sql.DB) (any, error) {
			_, err := db.PrepareContext(ctx, "SELECT 1")
			return nil, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var outs [2]string
			var unmet [2]string
			for i, traced := range []bool{false, true} {
				dsn := fmt.Sprintf("qt-mock-%d-%d", memDBs.Add(1), i)
				rawDB, mock, err := sqlmock.NewWithDSN(dsn)
				if err != nil {
					t.Fatal(err)
				}
				// sqlmock's driver hands out the connection of the DSN,
				// expectations and all: open a second database on it,
				// raw or traced, so that both runs are built alike.
				open := sql.Open
				if traced {
					open = func(name, dsn string) (*sql.DB, error) { return Open(name, dsn) }
				}
				db, err := open("sqlmock", dsn)
				if err != nil {
					t.Fatal(err)
				}
				c.expect(mock)
				ctx, tr := Start(context.Background(), "mock")
				outs[i] = outcome(c.run(ctx, db))
				tr.Finish()
				if err := mock.ExpectationsWereMet(); err != nil {
					unmet[i] = err.Error()
				}
				db.Close()
				rawDB.Close()
			}
			if outs[0] != outs[1] {
				t.Errorf("outcomes differ:\n raw    %s\n traced %s", outs[0], outs[1])
			}
			if unmet[0] != unmet[1] {
				t.Errorf("expectations differ:\n raw    %s\n traced %s", unmet[0], unmet[1])
			}
		})
	}
}

// TestScriptedCounts runs a script whose counts a reader can predict.
func TestScriptedCounts(t *testing.T) {
	db := openSQLite(t, true)
	ctx, tr := Start(context.Background(), "script")
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	mustExec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)") // 1
	for i := 0; i < 3; i++ {                                    // 3
		mustExec("INSERT INTO t (v) VALUES (?)", fmt.Sprint(i))
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil { // 1
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT id FROM t") // 1, 3 rows
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
	st, err := db.PrepareContext(ctx, "SELECT v FROM t WHERE id = ?") // 1 prepare
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ { // 4
		var v sql.NullString
		st.QueryRowContext(ctx, i).Scan(&v)
	}
	st.Close()
	tx, err := db.BeginTx(ctx, nil) // begin
	if err != nil {
		t.Fatal(err)
	}
	tx.ExecContext(ctx, "UPDATE t SET v = 'x' WHERE id = ?", 1) // 1
	tx.ExecContext(ctx, "UPDATE t SET v = 'y' WHERE id = ?", 2) // 1
	if err := tx.Commit(); err != nil {                         // commit
		t.Fatal(err)
	}
	tx, _ = db.BeginTx(ctx, nil)          // begin
	tx.ExecContext(ctx, "DELETE FROM t")  // 1
	if err := tx.Rollback(); err != nil { // rollback
		t.Fatal(err)
	}
	r := tr.Finish()
	got := [6]int{r.Statements, r.Prepares, r.Begins, r.Commits, r.Rollbacks, int(r.Rows)}
	// Rows: 1 (count) + 3 (ids) + 3 (of the 4 prepared lookups, one id
	// is missing).
	want := [6]int{13, 1, 2, 1, 1, 7}
	if got != want {
		t.Errorf("statements, prepares, begins, commits, rollbacks, rows = %v, want %v", got, want)
	}
	if r2 := tr.Finish(); r2 != r {
		t.Errorf("Finish is not idempotent")
	}
}

func TestUntraced(t *testing.T) {
	db := openSQLite(t, true)
	for i := 0; i < 5; i++ {
		db.Exec("SELECT ?", i)
	}
	ctx, tr := Start(context.Background(), "traced")
	db.ExecContext(ctx, "SELECT 1")
	tr.Finish()
	r := Untraced(db).Snapshot()
	if r.Statements != 5 {
		t.Errorf("untraced statements = %d, want 5", r.Statements)
	}
	if len(r.Groups) == 0 || r.Groups[0].Count != 5 {
		t.Errorf("untraced top group: %+v", r.Groups)
	}
	raw, _ := sql.Open("sqlite3", sqliteDSN())
	defer raw.Close()
	if Untraced(raw) != nil {
		t.Errorf("Untraced of a database not opened through querytrace is not nil")
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open("sqlite4", "")
	if err == nil || !strings.Contains(err.Error(), `"sqlite4" is not registered`) {
		t.Errorf("unknown driver: %v", err)
	}
	_, err = Open("postgres", "")
	if err == nil || !strings.Contains(err.Error(), "github.com/lib/pq") {
		t.Errorf("unknown well-known driver names no import: %v", err)
	}
	for _, tc := range []struct {
		registered []string
		want       string
	}{
		{nil, `querytrace: driver "sqlite4" is not registered, nor is any other (forgot to import the package of that driver?)`},
		{[]string{"pgx", "sqlite3"}, `querytrace: driver "sqlite4" is not registered (forgot to import the package of that driver? registered: pgx, sqlite3)`},
	} {
		if got := notRegistered("sqlite4", tc.registered).Error(); got != tc.want {
			t.Errorf("with %q registered:\n got %s\nwant %s", tc.registered, got, tc.want)
		}
	}
	if err := Register("sqlite3", &fakeDriver{}); err == nil {
		t.Errorf("Register over a taken name succeeded")
	}
	if err := Register("qt-nil", nil); err == nil {
		t.Errorf("Register of nil succeeded")
	}
}

func TestWrapTwice(t *testing.T) {
	d := Wrap(&fakeDriver{})
	if Wrap(d) != d {
		t.Errorf("wrapping a wrapped driver wrapped it again")
	}
	name := uniqueName("qt-twice")
	if err := Register(name, Wrap(Wrap(&fakeDriver{}))); err != nil {
		t.Fatal(err)
	}
	db, err := Open(name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, tr := Start(context.Background(), "twice")
	db.ExecContext(ctx, "UPDATE t SET a = 1")
	if r := tr.Finish(); r.Statements != 1 {
		t.Errorf("Statements = %d through a twice-wrapped driver, want 1", r.Statements)
	}
}

// presence lists the optional interfaces of v whose mere presence
// database/sql acts on, as it acts on them: a wrapper must have the same.
func presence(v any) string {
	var p []string
	if _, ok := v.(driver.ExecerContext); ok {
		p = append(p, "exec")
	} else if _, ok := v.(driver.Execer); ok {
		p = append(p, "exec")
	}
	if _, ok := v.(driver.QueryerContext); ok {
		p = append(p, "query")
	} else if _, ok := v.(driver.Queryer); ok {
		p = append(p, "query")
	}
	_, reset := v.(driver.SessionResetter)
	_, valid := v.(driver.Validator)
	if valid {
		p = append(p, "validator")
		if reset {
			p = append(p, "keep-on-rollback")
		}
	}
	if _, ok := v.(driver.ColumnConverter); ok {
		p = append(p, "column-converter")
	}
	return strings.Join(p, " ")
}

// TestRealDriverInterfaces compares the interfaces of real drivers'
// values with those of their wrappers, through database/sql.
func TestRealDriverInterfaces(t *testing.T) {
	check := func(t *testing.T, db *sql.DB, query string) {
		ctx := context.Background()
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Raw(func(dc any) error {
			inner := Unwrap(dc).(driver.Conn)
			if inner == dc {
				t.Fatalf("Unwrap returned the wrapper %T", dc)
			}
			if m, w := presence(inner), presence(dc); m != w {
				t.Errorf("conn: driver has %q, wrapper %q", m, w)
			}
			st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if m, w := presence(Unwrap(st)), presence(st); m != w {
				t.Errorf("stmt: driver has %q, wrapper %q", m, w)
			}
			rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			return nil
		})
		_, inner := Unwrap(db.Driver()).(driver.DriverContext)
		if _, outer := db.Driver().(driver.DriverContext); inner != outer {
			t.Errorf("driver.DriverContext: driver has it %v, wrapper %v", inner, outer)
		}
	}
	t.Run("sqlite", func(t *testing.T) { check(t, openSQLite(t, true), "SELECT 1") })
	t.Run("postgres", func(t *testing.T) {
		db, err := Open("pgx", postgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db, "SELECT 1")
	})
}

// TestErrSkip: a driver that answers ErrSkip gets database/sql's
// prepare-and-run fallback, which the trace counts as one statement.
func TestErrSkip(t *testing.T) {
	fd := &fakeDriver{skipExec: true}
	name := uniqueName("qt-skip")
	if err := Register(name, fd); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, tr := Start(context.Background(), "skip")
	if _, err := db.ExecContext(ctx, "UPDATE t SET a = ?", 1); err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if r.Statements != 1 || r.Prepares != 1 || fd.prepared.Load() != 1 {
		t.Errorf("statements %d, prepares %d, driver prepares %d; want 1, 1, 1", r.Statements, r.Prepares, fd.prepared.Load())
	}
}

// TestConnectorCloser: sql.DB.Close closes a connector that is an
// io.Closer, through the wrapper, and only then.
func TestConnectorCloser(t *testing.T) {
	fc := &fakeCloserConnector{}
	db := OpenDB(fc)
	db.Close()
	if !fc.closed {
		t.Errorf("the wrapped connector was not closed")
	}
	if _, ok := WrapConnector(fakeConnector{}).(interface{ Close() error }); ok {
		t.Errorf("a connector without Close got one")
	}
}

// TestRowsReuse checks the connection's reuse of closed rows: two rows open
// at once on one connection each read their own results, and a query run
// after they are closed reads its own.
func TestRowsReuse(t *testing.T) {
	db := openSQLite(t, true)
	if _, err := db.Exec("CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		db.Exec("INSERT INTO r (id, v) VALUES (?, ?)", i, fmt.Sprint("v", i))
	}
	ctx, tr := Start(context.Background(), "reuse")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	read := func(rows *sql.Rows) string {
		var id int
		var v string
		if !rows.Next() {
			return "end"
		}
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(id, v)
	}
	for round := 0; round < 3; round++ {
		a, err := tx.QueryContext(ctx, "SELECT id, v FROM r ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		b, err := tx.QueryContext(ctx, "SELECT id, v FROM r ORDER BY id DESC")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for range 4 {
			got = append(got, read(a), read(b))
		}
		a.Close()
		b.Close()
		want := "[1v1 3v3 2v2 2v2 3v3 1v1 end end]"
		if fmt.Sprint(got) != want {
			t.Fatalf("round %d: two open rows read %v, want %v", round, got, want)
		}
	}
	tx.Commit()
	r := tr.Finish()
	if r.Statements != 6 || r.Rows != 18 {
		t.Errorf("%d statements and %d rows, want 6 and 18", r.Statements, r.Rows)
	}
}

// TestQueryAllocations checks that the wrapper adds no allocation to a
// query, once its trace has seen the statement: the rows wrapper is reused
// and the call site, shape and group come from caches.
func TestQueryAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	perQuery := func(traced bool) float64 {
		db := benchDB(t, traced, nil)
		ctx, _ := Start(context.Background(), "allocs")
		var v string
		run := func() {
			if err := db.QueryRowContext(ctx, "SELECT v FROM t WHERE id = ?", 7).Scan(&v); err != nil {
				t.Fatal(err)
			}
		}
		for range maxSample + 10 { // past the trace's sample of events
			run()
		}
		return testing.AllocsPerRun(200, run)
	}
	raw, traced := perQuery(false), perQuery(true)
	t.Logf("allocations per QueryRow: raw %.1f, traced %.1f", raw, traced)
	if traced > raw {
		t.Errorf("the wrapper adds %.1f allocations per query", traced-raw)
	}
}

var driverNames atomic.Int64

// uniqueName returns a driver name not registered before in this process:
// database/sql's registry outlives a test, and -count runs tests again.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, driverNames.Add(1))
}

// otherWrapper is a driver wrapper of another library that says what it
// wraps.
type otherWrapper struct{ d driver.Driver }

func (w otherWrapper) Open(name string) (driver.Conn, error) { return w.d.Open(name) }
func (w otherWrapper) Unwrap() driver.Driver                 { return w.d }

// otherConnector is a connector of another library, whose Driver leads
// to the driver it uses.
type otherConnector struct{ d driver.Driver }

func (c otherConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open("") }
func (c otherConnector) Driver() driver.Driver                        { return c.d }

// TestGuessDialect: the dialect comes from the driver's package, looking
// through wrappers that say what they wrap; sqlmock, which can stand for
// any database, stays generic.
func TestGuessDialect(t *testing.T) {
	sqliteDriver := openSQLite(t, false).Driver()
	pgxDB, err := sql.Open("pgx", "")
	if err != nil {
		t.Fatal(err)
	}
	defer pgxDB.Close()
	mockDB, _, err := sqlmock.New()
	if err != nil {
		t.Fatal(err)
	}
	defer mockDB.Close()
	tests := []struct {
		name string
		v    any
		want Dialect
	}{
		{"sqlite", sqliteDriver, DialectSQLite},
		{"pgx", pgxDB.Driver(), DialectPostgres},
		{"wrapped sqlite", otherWrapper{sqliteDriver}, DialectSQLite},
		{"wrapped twice", otherWrapper{otherWrapper{pgxDB.Driver()}}, DialectPostgres},
		{"connector of pgx", otherConnector{otherWrapper{pgxDB.Driver()}}, DialectPostgres},
		{"sqlmock", mockDB.Driver(), DialectGeneric},
		{"unknown", &fakeDriver{}, DialectGeneric},
	}
	for _, tt := range tests {
		if got, _ := guessDialect(tt.v); got != tt.want {
			t.Errorf("%s: dialect %v, want %v", tt.name, got, tt.want)
		}
	}
	// Through WrapConnector, as a user meets it.
	c := WrapConnector(otherConnector{otherWrapper{sqliteDriver}})
	if got := c.(wrapped).state().cfg.dialect; got != DialectSQLite {
		t.Errorf("WrapConnector of a wrapped SQLite driver: dialect %v, want SQLite", got)
	}
}

// TestFillSetsEveryField checks that a reused rows wrapper keeps nothing of
// its last query: reset and fill set each field one by one, rather than
// clearing the wrapper with a composite literal, and a field added to
// rowsState or rec must be added to them too.
func TestFillSetsEveryField(t *testing.T) {
	c := &conn{drv: &tdriver{cfg: config{dialect: DialectPostgres, noStacks: true}}}
	var rows fakeRows
	tr := NewTrace("fill")
	ctx := context.Background()
	in := shapeOf("SELECT 1", DialectPostgres)
	args := argSum{hash: 42, keys: 3, count: 2, n: 1}
	args.each[0] = 9

	var r rowsState
	setEveryField(t, reflect.ValueOf(&r).Elem())
	r.reset(&rows, c, tr, ctx)
	c.fill(&r.rec, KindQuery, "SELECT 1", in, 5, 0, &args, nil)

	want := rowsState{r: &rows, conn: c, t: tr, ctx: ctx, rec: rec{
		kind: KindQuery, sql: "SELECT 1", info: in, start: 5, args: args,
		dialect: DialectPostgres, stack: &emptyStack, site: emptyStackHash,
	}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("a reused wrapper kept some of its last query:\n got %+v\nwant %+v", r, want)
	}
}

// setEveryField sets every field of v, exported or not, to a value other
// than its zero value.
func setEveryField(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := reflect.NewAt(v.Field(i).Type(), unsafe.Pointer(v.Field(i).UnsafeAddr())).Elem()
		switch f.Kind() {
		case reflect.String:
			f.SetString("stale")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(7)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			f.SetUint(7)
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Interface:
			switch {
			case f.Type() == reflect.TypeFor[error]():
				f.Set(reflect.ValueOf(errors.New("stale")))
			case f.Type() == reflect.TypeFor[context.Context]():
				f.Set(reflect.ValueOf(context.TODO()))
			case f.Type() == reflect.TypeFor[driver.Rows]():
				f.Set(reflect.ValueOf(&fakeRows{}))
			default:
				t.Fatalf("setEveryField: no value for %s", f.Type())
			}
		case reflect.Struct:
			setEveryField(t, f)
		case reflect.Array:
			for j := range f.Len() {
				f.Index(j).SetUint(7)
			}
		default:
			t.Fatalf("setEveryField: no value for %s (%s)", f.Type(), f.Kind())
		}
	}
}
