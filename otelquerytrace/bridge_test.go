package otelquerytrace_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// sdk is a tracer and a meter provider that keep what they get in memory.
type sdk struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newSDK(t testing.TB) *sdk {
	s := &sdk{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() {
		s.tp.Shutdown(context.Background())
		s.mp.Shutdown(context.Background())
	})
	return s
}

// bridge returns a Bridge that exports to s.
func (s *sdk) bridge(opts ...otelquerytrace.Option) *otelquerytrace.Bridge {
	return otelquerytrace.New(append([]otelquerytrace.Option{
		otelquerytrace.WithTracerProvider(s.tp),
		otelquerytrace.WithMeterProvider(s.mp),
	}, opts...)...)
}

func (s *sdk) metrics(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// serve serves the inventory pages over db through otelhttp and a
// querytrace.Handler whose OnFinish is the bridge's, as the README shows.
func serve(t testing.TB, s *sdk, b *otelquerytrace.Bridge, next http.Handler) *httptest.Server {
	h := &querytrace.Handler{Next: next, Logger: slog.New(slog.DiscardHandler)}
	if b != nil {
		h.OnFinish = b.OnFinish
	}
	srv := httptest.NewServer(otelhttp.NewHandler(h, "inventory",
		otelhttp.WithTracerProvider(s.tp), otelhttp.WithMeterProvider(noop.NewMeterProvider())))
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path and reads the whole response: otelhttp has ended the
// request's span by the time the body is complete.
func get(t testing.TB, srv *httptest.Server, path string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// groupStatements returns the statements of a database span: its count,
// unless it says otherwise (for a pgx batch).
func groupStatements(a map[attribute.Key]attribute.Value) int64 {
	if v, ok := a["querytrace.statements"]; ok {
		return v.AsInt64()
	}
	return a["querytrace.count"].AsInt64()
}

// requestSpan returns the one server span, failing unless there is one.
func requestSpan(t *testing.T, spans []sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindServer {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one server span, got %d of %d spans", len(found), len(spans))
	}
	return found[0]
}

// dbSpans returns the client spans whose parent is parent.
func dbSpans(spans []sdktrace.ReadOnlySpan, parent sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindClient && s.Parent().SpanID() == parent.SpanContext().SpanID() {
			out = append(out, s)
		}
	}
	return out
}

// points returns the data points of the named metric, as
// (attributes, count, sum) whatever its type.
type point struct {
	attrs attribute.Set
	count uint64 // observations of a histogram; the value of a counter
	sum   float64
}

func points(rm metricdata.ResourceMetrics, name string) []point {
	var out []point
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = append(out, point{p.Attributes, p.Count, p.Sum})
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					out = append(out, point{p.Attributes, p.Count, float64(p.Sum)})
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out = append(out, point{p.Attributes, uint64(p.Value), float64(p.Value)})
				}
			}
		}
	}
	return out
}

// exemplarOf reports whether the named int64 histogram has an exemplar
// from the trace id: metrics recorded with the request's context link to
// its trace.
func exemplarOf(rm metricdata.ResourceMetrics, name string, id trace.TraceID) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, p := range h.DataPoints {
				for _, e := range p.Exemplars {
					if len(e.TraceID) == len(id) && trace.TraceID(e.TraceID) == id {
						return true
					}
				}
			}
		}
	}
	return false
}

