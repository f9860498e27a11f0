package compare

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
)

// stmtsPerRequest is how many statements make a request.
const stmtsPerRequest = 10

// rowsInTable is how many rows the table has; statement i reads or
// updates row i%rowsInTable+1.
const rowsInTable = 1000

const pgTable = "qt_compare_items"

var pgDSN = os.Getenv("QUERYTRACE_POSTGRES_DSN")

// dbs are the databases measured: sqlite always, postgres when
// QUERYTRACE_POSTGRES_DSN is set.
func dbs() []string {
	if pgDSN == "" {
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

func TestMain(m *testing.M) {
	if pgDSN == "" {
		fmt.Fprintln(os.Stderr, "compare: QUERYTRACE_POSTGRES_DSN is not set: PostgreSQL skipped (e.g. QUERYTRACE_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable')")
	}
	code := m.Run()
	for _, t := range opened {
		t.db.Close()
	}
	if pgDSN != "" && pgReady {
		if db, err := sql.Open("pgx", pgDSN); err == nil {
			db.Exec("DROP TABLE IF EXISTS " + pgTable)
			db.Close()
		}
	}
	os.Exit(code)
}

// A target is one database opened through one wrapper, with the
// statements of the workloads in its dialect.
type target struct {
	db                      *sql.DB
	queryRow, exec, rows100 string
	stmt                    *sql.Stmt // queryRow prepared, for Prepared
}

// opened keeps one target per db and wrapper for the whole run, so that
// the b.N rounds and -count repeats reuse a warm connection.
var opened = map[string]*target{}

var pgReady bool

// setupPostgres creates and fills the PostgreSQL table once per run.
func setupPostgres() error {
	if pgReady {
		return nil
	}
	db, err := sql.Open("pgx", pgDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		"DROP TABLE IF EXISTS " + pgTable,
		"CREATE UNLOGGED TABLE " + pgTable + " (id bigint PRIMARY KEY, name text NOT NULL, value bigint NOT NULL) WITH (fillfactor = 50)",
		fmt.Sprintf("INSERT INTO %s SELECT i, 'item ' || i, 0 FROM generate_series(1, %d) AS i", pgTable, rowsInTable),
		"ANALYZE " + pgTable,
	} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	pgReady = true
	return nil
}

// targetFor returns the database db opened through wrapper, set up, from
// the cache of the run.
func targetFor(tb testing.TB, db, wrapper string) *target {
	key := db + "/" + wrapper
	if t := opened[key]; t != nil {
		return t
	}
	t := openTarget(tb, db, wrapper, "compare_"+wrapper)
	opened[key] = t
	return t
}

// The statements of the workloads, in SQLite's form; statements writes
// them for PostgreSQL.
const (
	queryRowSQL = "SELECT id, name, value FROM items WHERE id = ?"
	execSQL     = "UPDATE items SET value = value + 1 WHERE id = ?"
	rows100SQL  = "SELECT id, name, value FROM items WHERE id > ? ORDER BY id LIMIT 100"
)

// statements returns the statements of the workloads on db: QueryRow's
// (Prepared's too), Exec's (Tx5's too) and Rows100's.
func statements(db string) (queryRow, exec, rows100 string) {
	if db == "sqlite" {
		return queryRowSQL, execSQL, rows100SQL
	}
	pg := func(q string) string {
		return strings.ReplaceAll(strings.ReplaceAll(q, " items ", " "+pgTable+" "), "?", "$1")
	}
	return pg(queryRowSQL), pg(execSQL), pg(rows100SQL)
}

// openTarget opens db through wrapper and sets it up; for SQLite, memName
// names the in-memory database.
func openTarget(tb testing.TB, db, wrapper, memName string) *target {
	var dsn string
	switch db {
	case "sqlite":
		dsn = fmt.Sprintf("file:%s?mode=memory&cache=shared", memName)
	case "postgres":
		if err := setupPostgres(); err != nil {
			tb.Fatal(err)
		}
		dsn = pgDSN
	}
	d, err := open(wrapper, db, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	// One connection, never closed: the in-memory database lives as long
	// as it, and every wrapper runs on the same pool.
	d.SetMaxOpenConns(1)
	d.SetMaxIdleConns(1)
	d.SetConnMaxLifetime(0)
	d.SetConnMaxIdleTime(0)
	if db == "sqlite" {
		for _, q := range []string{
			"CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL)",
			fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < %d) INSERT INTO items SELECT i, 'item ' || i, 0 FROM s", rowsInTable),
		} {
			if _, err := d.Exec(q); err != nil {
				d.Close()
				tb.Fatalf("%s/%s: %s: %v", db, wrapper, q, err)
			}
		}
	}
	t := &target{db: d}
	t.queryRow, t.exec, t.rows100 = statements(db)
	// Prepared once, as an application prepares at start-up.
	if t.stmt, err = d.Prepare(t.queryRow); err != nil {
		d.Close()
		tb.Fatalf("%s/%s: prepare: %v", db, wrapper, err)
	}
	// Warm the connection up (pgx's statement cache, the driver's and the
	// wrapper's first-use costs, querytrace's first report of each call
	// site) before anything is measured: requests as the benchmarks run
	// them.
	for _, w := range workloads {
		for i := 0; i < warmup; i += w.perRequest {
			runRequest(tb, t, wrapper, w, i, w.perRequest)
		}
	}
	return t
}

// warmup is how many statements of each workload a database runs when
// opened.
const warmup = 200

// A workload is what one op of a benchmark runs on t, with ctx, around
// row id: one statement, or for Tx5 one transaction.
type workload struct {
	name string
	// perRequest is how many ops a request runs: stmtsPerRequest
	// statements.
	perRequest int
	run        func(ctx context.Context, t *target, id int64) error
}

// workloads are the workloads compared, in the order of the tables.
var workloads = []workload{
	{"QueryRow", stmtsPerRequest, queryRow},
	{"Exec", stmtsPerRequest, exec},
	{"Prepared", stmtsPerRequest, prepared},
	{"Tx5", stmtsPerRequest / 5, tx5},
	{"Rows100", stmtsPerRequest, rows100},
}

// scanRow reads row id with row and checks it is the one asked for.
func scanRow(row *sql.Row, id int64) error {
	var (
		gotID, value int64
		name         string
	)
	if err := row.Scan(&gotID, &name, &value); err != nil {
		return err
	}
	if gotID != id {
		return fmt.Errorf("got row %d, want %d", gotID, id)
	}
	return nil
}

// queryRow reads one row by primary key.
func queryRow(ctx context.Context, t *target, id int64) error {
	return scanRow(t.db.QueryRowContext(ctx, t.queryRow, id), id)
}

// exec updates one row by primary key.
func exec(ctx context.Context, t *target, id int64) error {
	_, err := t.db.ExecContext(ctx, t.exec, id)
	return err
}

// prepared reads one row by primary key through the prepared statement.
func prepared(ctx context.Context, t *target, id int64) error {
	return scanRow(t.stmt.QueryRowContext(ctx, id), id)
}

// tx5 updates five rows in one transaction.
func tx5(ctx context.Context, t *target, id int64) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i := range int64(5) {
		if _, err := tx.ExecContext(ctx, t.exec, (id+i)%rowsInTable+1); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// rows100 reads the 100 rows after id, in order.
func rows100(ctx context.Context, t *target, id int64) error {
	rows, err := t.db.QueryContext(ctx, t.rows100, id%(rowsInTable-100))
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		gotID, value int64
		name         string
		n            int
	)
	for rows.Next() {
		if err := rows.Scan(&gotID, &name, &value); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != 100 {
		return fmt.Errorf("read %d rows, want 100", n)
	}
	return rows.Close()
}

// runRequest runs ops i to i+n of w on t, through wrapper, in one
// request.
func runRequest(tb testing.TB, t *target, wrapper string, w workload, i, n int) {
	r := begin(context.Background(), wrapper)
	for j := range n {
		if err := w.run(r.ctx, t, int64((i+j)%rowsInTable+1)); err != nil {
			tb.Fatalf("%s through %s: %v", w.name, wrapper, err)
		}
	}
	sink += r.end()
}

// bench runs b.N ops of w through each wrapper in turn, w.perRequest to a
// request.
func bench(b *testing.B, w workload) {
	for _, dbName := range dbs() {
		b.Run("db="+dbName, func(b *testing.B) {
			for _, wrapper := range wrappers {
				b.Run("wrapper="+wrapper, func(b *testing.B) {
					t := targetFor(b, dbName, wrapper)
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i += w.perRequest {
						runRequest(b, t, wrapper, w, i, min(w.perRequest, b.N-i))
					}
				})
			}
		})
	}
}

// The benchmarks below run one wrapper after the other, for -benchmem's
// allocations; BenchmarkInterleaved runs the same workloads with the
// wrappers in turn, for the times. ns/op is per statement, and per
// transaction for Tx5.

// BenchmarkQueryRow reads one row by primary key.
func BenchmarkQueryRow(b *testing.B) { bench(b, workloads[0]) }

// BenchmarkExec updates one row by primary key.
func BenchmarkExec(b *testing.B) { bench(b, workloads[1]) }

// BenchmarkPrepared reads one row by primary key with a statement
// prepared once.
func BenchmarkPrepared(b *testing.B) { bench(b, workloads[2]) }

// BenchmarkTx5 updates five rows in a transaction: an op is the
// transaction, and a request runs two.
func BenchmarkTx5(b *testing.B) { bench(b, workloads[3]) }

// BenchmarkRows100 reads 100 rows with one query.
func BenchmarkRows100(b *testing.B) { bench(b, workloads[4]) }
