package querytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

func mustJSON(t testing.TB, r *Report) string {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wideReport is a report of many groups with long shapes and deep stacks.
func wideReport() *Report {
	tr := NewTrace("GET /a/very/long/route/name/that/goes/on/and/on/" + strings.Repeat("x", 120))
	now := time.Now()
	for i := 0; i < 14; i++ {
		q := fmt.Sprintf("SELECT %s FROM wide_table_%d WHERE id = ? AND tenant = 'secret'", strings.Repeat("some_column, ", 12)+"last", i)
		for j := 0; j < i%3+1; j++ {
			d := time.Duration(i+1) * time.Millisecond
			tr.Record(&Event{Kind: KindQuery, SQL: q, Start: now, Duration: d, Rows: 2, ArgsHash: uint64(j + 1)})
			now = now.Add(d) // one after the other: a loop, not a fan-out
		}
	}
	return tr.Finish()
}

func TestWriteText(t *testing.T) {
	r := wideReport()
	text := r.String()
	for i, l := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(l); n > textWidth {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, l)
		}
	}
	for _, want := range []string{
		"querytrace: GET /a/very/long",
		"27 statements",
		"... and 4 more groups: 5 executions, 16.0ms",
		"N+1: 3 times in",
		"fix: one query for all rows: select id, some_column",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "secret") {
		t.Errorf("a literal leaked:\n%s", text)
	}
	// The groups come most costly first.
	if !strings.HasPrefix(strings.SplitN(text, "\n", 7)[5], " 12      3   36.0ms") {
		t.Errorf("first group row is not #12, the most costly:\n%s", text)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil || buf.String() != text {
		t.Errorf("WriteText = %v and differs from String", err)
	}
	if err := r.WriteText(failWriter{}); err == nil {
		t.Error("WriteText hid the writer's error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestSummary(t *testing.T) {
	cases := []struct {
		r    Report
		want string
	}{
		{Report{Statements: 41, DBTime: 12300 * time.Microsecond, NPlusOne: make([]Finding, 1)}, "41 statements, 12.3ms db, 1 N+1"},
		{Report{Statements: 1, DBTime: 850 * time.Microsecond}, "1 statement, 850µs db, 0 N+1"},
		{Report{Statements: 9, DBTime: 1200 * time.Millisecond, Duplicates: make([]Finding, 2), Slow: make([]Finding, 1)},
			"9 statements, 1.20s db, 0 N+1, 2 duplicates, 1 slow"},
	}
	for _, c := range cases {
		if got := c.r.Summary(); got != c.want {
			t.Errorf("Summary() = %q, want %q", got, c.want)
		}
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestReportJSON pins the documented keys: changing them breaks the
// dashboards and log queries built on them.
func TestReportJSON(t *testing.T) {
	db := openSeed(t, 4)
	r := runSeed(t, db, store.SlowInventory)
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, r)), &m); err != nil {
		t.Fatal(err)
	}
	wantReport := []string{"allowed", "batched", "canceled", "commits", "conn_errors", "db_time", "db_time_ns", "duplicates", "errors",
		"events", "events_kept", "events_missed", "groups", "n_plus_one", "name", "prepares", "rollbacks", "rows", "slow",
		"start", "statements", "summary", "transactions", "unattributed", "wall", "wall_ns"}
	if got := keysOf(m); !slices.Equal(got, wantReport) {
		t.Errorf("report keys\n got %q\nwant %q", got, wantReport)
	}
	group := m["groups"].([]any)[0].(map[string]any)
	wantGroup := []string{"call_site", "count", "dialect", "distinct_args", "errors", "fingerprint", "first_ns", "first_seq", "id", "kind",
		"last_ns", "last_rows", "last_seq", "max", "max_ns", "max_rows", "mean_ns", "min_rows", "overlapped", "repeated_args",
		"rows", "shape", "stack", "statements", "total", "total_ns", "verb"}
	if got := keysOf(group); !slices.Equal(got, wantGroup) {
		t.Errorf("group keys\n got %q\nwant %q", got, wantGroup)
	}
	f := m["n_plus_one"].([]any)[0].(map[string]any)
	wantFinding := []string{"call_site", "count", "distinct_args", "fix", "group", "kind", "loop", "max_ns", "per_row", "shape", "source",
		"stack", "total", "total_ns"}
	if got := keysOf(f); !slices.Equal(got, wantFinding) {
		t.Errorf("finding keys\n got %q\nwant %q", got, wantFinding)
	}
	if src := f["source"].(map[string]any); !slices.Equal(keysOf(src), []string{"call_site", "group", "rows", "shape"}) {
		t.Errorf("source keys %q", keysOf(src))
	}
	for _, k := range []string{"duplicates", "slow", "batched", "allowed"} {
		if l, ok := m[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %v, want []", k, m[k])
		}
	}
	if fp := group["fingerprint"].(string); len(fp) != 16 {
		t.Errorf("fingerprint %q, want 16 hex digits", fp)
	}
	if _, ok := m["wall_ns"].(float64); !ok {
		t.Errorf("wall_ns = %v, want a number", m["wall_ns"])
	}
}

func TestReportLogValue(t *testing.T) {
	db := openSeed(t, 4)
	r := runSeed(t, db, store.SlowInventory)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("request", "report", r)
	var m struct{ Report map[string]any }
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err, buf.String())
	}
	for _, k := range []string{"name", "summary", "statements", "db_time", "n_plus_one", "findings", "groups"} {
		if _, ok := m.Report[k]; !ok {
			t.Errorf("logged report lacks %q: %s", k, buf.String())
		}
	}
	f1 := m.Report["findings"].(map[string]any)["1"].(map[string]any)
	for _, k := range []string{"kind", "count", "total", "shape", "call_site", "source", "per_row", "fix"} {
		if _, ok := f1[k]; !ok {
			t.Errorf("logged finding lacks %q: %v", k, f1)
		}
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("request", "report", r)
	if !strings.Contains(buf.String(), "report.findings.1.kind=n+1") {
		t.Errorf("text log: %s", buf.String())
	}
	var _ slog.LogValuer = r
	_ = context.Background
}

