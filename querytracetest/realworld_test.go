package querytracetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
)

// These tests use the helpers with the real *testing.T, where they are
// used: parallel tests, HTTP handlers, goroutines and subtests. A helper
// that counted another test's statements would fail them.

func TestParallelTestsAreIsolated(t *testing.T) {
	db := openStore(t, 3) // one database, one connection, shared by all
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			ctx := Budget(t, t.Context(), Exactly(i))
			for range i {
				if _, err := store.Entries(ctx, db); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// An httptest request made with the budget's context is counted, even
// though the middleware starts a trace of its own for the handler.
func TestHTTPTestThroughMiddleware(t *testing.T) {
	db := openStore(t, 3)
	reports := make(chan *querytrace.Report, 1)
	srv := traced(inventoryHandler(db, store.FastInventory), reports)

	ctx := Budget(t, t.Context(), Exactly(3))
	req := httptest.NewRequestWithContext(ctx, "GET", "/inventory", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if r := <-reports; r.Name != "GET /inventory" || r.Statements != 3 {
		t.Errorf("middleware's report: %q with %d statements; want GET /inventory with 3", r.Name, r.Statements)
	}
}

// Through a real server the request's context is the server's: the test
// hands its traced context to the handler in a wrapper of its own.
func TestHTTPTestServer(t *testing.T) {
	db := openStore(t, 3)
	ctx := Budget(t, t.Context(), Exactly(3))
	app := traced(inventoryHandler(db, store.FastInventory), nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/inventory")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// The seed scenario through the middleware: the budget fails with the
// count of the handler's statements.
func TestHTTPTestBudgetFails(t *testing.T) {
	f := runFake(t, "TestInventoryPage", func(t testing.TB) {
		db := openStore(t, 3)
		srv := traced(inventoryHandler(db, store.SlowInventory), nil)
		ctx := Budget(t, t.Context(), AtMost(3))
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "/inventory", nil))
	})
	contains(t, f.Fails(t), "querytrace: 7 statements, budget at most 3", "store.SlowInventory")
}

// Goroutines that the code under test starts with the context are counted.
func TestGoroutinesAreCounted(t *testing.T) {
	db := openStore(t, 3)
	ctx := Budget(t, t.Context(), Exactly(6), Exactly(6).CallSite("store.Entries"))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := store.Entries(ctx, db); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// A test's budget sees its subtests' statements; each subtest's budget
// sees its own.
func TestSubtests(t *testing.T) {
	db := openStore(t, 3)
	ctx := Budget(t, t.Context(), Exactly(4))
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := Budget(t, ctx, Exactly(n))
			for range n {
				store.Entries(ctx, db)
			}
		})
	}
}

// Parallel subtests end before their parent's cleanup, where its budget is
// checked.
func TestParallelSubtests(t *testing.T) {
	db := openStore(t, 3)
	ctx := Budget(t, t.Context(), Exactly(5))
	for i := range 5 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			ctx := NoNPlusOne(t, ctx)
			store.Entries(ctx, db)
		})
	}
}

// Helpers compose on one context: a budget around an N+1 check around a
// golden file, each checking what ran with the innermost context.
func TestHelpersCompose(t *testing.T) {
	f := runFake(t, "TestAll", func(t testing.TB) {
		db := openStore(t, 3)
		ctx := Budget(t, t.Context(), AtMost(3))
		ctx = NoNPlusOne(t, ctx)
		store.SlowInventory(ctx, db)
	})
	if len(f.Errors) != 2 {
		t.Fatalf("%d errors; want the budget's and the N+1 check's:\n%s", len(f.Errors), f.Text())
	}
}
