package prometheustest

import (
	"context"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	astore "github.com/querytrace/querytrace/internal/prometheustest/a/store"
	bstore "github.com/querytrace/querytrace/internal/prometheustest/b/store"
)

// TestMetricsWhateverLabelsHold records what a page's labels cannot be
// trusted to be: routes and a shape that are not UTF-8 (two routes that
// differ only in such bytes among them), and two call sites, in two
// packages, that print alike. Prometheus's parser must take the scrape,
// every series must be one (no label set twice in a family), the two
// call sites two series, and the sums exact.
func TestMetricsWhateverLabelsHold(t *testing.T) {
	db := openItems(t)
	// This module's packages are under querytrace's path, whose frames
	// are skipped unless said otherwise.
	querytrace.ApplicationFrames("github.com/querytrace/querytrace/internal/prometheustest/")
	rec := &debugpage.Recorder{}
	for _, route := range []string{"GET /caf\xe9", "GET /caf\xe8", "GET /stores"} {
		ctx, tr := querytrace.Start(context.Background(), route)
		astore.Names(ctx, db)
		bstore.Names(ctx, db)
		db.QueryRowContext(ctx, "SELECT 1 AS \"\xff\xfe\"").Scan(new(int))
		rec.Observe(nil, tr.Finish())
	}

	families := metrics(t, rec)
	for name, f := range families {
		seen := map[string]bool{}
		for _, m := range f.GetMetric() {
			var pairs []string
			for _, l := range m.GetLabel() {
				pairs = append(pairs, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(pairs, ",")
			if seen[key] {
				t.Errorf("%s: a second sample of {%s}", name, key)
			}
			seen[key] = true
		}
	}

	calls := map[string]float64{}  // by route
	stores := map[string]float64{} // by file, for the two call sites that print alike
	var site string
	for _, m := range families["querytrace_statement_calls_total"].GetMetric() {
		calls[label(m, "route")] += m.GetCounter().GetValue()
		if f := label(m, "file"); strings.HasSuffix(f, "/store/store.go") {
			stores[f] += m.GetCounter().GetValue()
			if site != "" && label(m, "call_site") != site {
				t.Errorf("call sites %q and %q: the test's premise (they print alike) no longer holds", site, label(m, "call_site"))
			}
			site = label(m, "call_site")
		}
	}
	if len(stores) != 2 {
		t.Errorf("the two call sites that print %q: series by file %v, want two", site, stores)
	}
	for f, n := range stores {
		if n != 3 {
			t.Errorf("%s: %v calls, want 3", f, n)
		}
	}
	if calls["GET /caf\uFFFD"] != 6 || calls["GET /stores"] != 3 {
		t.Errorf("calls by route %v, want 6 under GET /caf\uFFFD (two routes that differ in bytes that are not UTF-8) and 3 under GET /stores", calls)
	}
	shapes := 0
	for _, m := range families["querytrace_statement_info"].GetMetric() {
		if strings.Contains(label(m, "shape"), "\uFFFD") {
			shapes++
		}
	}
	if shapes != 1 {
		t.Errorf("%d shapes with U+FFFD in querytrace_statement_info, want the one whose alias is not UTF-8", shapes)
	}
}
