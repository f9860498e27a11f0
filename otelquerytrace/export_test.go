package otelquerytrace_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// TestExportJob: a job that runs under a span of the application's and a
// querytrace trace gets the N+1 on that span, and its metrics under the
// job's name.
func TestExportJob(t *testing.T) {
	s := newSDK(t)
	b := s.bridge()
	db := openInventory(t, 12)

	ctx, span := s.tp.Tracer("app").Start(context.Background(), "nightly inventory")
	ctx, tr := querytrace.Start(ctx, "job inventory")
	if _, err := store.SlowInventory(ctx, db); err != nil {
		t.Fatal(err)
	}
	b.Export(ctx, tr.Finish())
	span.End()

	spans := s.spans.Ended()
	if len(spans) != 1 || spans[0].Name() != "nightly inventory" {
		t.Fatalf("want the job's span alone (database spans are off by default), got %d spans", len(spans))
	}
	if ev := spans[0].Events(); len(ev) != 2 || ev[0].Name != otelquerytrace.EventNPlusOne {
		t.Errorf("job span events: %v, want two N+1", ev)
	}
	ps := where(points(s.metrics(t), otelquerytrace.MetricRequestStatements), attribute.String(otelquerytrace.AttrRoute, "job inventory"))
	if len(ps) != 1 || ps[0].sum != 1+2*12 {
		t.Errorf("%s for the job: %+v", otelquerytrace.MetricRequestStatements, ps)
	}
}

// TestSampledOut: a request whose span is not sampled gets no span work,
// and its metrics are recorded all the same.
func TestSampledOut(t *testing.T) {
	s := newSDK(t)
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(s.spans))
	srv := serve(t, s, s.bridge(otelquerytrace.WithDBSpans(20)), newMux(openInventory(t, 10)))
	get(t, srv, "/inventory/slow")
	if spans := s.spans.Ended(); len(spans) != 0 {
		t.Errorf("sampled out: %d spans recorded", len(spans))
	}
	rm := s.metrics(t)
	route := attribute.String(otelquerytrace.AttrRoute, "GET /inventory/slow")
	if n := total(where(points(rm, otelquerytrace.MetricFindings), route)); n != 2 {
		t.Errorf("sampled out: %d findings counted, want 2", n)
	}
}

// TestNilReport: a nil report is nothing to export.
func TestNilReport(t *testing.T) {
	s := newSDK(t)
	s.bridge().Export(context.Background(), nil)
	if len(s.spans.Ended()) != 0 || len(points(s.metrics(t), otelquerytrace.MetricRequestStatements)) != 0 {
		t.Error("a nil report exported something")
	}
}

// TestScannerBeforeTraffic: a scanner's 150 paths, which no route
// matches, before the first real request, are one route in the metrics,
// querytrace.NoRoute, and every real route has its own series after them.
func TestScannerBeforeTraffic(t *testing.T) {
	s := newSDK(t)
	srv := serve(t, s, s.bridge(), newMux(openInventory(t, 5)))
	for i := range 150 {
		resp, err := srv.Client().Get(srv.URL + scanPath(i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %s, want 404 (the test's premise)", scanPath(i), resp.Status)
		}
	}
	get(t, srv, "/inventory/fast")
	get(t, srv, "/inventory/slow")
	ps := points(s.metrics(t), otelquerytrace.MetricRequestStatements)
	for route, want := range map[string]uint64{querytrace.NoRoute: 150, "GET /inventory/fast": 1, "GET /inventory/slow": 1, otelquerytrace.Other: 0} {
		if n := total(where(ps, attribute.String(otelquerytrace.AttrRoute, route))); n != want {
			t.Errorf("%s: %d requests, want %d", route, n, want)
		}
	}
	if len(ps) != 3 {
		t.Errorf("%d routes, want the scanner's one and the two pages': %+v", len(ps), ps)
	}
}

// scanPath returns the i'th of a scanner's paths: words, not ids, so that
// masking leaves each its own.
func scanPath(i int) string {
	return fmt.Sprintf("/old-%c%c/setup-config.php", 'a'+i/26%26, 'a'+i%26)
}

// TestDuplicateEvent: the same query with the same arguments three times
// is a duplicate: an event that says so, with its fix, and a finding of
// kind "duplicate" in the metrics.
func TestDuplicateEvent(t *testing.T) {
	s := newSDK(t)
	db := openInventory(t, 3)
	ctx, span := s.tp.Tracer("app").Start(context.Background(), "job settings")
	ctx, tr := querytrace.Start(ctx, "job settings")
	for range 3 {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE category = ?`, "laptop").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	s.bridge().Export(ctx, tr.Finish())
	span.End()

	ev := s.spans.Ended()[0].Events()
	if len(ev) != 1 || ev[0].Name != otelquerytrace.EventDuplicate {
		t.Fatalf("events %v, want one duplicate", ev)
	}
	a := attrs(ev[0].Attributes)
	if a["querytrace.count"].AsInt64() != 3 || !strings.Contains(a["querytrace.fix"].AsString(), "run it once") {
		t.Errorf("duplicate event: count %d, fix %q", a["querytrace.count"].AsInt64(), a["querytrace.fix"].AsString())
	}
	if strings.Contains(a["db.query.text"].AsString(), "laptop") {
		t.Errorf("duplicate event holds the argument: %q", a["db.query.text"].AsString())
	}
	kind := attribute.String(otelquerytrace.AttrFindingKind, "duplicate")
	if n := total(where(points(s.metrics(t), otelquerytrace.MetricFindings), kind)); n != 1 {
		t.Errorf("%d duplicate findings counted, want 1", n)
	}
}

// TestConnErrorsOnSpan: a request whose statements found no usable
// connection says how many times on its span, beside its errors.
func TestConnErrorsOnSpan(t *testing.T) {
	s := newSDK(t)
	rep := loopReport(1)
	rep.Errors, rep.ConnErrors = 1, 3
	s.bridge().Export(context.Background(), rep)
	spans := s.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the report's own", len(spans))
	}
	a := attrs(spans[0].Attributes())
	if a["querytrace.errors"].AsInt64() != 1 || a["querytrace.conn_errors"].AsInt64() != 3 {
		t.Errorf("querytrace.errors %d, querytrace.conn_errors %d; want 1 and 3", a["querytrace.errors"].AsInt64(), a["querytrace.conn_errors"].AsInt64())
	}
}
