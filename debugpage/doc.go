// Package debugpage shows what querytrace records, in a browser: the
// recent requests of an application, kept per class (with an N+1, a
// duplicate, a slow statement, an error, and all) so that healthy traffic
// never pushes out the one bad request; one request with its findings
// first, a waterfall of its statements over the whole request (one band
// per statement and call site), and its statements grouped by shape and
// call site; two requests compared; and
// application-wide statement statistics, "pg_stat_statements for the
// application, with call sites", as HTML, JSON, Prometheus text and, on
// request, expvar.
//
// A Recorder collects, from a querytrace.Handler's OnFinish, once per
// request and never per statement; a Handler serves the pages; an Archive
// saves reports as files, which the querytrace command serves, summarizes
// and compares offline, through Recorder.LoadDir and ReadFile, which read
// a directory they need not trust:
//
//	rec := &debugpage.Recorder{}
//	mux.Handle("/debug/querytrace/", &debugpage.Handler{Recorder: rec})
//	srv := &http.Server{Handler: &querytrace.Handler{Next: mux, OnFinish: rec.Observe}}
//
// Nothing registers itself: like net/http/pprof's handlers, but unlike its
// import, the pages are served only where the application mounts them,
// and only to loopback clients, not forwarded by a proxy for a client
// elsewhere, unless the Handler is given Authorize.
// They hold no script, load nothing from elsewhere and work offline, and
// they show statement shapes, never argument values. Every page is bounded
// whatever the reports hold: lists come in pages or are folded, and long
// texts are cut; a report's JSON has all of it.
package debugpage
