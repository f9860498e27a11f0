package otelquerytrace_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// loopReport returns the report of a request to a route of its own whose
// loop runs a shape of its own, on a table of its own, from a call site of
// its own, 3 times: an N+1 with every metric attribute new.
func loopReport(i int) *querytrace.Report {
	shape := fmt.Sprintf("select * from orders_%d where id = ?", i)
	g := &querytrace.Group{
		ID: 1, Shape: shape, Fingerprint: querytrace.Fingerprint(shape), Verb: "select",
		Dialect: querytrace.DialectPostgres, Count: 3, Statements: 3, Distinct: 3,
		Total: 3 * time.Millisecond, Max: time.Millisecond, Rows: 3, Last: 4 * time.Millisecond,
		Stack: []querytrace.Frame{{Function: fmt.Sprintf("app.handler%d", i), File: fmt.Sprintf("/src/app/h%d.go", i), Line: i}},
	}
	return &querytrace.Report{
		Name:       fmt.Sprintf("GET /orders/%d", i),
		Start:      time.Now(),
		Wall:       5 * time.Millisecond,
		DBTime:     g.Total,
		Statements: g.Statements,
		Groups:     []*querytrace.Group{g},
		NPlusOne:   []querytrace.Finding{{Kind: querytrace.FindingNPlusOne, Group: g, Count: g.Count, Total: g.Total}},
	}
}

// TestCardinality exports 10,000 requests, each with a route, a shape, a
// table and a call site never seen before, and requires every metric
// attribute to stay within its limit, the rest folded into Other, with no
// request, statement or finding lost from the counts.
func TestCardinality(t *testing.T) {
	const requests = 10000
	for _, c := range []struct {
		name   string
		limits otelquerytrace.Limits
		want   otelquerytrace.Limits // what the zero fields mean
	}{
		{"defaults", otelquerytrace.Limits{}, otelquerytrace.Limits{Routes: 100, CallSites: 200, Shapes: 200, Collections: 100}},
		{"small", otelquerytrace.Limits{Routes: 5, CallSites: 7, Shapes: 3, Collections: 2}, otelquerytrace.Limits{Routes: 5, CallSites: 7, Shapes: 3, Collections: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSDK(t)
			b := otelquerytrace.New(otelquerytrace.WithMeterProvider(s.mp),
				otelquerytrace.WithTracerProvider(tracenoop.NewTracerProvider()),
				otelquerytrace.WithLimits(c.limits))
			ctx := context.Background()
			for i := range requests {
				b.Export(ctx, loopReport(i))
			}
			rm := s.metrics(t)

			for _, m := range []struct {
				metric string
				key    attribute.Key
				limit  int
				total  uint64
			}{
				{otelquerytrace.MetricRequestStatements, otelquerytrace.AttrRoute, c.want.Routes, requests},
				{otelquerytrace.MetricRequestDBDuration, otelquerytrace.AttrRoute, c.want.Routes, requests},
				{otelquerytrace.MetricFindings, otelquerytrace.AttrRoute, c.want.Routes, requests},
				{otelquerytrace.MetricFindings, otelquerytrace.AttrCallSite, c.want.CallSites, requests},
				{"db.client.operation.duration", "db.query.summary", c.want.Shapes, 3 * requests},
				{"db.client.operation.duration", "db.collection.name", c.want.Collections, 3 * requests},
			} {
				ps := points(rm, m.metric)
				values := map[string]bool{}
				for _, p := range ps {
					v, _ := p.attrs.Value(m.key)
					values[v.AsString()] = true
				}
				if len(values) > m.limit+1 || !values[otelquerytrace.Other] {
					t.Errorf("%s: %d distinct %s (Other among them: %v), want at most %d and Other", m.metric, len(values), m.key, values[otelquerytrace.Other], m.limit+1)
				}
				if n := total(ps); n != m.total {
					t.Errorf("%s: counts add up to %d, want %d", m.metric, n, m.total)
				}
			}
			// The findings' series: routes and (route, call site) pairs,
			// each bounded, not their product.
			if n := len(points(rm, otelquerytrace.MetricFindings)); n > c.want.CallSites+c.want.Routes+1 {
				t.Errorf("%s: %d series, want at most %d", otelquerytrace.MetricFindings, n, c.want.CallSites+c.want.Routes+1)
			}
		})
	}
}

