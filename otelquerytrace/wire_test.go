package otelquerytrace_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/querytrace/querytrace/otelquerytrace"
)

// receiver is an OTLP/HTTP endpoint that decodes what it is sent, as a
// collector would.
type receiver struct {
	t       *testing.T
	mu      sync.Mutex
	spans   []*tracepb.Span
	metrics []*metricpb.Metric
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf body", http.StatusBadRequest)
		return
	}
	var resp proto.Message
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch r.URL.Path {
	case "/v1/traces":
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			rc.t.Errorf("decoding traces: %v", err)
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				rc.spans = append(rc.spans, ss.Spans...)
			}
		}
		resp = &coltracepb.ExportTraceServiceResponse{}
	case "/v1/metrics":
		var req colmetricpb.ExportMetricsServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			rc.t.Errorf("decoding metrics: %v", err)
		}
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				rc.metrics = append(rc.metrics, sm.Metrics...)
			}
		}
		resp = &colmetricpb.ExportMetricsServiceResponse{}
	default:
		http.NotFound(w, r)
		return
	}
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func pbAttrs(kvs []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := make(map[string]*commonpb.AnyValue, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestOverTheWire sends the slow page's spans and metrics through the OTLP/HTTP
// exporters to a receiver that decodes them: the findings, the database
// spans and the histograms survive serialisation.
func TestOverTheWire(t *testing.T) {
	const entries = 25
	rc := &receiver{t: t}
	collector := httptest.NewServer(rc)
	defer collector.Close()

	ctx := context.Background()
	texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(collector.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	mexp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(collector.URL+"/v1/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	s := &sdk{
		tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(texp)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp))),
	}
	srv := serve(t, s, s.bridge(otelquerytrace.WithDBSpans(20)), newMux(openInventory(t, entries)))
	get(t, srv, "/inventory/slow")
	if err := s.tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.mp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	var server *tracepb.Span
	var db []*tracepb.Span
	for _, sp := range rc.spans {
		switch sp.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = sp
		case tracepb.Span_SPAN_KIND_CLIENT:
			db = append(db, sp)
		}
	}
	if server == nil {
		t.Fatalf("no server span among %d received", len(rc.spans))
	}
	if got := pbAttrs(server.Attributes)["querytrace.statements"].GetIntValue(); got != 1+2*entries {
		t.Errorf("received querytrace.statements %d, want %d", got, 1+2*entries)
	}
	if len(server.Events) != 2 {
		t.Fatalf("received %d events, want 2", len(server.Events))
	}
	for _, e := range server.Events {
		a := pbAttrs(e.Attributes)
		if e.Name != otelquerytrace.EventNPlusOne || a["querytrace.count"].GetIntValue() != entries ||
			!strings.Contains(a["querytrace.fix"].GetStringValue(), "group by") ||
			!strings.Contains(a["db.query.text"].GetStringValue(), "= ?") {
			t.Errorf("received event %s: %v", e.Name, e.Attributes)
		}
	}
	if len(db) != 3 {
		t.Errorf("received %d database spans, want 3", len(db))
	}
	for _, d := range db {
		if !slices.Equal(d.ParentSpanId, server.SpanId) || d.StartTimeUnixNano < server.StartTimeUnixNano || d.EndTimeUnixNano > server.EndTimeUnixNano {
			t.Errorf("database span %q is not inside the request's span", d.Name)
		}
	}

	found := map[string]bool{}
	for _, m := range rc.metrics {
		found[m.Name] = true
		switch m.Name {
		case "db.client.operation.duration":
			var n uint64
			for _, p := range m.GetHistogram().GetDataPoints() {
				n += p.Count
				if len(p.ExplicitBounds) != 9 || p.ExplicitBounds[0] != 0.001 || p.ExplicitBounds[8] != 10 {
					t.Errorf("%s bounds %v: want the conventions' buckets", m.Name, p.ExplicitBounds)
				}
			}
			if m.Unit != "s" || n != 1+2*entries {
				t.Errorf("%s: unit %q, %d operations; want s and %d", m.Name, m.Unit, n, 1+2*entries)
			}
		case otelquerytrace.MetricRequestStatements:
			ps := m.GetHistogram().GetDataPoints()
			if len(ps) != 1 || ps[0].GetSum() != 1+2*entries || pbAttrs(ps[0].Attributes)[otelquerytrace.AttrRoute].GetStringValue() != "GET /inventory/slow" {
				t.Errorf("%s: %v", m.Name, ps)
			}
		case otelquerytrace.MetricFindings:
			var n int64
			for _, p := range m.GetSum().GetDataPoints() {
				n += p.GetAsInt()
			}
			if n != 2 {
				t.Errorf("%s: %d findings, want 2", m.Name, n)
			}
		}
	}
	for _, name := range []string{"db.client.operation.duration", otelquerytrace.MetricRequestStatements, otelquerytrace.MetricRequestDBDuration, otelquerytrace.MetricFindings} {
		if !found[name] {
			t.Errorf("metric %s not received", name)
		}
	}
}
