package querytrace

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
)

// refusingConnector is a database that cannot be reached.
type refusingConnector struct{}

var errRefused = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

func (refusingConnector) Connect(context.Context) (driver.Conn, error) { return nil, errRefused }
func (refusingConnector) Driver() driver.Driver                        { return &fakeDriver{} }

// TestConnErrorsReachTheReport: when the application gets an error that
// no statement ran into (database/sql gave up after driver.ErrBadConn
// answers, a transaction's connection went bad, the database could not be
// reached) or that came when the rows were closed, the report, its log
// and its Server-Timing say so. Each case is a request to a real HTTP
// server; the database is go-sqlmock's, scripted, or one that refuses.
func TestConnErrorsReachTheReport(t *testing.T) {
	for _, c := range []struct {
		name   string
		expect func(m sqlmock.Sqlmock) // nil: a database that cannot be reached
		run    func(ctx context.Context, db *sql.DB) error
		err    error // what the application gets
		want   string
		timing string
	}{
		{"every try refused", func(m sqlmock.Sqlmock) {
			for range 3 {
				m.ExpectQuery("SELECT a").WillReturnError(driver.ErrBadConn)
			}
		}, func(ctx context.Context, db *sql.DB) error {
			return db.QueryRowContext(ctx, "SELECT a FROM t WHERE b = ?", 1).Scan(new(int))
		}, driver.ErrBadConn, "statements 0 errors 0 conn_errors 3", `0 statements, 3 connection errors"`},

		{"one try refused, the next ran", func(m sqlmock.Sqlmock) {
			m.ExpectExec("UPDATE t").WillReturnError(driver.ErrBadConn)
			m.ExpectExec("UPDATE t").WillReturnResult(sqlmock.NewResult(0, 1))
		}, func(ctx context.Context, db *sql.DB) error {
			_, err := db.ExecContext(ctx, "UPDATE t SET a = ?", 1)
			return err
		}, nil, "statements 1 errors 0 conn_errors 1", `1 statement, 1 connection error"`},

		{"in a transaction, no try again", func(m sqlmock.Sqlmock) {
			m.ExpectBegin()
			m.ExpectExec("UPDATE t").WillReturnError(driver.ErrBadConn)
			m.ExpectRollback()
		}, func(ctx context.Context, db *sql.DB) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, "UPDATE t SET a = ?", 1)
			return err
		}, driver.ErrBadConn, "statements 0 errors 0 conn_errors 1", `0 statements, 1 connection error"`},

		{"rows closed on a bad connection", func(m sqlmock.Sqlmock) {
			m.ExpectQuery("SELECT a").WillReturnRows(sqlmock.NewRows([]string{"a"}).AddRow(1).CloseError(driver.ErrBadConn))
		}, func(ctx context.Context, db *sql.DB) error {
			return db.QueryRowContext(ctx, "SELECT a FROM t WHERE b = ?", 1).Scan(new(int))
		}, driver.ErrBadConn, "statements 1 errors 1 conn_errors 0", `1 statement, 1 error"`},

		{"the database cannot be reached", nil, func(ctx context.Context, db *sql.DB) error {
			return db.QueryRowContext(ctx, "SELECT a FROM t WHERE b = ?", 1).Scan(new(int))
		}, errRefused, "statements 0 errors 0 conn_errors 1", `0 statements, 1 connection error"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var db *sql.DB
			if c.expect == nil {
				db = OpenDB(refusingConnector{})
			} else {
				dsn := fmt.Sprintf("qt-connerr-%d", memDBs.Add(1))
				rawDB, mock, err := sqlmock.NewWithDSN(dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer rawDB.Close()
				mock.MatchExpectationsInOrder(true)
				c.expect(mock)
				if db, err = Open("sqlmock", dsn); err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := mock.ExpectationsWereMet(); err != nil {
						t.Error(err)
					}
				}()
			}
			defer db.Close()

			var log bytes.Buffer
			var got error
			reports := make(chan *Report, 1)
			srv := httptest.NewServer(&Handler{
				Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got = c.run(r.Context(), db)
					w.WriteHeader(http.StatusNoContent)
				}),
				Logger:   slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
				OnReport: func(_ *http.Request, rep *Report) { reports <- rep }, // after the log
			})
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			rep := <-reports

			if !errors.Is(got, c.err) || (c.err == nil) != (got == nil) {
				t.Fatalf("the application got %v, want %v", got, c.err)
			}
			if s := fmt.Sprintf("statements %d errors %d conn_errors %d", rep.Statements, rep.Errors, rep.ConnErrors); s != c.want {
				t.Errorf("report: %s, want %s", s, c.want)
			}
			if st := resp.Header.Get("Server-Timing"); !strings.HasSuffix(st, c.timing) {
				t.Errorf("Server-Timing %q, want it to end %q", st, c.timing)
			}
			for _, want := range []string{
				fmt.Sprintf(`"errors":%d,"conn_errors":%d`, rep.Errors, rep.ConnErrors),
				`"summary":"` + strings.Split(c.timing, ", ")[0], // statements
				c.timing[strings.LastIndex(c.timing, ", ")+2:],   // the error's, in the summary
			} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("the log lacks %s:\n%s", want, log.String())
				}
			}
		})
	}
}

