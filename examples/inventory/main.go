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
//	inventory -json                 the same, with both reports as JSON
//	inventory -serve 127.0.0.1:8080 serve the pages
//	inventory -load 5s              load-test the fast page
//	inventory -db DSN               the summary (or -json, -serve) on PostgreSQL
//	                                (postgres://...) or MySQL and MariaDB
//	                                (user:password@tcp(host:port)/name)
//
// The servers' drivers are built in with -tags pgx, -tags mysql or both
// (go run -tags pgx,mysql ./examples/inventory -db DSN); without them the
// demo runs on SQLite alone, and a -db names the command that adds its
// driver.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	"github.com/querytrace/querytrace/examples/inventory/store"
)

func main() {
	serve := flag.String("serve", "", "serve the pages on `address` (e.g. 127.0.0.1:8080) instead of printing a summary")
	entries := flag.Int("entries", 300, "number of inventory `entries` to seed")
	load := flag.Duration("load", 0, "load-test the fast page for this `duration` per run (e.g. 5s) and exit")
	clients := flag.Int("clients", 20, "concurrent clients of the load test")
	asJSON := flag.Bool("json", false, "print both reports as JSON, one object a line")
	dsn := flag.String("db", "", "run the pages on the database of this `DSN`: postgres://... for PostgreSQL, user:password@tcp(host:port)/name for MySQL or MariaDB; SQLite in memory by default (a server's driver is built in with -tags pgx or -tags mysql)")
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

	if err := checkDriver(*dsn, os.Args[1:]); err != nil {
		log.Fatal(err)
	}
	// The one change an application makes: open the database through
	// querytrace, and put its middleware in front of the handlers.
	db, err := store.Open(ctx, openTraced, "inventory", *dsn, *entries)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	if *serve != "" {
		// Warnings for every N+1, the whole report at Debug level.
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		// The debug page at /debug/querytrace/ (loopback clients only), named
		// in each response's Querytrace-Page header; beside the traced routes,
		// not behind them, so that looking at it does not fill its own lists.
		rec := &debugpage.Recorder{}
		page := &debugpage.Handler{Recorder: rec}
		h := http.NewServeMux()
		h.Handle("/", &querytrace.Handler{Next: newMux(db), Logger: logger, OnFinish: rec.Observe, OnHeader: page.Link})
		// EXPLAIN is PostgreSQL's alone: MySQL plans a statement only
		// with values for its placeholders.
		if strings.HasPrefix(*dsn, "postgres") {
			page.Explain = db
		}
		h.Handle("/debug/querytrace/", page)
		log.Printf("serving on http://%s/ (try: curl -i http://%s/inventory/slow, then open http://%s/debug/querytrace/)", *serve, *serve, *serve)
		srv := &http.Server{Addr: *serve, Handler: h, ReadHeaderTimeout: 5 * time.Second}
		log.Fatal(srv.ListenAndServe())
	}
	if *asJSON {
		slow, fast, err := demo(io.Discard, db, *entries)
		if err != nil {
			log.Fatal(err)
		}
		enc := json.NewEncoder(os.Stdout)
		for _, r := range []*querytrace.Report{slow, fast} {
			if err := enc.Encode(r); err != nil {
				log.Fatal(err)
			}
		}
		return
	}
	if _, _, err := demo(os.Stdout, db, *entries); err != nil {
		log.Fatal(err)
	}
}

