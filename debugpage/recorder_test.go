package debugpage

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/querytrace/querytrace"
)

// trace runs f under a trace named name and returns its report.
func trace(t testing.TB, name string, f func(ctx context.Context)) *querytrace.Report {
	t.Helper()
	ctx, tr := querytrace.Start(context.Background(), name)
	f(ctx)
	return tr.Finish()
}

func TestRecorderKeepsEachClass(t *testing.T) {
	db := openDB(t)
	rec := &Recorder{Keep: 3}
	loop := func(ctx context.Context) {
		ids, _ := itemIDs(ctx, db)
		for _, id := range ids {
			db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, id).Scan(new(string))
		}
	}
	one := func(ctx context.Context) { itemIDs(ctx, db) }
	for i := range 2 {
		rec.Observe(nil, trace(t, fmt.Sprint("loop ", i), loop))
	}
	// Healthy traffic after the bad requests.
	for i := range 10 {
		rec.Observe(nil, trace(t, fmt.Sprint("one ", i), one))
	}
	names := func(c class) (out []string) {
		for _, e := range rec.recent(c) {
			out = append(out, e.Name)
		}
		return out
	}
	if got, want := fmt.Sprint(names(classNPlusOne)), "[loop 1 loop 0]"; got != want {
		t.Errorf("n+1 class: %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(names(classAll)), "[one 9 one 8 one 7]"; got != want {
		t.Errorf("all: %s, want %s (the newest Keep)", got, want)
	}
	if e := rec.lookup(1); e == nil || e.Name != "loop 0" {
		t.Errorf("lookup(1) = %v, want the first loop, still held by its class", e)
	}
	if e := rec.lookup(3); e != nil {
		t.Errorf("lookup(3) = %v, want nil: pushed out of every ring", e.Name)
	}
	if st := rec.Statistics(0); st.Requests != 12 {
		t.Errorf("statistics: %d requests, want 12", st.Requests)
	}
}

func TestRecorderSlowClass(t *testing.T) {
	rec := &Recorder{Slow: 20 * time.Millisecond}
	rec.Observe(nil, trace(t, "quick", func(context.Context) {}))
	rec.Observe(nil, trace(t, "sleepy", func(context.Context) { time.Sleep(25 * time.Millisecond) }))
	got := rec.recent(classSlow)
	if len(got) != 1 || got[0].Name != "sleepy" {
		t.Errorf("slow class: %v, want only sleepy", got)
	}
}

func TestStatisticsBounded(t *testing.T) {
	db := openDB(t)
	rec := &Recorder{MaxStats: 5}
	var calls int
	var total time.Duration
	for i := range 20 {
		rep := trace(t, "GET /many", func(ctx context.Context) {
			// A shape of its own per request: a column alias is kept.
			for range i%3 + 1 {
				db.QueryRowContext(ctx, fmt.Sprintf(`SELECT id AS c%d FROM items WHERE id = ?`, i), 1).Scan(new(int))
			}
		})
		for _, g := range rep.Groups {
			calls += g.Count
			total += g.Total
		}
		rec.Observe(nil, rep)
	}
	st := rec.Statistics(0)
	if len(st.Stats) != 5 || st.Evicted != 15 {
		t.Fatalf("%d entries, %d evicted; want 5 and 15", len(st.Stats), st.Evicted)
	}
	check := func(st *Statistics, what string) {
		t.Helper()
		gotCalls, gotTotal := st.Other.Calls, st.Other.Total
		for _, s := range st.Stats {
			gotCalls += s.Calls
			gotTotal += s.Total
		}
		if gotCalls != calls || gotTotal != total {
			t.Errorf("%s: %d calls in %v, want the exact %d in %v", what, gotCalls, gotTotal, calls, total)
		}
	}
	check(st, "bounded")
	top := rec.Statistics(2)
	if len(top.Stats) != 2 || top.Stats[0].Total < top.Stats[1].Total {
		t.Errorf("top 2: %d entries, not by total time", len(top.Stats))
	}
	check(top, "top 2 and other")
}

func TestStatisticsFold(t *testing.T) {
	db := openDB(t)
	rec := &Recorder{}
	for range 3 {
		rec.Observe(nil, trace(t, "GET /loop", func(ctx context.Context) {
			ids, _ := itemIDs(ctx, db)
			for _, id := range ids {
				db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, id).Scan(new(string))
			}
		}))
	}
	st := rec.Statistics(0)
	if len(st.Stats) != 2 {
		t.Fatalf("%d entries, want 2", len(st.Stats))
	}
	for _, s := range st.Stats {
		wantCalls, wantN1 := 3, 0
		if s.Shape == "select name from items where id = ?" {
			wantCalls, wantN1 = 30, 3
		}
		if s.Calls != wantCalls || s.Requests != 3 || s.NPlusOne != wantN1 || s.Route != "GET /loop" || s.CallSite() == "" {
			t.Errorf("%q: %d calls in %d requests, %d N+1, route %q, site %q; want %d in 3, %d N+1", s.Shape, s.Calls, s.Requests, s.NPlusOne, s.Route, s.CallSite(), wantCalls, wantN1)
		}
		if s.MinMean > s.Mean() || s.Mean() > s.Max || s.First.After(s.Last) {
			t.Errorf("%q: min mean %v, mean %v, max %v, first %v, last %v out of order", s.Shape, s.MinMean, s.Mean(), s.Max, s.First, s.Last)
		}
	}
}

// BenchmarkObserve is the cost a request pays for the recorder: one
// report of three groups folded in.
func BenchmarkObserve(b *testing.B) {
	db := openDB(b)
	rep := trace(b, "GET /three", func(ctx context.Context) {
		itemIDs(ctx, db)
		db.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(new(int))
		db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, 1).Scan(new(string))
	})
	rec := &Recorder{}
	b.ReportAllocs()
	for b.Loop() {
		rec.Observe(nil, rep)
	}
}

func TestPublish(t *testing.T) {
	db := openDB(t)
	rec := &Recorder{}
	rec.Publish("querytrace_test")
	rec.Observe(nil, trace(t, "GET /one", func(ctx context.Context) { itemIDs(ctx, db) }))
	v := expvar.Get("querytrace_test")
	if v == nil {
		t.Fatal("not published")
	}
	var st struct {
		Requests int `json:"requests"`
		Stats    []struct {
			Route string `json:"route"`
			Calls int    `json:"calls"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(v.String()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 1 || len(st.Stats) != 1 || st.Stats[0].Route != "GET /one" || st.Stats[0].Calls != 1 {
		t.Errorf("expvar: %+v", st)
	}
}

// TestRecorderConcurrent feeds the recorder from many goroutines while the
// pages read it, for the race detector.
func TestRecorderConcurrent(t *testing.T) {
	db := openDB(t)
	rep := trace(t, "GET /one", func(ctx context.Context) { itemIDs(ctx, db) })
	rec := &Recorder{Keep: 5, MaxStats: 3}
	h := &Handler{Recorder: rec}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				rec.Observe(nil, rep)
				if i%50 == 0 {
					for _, path := range []string{"/", "/requests/1", "/stats", "/metrics", "/stats.json"} {
						r := httptest.NewRequest("GET", "/debug/querytrace"+path, nil)
						r.RemoteAddr, r.Host = "127.0.0.1:1", "127.0.0.1"
						h.ServeHTTP(httptest.NewRecorder(), r)
					}
				}
				if g == 0 && i == 100 {
					rec.Reset()
				}
			}
		}()
	}
	wg.Wait()
	if n := len(rec.recent(classAll)); n != 5 {
		t.Errorf("%d recent requests kept, want Keep=5", n)
	}
}