// where returns the points with every given attribute.
func where(ps []point, kvs ...attribute.KeyValue) []point {
	var out []point
next:
	for _, p := range ps {
		for _, kv := range kvs {
			if v, ok := p.attrs.Value(kv.Key); !ok || v != kv.Value {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

func total(ps []point) (n uint64) {
	for _, p := range ps {
		n += p.count
	}
	return n
}

// noLiteral fails if any attribute of spans, or of their events, holds the
// status literal of the approved-requests query: shapes have none, and
// neither must anything the bridge exports.
func noLiteral(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	check := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			if strings.Contains(kv.Value.Emit(), "approved") {
				t.Errorf("%s: %s = %q holds a literal", where, kv.Key, kv.Value.Emit())
			}
		}
	}
	for _, s := range spans {
		check(s.Name(), s.Attributes())
		for _, e := range s.Events() {
			check(s.Name()+" event "+e.Name, e.Attributes)
		}
	}
}

// TestSlowPage: the demo's slow page through otelhttp gives one request
// span with its totals and an event per N+1 loop, a database span per group
// (a loop of 40 is one span), and the metrics, none of it with a literal.
func TestSlowPage(t *testing.T) {
	const entries = 40
	s := newSDK(t)
	srv := serve(t, s, s.bridge(otelquerytrace.WithDBSpans(20)), newMux(openInventory(t, entries)))
	get(t, srv, "/inventory/slow")

	spans := s.spans.Ended()
	req := requestSpan(t, spans)
	a := attrs(req.Attributes())
	for key, want := range map[attribute.Key]int64{
		"querytrace.statements":            1 + 2*entries,
		"querytrace.n_plus_one.count":      2,
		"querytrace.n_plus_one.statements": 2 * entries,
		"querytrace.duplicate.count":       0,
		"querytrace.errors":                0,
	} {
		if got := a[key].AsInt64(); got != want {
			t.Errorf("request span: %s = %d, want %d", key, got, want)
		}
	}
	if d := a["querytrace.db.duration"].AsFloat64(); d <= 0 || d > req.EndTime().Sub(req.StartTime()).Seconds() {
		t.Errorf("request span: querytrace.db.duration = %v, not within the request's %v", d, req.EndTime().Sub(req.StartTime()))
	}

	events := req.Events()
	if len(events) != 2 {
		t.Fatalf("want 2 N+1 events, got %d: %v", len(events), events)
	}
	summaries := map[string]bool{}
	for _, e := range events {
		ea := attrs(e.Attributes)
		if e.Name != otelquerytrace.EventNPlusOne {
			t.Errorf("event %q, want %q", e.Name, otelquerytrace.EventNPlusOne)
		}
		if got := ea["querytrace.count"].AsInt64(); got != entries {
			t.Errorf("event count %d, want %d", got, entries)
		}
		text := ea["db.query.text"].AsString()
		if !strings.Contains(text, "entry_id = ?") {
			t.Errorf("event db.query.text %q: want the shape, with entry_id = ?", text)
		}
		if site := ea["querytrace.call_site"].AsString(); !strings.Contains(site, "store/pages.go:") || !strings.Contains(site, "store.SlowInventory") {
			t.Errorf("event call site %q: want the loop's line in store.SlowInventory", site)
		}
		if l := ea["code.line.number"].AsInt64(); l == 0 || !strings.HasSuffix(ea["code.file.path"].AsString(), "examples/inventory/store/pages.go") {
			t.Errorf("event code.file.path %q, code.line.number %d", ea["code.file.path"].AsString(), l)
		}
		if st := ea["code.stacktrace"].AsString(); !strings.Contains(st, "store.SlowInventory") || strings.Contains(st, "otelhttp") {
			t.Errorf("event code.stacktrace %q: want the application's frames alone", st)
		}
		if src := ea["querytrace.source.query"].AsString(); !strings.Contains(src, "from entries") {
			t.Errorf("event source query %q: want the entries query", src)
		}
		if fix := ea["querytrace.fix"].AsString(); !strings.Contains(fix, "group by") {
			t.Errorf("event fix %q: want a GROUP BY", fix)
		}
		if d := ea["querytrace.duration"].AsFloat64(); d <= 0 {
			t.Errorf("event duration %v", d)
		}
		if e.Time.Before(req.StartTime()) || e.Time.After(req.EndTime()) {
			t.Errorf("event at %v, outside the request %v..%v", e.Time, req.StartTime(), req.EndTime())
		}
		summaries[ea["db.query.summary"].AsString()] = true
	}
	if !summaries["SELECT items"] || !summaries["SELECT request_items requests"] {
		t.Errorf("event summaries %v, want SELECT items and SELECT request_items requests", summaries)
	}

	db := dbSpans(spans, req)
	if len(db) != 3 {
		t.Fatalf("want 3 database spans (one per group), got %d", len(db))
	}
	var loops, statements int64
	for _, d := range db {
		da := attrs(d.Attributes())
		statements += groupStatements(da)
		if da["db.system.name"].AsString() != "sqlite" {
			t.Errorf("span %q: db.system.name %q", d.Name(), da["db.system.name"].AsString())
		}
		if d.StartTime().Before(req.StartTime()) || d.EndTime().After(req.EndTime()) || d.EndTime().Before(d.StartTime()) {
			t.Errorf("span %q: %v..%v, outside the request %v..%v", d.Name(), d.StartTime(), d.EndTime(), req.StartTime(), req.EndTime())
		}
		if da["querytrace.finding"].AsString() == "n+1" {
			loops++
			if da["querytrace.count"].AsInt64() != entries {
				t.Errorf("span %q: count %d, want %d", d.Name(), da["querytrace.count"].AsInt64(), entries)
			}
		}
		if d.Name() == "SELECT items" && (da["db.collection.name"].AsString() != "items" || da["db.response.returned_rows"].AsInt64() != entries) {
			t.Errorf("span %q: db.collection.name %q, db.response.returned_rows %d; want items and %d (a count per entry)",
				d.Name(), da["db.collection.name"].AsString(), da["db.response.returned_rows"].AsInt64(), entries)
		}
	}
	if loops != 2 || statements != 1+2*entries {
		t.Errorf("database spans: %d loops and %d statements, want 2 and %d", loops, statements, 1+2*entries)
	}
	noLiteral(t, spans)

	rm := s.metrics(t)
	route := attribute.String(otelquerytrace.AttrRoute, "GET /inventory/slow")
	if ps := where(points(rm, otelquerytrace.MetricRequestStatements), route); len(ps) != 1 || ps[0].count != 1 || ps[0].sum != 1+2*entries {
		t.Errorf("%s: %+v, want one request of %d statements", otelquerytrace.MetricRequestStatements, ps, 1+2*entries)
	}
	if !exemplarOf(rm, otelquerytrace.MetricRequestStatements, req.SpanContext().TraceID()) {
		t.Errorf("%s: no exemplar links to the request's trace", otelquerytrace.MetricRequestStatements)
	}
	if ps := where(points(rm, otelquerytrace.MetricRequestDBDuration), route); len(ps) != 1 || ps[0].count != 1 || ps[0].sum <= 0 {
		t.Errorf("%s: %+v", otelquerytrace.MetricRequestDBDuration, ps)
	}
	ops := points(rm, "db.client.operation.duration")
	if n := total(where(ops, attribute.String("db.system.name", "sqlite"))); n != 1+2*entries {
		t.Errorf("db.client.operation.duration: %d operations, want %d", n, 1+2*entries)
	}
	items := where(ops, attribute.String("db.operation.name", "SELECT"), attribute.String("db.collection.name", "items"))
	if total(items) != entries {
		t.Errorf("db.client.operation.duration SELECT items: %+v, want %d operations", items, entries)
	}
	loopsFound := where(points(rm, otelquerytrace.MetricFindings), route, attribute.String(otelquerytrace.AttrFindingKind, "n+1"))
	if len(loopsFound) != 2 || total(loopsFound) != 2 {
		t.Errorf("%s: %+v, want one N+1 at each of two call sites", otelquerytrace.MetricFindings, loopsFound)
	}
}

// TestFastPage: the fast page gives the totals and a span per statement
// group, and no finding events.
func TestFastPage(t *testing.T) {
	s := newSDK(t)
	srv := serve(t, s, s.bridge(otelquerytrace.WithDBSpans(20)), newMux(openInventory(t, 40)))
	get(t, srv, "/inventory/fast")

	spans := s.spans.Ended()
	req := requestSpan(t, spans)
	if ev := req.Events(); len(ev) != 0 {
		t.Errorf("fast page: want no events, got %v", ev)
	}
	a := attrs(req.Attributes())
	if a["querytrace.statements"].AsInt64() != 3 || a["querytrace.n_plus_one.count"].AsInt64() != 0 {
		t.Errorf("fast page: statements %d, N+1 %d; want 3 and 0", a["querytrace.statements"].AsInt64(), a["querytrace.n_plus_one.count"].AsInt64())
	}
	if db := dbSpans(spans, req); len(db) != 3 {
		t.Errorf("fast page: want 3 database spans, got %d", len(db))
	}
	noLiteral(t, spans)
	rm := s.metrics(t)
	if ps := points(rm, otelquerytrace.MetricFindings); len(ps) != 0 {
		t.Errorf("fast page: findings %+v", ps)
	}
	if ps := where(points(rm, otelquerytrace.MetricRequestStatements), attribute.String(otelquerytrace.AttrRoute, "GET /inventory/fast")); len(ps) != 1 || ps[0].sum != 3 {
		t.Errorf("fast page: %s %+v", otelquerytrace.MetricRequestStatements, ps)
	}
}

// TestConcurrent serves both pages from several goroutines at once: under
// -race, the bridge's caches and limits are shared safely, and every
// request is counted.
func TestConcurrent(t *testing.T) {
	s := newSDK(t)
	srv := serve(t, s, s.bridge(otelquerytrace.WithDBSpans(20), otelquerytrace.WithLimits(otelquerytrace.Limits{Shapes: 2})), newMux(openInventory(t, 10)))
	const workers, each = 4, 5
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				path := "/inventory/fast"
				if (w+i)%2 == 0 {
					path = "/inventory/slow"
				}
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for range workers {
		<-done
	}
	if n := total(points(s.metrics(t), otelquerytrace.MetricRequestStatements)); n != workers*each {
		t.Errorf("%d requests counted, want %d", n, workers*each)
	}
}