// demo fetches both pages once, in process, through querytrace's
// middleware, prints each request's report and a comparison, and returns
// the two reports.
func demo(w io.Writer, db *sql.DB, entries int) (slow, fast *querytrace.Report, err error) {
	h := &querytrace.Handler{
		Next: newMux(db),
		// The reports are printed below; the log would repeat them.
		Logger: slog.New(slog.DiscardHandler),
	}
	fmt.Fprintf(w, "inventory: %d entries, the same page computed two ways\n\n", entries)
	var reports [2]*querytrace.Report
	for i, path := range []string{"/inventory/slow", "/inventory/fast"} {
		// A trace around the request sees every statement of the
		// handler's own trace: traces nest.
		ctx, tr := querytrace.Start(context.Background(), "GET "+path)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
		reports[i] = tr.Finish()
		if rec.Code != http.StatusOK {
			return nil, nil, fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		var rows []store.Row
		if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil {
			return nil, nil, fmt.Errorf("GET %s: %w", path, err)
		}
		fmt.Fprintf(w, "GET %s: %d rows, Server-Timing: %s\n", path, len(rows), rec.Header().Get("Server-Timing"))
		if err := reports[i].WriteText(w); err != nil {
			return nil, nil, err
		}
		fmt.Fprintln(w)
	}
	slow, fast = reports[0], reports[1]
	fmt.Fprintf(w, "slow vs fast: %d vs %d statements, %v vs %v database time, %v vs %v wall time\n",
		slow.Statements, fast.Statements,
		slow.DBTime.Round(10*time.Microsecond), fast.DBTime.Round(10*time.Microsecond),
		slow.Wall.Round(10*time.Microsecond), fast.Wall.Round(10*time.Microsecond))
	return slow, fast, nil
}

// loadTest compares configurations of the fast page under load, each over
// its own database so that they do not queue on each other's connection:
// raw, querytrace's driver and Handler, the production setup (the
// Handler with the debug page's Recorder, as the README's "In production"
// has it; the OpenTelemetry bridge is measured in its own module), and a
// second raw app as the control.
func loadTest(ctx context.Context, duration time.Duration, clients, entries int) error {
	a, err := sql.Open("sqlite3", store.MemoryDSN("load-a"))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := store.Create(ctx, a, entries); err != nil {
		return err
	}

	// The same app with querytrace: driver and middleware, logging
	// through a logger that drops what it gets, so that the measure is
	// querytrace's recording and reporting, not a terminal's speed.
	b, err := querytrace.Open("sqlite3", store.MemoryDSN("load-b"))
	if err != nil {
		return err
	}
	defer b.Close()
	if err := store.Create(ctx, b, entries); err != nil {
		return err
	}

	// The same app set up as the README's "In production" has it: the
	// staging detector, warnings logged (nowhere here), the debug page's
	// Recorder fed from OnFinish, its Link on every response and the page
	// mounted beside the routes.
	p, err := querytrace.Open("sqlite3", store.MemoryDSN("load-p"))
	if err != nil {
		return err
	}
	defer p.Close()
	if err := store.Create(ctx, p, entries); err != nil {
		return err
	}
	rec := &debugpage.Recorder{}
	page := &debugpage.Handler{Recorder: rec}
	production := http.NewServeMux()
	production.Handle("/", &querytrace.Handler{
		Next:     newMux(p),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Detector: querytrace.StagingDetector(),
		OnFinish: rec.Observe,
		OnHeader: page.Link,
	})
	production.Handle("/debug/querytrace/", page)

	// A second raw app is the control: its ratio to the first is the
	// measure's own noise on this machine.
	c, err := sql.Open("sqlite3", store.MemoryDSN("load-c"))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := store.Create(ctx, c, entries); err != nil {
		return err
	}

	results, err := runLoad(ctx, duration, clients, []loadConfig{
		{Name: "raw", Handler: newMux(a)},
		{Name: "querytrace", Handler: &querytrace.Handler{Next: newMux(b), Logger: slog.New(slog.DiscardHandler)}},
		{Name: "production", Handler: production},
		{Name: "raw-control", Handler: newMux(c)},
	})
	if err != nil {
		return err
	}
	printLoad(os.Stdout, duration, clients, results)
	return nil
}

// openTraced opens a database through querytrace.
func openTraced(driver, dsn string) (*sql.DB, error) { return querytrace.Open(driver, dsn) }