// TestEarlyNoiseDoesNotStarve: an application that answers every path
// (a catch-all, no ServeMux) names each request by its path; a scanner's
// 150 paths before any real traffic take every route series there is.
// They give them up to the routes that keep coming once they have been
// idle while Routes others were turned away: each real route ends with a
// series of its own, holding at least its last half, and no request is
// lost from the counts.
func TestEarlyNoiseDoesNotStarve(t *testing.T) {
	s := newSDK(t)
	catchAll := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := serve(t, s, s.bridge(), catchAll)
	for i := range 150 {
		get(t, srv, scanPath(i))
	}
	real := []string{"/items", "/orders", "/users"}
	const each = 100
	for range each {
		for _, p := range real {
			get(t, srv, p)
		}
	}
	ps := points(s.metrics(t), otelquerytrace.MetricRequestStatements)
	for _, p := range real {
		if n := total(where(ps, attribute.String(otelquerytrace.AttrRoute, "GET "+p))); n < each/2 {
			t.Errorf("GET %s: %d requests in its own series, want at least %d of %d", p, n, each/2, each)
		}
	}
	if n := total(ps); n != 150+each*uint64(len(real)) {
		t.Errorf("%d requests counted, want %d", n, 150+each*len(real))
	}
}

// TestSpanLimits: a report with more groups and findings than a span
// should carry gets the costliest ones, and says how many it left out.
func TestSpanLimits(t *testing.T) {
	rep := &querytrace.Report{Name: "job many", Start: time.Now(), Wall: 10 * time.Millisecond}
	for i := range 100 {
		r := loopReport(i)
		r.Groups[0].ID = i + 1
		rep.Groups = append(rep.Groups, r.Groups...)
		rep.NPlusOne = append(rep.NPlusOne, r.NPlusOne...)
		rep.Statements += r.Statements
	}
	for _, c := range []struct {
		opts          []otelquerytrace.Option
		want, dropped int
	}{
		{nil, 0, 0}, // off by default
		{[]otelquerytrace.Option{otelquerytrace.WithDBSpans(-1)}, 0, 0},
		{[]otelquerytrace.Option{otelquerytrace.WithDBSpans(7)}, 7, 93},
		{[]otelquerytrace.Option{otelquerytrace.WithDBSpans(20)}, 20, 80},
		{[]otelquerytrace.Option{otelquerytrace.WithDBSpans(1000)}, 100, 0},
	} {
		rec := newSDK(t)
		b := rec.bridge(c.opts...)
		b.Export(context.Background(), rep)
		spans := rec.spans.Ended()
		// No span on the context: the report gets one of its own.
		var job []string
		for _, sp := range spans {
			if sp.Name() == "job many" {
				job = append(job, sp.Name())
				if n := len(sp.Events()); n != 32 {
					t.Errorf("with %d database spans: %d events, want 32", c.want, n)
				}
				a := attrs(sp.Attributes())
				if a["querytrace.events.dropped"].AsInt64() != 68 || a["querytrace.n_plus_one.count"].AsInt64() != 100 {
					t.Errorf("with %d database spans: events.dropped %d, n_plus_one.count %d; want 68 and 100", c.want, a["querytrace.events.dropped"].AsInt64(), a["querytrace.n_plus_one.count"].AsInt64())
				}
				if got := a["querytrace.db_spans.dropped"].AsInt64(); got != int64(c.dropped) {
					t.Errorf("with %d database spans: db_spans.dropped %d, want %d", c.want, got, c.dropped)
				}
				if !sp.StartTime().Equal(rep.Start) || !sp.EndTime().Equal(rep.Start.Add(rep.Wall)) {
					t.Errorf("the report's own span runs %v..%v, want the report's %v..%v", sp.StartTime(), sp.EndTime(), rep.Start, rep.Start.Add(rep.Wall))
				}
			}
		}
		if len(job) != 1 || len(spans) != 1+c.want {
			t.Errorf("with %d database spans: %d spans (%d for the report), want %d database spans under one", c.want, len(spans), len(job), c.want)
		}
	}
}
