// Package otelquerytrace exports querytrace's per-request reports to
// OpenTelemetry, for fleets whose traces and metrics already go through
// it.
//
// Where a per-call SQL instrumentation makes a span per driver call, a
// Bridge works from the finished report of a request (or a job): one
// statement count, one database time and one event per N+1 loop or
// duplicate on the request's span, with the loop's shape, call site,
// count, time, source query and fix; optionally one span per group of
// statements (a loop of 600 is one span that says 600); and metrics whose
// cardinality is bounded by Limits. Nothing it exports holds an argument
// value or a SQL literal: db.query.text is the normalized shape, with "?"
// for every literal.
//
// # Plugging it in
//
// querytrace.Handler calls its OnFinish hook on the request's goroutine,
// after the application's handler returned and before its own ServeHTTP
// returns. Wrapped in otelhttp, the request's span is still open then:
//
//	bridge := otelquerytrace.New() // the global providers
//	h := &querytrace.Handler{Next: mux, OnFinish: bridge.OnFinish}
//	http.ListenAndServe(addr, otelhttp.NewHandler(h, "server"))
//
// gRPC calls reach the same hook through the interceptors of
// github.com/querytrace/querytrace/grpcquerytrace, with the span of
// otelgrpc's stats handler still open:
//
//	h := &querytrace.Handler{OnFinish: bridge.OnFinish}
//	srv := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()),
//		grpc.ChainUnaryInterceptor(grpcquerytrace.UnaryServerInterceptor(h)))
//
// Other bridges (another tracing system, a custom sink that needs the
// request's context) can use the same hook. For work outside a request,
// call Export with the job's context after Finish.
//
// # What it exports
//
// On the request's span, in the querytrace namespace: statements,
// db.duration (seconds), rows, n_plus_one.count and duplicate.count, and
// when they are not zero n_plus_one.statements, slow.count, transactions
// and errors; and an event per finding (EventNPlusOne, EventDuplicate, EventSlow,
// the costliest 32) with the conventions' db.* and code.* attributes and
// querytrace.count, .duration, .fix, .call_site and .source.query, and
// where the finding has them .loop (the loop's line, Finding.Loop) and
// .orm_fix (the fix in the ORM's own API, Finding.ORMFix).
//
// Database spans (WithDBSpans) are client spans named by db.query.summary,
// with db.system.name, db.operation.name, db.collection.name,
// db.query.summary, db.query.text and db.response.returned_rows, from the
// group's first statement's start to its last one's end.
//
// Metrics: db.client.operation.duration by system, operation, collection
// and summary; MetricRequestStatements and MetricRequestDBDuration by
// route; MetricFindings by route, kind and call site.
//
// The database conventions followed are those of the semconv package
// v1.43.0 of go.opentelemetry.io/otel.
package otelquerytrace
