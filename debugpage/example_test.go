package debugpage_test

import (
	"net/http"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// The page is mounted beside the traced routes, not behind them, so that
// looking at it does not fill its own lists. Each traced response names
// its request's page in a Querytrace-Page header, for the clients the
// page answers.
func Example() {
	app := http.NewServeMux() // the application's routes

	rec := &debugpage.Recorder{}
	page := &debugpage.Handler{Recorder: rec}
	mux := http.NewServeMux()
	mux.Handle("/", &querytrace.Handler{Next: app, OnFinish: rec.Observe, OnHeader: page.Link})
	mux.Handle("/debug/querytrace/", page)

	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
	_ = srv // srv.ListenAndServe()
}

// An Archive saves the reports with a finding as files, for the querytrace
// command to serve, summarize and compare later.
func ExampleArchive() {
	app := http.NewServeMux()
	arch := &debugpage.Archive{Dir: "reports", Filter: debugpage.WithFindings, MaxFiles: 500}
	h := &querytrace.Handler{Next: app, OnReport: arch.Observe}
	_ = h
}

// Behind a reverse proxy every client looks local, and on a shared host
// every local user is one: decide who may look.
func ExampleHandler_authorize() {
	rec := &debugpage.Recorder{}
	page := &debugpage.Handler{
		Recorder: rec,
		Authorize: func(r *http.Request) bool {
			user, pass, ok := r.BasicAuth()
			return ok && user == "ops" && pass == lookupSecret()
		},
	}
	http.NewServeMux().Handle("/debug/querytrace/", page)
}

func lookupSecret() string { return "from a secret store" }

// Publish makes the statistics part of /debug/vars, for tools that read
// expvar; nothing is published without it.
func ExampleRecorder_Publish() {
	rec := &debugpage.Recorder{}
	rec.Publish("querytrace_example")
}
