package main

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/internal/interleave"
)

// BenchmarkFastPage serves the fast page in process, raw and through
// querytrace's driver and middleware, in alternating blocks
// (internal/interleave), and reports the ratio: the cost the
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
			db, err = querytrace.Open("sqlite3", store.MemoryDSN(name))
		} else {
			db, err = sql.Open("sqlite3", store.MemoryDSN(name))
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		if err := store.Create(context.Background(), db, 300); err != nil {
			b.Fatal(err)
		}
		if middleware {
			return &querytrace.Handler{Next: newMux(db), Logger: slog.New(slog.DiscardHandler)}
		}
		return newMux(db)
	}
	raw, traced := open(b.Name()+"-raw", false, false), open(b.Name()+"-traced", driver, handler)
	serve := func(h http.Handler, n int) {
		for range n {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, loadPath, nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d", loadPath, rec.Code)
			}
		}
	}
	interleave.Run(b, 20, "req",
		func(n int) { serve(raw, n) },
		func(n int) { serve(traced, n) })
}

// BenchmarkFastPageDebug serves the fast page through querytrace's driver
// and middleware, without and with the debug page's recorder and
// statistics fed from OnFinish, in alternating blocks over the same
// database, so that only the recorder differs: "traced" is the side with
// it, and traced/raw its cost on a real page. The control has no recorder
// on either side: its ratio is the harness's own bias.
//
//	go test -run '^$' -bench FastPageDebug -count 6 ./examples/inventory
func BenchmarkFastPageDebug(b *testing.B) {
	db, err := querytrace.Open("sqlite3", store.MemoryDSN("debug-bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := store.Create(context.Background(), db, 300); err != nil {
		b.Fatal(err)
	}
	handler := func(rec *debugpage.Recorder) http.Handler {
		h := &querytrace.Handler{Next: newMux(db), Logger: slog.New(slog.DiscardHandler)}
		if rec != nil {
			h.OnFinish = rec.Observe
		}
		return h
	}
	serve := func(h http.Handler, n int) {
		for range n {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, loadPath, nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d", loadPath, rec.Code)
			}
		}
	}
	for _, c := range []struct {
		name string
		rec  *debugpage.Recorder
	}{
		{"control", nil},
		{"recorder", &debugpage.Recorder{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			without, with := handler(nil), handler(c.rec)
			interleave.Run(b, 20, "req",
				func(n int) { serve(without, n) },
				func(n int) { serve(with, n) })
		})
	}
}

// BenchmarkFastPageParts serves the fast page in process through each
// part of querytrace in turn, added one at a time: the raw page, the
// driver, the Handler, the debug page's Recorder fed from OnFinish and
// its Link naming each request's page (the production setup the README
// describes, with StagingDetector). Run one part after the other, its
// times need a quiet machine; its allocations per request (-benchmem) are
// what each part costs anywhere, and do not vary between runs:
//
//	go test -run '^$' -bench FastPageParts -benchmem ./examples/inventory
func BenchmarkFastPageParts(b *testing.B) {
	for _, c := range []struct {
		name    string
		driver  bool
		handler func(db *sql.DB) http.Handler
	}{
		{"raw", false, func(db *sql.DB) http.Handler { return newMux(db) }},
		{"driver", true, func(db *sql.DB) http.Handler { return newMux(db) }},
		{"handler", true, func(db *sql.DB) http.Handler {
			return &querytrace.Handler{Next: newMux(db), Logger: slog.New(slog.DiscardHandler), Detector: querytrace.StagingDetector()}
		}},
		{"handler+recorder", true, func(db *sql.DB) http.Handler {
			rec := &debugpage.Recorder{}
			page := &debugpage.Handler{Recorder: rec}
			return &querytrace.Handler{Next: newMux(db), Logger: slog.New(slog.DiscardHandler), Detector: querytrace.StagingDetector(), OnFinish: rec.Observe, OnHeader: page.Link}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var db *sql.DB
			var err error
			if c.driver {
				db, err = querytrace.Open("sqlite3", store.MemoryDSN(b.Name()))
			} else {
				db, err = sql.Open("sqlite3", store.MemoryDSN(b.Name()))
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := store.Create(context.Background(), db, 300); err != nil {
				b.Fatal(err)
			}
			h := c.handler(db)
			serve := func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, loadPath, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", loadPath, rec.Code)
				}
			}
			for range 20 { // warm up: first reports, caches
				serve()
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