// TestConnErrorsPostgres gives the pgx driver real bad connections: a
// second connection ends the backend of the first with
// pg_terminate_backend. In a transaction, the statement after the one
// that met the end gets driver.ErrBadConn, which database/sql hands to the
// application; on the pool, a connection idle for over a second fails
// pgx's ping as database/sql hands it out, and database/sql goes on to a
// new one: the application sees no error, and the report one connection
// error.
func TestConnErrorsPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	db, err := Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(1)
	terminate := func(t *testing.T, pid int) {
		t.Helper()
		if _, err := admin.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		for range 500 { // the backend leaves soon after the signal
			var n int
			if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n); err != nil || n == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("backend %d is still there", pid)
	}

	t.Run("transaction", func(t *testing.T) {
		var got error
		srv := httptest.NewServer(&Handler{
			Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				defer tx.Rollback()
				var pid int
				if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
					t.Error(err)
					return
				}
				terminate(t, pid)
				if _, err := tx.ExecContext(ctx, `SELECT 1`); err == nil {
					t.Error("a statement on an ended backend ran")
				}
				_, got = tx.ExecContext(ctx, `SELECT 2`)
			}),
			Logger: slog.New(slog.DiscardHandler),
		})
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !errors.Is(got, driver.ErrBadConn) {
			t.Fatalf("the second statement after the end: %v, want driver.ErrBadConn (the test's premise)", got)
		}
		// Statements: the pid and SELECT 1; errors: SELECT 1 and the
		// deferred rollback, before the headers went out.
		if st := resp.Header.Get("Server-Timing"); !strings.HasSuffix(st, `2 statements, 2 errors, 1 connection error"`) {
			t.Errorf("Server-Timing %q, want 2 statements, 2 errors, 1 connection error", st)
		}
	})

	t.Run("pool", func(t *testing.T) {
		var pid int
		if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		terminate(t, pid)
		time.Sleep(1100 * time.Millisecond) // pgx pings a connection idle for over a second
		ctx, tr := Start(context.Background(), "after the end")
		var other int
		if err := db.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&other); err != nil {
			t.Fatalf("database/sql did not go on to a new connection: %v", err)
		}
		rep := tr.Finish()
		if other == pid || rep.Statements != 1 || rep.Errors != 0 || rep.ConnErrors != 1 {
			t.Errorf("backend %d after %d; report: %d statements, %d errors, %d connection errors; want a new backend, 1, 0, 1",
				other, pid, rep.Statements, rep.Errors, rep.ConnErrors)
		}
	})
}
