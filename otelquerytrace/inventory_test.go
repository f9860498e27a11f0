package otelquerytrace_test

// The demo's inventory pages (examples/inventory, a main package that
// cannot be imported) rebuilt over SQLite with the same statements: the
// slow page runs two per entry, the fast page three in all.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
)

const (
	entriesSQL          = `SELECT id, name, category FROM entries ORDER BY id`
	unclaimedSQL        = `SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL`
	approvedSQL         = `SELECT coalesce(sum(ri.quantity), 0) FROM request_items ri JOIN requests r ON r.id = ri.request_id WHERE ri.entry_id = ? AND r.status = 'approved'`
	unclaimedByEntrySQL = `SELECT entry_id, count(*) FROM items WHERE user_id IS NULL GROUP BY entry_id`
	approvedByEntrySQL  = `SELECT ri.entry_id, sum(ri.quantity) FROM request_items ri JOIN requests r ON r.id = ri.request_id WHERE r.status = 'approved' GROUP BY ri.entry_id`
)

var schema = []string{
	`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL)`,
	`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER NOT NULL, serial TEXT NOT NULL, user_id INTEGER)`,
	`CREATE INDEX items_entry_id ON items(entry_id)`,
	`CREATE TABLE requests (id INTEGER PRIMARY KEY, user_name TEXT NOT NULL, status TEXT NOT NULL)`,
	`CREATE TABLE request_items (id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL, entry_id INTEGER NOT NULL, quantity INTEGER NOT NULL)`,
	`CREATE INDEX request_items_entry_id ON request_items(entry_id)`,
}

var dbSeq atomic.Int64

// openInventory opens a traced in-memory SQLite database of its own with
// the given number of entries, a few items and requests each. The seeding
// runs with no trace on its context.
func openInventory(tb testing.TB, entries int) *sql.DB {
	tb.Helper()
	name := fmt.Sprintf("otelquerytrace-%d", dbSeq.Add(1))
	db, err := querytrace.Open("sqlite3", "file:"+url.PathEscape(name)+"?mode=memory&cache=shared")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	ctx := context.Background()
	for _, s := range schema {
		if _, err := db.ExecContext(ctx, s); err != nil {
			tb.Fatal(err)
		}
	}
	statuses := []string{"pending", "approved", "rejected"}
	item := 0
	for e := 1; e <= entries; e++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO entries VALUES (?, ?, ?)`, e, fmt.Sprintf("entry %d", e), "laptop"); err != nil {
			tb.Fatal(err)
		}
		for range e % 5 {
			item++
			var user any
			if item%2 == 0 {
				user = item % 7
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO items VALUES (?, ?, ?, ?)`, item, e, fmt.Sprintf("SN-%d", item), user); err != nil {
				tb.Fatal(err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO requests VALUES (?, ?, ?)`, e, "user", statuses[e%3]); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO request_items VALUES (?, ?, ?, ?)`, e, e, 1+e%entries, 1+e%3); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

// Row is one line of the inventory page.
type Row struct {
	EntryID  int    `json:"entry_id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Free     int    `json:"free"`
}

// newMux serves the two pages over db, as the demo does.
func newMux(db *sql.DB) *http.ServeMux {
	mux := http.NewServeMux()
	page := func(f func(context.Context, *sql.DB) ([]Row, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			rows, err := f(r.Context(), db)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(rows)
		}
	}
	mux.Handle("GET /inventory/slow", page(slowInventory))
	mux.Handle("GET /inventory/fast", page(fastInventory))
	return mux
}

// slowInventory runs one query for the entries, then two per entry.
func slowInventory(ctx context.Context, db *sql.DB) ([]Row, error) {
	rows, err := entryRows(ctx, db)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		var unclaimed, approved int
		if err := db.QueryRowContext(ctx, unclaimedSQL, rows[i].EntryID).Scan(&unclaimed); err != nil {
			return nil, err
		}
		if err := db.QueryRowContext(ctx, approvedSQL, rows[i].EntryID).Scan(&approved); err != nil {
			return nil, err
		}
		rows[i].Free = unclaimed - approved
	}
	return rows, nil
}

// fastInventory computes the same page with three statements.
func fastInventory(ctx context.Context, db *sql.DB) ([]Row, error) {
	rows, err := entryRows(ctx, db)
	if err != nil {
		return nil, err
	}
	unclaimed, err := countsByEntry(ctx, db, unclaimedByEntrySQL)
	if err != nil {
		return nil, err
	}
	approved, err := countsByEntry(ctx, db, approvedByEntrySQL)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Free = unclaimed[rows[i].EntryID] - approved[rows[i].EntryID]
	}
	return rows, nil
}

func entryRows(ctx context.Context, db *sql.DB) ([]Row, error) {
	rs, err := db.QueryContext(ctx, entriesSQL)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	rows := []Row{}
	for rs.Next() {
		var r Row
		if err := rs.Scan(&r.EntryID, &r.Name, &r.Category); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

func countsByEntry(ctx context.Context, db *sql.DB, query string) (map[int]int, error) {
	rs, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	counts := make(map[int]int)
	for rs.Next() {
		var id, n int
		if err := rs.Scan(&id, &n); err != nil {
			return nil, err
		}
		counts[id] = n
	}
	return counts, rs.Err()
}
