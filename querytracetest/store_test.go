package querytracetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
)

// The seed scenario of the project: an inventory page that counts the free
// items of each entry with two statements per entry, and the same page with
// two GROUP BY statements in all.

var dbs atomic.Int64

// openDB opens a traced in-memory database of its own for t.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	dsn := fmt.Sprintf("file:querytracetest-%d?mode=memory&cache=shared", dbs.Add(1))
	db, err := querytrace.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	t.Cleanup(func() { db.Close() })
	for _, s := range []string{
		`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER NOT NULL, user_id INTEGER)`,
		`CREATE TABLE requests (id INTEGER PRIMARY KEY, status TEXT NOT NULL)`,
		`CREATE TABLE request_items (id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL, entry_id INTEGER NOT NULL, quantity INTEGER NOT NULL)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// seedEntries makes the store hold exactly n entries, with 2 items and
// one approved request each. It adds to what is there, so that Scale can
// grow the same database.
func seedEntries(t testing.TB, db *sql.DB, n int) {
	t.Helper()
	var have int
	if err := db.QueryRow(`SELECT count(*) FROM entries`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	for e := have + 1; e <= n; e++ {
		for _, s := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO entries (id, name) VALUES (?, ?)`, []any{e, fmt.Sprint("entry ", e)}},
			{`INSERT INTO items (entry_id, user_id) VALUES (?, NULL)`, []any{e}},
			{`INSERT INTO items (entry_id, user_id) VALUES (?, ?)`, []any{e, 7}},
			{`INSERT INTO requests (id, status) VALUES (?, 'approved')`, []any{e}},
			{`INSERT INTO request_items (request_id, entry_id, quantity) VALUES (?, ?, 1)`, []any{e, e}},
		} {
			if _, err := db.Exec(s.q, s.args...); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// store opens a database seeded with n entries.
func store(t testing.TB, n int) *sql.DB {
	t.Helper()
	db := openDB(t)
	seedEntries(t, db, n)
	return db
}

type row struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Free int    `json:"free"`
}

func entries(ctx context.Context, db *sql.DB) ([]row, error) {
	rs, err := db.QueryContext(ctx, `SELECT id, name FROM entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var rows []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.Name); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

// slowInventory runs two statements per entry.
func slowInventory(ctx context.Context, db *sql.DB) ([]row, error) {
	rows, err := entries(ctx, db)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		var unclaimed, approved int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL`, rows[i].ID).Scan(&unclaimed); err != nil {
			return nil, err
		}
		if err := db.QueryRowContext(ctx, `SELECT coalesce(sum(ri.quantity), 0) FROM request_items ri JOIN requests r ON r.id = ri.request_id WHERE ri.entry_id = ? AND r.status = 'approved'`, rows[i].ID).Scan(&approved); err != nil {
			return nil, err
		}
		rows[i].Free = unclaimed - approved
	}
	return rows, nil
}

// fastInventory computes the same rows with three statements.
func fastInventory(ctx context.Context, db *sql.DB) ([]row, error) {
	rows, err := entries(ctx, db)
	if err != nil {
		return nil, err
	}
	unclaimed, err := countsByEntry(ctx, db, `SELECT entry_id, count(*) FROM items WHERE user_id IS NULL GROUP BY entry_id`)
	if err != nil {
		return nil, err
	}
	approved, err := countsByEntry(ctx, db, `SELECT ri.entry_id, sum(ri.quantity) FROM request_items ri JOIN requests r ON r.id = ri.request_id WHERE r.status = 'approved' GROUP BY ri.entry_id`)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Free = unclaimed[rows[i].ID] - approved[rows[i].ID]
	}
	return rows, nil
}

func countsByEntry(ctx context.Context, db *sql.DB, query string) (map[int]int, error) {
	rs, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	m := make(map[int]int)
	for rs.Next() {
		var id, n int
		if err := rs.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[id] = n
	}
	return m, rs.Err()
}

// inventoryHandler serves a page computed by page.
func inventoryHandler(db *sql.DB, page func(context.Context, *sql.DB) ([]row, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, err := page(r.Context(), db)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(rows)
	})
}

// traced is a middleware that starts a trace of its own per request, as an
// application's would; reports gets each request's report.
func traced(next http.Handler, reports chan<- *querytrace.Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, tr := querytrace.Start(r.Context(), r.Method+" "+r.URL.Path)
		next.ServeHTTP(w, r.WithContext(ctx))
		rep := tr.Finish()
		if reports != nil {
			reports <- rep
		}
	})
}
