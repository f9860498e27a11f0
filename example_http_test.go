package querytrace_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/querytrace/querytrace"
)

// A Handler traces each request: a Server-Timing header for the browser's
// developer tools, N+1 warnings in the log, and every report to OnReport.
func ExampleHandler() {
	db, err := querytrace.Open("sqlite3", "file:example_handler?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as db
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER)`); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /inventory", func(w http.ResponseWriter, r *http.Request) {
		for id := range 3 { // one COUNT per entry
			var n int
			if err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM items WHERE entry_id = ?`, id).Scan(&n); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprintln(w, "3 entries")
	})

	reports := make(chan *querytrace.Report, 1)
	h := &querytrace.Handler{
		Next:     mux,
		Logger:   slog.New(slog.DiscardHandler), // in a service: a logger of your own, or nil for slog.Default()
		Detector: nil,                           // nil for the zero Detector; in staging: querytrace.StagingDetector()
		OnReport: func(_ *http.Request, r *querytrace.Report) { reports <- r },
	}

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/inventory", nil))

	// The duration varies from run to run; the description does not.
	fmt.Println(regexp.MustCompile(`dur=[0-9.]+`).ReplaceAllString(w.Header().Get("Server-Timing"), "dur=…"))
	report := <-reports // after the response is written
	fmt.Println(report.Name)
	f := report.NPlusOne[0]
	fmt.Println(f.Count, "times at", filepath.Base(f.Group.Stack[0].File))
	// Output:
	// db;dur=…;desc="3 statements, 1 N+1"
	// GET /inventory
	// 3 times at example_http_test.go
}

// Without a ServeMux pattern, a report is named by the request's path with
// the segments that look like ids or tokens masked, so that no token
// reaches a log and every user's page has one name. A router that keeps
// its route template to itself can name it with SetRoute.
func ExampleSetRoute() {
	reports := make(chan *querytrace.Report, 2)
	onReport := func(_ *http.Request, r *querytrace.Report) { reports <- r }

	// A router of its own, as gin or echo are: it knows the route.
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/orders/") {
			querytrace.SetRoute(r.Context(), "/orders/:id") // gin: c.FullPath(); echo: c.Path()
		}
	})
	h := &querytrace.Handler{Next: router, Logger: slog.New(slog.DiscardHandler), OnReport: onReport}

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/reset-password/Zk3JqP0vXw9LmTq2RsY8bNc4?next=/home", nil))
	fmt.Println((<-reports).Name)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/1234", nil))
	fmt.Println((<-reports).Name)
	// Output:
	// GET /reset-password/{id}
	// GET /orders/:id
}
