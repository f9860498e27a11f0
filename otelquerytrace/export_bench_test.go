package otelquerytrace_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// BenchmarkExport exports the report of one fast page (three statements)
// onto a sampled span: the bridge's whole cost per request, beside the
// cost of the span itself.
//
//	go test -run '^$' -bench Export -benchmem .
func BenchmarkExport(b *testing.B) {
	db := openInventory(b, 50)
	ctx, tr := querytrace.Start(context.Background(), "GET /inventory/fast")
	if _, err := store.FastInventory(ctx, db); err != nil {
		b.Fatal(err)
	}
	rep := tr.Finish()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer tp.Shutdown(context.Background())
	for _, c := range []struct {
		name string
		opts []otelquerytrace.Option
	}{
		{"default", nil},
		{"db-spans", []otelquerytrace.Option{otelquerytrace.WithDBSpans(20)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			bridge := otelquerytrace.New(append(c.opts, otelquerytrace.WithTracerProvider(tp), otelquerytrace.WithMeterProvider(mp))...)
			tracer := tp.Tracer("bench")
			b.ReportAllocs()
			for b.Loop() {
				ctx, span := tracer.Start(context.Background(), "request")
				bridge.Export(ctx, rep)
				span.End()
			}
		})
	}
	b.Run("span-only", func(b *testing.B) {
		tracer := tp.Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			_, span := tracer.Start(context.Background(), "request")
			span.End()
		}
	})
}
