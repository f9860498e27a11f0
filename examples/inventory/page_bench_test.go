package main

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/querytrace/querytrace"
)

// BenchmarkFastPage serves the fast page in process, raw and through
// querytrace's driver and middleware, in alternating blocks as the root
// package's BenchmarkOverhead does, and reports the ratio: the cost the
// load test sees, without the network and the clients.
//
//	go test -run '^$' -bench FastPage -count 6 ./examples/inventory
func BenchmarkFastPage(b *testing.B) {
	for _, c := range []struct {
		name            string
		driver, handler bool
	}{
		{"raw", false, false}, // both sides raw: the harness's own bias
		{"driver", true, false},
		{"driver+middleware", true, true},
	} {
		b.Run(c.name, func(b *testing.B) { benchFastPage(b, c.driver, c.handler) })
	}
}

func benchFastPage(b *testing.B, driver, handler bool) {
	open := func(name string, traced, middleware bool) http.Handler {
		var db *sql.DB
		var err error
		if traced {
			db, err = querytrace.Open("sqlite3", memoryDSN(name))
		} else {
			db, err = sql.Open("sqlite3", memoryDSN(name))
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		if err := openStore(context.Background(), db, 300); err != nil {
			b.Fatal(err)
		}
		if middleware {
			return &querytrace.Handler{Next: newMux(db), Logger: slog.New(slog.DiscardHandler)}
		}
		return newMux(db)
	}
	raw, traced := open(b.Name()+"-raw", false, false), open(b.Name()+"-traced", driver, handler)
	serve := func(h http.Handler, n int) time.Duration {
		t0 := time.Now()
		for range n {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, loadPath, nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d", loadPath, rec.Code)
			}
		}
		return time.Since(t0)
	}
	const block = 20
	var rawTime, tracedTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		if done/block%2 == 0 {
			rawTime += serve(raw, n)
			tracedTime += serve(traced, n)
		} else {
			tracedTime += serve(traced, n)
			rawTime += serve(raw, n)
		}
	}
	b.ReportMetric(float64(rawTime.Microseconds())/float64(b.N), "raw-µs/req")
	b.ReportMetric(float64(tracedTime.Microseconds())/float64(b.N), "traced-µs/req")
	b.ReportMetric(float64(tracedTime)/float64(rawTime), "traced/raw")
}
