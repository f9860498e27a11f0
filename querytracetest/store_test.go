package querytracetest

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

// The tests run the helpers over the demo's inventory
// (examples/inventory/store): a page that counts the free items of each
// entry with two statements per entry, and the same page with three
// statements in all.

var dbs atomic.Int64

// openStore opens a traced in-memory database of its own for t, holding n
// entries of the inventory.
func openStore(t testing.TB, n int) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("sqlite3", store.MemoryDSN(fmt.Sprint("querytracetest-", dbs.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Create(context.Background(), db, n); err != nil {
		t.Fatal(err)
	}
	return db
}

// grow makes the inventory in db hold n entries: Scale grows one
// database.
func grow(t testing.TB, db *sql.DB, n int) {
	t.Helper()
	if err := store.Grow(context.Background(), db, n); err != nil {
		t.Fatal(err)
	}
}

// inventoryHandler serves a page computed by page.
func inventoryHandler(db *sql.DB, page func(context.Context, *sql.DB) ([]store.Row, error)) http.Handler {
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
