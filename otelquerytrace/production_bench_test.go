//go:build unix

package otelquerytrace_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// production serves the demo's pages the way the README's "In
// production" sets querytrace up, behind otelhttp with an SDK tracer that
// samples every request: a part at a time, for the raw page (no
// querytrace), the driver and Handler with the staging detector, the
// debug page's Recorder and Link, and the OpenTelemetry bridge.
type production struct {
	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
}

func newProduction(b *testing.B) *production {
	p := &production{
		tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter())),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
	}
	b.Cleanup(func() {
		p.tp.Shutdown(context.Background())
		p.mp.Shutdown(context.Background())
	})
	return p
}

// productionParts are the setups, each adding one part to the one before.
var productionParts = []string{"raw", "handler", "recorder", "bridge"}

// handler returns the setup named part over a database of its own.
func (p *production) handler(b *testing.B, part string) http.Handler {
	var db *sql.DB
	if part == "raw" {
		var err error
		if db, err = sql.Open("sqlite3", store.MemoryDSN(fmt.Sprint("production-raw-", dbSeq.Add(1)))); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		if err := store.Create(context.Background(), db, 300); err != nil {
			b.Fatal(err)
		}
	} else {
		db = openInventory(b, 300)
	}
	mux := http.NewServeMux()
	var app http.Handler = newMux(db)
	if part != "raw" {
		h := &querytrace.Handler{
			Next:     app,
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Detector: querytrace.StagingDetector(),
		}
		if part == "recorder" || part == "bridge" {
			rec := &debugpage.Recorder{}
			page := &debugpage.Handler{Recorder: rec}
			h.OnFinish, h.OnHeader = rec.Observe, page.Link
			mux.Handle("/debug/querytrace/", page)
			if part == "bridge" {
				bridge := otelquerytrace.New(otelquerytrace.WithTracerProvider(p.tp), otelquerytrace.WithMeterProvider(p.mp))
				h.OnFinish = func(r *http.Request, rep *querytrace.Report) {
					rec.Observe(r, rep)
					bridge.OnFinish(r, rep)
				}
			}
		}
		app = h
	}
	mux.Handle("/", app)
	return otelhttp.NewHandler(mux, "inventory", otelhttp.WithTracerProvider(p.tp), otelhttp.WithMeterProvider(noop.NewMeterProvider()))
}

func serveFast(b *testing.B, h http.Handler) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/inventory/fast", nil))
	if w.Code != http.StatusOK {
		b.Fatalf("status %d", w.Code)
	}
}

// BenchmarkProduction serves the fast page raw on one side and with the
// whole production setup (driver, Handler, Recorder, bridge) on the
// other, in alternating blocks, and reports the ratios of the wall and
// CPU times: the cost of leaving querytrace on, on a real page. The
// control row is raw on both sides, the harness's own error. Times need
// a quiet machine:
//
//	go test -run '^$' -bench 'Production$' -count 10 -benchtime 3000x .
func BenchmarkProduction(b *testing.B) {
	for _, c := range []struct{ name, on string }{
		{"control", "raw"},
		{"production", "bridge"},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := newProduction(b)
			off, on := p.handler(b, "raw"), p.handler(b, c.on)
			for range 20 { // first reports, caches
				serveFast(b, off)
				serveFast(b, on)
			}
			serve := func(h http.Handler) func(int) {
				return func(n int) {
					for range n {
						serveFast(b, h)
					}
				}
			}
			interleave(b, 10, serve(off), serve(on))
		})
	}
}

// BenchmarkProductionParts serves the fast page through each setup of
// productionParts in turn, one after the other: what each part adds in
// allocations per request (-benchmem), which are the same on any machine.
//
//	go test -run '^$' -bench ProductionParts -benchmem .
func BenchmarkProductionParts(b *testing.B) {
	for _, part := range productionParts {
		b.Run(part, func(b *testing.B) {
			h := newProduction(b).handler(b, part)
			for range 20 {
				serveFast(b, h)
			}
			b.ReportAllocs()
			for b.Loop() {
				serveFast(b, h)
			}
		})
	}
}