// TestReportEvents checks the timeline: the first events in order, with
// their kinds, groups and rows, and the count of those not kept.
func TestReportEvents(t *testing.T) {
	ctx, tr := Start(context.Background(), "timeline")
	stack := CaptureStack()
	for i := range maxSample + 5 {
		e := Event{Kind: KindQuery, SQL: "SELECT a FROM t WHERE id = ?", Start: time.Now(), Duration: time.Microsecond, Rows: int64(i), ArgsHash: uint64(i + 1), Stack: stack}
		if i == 1 {
			e = Event{Kind: KindBegin, Start: time.Now(), Stack: stack}
		}
		Record(ctx, &e)
	}
	r := tr.Finish()
	ev := r.Events()
	if len(ev) != maxSample || r.EventsKept != maxSample || r.EventsMissed != 5 {
		t.Fatalf("%d events (kept %d, missed %d), want %d kept and 5 missed", len(ev), r.EventsKept, r.EventsMissed, maxSample)
	}
	if ev[0].Kind != "query" || ev[0].Group != 1 || ev[1].Kind != "begin" || ev[1].Group != 0 || ev[2].Rows != 2 {
		t.Errorf("timeline starts %+v", ev[:3])
	}
	for i := 1; i < len(ev); i++ {
		if ev[i].Start < ev[i-1].Start {
			t.Fatalf("event %d starts before event %d", i, i-1)
		}
	}
}

// TestFindingPrints checks that a Finding prints as its String whether fmt
// gets it by value, as report.NPlusOne[0] is, or by pointer.
func TestFindingPrints(t *testing.T) {
	r := wideReport()
	if len(r.NPlusOne) == 0 {
		t.Fatalf("no N+1 in the wide report:\n%s", r)
	}
	want := r.NPlusOne[0].String()
	if !strings.HasPrefix(want, "n+1: 3× ") {
		t.Errorf("String() = %q, want it to start with the kind and count", want)
	}
	for _, got := range []string{
		fmt.Sprint(r.NPlusOne[0]),
		fmt.Sprint(&r.NPlusOne[0]),
		fmt.Sprintf("%v", r.NPlusOne[0]),
		strings.Trim(fmt.Sprint(r.NPlusOne[:1]), "[]"),
	} {
		if got != want {
			t.Errorf("printed %q, want %q", got, want)
		}
	}
}

// TestSkipFrames checks that SkipFrames and ApplicationFrames decide which
// frames a report's call stacks keep, the longest prefix winning: with the
// standard library's strings and bytes declared the application's, strings.Map
// and bytes.Map stand in for two data-access layers between the test and its
// statements, and skipping "strings.Map" takes out that one only.
func TestSkipFrames(t *testing.T) {
	ApplicationFrames("strings.", "bytes.")
	SkipFrames("strings.Map")
	ctx, tr := Start(context.Background(), "layers")
	record := func(r rune) rune {
		Record(ctx, &Event{Kind: KindQuery, SQL: "SELECT 1", Start: time.Now()})
		return r
	}
	strings.Map(record, "s")
	bytes.Map(record, []byte("b"))
	r := tr.Finish()
	if len(r.Groups) != 2 {
		t.Fatalf("%d groups, want one per layer:\n%s", len(r.Groups), r)
	}
	var viaStrings, viaBytes []string
	for _, g := range r.Groups {
		var fs []string
		for _, f := range g.Stack {
			fs = append(fs, f.Function)
		}
		if len(fs) == 0 || !strings.HasPrefix(fs[0], "github.com/querytrace/querytrace.TestSkipFrames.func") {
			t.Errorf("call site %s, want the test's closure", g.CallSite())
		}
		if slices.Contains(fs, "bytes.Map") {
			viaBytes = fs
		} else {
			viaStrings = fs
		}
	}
	if viaBytes == nil {
		t.Errorf("no stack kept bytes.Map, which ApplicationFrames made the application's")
	}
	if slices.Contains(viaStrings, "strings.Map") {
		t.Errorf("stack through strings.Map kept it after SkipFrames: %q", viaStrings)
	}
}

// BenchmarkMarshalJSON is the cost of a report's JSON, which an Archive
// pays for each report it saves and the debug page for each download.
func BenchmarkMarshalJSON(b *testing.B) {
	r := wideReport()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}
