package prometheustest

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// site records a few requests of an N+1 page and of a page of one query
// (with a shape per request past the first, to fill the statistics), and
// returns the metrics page's families, parsed by Prometheus's parser.
func scrape(t *testing.T, rec *debugpage.Recorder, requests int) map[string]*dto.MetricFamily {
	t.Helper()
	db := openItems(t)
	db.Exec(`INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
	loop := func(ctx context.Context, db *sql.DB) {
		for id := 1; id <= 3; id++ {
			db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, id).Scan(new(string))
		}
	}
	for i := range requests {
		ctx, tr := querytrace.Start(context.Background(), "GET /loop")
		loop(ctx, db)
		rec.Observe(nil, tr.Finish())
		ctx, tr = querytrace.Start(context.Background(), `GET /one/"quoted"\path`)
		db.QueryRowContext(ctx, `SELECT count(*) AS n`+strings.Repeat("x", i)+` FROM items`).Scan(new(int))
		rec.Observe(nil, tr.Finish())
	}
	return metrics(t, rec)
}

// openItems opens an in-memory SQLite database of the test's own through
// querytrace, with an empty table items.
func openItems(t *testing.T) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("sqlite3", "file:"+strings.ReplaceAll(t.Name(), "/", "_")+"?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// metrics serves rec's metrics page and returns its families, parsed by
// Prometheus's parser.
func metrics(t *testing.T, rec *debugpage.Recorder) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(&debugpage.Handler{Recorder: rec})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/querytrace/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); expfmt.ResponseFormat(resp.Header) != expfmt.NewFormat(expfmt.TypeTextPlain) {
		t.Errorf("Content-Type %q is not the text exposition format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus's parser: %v", err)
	}
	return families
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestMetricsParse(t *testing.T) {
	rec := &debugpage.Recorder{}
	families := scrape(t, rec, 4)
	for name, typ := range map[string]dto.MetricType{
		"querytrace_requests_total":             dto.MetricType_COUNTER,
		"querytrace_statistics_evicted_total":   dto.MetricType_COUNTER,
		"querytrace_statement_calls_total":      dto.MetricType_COUNTER,
		"querytrace_statement_seconds_total":    dto.MetricType_COUNTER,
		"querytrace_statement_max_seconds":      dto.MetricType_GAUGE,
		"querytrace_statement_rows_total":       dto.MetricType_COUNTER,
		"querytrace_statement_errors_total":     dto.MetricType_COUNTER,
		"querytrace_statement_n_plus_one_total": dto.MetricType_COUNTER,
		"querytrace_statement_info":             dto.MetricType_GAUGE,
	} {
		f := families[name]
		if f == nil {
			t.Errorf("%s missing", name)
			continue
		}
		if f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q; want %v and a help text", name, f.GetType(), f.GetHelp(), typ)
		}
	}
	if got := families["querytrace_requests_total"].GetMetric()[0].GetCounter().GetValue(); got != 8 {
		t.Errorf("requests_total = %v, want 8", got)
	}
	var loopCalls, loopN1 float64
	routes := map[string]bool{}
	for _, m := range families["querytrace_statement_calls_total"].GetMetric() {
		routes[label(m, "route")] = true
		if label(m, "route") == "GET /loop" {
			loopCalls += m.GetCounter().GetValue()
			if !strings.Contains(label(m, "call_site"), "metrics_test.go:") || len(label(m, "fingerprint")) != 16 {
				t.Errorf("loop series labels: %v", m.GetLabel())
			}
		}
	}
	for _, m := range families["querytrace_statement_n_plus_one_total"].GetMetric() {
		if label(m, "route") == "GET /loop" {
			loopN1 += m.GetCounter().GetValue()
		}
	}
	if loopCalls != 12 || loopN1 != 4 {
		t.Errorf("GET /loop: %v calls, %v N+1; want 12 and 4", loopCalls, loopN1)
	}
	if !routes[`GET /one/"quoted"\path`] {
		t.Errorf("a route with quotes and a backslash did not survive escaping: %v", routes)
	}
	shapes := 0
	for _, m := range families["querytrace_statement_info"].GetMetric() {
		if s := label(m, "shape"); s != "" {
			shapes++
		}
	}
	if shapes != 5 { // the loop's, and four counts
		t.Errorf("%d shapes in querytrace_statement_info, want 5", shapes)
	}
}

// TestMetricsEvicted bounds the statistics below what the requests need:
// the evicted entries go to route "(other)" and the sums stay exact.
func TestMetricsEvicted(t *testing.T) {
	rec := &debugpage.Recorder{MaxStats: 3}
	families := scrape(t, rec, 6)
	evicted := families["querytrace_statistics_evicted_total"].GetMetric()[0].GetCounter().GetValue()
	if evicted != 4 { // 7 entries (the loop's and six counts) into 3
		t.Errorf("evicted_total = %v, want 4", evicted)
	}
	var calls, seconds float64
	other := false
	for _, m := range families["querytrace_statement_calls_total"].GetMetric() {
		calls += m.GetCounter().GetValue()
		other = other || label(m, "route") == "(other)"
	}
	for _, m := range families["querytrace_statement_seconds_total"].GetMetric() {
		seconds += m.GetCounter().GetValue()
	}
	if calls != 6*3+6 || !other {
		t.Errorf("calls sum to %v (with an (other) series: %v), want exactly 24", calls, other)
	}
	st := rec.Statistics(0)
	want := st.Other.Total
	for _, s := range st.Stats {
		want += s.Total
	}
	if diff := seconds - want.Seconds(); diff > 1e-9 || diff < -1e-9 || time.Duration(seconds*1e9) <= 0 {
		t.Errorf("seconds sum to %v, want %v", seconds, want.Seconds())
	}
}
