package compare

import (
	"context"
	"database/sql"
	"fmt"
	"os"
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
	for _, db := range opened {
		db.Close()
	}
	if pgDSN != "" && pgReady {
		if db, err := sql.Open("pgx", pgDSN); err == nil {
			db.Exec("DROP TABLE IF EXISTS " + pgTable)
			db.Close()
		}
	}
	os.Exit(code)
}

// opened keeps one *sql.DB per db and wrapper for the whole run, so that
// the b.N rounds and -count repeats reuse a warm connection.
var opened = map[string]*sql.DB{}

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

// dbFor returns the database db opened through wrapper, set up, from the
// cache of the run.
func dbFor(tb testing.TB, db, wrapper string) *sql.DB {
	key := db + "/" + wrapper
	if d := opened[key]; d != nil {
		return d
	}
	d := openDB(tb, db, wrapper, "compare_"+wrapper)
	opened[key] = d
	return d
}

// openDB opens db through wrapper and sets it up; for SQLite, memName
// names the in-memory database.
func openDB(tb testing.TB, db, wrapper, memName string) *sql.DB {
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
	// Warm the connection up (pgx's statement cache, the driver's and the
	// wrapper's first-use costs) before anything is measured.
	ctx := context.Background()
	for _, w := range []workload{queryRowWorkload(db), execWorkload(db)} {
		for i := range warmup {
			if err := w(ctx, d, int64(i%rowsInTable+1)); err != nil {
				d.Close()
				tb.Fatalf("%s/%s: warm-up: %v", db, wrapper, err)
			}
		}
	}
	return d
}

// warmup is how many statements of each workload a database runs when
// opened.
const warmup = 200

// workload is one statement: run it with ctx on row id.
type workload func(ctx context.Context, db *sql.DB, id int64) error

func queries(db string) (queryRow, exec string) {
	if db == "sqlite" {
		return "SELECT id, name, value FROM items WHERE id = ?",
			"UPDATE items SET value = value + 1 WHERE id = ?"
	}
	return "SELECT id, name, value FROM " + pgTable + " WHERE id = $1",
		"UPDATE " + pgTable + " SET value = value + 1 WHERE id = $1"
}

func queryRowWorkload(dbName string) workload {
	q, _ := queries(dbName)
	return func(ctx context.Context, db *sql.DB, id int64) error {
		var (
			gotID, value int64
			name         string
		)
		if err := db.QueryRowContext(ctx, q, id).Scan(&gotID, &name, &value); err != nil {
			return err
		}
		if gotID != id {
			return fmt.Errorf("got row %d, want %d", gotID, id)
		}
		return nil
	}
}

func execWorkload(dbName string) workload {
	_, q := queries(dbName)
	return func(ctx context.Context, db *sql.DB, id int64) error {
		_, err := db.ExecContext(ctx, q, id)
		return err
	}
}

// runRequests runs b.N statements of w, stmtsPerRequest to a request.
func runRequests(b *testing.B, db *sql.DB, wrapper string, w workload) {
	base := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		r := begin(base, wrapper)
		n := min(stmtsPerRequest, b.N-i)
		for j := range n {
			if err := w(r.ctx, db, int64((i+j)%rowsInTable+1)); err != nil {
				b.Fatal(err)
			}
		}
		sink += r.end()
		i += n
	}
}

func bench(b *testing.B, mk func(db string) workload) {
	for _, dbName := range dbs() {
		w := mk(dbName)
		b.Run("db="+dbName, func(b *testing.B) {
			for _, wrapper := range wrappers {
				b.Run("wrapper="+wrapper, func(b *testing.B) {
					runRequests(b, dbFor(b, dbName, wrapper), wrapper, w)
				})
			}
		})
	}
}

// BenchmarkQueryRow reads one row by primary key.
func BenchmarkQueryRow(b *testing.B) { bench(b, queryRowWorkload) }

// BenchmarkExec updates one row by primary key.
func BenchmarkExec(b *testing.B) { bench(b, execWorkload) }
