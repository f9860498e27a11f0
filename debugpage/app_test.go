package debugpage

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
)

// secret is an argument value that no page may show.
const secret = "s3cr3t-argument-value"

// xssRoute and xssColumn are probes that a page must show as text.
const (
	xssRoute  = `GET /probe/<script>alert("route")</script>`
	xssColumn = `<img src=x onerror=alert(1)>`
)

var dbSeq atomic.Int64

// openDB opens a fresh in-memory SQLite database through querytrace, with
// a table of ten items.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("sqlite3", fmt.Sprintf("file:debugpage%d?mode=memory&cache=shared", dbSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, secret TEXT)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10) INSERT INTO items SELECT i, 'item ' || i, '' FROM n`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// appMux is an application: an N+1 page, a page of one query, a page
// that fails, and a page whose route and statement carry XSS probes.
func appMux(db *sql.DB) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		ids, err := itemIDs(r.Context(), db)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		for _, id := range ids {
			var name string
			db.QueryRowContext(r.Context(), `SELECT name FROM items WHERE id = ? AND secret <> ?`, id, secret).Scan(&name)
		}
	})
	mux.HandleFunc("GET /one", func(w http.ResponseWriter, r *http.Request) {
		itemIDs(r.Context(), db)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		db.ExecContext(r.Context(), `INSERT INTO no_such_table VALUES (?)`, secret)
		http.Error(w, "failed", 500)
	})
	mux.HandleFunc("GET /probe", func(w http.ResponseWriter, r *http.Request) {
		db.QueryRowContext(r.Context(), `SELECT 1 AS "`+xssColumn+`" FROM items WHERE id = ?`, 1).Scan(new(int))
	})
	mux.HandleFunc("GET /team", func(w http.ResponseWriter, r *http.Request) {
		teamPage(r.Context(), db)
	})
	return mux
}

// teamPage has one of everything the text report shows of a finding: an
// N+1 whose loop is in another function than its statement, a duplicate
// from two call sites, repeats under Pause (allowed, with its reason), and
// a statement run without the request's context (unattributed).
func teamPage(ctx context.Context, db *sql.DB) {
	ids, _ := itemIDs(ctx, db)
	for _, id := range ids {
		itemName(ctx, db, id)
	}
	headerCount(ctx, db)
	footerCount(ctx, db)
	warm := querytrace.Pause(ctx, "warm-up of the item cache")
	for id := range 3 {
		db.ExecContext(warm, `UPDATE items SET name = name WHERE id = ?`, id)
	}
	db.QueryRowContext(context.Background(), `SELECT count(*) FROM items`).Scan(new(int))
}

func itemName(ctx context.Context, db *sql.DB, id int) string {
	var name string
	db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ? AND secret <> ?`, id, secret).Scan(&name)
	return name
}

func headerCount(ctx context.Context, db *sql.DB) {
	db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE secret <> ?`, secret).Scan(new(int))
}

func footerCount(ctx context.Context, db *sql.DB) {
	db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE secret <> ?`, secret).Scan(new(int))
}

func itemIDs(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM items ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// newSite serves appMux traced, feeding rec and naming each request's
// page, and the debug page beside it, as an application mounts them.
func newSite(t testing.TB, rec *Recorder, page *Handler) *httptest.Server {
	t.Helper()
	db := openDB(t)
	name := func(r *http.Request) string {
		if r.URL.Path == "/probe" {
			return xssRoute
		}
		return r.Method + " " + r.URL.Path
	}
	root := http.NewServeMux()
	root.Handle("/", &querytrace.Handler{Next: appMux(db), Name: name, OnFinish: rec.Observe, OnHeader: page.Link, Logger: slog.New(slog.DiscardHandler)})
	page.Recorder = rec
	root.Handle("/debug/querytrace/", page)
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url and returns the response and its body.
func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// visit requests each path of the application once.
func visit(t testing.TB, srv *httptest.Server, paths ...string) {
	t.Helper()
	for _, p := range paths {
		resp, _ := get(t, srv.URL+p)
		if p != "/fail" && resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", p, resp.Status)
		}
	}
}

func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}
