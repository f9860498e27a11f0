package debugpage

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/querytrace/querytrace"
)

func TestExplainable(t *testing.T) {
	for _, c := range []struct {
		shape, want string
		params      int
	}{
		{"select name from items where id = ? and k in (?)", "select name from items where id = $1 and k in ($2)", 2},
		{"update items set name = ? where id = ?", "update items set name = $1 where id = $2", 2},
		{"select now()", "select now()", 0},
		{"begin", "", 0},
		{"set search_path = ?", "", 0},
		{"select ?; drop table items", "", 0},
	} {
		got, n, ok := explainable(c.shape)
		if got != c.want || n != c.params || ok != (c.want != "") {
			t.Errorf("explainable(%q) = %q, %d, %v; want %q, %d", c.shape, got, n, ok, c.want, c.params)
		}
	}
}

// TestExplainPostgres asks PostgreSQL for the generic plan of a statement
// the page holds, by its fingerprint: with EXPLAIN (GENERIC_PLAN) from
// version 16, through a prepared statement before.
func TestExplainPostgres(t *testing.T) {
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_POSTGRES_DSN is not set: no PostgreSQL to explain on")
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE IF NOT EXISTS debugpage_explain_items (id int PRIMARY KEY, name text)`); err != nil {
		t.Fatal(err)
	}
	db, err := querytrace.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, tr := querytrace.Start(context.Background(), "GET /item")
	db.QueryRowContext(ctx, `SELECT name FROM debugpage_explain_items WHERE id = $1 AND name <> $2`, 1, secret).Scan(new(string))
	rep := tr.Finish()
	rec := &Recorder{}
	rec.Observe(nil, rep)
	fp := fmtFingerprint(rep.Groups[0].Fingerprint)

	for _, c := range []struct {
		explain *sql.DB
		path    string
		status  int
		want    string
	}{
		{nil, "/debug/querytrace/explain/" + fp, 404, "EXPLAIN is off"},
		{raw, "/debug/querytrace/explain/" + fp, 200, "debugpage_explain_items"},
		{raw, "/debug/querytrace/explain/ffffffffffffffff", 404, "no statement"},
	} {
		h := &Handler{Recorder: rec, Explain: c.explain}
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, c.path, nil)
		r.RemoteAddr, r.Host = "127.0.0.1:1", "127.0.0.1"
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		h.ServeHTTP(w, r)
		body := w.Body.String()
		if w.Code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("POST %s (explain %v): %d, want %d with %q\n%s", c.path, c.explain != nil, w.Code, c.status, c.want, body)
		}
		if c.status == 200 && !strings.Contains(body, "Scan") {
			t.Errorf("no plan in\n%s", body)
		}
		if strings.Contains(body, secret) {
			t.Errorf("POST %s shows an argument value", c.path)
		}
	}
}

// TestExplainTakesSameOriginPost: EXPLAIN reaches the database only on a
// POST from the page's own origin. A GET, which any web page can make a
// browser send (<img src=".../explain/FP">), shows the statement and a
// form, and sends nothing to the database; a POST from elsewhere is
// refused before it does. The calls are counted by querytrace itself, on
// the database the page explains with.
func TestExplainTakesSameOriginPost(t *testing.T) {
	db := openDB(t)
	ctx, tr := querytrace.Start(context.Background(), "GET /item")
	db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, 1).Scan(new(string))
	rep := tr.Finish()
	rec := &Recorder{}
	rec.Observe(nil, rep)
	fp := fmtFingerprint(rep.Groups[0].Fingerprint)
	srv := httptest.NewServer(&Handler{Recorder: rec, Explain: db})
	defer srv.Close()
	url := srv.URL + "/debug/querytrace/explain/" + fp
	calls := func() int {
		s := querytrace.Untraced(db).Snapshot()
		return s.Statements + s.Prepares + s.Begins + s.Rollbacks + s.Errors
	}

	for _, c := range []struct {
		name   string
		method string
		header []string
		status int
		work   bool
	}{
		{"an image from another site", "GET", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image"}, 200, false},
		{"a link followed", "GET", []string{"Sec-Fetch-Site", "same-origin"}, 200, false},
		{"a form of another site", "POST", []string{"Sec-Fetch-Site", "cross-site"}, 403, false},
		{"a form of another port", "POST", []string{"Sec-Fetch-Site", "same-site"}, 403, false},
		{"an older browser, another site", "POST", []string{"Origin", "http://attacker.example"}, 403, false},
		{"an opaque origin", "POST", []string{"Origin", "null"}, 403, false},
		{"the page's own form", "POST", []string{"Sec-Fetch-Site", "same-origin"}, 200, true},
		{"an older browser, the page's form", "POST", []string{"Origin", srv.URL}, 200, true},
	} {
		before := calls()
		req, _ := http.NewRequest(c.method, url, nil)
		for i := 0; i < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := calls() - before
		if resp.StatusCode != c.status || (n > 0) != c.work {
			t.Errorf("%s: %s and %d database calls; want %d and work %v\n%s", c.name, resp.Status, n, c.status, c.work, body)
		}
		if c.method == "GET" && !strings.Contains(string(body), `<form method="post" action="/debug/querytrace/explain/`+fp+`"`) {
			t.Errorf("%s: no form to post the EXPLAIN from\n%s", c.name, body)
		}
	}
}

// TestNoDriverImport keeps the page free of any driver: an application
// that uses SQLite alone must not compile pgx to mount it.
func TestNoDriverImport(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/") && !strings.HasPrefix(pkg, "github.com/querytrace/querytrace") {
			t.Errorf("debugpage depends on %s", pkg)
		}
	}
}
