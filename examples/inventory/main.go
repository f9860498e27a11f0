// Inventory is a demo of the N+1 query pattern and its fix.
//
// It retells a real case: a Flask inventory page took 2.8 s because each
// of its items issued two COUNT queries, 759 statements in all; one GROUP BY
// query per aggregate brought it down to 4 statements and 55 ms. Here the
// page is served twice over the same SQLite database, at /inventory/slow
// (two queries per entry) and /inventory/fast (three queries in all).
//
// Usage:
//
//	inventory                       seed, fetch both pages once, print a summary
//	inventory -serve 127.0.0.1:8080 serve the pages
//	inventory -load 5s              load-test the fast page
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"
)

func main() {
	serve := flag.String("serve", "", "serve the pages on `address` (e.g. 127.0.0.1:8080) instead of printing a summary")
	entries := flag.Int("entries", 300, "number of inventory `entries` to seed")
	load := flag.Duration("load", 0, "load-test the fast page for this `duration` per run (e.g. 5s) and exit")
	clients := flag.Int("clients", 20, "concurrent clients of the load test")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("inventory: ")
	ctx := context.Background()

	if *load > 0 {
		if err := loadTest(ctx, *load, *clients, *entries); err != nil {
			log.Fatal(err)
		}
		return
	}

	// querytrace: wrap the driver here, db, err := querytrace.Open("sqlite3", dsn).
	dsn := memoryDSN("inventory")
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := openStore(ctx, db, *entries); err != nil {
		log.Fatal(err)
	}

	mux := newMux(db)
	// querytrace: wrap the handler here, h = &querytrace.Handler{Next: mux, ...}.
	var h http.Handler = mux

	if *serve != "" {
		log.Printf("serving on http://%s/", *serve)
		srv := &http.Server{Addr: *serve, Handler: h, ReadHeaderTimeout: 5 * time.Second}
		log.Fatal(srv.ListenAndServe())
	}
	if err := summary(h, *entries); err != nil {
		log.Fatal(err)
	}
}

// summary fetches both pages once through h, in process, and prints how
// many rows each returned and how long it took.
func summary(h http.Handler, entries int) error {
	fmt.Printf("inventory: %d entries\n", entries)
	for _, path := range []string{"/inventory/slow", "/inventory/fast"} {
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		elapsed := time.Since(start)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		var rows []Row
		if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		fmt.Printf("GET %-16s %4d rows  %v\n", path, len(rows), elapsed.Round(10*time.Microsecond))
	}
	return nil
}

// loadTest compares configurations of the fast page under load, each over
// its own database so that they do not queue on each other's connection.
func loadTest(ctx context.Context, duration time.Duration, clients, entries int) error {
	a, err := sql.Open("sqlite3", memoryDSN("load-a"))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := openStore(ctx, a, entries); err != nil {
		return err
	}

	// querytrace: open this one with querytrace.Open("sqlite3", ...), wrap
	// its mux in a querytrace.Handler and name the configuration
	// "querytrace".
	b, err := sql.Open("sqlite3", memoryDSN("load-b"))
	if err != nil {
		return err
	}
	defer b.Close()
	if err := openStore(ctx, b, entries); err != nil {
		return err
	}

	results, err := runLoad(ctx, duration, clients, []loadConfig{
		{Name: "raw", Handler: newMux(a)},
		{Name: "raw-b", Handler: newMux(b)},
	})
	if err != nil {
		return err
	}
	printLoad(os.Stdout, duration, clients, results)
	return nil
}
