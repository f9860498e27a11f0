package otelquerytrace_test

// The demo's inventory (examples/inventory/store) served as the demo
// serves it: the slow page runs two statements per entry, the fast page
// three in all.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
)

var dbSeq atomic.Int64

// openInventory opens a traced in-memory SQLite database of its own with
// the given number of entries. The seeding runs with no trace on its
// context.
func openInventory(tb testing.TB, entries int) *sql.DB {
	tb.Helper()
	db, err := querytrace.Open("sqlite3", store.MemoryDSN(fmt.Sprint("otelquerytrace-", dbSeq.Add(1))))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := store.Create(context.Background(), db, entries); err != nil {
		tb.Fatal(err)
	}
	return db
}

// newMux serves the two pages over db, as the demo does.
func newMux(db *sql.DB) *http.ServeMux {
	mux := http.NewServeMux()
	page := func(f func(context.Context, *sql.DB) ([]store.Row, error)) http.HandlerFunc {
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
	mux.Handle("GET /inventory/slow", page(store.SlowInventory))
	mux.Handle("GET /inventory/fast", page(store.FastInventory))
	return mux
}
