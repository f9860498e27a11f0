package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// testDBs numbers the test databases: shared-cache in-memory databases with
// the same name are one database, so each test needs a name of its own.
var testDBs atomic.Int64

func testStore(t *testing.T, entries int) *sql.DB {
	t.Helper()
	name := fmt.Sprintf("test-%s-%d", t.Name(), testDBs.Add(1))
	db, err := sql.Open("sqlite3", store.MemoryDSN(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Create(context.Background(), db, entries); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(newMux(testStore(t, 40)))
	defer srv.Close()

	pages := make(map[string][]store.Row)
	for _, path := range []string{"/inventory/slow", "/inventory/fast"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var rows []store.Row
		err = json.NewDecoder(resp.Body).Decode(&rows)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if len(rows) != 40 {
			t.Errorf("GET %s: %d rows, want 40", path, len(rows))
		}
		pages[path] = rows
	}
	if !reflect.DeepEqual(pages["/inventory/slow"], pages["/inventory/fast"]) {
		t.Error("the two pages differ over HTTP")
	}

	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/", http.StatusOK, "/inventory/fast"},
		{"GET", "/nope", http.StatusNotFound, ""},
		{"POST", "/inventory/fast", http.StatusMethodNotAllowed, ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, resp.StatusCode, body, tc.code, tc.body)
		}
	}
}

// TestEmptyPageIsArray checks that an empty inventory is [] in JSON, not
// null, which clients iterating over the rows would trip on.
func TestEmptyPageIsArray(t *testing.T) {
	h := newMux(testStore(t, 0))
	for _, path := range []string{"/inventory/slow", "/inventory/fast"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if got := strings.TrimSpace(rec.Body.String()); got != "[]" {
			t.Errorf("GET %s: %q, want []", path, got)
		}
	}
}

// TestPagesConcurrent runs both pages from many goroutines at once, which
// would hang if a page queried while holding rows open on the single
// connection, and would fail under -race if the handlers shared state.
func TestPagesConcurrent(t *testing.T) {
	srv := httptest.NewServer(newMux(testStore(t, 30)))
	defer srv.Close()
	errc := make(chan error, 20)
	for i := range cap(errc) {
		path := []string{"/inventory/slow", "/inventory/fast"}[i%2]
		go func() {
			resp, err := http.Get(srv.URL + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("GET %s: %s", path, resp.Status)
				}
			}
			errc <- err
		}()
	}
	for range cap(errc) {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

func TestRunLoad(t *testing.T) {
	configs := []loadConfig{
		{Name: "a", Handler: newMux(testStore(t, 20))},
		{Name: "b", Handler: newMux(testStore(t, 20))},
	}
	start := time.Now()
	results, err := runLoad(context.Background(), 150*time.Millisecond, 4, configs)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("runLoad took %v, want about %v", d, 4*150*time.Millisecond)
	}
	if len(results) != len(configs) {
		t.Fatalf("%d results, want %d", len(results), len(configs))
	}
	for i, res := range results {
		if res.Name != configs[i].Name || len(res.Runs) != loadRounds {
			t.Errorf("result %d: %s with %d runs, want %s with %d", i, res.Name, len(res.Runs), configs[i].Name, loadRounds)
		}
		tot := res.total()
		if tot.Requests == 0 || tot.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", res.Name, tot.Requests, tot.Errors)
		}
		if p50, p99 := tot.percentile(50), tot.percentile(99); p50 <= 0 || p99 < p50 {
			t.Errorf("%s: p50 %v, p99 %v", res.Name, p50, p99)
		}
	}

	var out strings.Builder
	printLoad(&out, 150*time.Millisecond, 4, results)
	if !strings.Contains(out.String(), "b / a: req/s") {
		t.Errorf("printLoad output lacks the ratio line:\n%s", out.String())
	}
}

func TestRunLoadBrokenHandler(t *testing.T) {
	broken := http.NotFoundHandler()
	_, err := runLoad(context.Background(), time.Second, 2, []loadConfig{{Name: "broken", Handler: broken}})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("runLoad over a 404 handler: err = %v, want a 404 error", err)
	}
}
