package otelquerytrace_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// BenchmarkFastPage serves the demo's fast page in process through otelhttp
// (with an SDK tracer that samples every request) and querytrace.Handler,
// with the bridge off and on, in alternating blocks, and reports the ratio
// on/off: what the bridge adds to a request, database spans and metrics
// included.
//
//	go test -run '^$' -bench FastPage -count 6 .
func BenchmarkFastPage(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []otelquerytrace.Option
	}{
		{"default", nil},
		{"db-spans", []otelquerytrace.Option{otelquerytrace.WithDBSpans(20)}},
	} {
		b.Run(c.name, func(b *testing.B) { benchFastPage(b, c.opts...) })
	}
}

func benchFastPage(b *testing.B, opts ...otelquerytrace.Option) {
	db := openInventory(b, 300)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		tp.Shutdown(b.Context())
		mp.Shutdown(b.Context())
	})
	bridge := otelquerytrace.New(append([]otelquerytrace.Option{otelquerytrace.WithTracerProvider(tp), otelquerytrace.WithMeterProvider(mp)}, opts...)...)
	handler := func(onFinish func(*http.Request, *querytrace.Report)) http.Handler {
		h := &querytrace.Handler{Next: newMux(db), OnFinish: onFinish, Logger: slog.New(slog.DiscardHandler)}
		return otelhttp.NewHandler(h, "inventory", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(noop.NewMeterProvider()))
	}
	off, on := handler(nil), handler(bridge.OnFinish)
	serve := func(h http.Handler) func(int) {
		return func(n int) {
			for range n {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/inventory/fast", nil))
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		}
	}
	interleave(b, 20, serve(off), serve(on))
}

// interleave runs b.N operations of off and of on in alternating blocks,
// swapping which goes first on every block so that a slow spell of the
// machine, or the order itself, hits both alike, and reports the time per
// operation of each and their ratio. (The core's internal/interleave does
// the same; this module cannot import it.)
func interleave(b *testing.B, block int, off, on func(n int)) {
	var offTime, onTime time.Duration
	timed := func(f func(int), n int, total *time.Duration) {
		t0 := time.Now()
		f(n)
		*total += time.Since(t0)
	}
	b.ResetTimer()
	for done, k := 0, 0; done < b.N; done, k = done+block, k+1 {
		n := min(block, b.N-done)
		if k%2 == 0 {
			timed(off, n, &offTime)
			timed(on, n, &onTime)
		} else {
			timed(on, n, &onTime)
			timed(off, n, &offTime)
		}
	}
	b.ReportMetric(float64(offTime.Nanoseconds())/float64(b.N), "off-ns/op")
	b.ReportMetric(float64(onTime.Nanoseconds())/float64(b.N), "on-ns/op")
	b.ReportMetric(float64(onTime)/float64(offTime), "on/off")
}
