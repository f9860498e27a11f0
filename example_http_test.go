package querytrace_test

import (
	"fmt"
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
	db := openInventory("example_handler")
	defer db.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /inventory", func(w http.ResponseWriter, r *http.Request) {
		counts, err := unclaimed(r.Context(), db)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, len(counts), "entries")
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
	// db;dur=…;desc="4 statements, 1 N+1"
	// GET /inventory
	// 3 times at example_report_test.go
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
