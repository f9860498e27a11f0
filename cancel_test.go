package querytrace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
)

// readSlowly reads rows one at a time, pausing between them, until Next
// says no more, and returns what rows.Err says then.
func readSlowly(t *testing.T, rows *sql.Rows, err error, pause time.Duration) error {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		time.Sleep(pause)
	}
	if n == 0 {
		t.Fatalf("no row read before the context ended")
	}
	return rows.Err()
}

// TestCanceledWhileReading: a context that ends while the rows of its
// query are read is recorded as the query's error, as the caller sees it
// from rows.Err, although database/sql closes the rows itself and the
// driver's Next never returns it.
func TestCanceledWhileReading(t *testing.T) {
	check := func(t *testing.T, db *sql.DB, query string) {
		ctx, tr := Start(context.Background(), "cancel")
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		rows, err := db.QueryContext(ctx, query)
		err = readSlowly(t, rows, err, 10*time.Millisecond)
		// pgx says so in an error of its own.
		if err == nil || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
			t.Fatalf("rows.Err() = %v, want %v", err, context.DeadlineExceeded)
		}
		r := tr.Finish()
		if r.Statements != 1 || r.Errors != 1 || r.Canceled != 1 {
			t.Errorf("statements %d, errors %d, canceled %d; want 1, 1, 1", r.Statements, r.Errors, r.Canceled)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		check(t, openSQLite(t, true), "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n")
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := Open("pgx", postgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db, "SELECT i FROM generate_series(1, 100000) AS s(i)")
	})
	t.Run("read to the end", func(t *testing.T) {
		// Rows read to the end are no cancellation, whenever the
		// context ends.
		db := openSQLite(t, true)
		ctx, tr := Start(context.Background(), "done")
		ctx, cancel := context.WithCancel(ctx)
		rows, err := db.QueryContext(ctx, "SELECT 1 UNION ALL SELECT 2")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		cancel()
		rows.Close()
		if r := tr.Finish(); r.Errors != 0 || r.Canceled != 0 {
			t.Errorf("errors %d, canceled %d for rows read to the end; want 0, 0", r.Errors, r.Canceled)
		}
	})
}

// TestBadConnNotCounted: a call answered with driver.ErrBadConn ran
// nothing, by the driver contract, and database/sql retries it; only the
// try that ran counts, and the two refused are connection errors.
func TestBadConnNotCounted(t *testing.T) {
	cases := []struct {
		name   string
		expect func(m sqlmock.Sqlmock, err error) // one try, failing with err
		run    func(ctx context.Context, db *sql.DB) error
		want   string
	}{
		{"exec", func(m sqlmock.Sqlmock, err error) {
			m.ExpectExec("UPDATE t").WillReturnResult(sqlmock.NewResult(0, 1)).WillReturnError(err)
		}, func(ctx context.Context, db *sql.DB) error {
			_, err := db.ExecContext(ctx, "UPDATE t SET a = ?", 1)
			return err
		}, "statements 1 prepares 0 begins 0 errors 0 conn_errors 2 duplicates 0"},
		{"query", func(m sqlmock.Sqlmock, err error) {
			m.ExpectQuery("SELECT a").WillReturnRows(sqlmock.NewRows([]string{"a"})).WillReturnError(err)
		}, func(ctx context.Context, db *sql.DB) error {
			rows, err := db.QueryContext(ctx, "SELECT a FROM t WHERE b = ?", 1)
			if err == nil {
				rows.Close()
			}
			return err
		}, "statements 1 prepares 0 begins 0 errors 0 conn_errors 2 duplicates 0"},
		{"prepare", func(m sqlmock.Sqlmock, err error) { m.ExpectPrepare("SELECT a").WillReturnError(err) }, func(ctx context.Context, db *sql.DB) error {
			s, err := db.PrepareContext(ctx, "SELECT a FROM t")
			if err == nil {
				s.Close()
			}
			return err
		}, "statements 0 prepares 1 begins 0 errors 0 conn_errors 2 duplicates 0"},
		{"begin", func(m sqlmock.Sqlmock, err error) { m.ExpectBegin().WillReturnError(err) }, func(ctx context.Context, db *sql.DB) error {
			tx, err := db.BeginTx(ctx, nil)
			if err == nil {
				tx.Rollback()
			}
			return err
		}, "statements 0 prepares 0 begins 1 errors 0 conn_errors 2 duplicates 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dsn := fmt.Sprintf("qt-badconn-%d", memDBs.Add(1))
			rawDB, mock, err := sqlmock.NewWithDSN(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer rawDB.Close()
			db, err := Open("sqlmock", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			mock.MatchExpectationsInOrder(true)
			for _, err := range []error{driver.ErrBadConn, driver.ErrBadConn, nil} {
				c.expect(mock, err)
			}
			mock.ExpectRollback()
			ctx, tr := Start(context.Background(), "badconn")
			if err := c.run(ctx, db); err != nil {
				t.Fatal(err)
			}
			r := tr.Finish()
			got := fmt.Sprintf("statements %d prepares %d begins %d errors %d conn_errors %d duplicates %d", r.Statements, r.Prepares, r.Begins, r.Errors, r.ConnErrors, len(r.Duplicates))
			if got != c.want {
				t.Errorf("after two ErrBadConn answers: %s, want %s", got, c.want)
			}
		})
	}
}
