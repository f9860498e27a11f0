//go:build unix

package otelquerytrace_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
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

// BenchmarkFastPage serves the demo's fast page (300 entries, three
// statements) in process through otelhttp, with an SDK tracer that samples
// every request and exports in batches, and querytrace.Handler: the bridge
// off on one side and on on the other, in alternating blocks. It reports
// the ratio on/off of the wall time and of the process's CPU time, which a
// busy neighbour on a shared machine does not inflate. The control row
// has the bridge off on both sides: the harness's own error.
//
//	go test -run '^$' -bench FastPage -count 6 -benchtime 1500x .
func BenchmarkFastPage(b *testing.B) {
	for _, c := range []struct {
		name   string
		bridge bool
		opts   []otelquerytrace.Option
	}{
		{"control", false, nil},
		{"bridge", true, nil},
		{"bridge+db-spans", true, []otelquerytrace.Option{otelquerytrace.WithDBSpans(20)}},
	} {
		b.Run(c.name, func(b *testing.B) { benchFastPage(b, c.bridge, c.opts...) })
	}
}

func benchFastPage(b *testing.B, bridged bool, opts ...otelquerytrace.Option) {
	db := openInventory(b, 300)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		tp.Shutdown(b.Context())
		mp.Shutdown(b.Context())
	})
	handler := func(onFinish func(*http.Request, *querytrace.Report)) http.Handler {
		h := &querytrace.Handler{Next: newMux(db), OnFinish: onFinish, Logger: slog.New(slog.DiscardHandler)}
		return otelhttp.NewHandler(h, "inventory", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(noop.NewMeterProvider()))
	}
	off, on := handler(nil), handler(nil)
	if bridged {
		bridge := otelquerytrace.New(append([]otelquerytrace.Option{otelquerytrace.WithTracerProvider(tp), otelquerytrace.WithMeterProvider(mp)}, opts...)...)
		on = handler(bridge.OnFinish)
	}
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
	interleave(b, 10, serve(off), serve(on))
}

// interleave runs b.N operations of off and of on in alternating blocks,
// swapping which goes first on every block so that a slow spell of the
// machine, or the order itself, hits both alike, and reports the wall and
// CPU time per operation of each and their ratios. (The core's
// internal/interleave does the same for wall time; this module cannot
// import it.)
func interleave(b *testing.B, block int, off, on func(n int)) {
	var offWall, onWall, offCPU, onCPU time.Duration
	timed := func(f func(int), n int, wall, cpu *time.Duration) {
		c0, t0 := cpuTime(b), time.Now()
		f(n)
		*wall += time.Since(t0)
		*cpu += cpuTime(b) - c0
	}
	b.ResetTimer()
	for done, k := 0, 0; done < b.N; done, k = done+block, k+1 {
		n := min(block, b.N-done)
		if k%2 == 0 {
			timed(off, n, &offWall, &offCPU)
			timed(on, n, &onWall, &onCPU)
		} else {
			timed(on, n, &onWall, &onCPU)
			timed(off, n, &offWall, &offCPU)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(offWall), "off-ns/op")
	b.ReportMetric(per(onWall), "on-ns/op")
	b.ReportMetric(float64(onWall)/float64(offWall), "on/off")
	b.ReportMetric(per(offCPU), "off-cpu-ns/op")
	b.ReportMetric(per(onCPU), "on-cpu-ns/op")
	b.ReportMetric(float64(onCPU)/float64(offCPU), "cpu-on/off")
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
