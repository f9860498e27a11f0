package otelquerytrace_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// A handler that loops over a query's rows, wrapped in querytrace.Handler
// with the bridge's OnFinish, wrapped in otelhttp: the request's span
// carries the N+1. In production the providers are the global ones, set
// up with an OTLP exporter, and New needs no options.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	bridge := otelquerytrace.New(otelquerytrace.WithTracerProvider(tp))

	db, _ := querytrace.Open("sqlite3", "file:example?mode=memory&cache=shared")
	defer db.Close()
	db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, team INTEGER)`)
	db.Exec(`INSERT INTO users VALUES (1, 10), (2, 20), (3, 30)`)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /teams", func(w http.ResponseWriter, r *http.Request) {
		for id := 1; id <= 3; id++ {
			var team int
			db.QueryRowContext(r.Context(), `SELECT team FROM users WHERE id = ?`, id).Scan(&team)
		}
	})
	h := &querytrace.Handler{Next: mux, OnFinish: bridge.OnFinish, Logger: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(otelhttp.NewHandler(h, "server", otelhttp.WithTracerProvider(tp)))
	defer srv.Close()

	resp, _ := http.Get(srv.URL + "/teams")
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tp.ForceFlush(context.Background())

	for _, s := range spans.Ended() {
		for _, e := range s.Events() {
			fmt.Println(e.Name)
			for _, kv := range e.Attributes {
				switch kv.Key {
				case "db.query.text", "db.query.summary", "querytrace.count", "querytrace.fix":
					fmt.Printf("  %s: %s\n", kv.Key, kv.Value.Emit())
				}
			}
		}
	}
	// Output:
	// querytrace.n_plus_one
	//   db.query.text: select team from users where id = ?
	//   db.query.summary: SELECT users
	//   querytrace.count: 3
	//   querytrace.fix: one query for all rows: select id, team from users where id in (...)
}

// A job outside any request: trace it with querytrace.Start and export
// its report when it is done. With no span on the context, the report gets
// a span of its own.
func ExampleBridge_Export() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	bridge := otelquerytrace.New(otelquerytrace.WithTracerProvider(tp))

	db, _ := querytrace.Open("sqlite3", "file:example-job?mode=memory&cache=shared")
	defer db.Close()
	db.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, sent INTEGER)`)

	ctx, tr := querytrace.Start(context.Background(), "job send-invoices")
	for id := 1; id <= 4; id++ {
		db.ExecContext(ctx, `UPDATE invoices SET sent = 1 WHERE id = ?`, id)
	}
	bridge.Export(ctx, tr.Finish())

	for _, s := range spans.Ended() {
		fmt.Println(s.Name())
		for _, kv := range s.Attributes() {
			if kv.Key == "querytrace.statements" || kv.Key == "querytrace.n_plus_one.count" {
				fmt.Printf("  %s: %s\n", kv.Key, kv.Value.Emit())
			}
		}
	}
	// Output:
	// job send-invoices
	//   querytrace.statements: 4
	//   querytrace.n_plus_one.count: 1
}
