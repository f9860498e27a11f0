package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"net/http"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// newMux returns the demo's routes over db:
//
//	GET /                 a plain-text index of the routes
//	GET /inventory/slow   the inventory page, two queries per entry
//	GET /inventory/fast   the same page in three queries
//
// Both inventory routes return the page as a JSON array of Row.
func newMux(db *sql.DB) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, index)
	})
	mux.Handle("GET /inventory/slow", pageHandler(db, store.SlowInventory))
	mux.Handle("GET /inventory/fast", pageHandler(db, store.FastInventory))
	return mux
}

const index = `inventory demo

GET /inventory/slow   inventory page, 1 + 2 queries per entry (N+1)
GET /inventory/fast   the same page in 3 queries (GROUP BY)
`

// pageHandler serves the rows computed by page as JSON. The page runs under
// the request's context, so its statements belong to this request and stop
// when the client goes away.
func pageHandler(db *sql.DB, page func(context.Context, *sql.DB) ([]store.Row, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, err := page(r.Context(), db)
		if err != nil && r.Context().Err() != nil {
			// The client went away (a load test stopping, say): there is
			// no one to answer and nothing worth logging.
			return
		}
		if err != nil {
			log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// An error here means the client went away mid-response (a load
		// test stopping, say); the status line is sent, nothing to do.
		json.NewEncoder(w).Encode(rows)
	})
}
