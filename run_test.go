package querytrace

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// TestHandlerRun checks that a unit of work run outside ServeHTTP is
// traced under the Handler's configuration and handed to the same sinks:
// OnFinish on the caller's goroutine with the trace still on the
// request's context, OnReport and the N+1 warning through the queue, the
// warnings held back per WarnInterval.
func TestHandlerRun(t *testing.T) {
	db := openSeed(t, 5)
	logs := &logRecorder{}
	onReport, ch := reports()
	var finished struct {
		method, path string
		traced       bool
		rep          *Report
	}
	h := &Handler{Next: inventoryMux(db), Logger: slog.New(logs), OnReport: onReport,
		OnFinish: func(r *http.Request, rep *Report) {
			finished.method, finished.path = r.Method, r.URL.Path
			finished.traced = FromContext(r.Context()) != nil
			finished.rep = rep
		}}

	call := httptest.NewRequest("POST", "/inventory.Inventory/Free", nil)
	rep := h.Run(call, "/inventory.Inventory/Free", func(r *http.Request) {
		if _, err := store.SlowInventory(r.Context(), db); err != nil {
			t.Error(err)
		}
	})
	if rep.Name != "/inventory.Inventory/Free" || rep.Statements != 11 || len(rep.NPlusOne) != 2 {
		t.Fatalf("report %q: %d statements, %d N+1; want /inventory.Inventory/Free, 11 and 2", rep.Name, rep.Statements, len(rep.NPlusOne))
	}
	if finished.rep != rep || finished.method != "POST" || finished.path != "/inventory.Inventory/Free" || !finished.traced {
		t.Errorf("OnFinish got %s %s (trace on its context: %v), report %p; want POST /inventory.Inventory/Free, the trace, and %p",
			finished.method, finished.path, finished.traced, finished.rep, rep)
	}
	if got := wait(t, ch); got != rep {
		t.Errorf("OnReport got report %q, want Run's", got.Name)
	}
	warns, attrs := logs.at(slog.LevelWarn)
	if len(warns) != 2 || !strings.Contains(attrs[0], "route=/inventory.Inventory/Free") {
		t.Errorf("warnings %q %q, want 2 naming /inventory.Inventory/Free", warns, attrs)
	}

	// The same call again, within WarnInterval: its warnings are held
	// back, and the Handler keeps serving HTTP alongside.
	h.Run(call, "/inventory.Inventory/Free", func(r *http.Request) { store.SlowInventory(r.Context(), db) })
	wait(t, ch)
	if warns, _ := logs.at(slog.LevelWarn); len(warns) != 2 {
		t.Errorf("after the same call again: %d warnings, want still 2", len(warns))
	}
	if w := serve(h, "/inventory/fast"); w.Code != http.StatusOK || wait(t, ch).Name != "GET /inventory/{page}" {
		t.Errorf("HTTP beside Run: status %d", w.Code)
	}
}

// TestHandlerRunPanic checks that work that panics is still reported, and
// the panic goes on to the caller.
func TestHandlerRunPanic(t *testing.T) {
	db := openSeed(t, 3)
	onReport, ch := reports()
	h := &Handler{Logger: slog.New(&logRecorder{}), OnReport: onReport}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		h.Run(httptest.NewRequest("POST", "/pkg.Service/Boom", nil), "/pkg.Service/Boom", func(r *http.Request) {
			db.QueryRowContext(r.Context(), `SELECT 1`).Scan(new(int))
			panic("boom")
		})
	}()
	if r := wait(t, ch); r.Statements != 1 || r.Name != "/pkg.Service/Boom" {
		t.Errorf("report %q with %d statements", r.Name, r.Statements)
	}
}

// TestReportServerTiming checks that the exported rendering is the
// header's.
func TestReportServerTiming(t *testing.T) {
	db := openSeed(t, 2)
	ctx, tr := Start(context.Background(), "t")
	store.SlowInventory(ctx, db)
	rep := tr.Finish()
	if got, want := rep.ServerTiming(), serverTiming(rep); got != want || !strings.Contains(got, `desc="5 statements, 2 N+1"`) {
		t.Errorf("ServerTiming() = %q, want %q with 5 statements, 2 N+1", got, want)
	}
}
