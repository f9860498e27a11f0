package debugpage

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
)

func TestHandlerPages(t *testing.T) {
	srv := newSite(t, &Recorder{}, &Handler{})
	visit(t, srv, "/loop", "/one", "/fail", "/probe")
	const p = "/debug/querytrace"
	for _, c := range []struct {
		path   string
		status int
		ctype  string
		want   []string
	}{
		{p + "/", 200, "text/html", []string{"/loop", "/one", "/fail", `<a href="/debug/querytrace/requests/1">GET /loop</a>`, "1 N+1"}},
		{p + "/?class=n%2b1", 200, "text/html", []string{"GET /loop"}},
		{p + "/?class=error", 200, "text/html", []string{"GET /fail", "1 err"}},
		{p + "/?class=nope", 400, "text/plain", nil},
		{p + "/requests/1", 200, "text/html", []string{
			"select name from items where id = ? and secret &lt;&gt; ?", // the loop's shape
			"loop over the rows of", // its source query
			"select id from items order by id",
			`class="fix"`,          // the fix
			`<rect class="bar"`,    // waterfall bars
			"app_test.go:",         // call site
			"<details><summary>",   // stacks on demand
			p + "/requests/1/json", // JSON one click away
		}},
		{p + "/requests/1?sort=count", 200, "text/html", []string{`href="?sort=count#groups" class="sorted"`}},
		{p + "/requests/1/json", 200, "application/json", []string{`"format": "querytrace-report"`, `"n_plus_one"`}},
		{p + "/requests/99", 404, "text/plain", nil},
		{p + "/requests/x", 404, "text/plain", nil},
		{p + "/compare?a=2&b=1", 200, "text/html", []string{"added", "select name from items where id = ?"}},
		{p + "/compare?a=2&b=99", 404, "text/plain", nil},
		{p + "/stats", 200, "text/html", []string{"GET /loop", "Reset statistics", "select id from items order by id"}},
		{p + "/stats?sort=calls", 200, "text/html", []string{`href="?sort=calls" class="sorted"`}},
		{p + "/stats.json", 200, "application/json", []string{`"requests": 4`}},
		{p + "/metrics", 200, "text/plain; version=0.0.4", []string{"querytrace_statement_calls_total{"}},
		{p + "/explain/0123456789abcdef", 404, "text/plain", nil}, // off by default
		{p + "/static/page.css", 200, "text/css", []string{"--bar"}},
		{p + "/nope", 404, "text/plain", nil},
		{p + "/stats/reset", 405, "text/plain", nil}, // GET
	} {
		resp, body := get(t, srv.URL+c.path)
		if resp.StatusCode != c.status {
			t.Errorf("GET %s: %s, want %d\n%s", c.path, resp.Status, c.status, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, ct, c.ctype)
		}
		checkHeaders(t, "GET "+c.path, resp.Header)
		contains(t, "GET "+c.path, body, c.want...)
		if strings.Contains(body, secret) {
			t.Errorf("GET %s shows an argument value", c.path)
		}
	}
}

// checkHeaders asserts the headers every answer carries, a 403 included.
func checkHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", what, k, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "style-src 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("%s: Content-Security-Policy %q allows script", what, csp)
	}
}

func TestHandlerEscapes(t *testing.T) {
	srv := newSite(t, &Recorder{}, &Handler{})
	visit(t, srv, "/probe")
	for _, path := range []string{"/", "/requests/1", "/stats", "/compare?a=1&b=1"} {
		_, body := get(t, srv.URL+"/debug/querytrace"+path)
		for _, probe := range []string{"<script>alert", "<img src=x"} {
			if strings.Contains(body, probe) {
				t.Errorf("%s: probe %q not escaped", path, probe)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;route&#34;)&lt;/script&gt;") {
			t.Errorf("%s: the route probe is not shown as text", path)
		}
	}
	_, body := get(t, srv.URL+"/debug/querytrace/requests/1")
	contains(t, "request", body, "&lt;img src=x onerror=alert(1)&gt;")
}

func TestHandlerAccess(t *testing.T) {
	rec := &Recorder{}
	token := func(r *http.Request) bool { return r.Header.Get("X-Token") == "ok" }
	for _, c := range []struct {
		name       string
		remote     string
		host       string
		header     []string // name, value, ...
		authorize  func(*http.Request) bool
		wantStatus int
	}{
		{"loopback v4", "127.0.0.1:5000", "127.0.0.1:8080", nil, nil, 200},
		{"loopback v6", "[::1]:5000", "[::1]:8080", nil, nil, 200},
		{"localhost", "127.0.0.1:5000", "localhost:8080", nil, nil, 200},
		{"remote", "192.0.2.7:5000", "127.0.0.1:8080", nil, nil, 403},
		{"remote v6", "[2001:db8::1]:5000", "[::1]:8080", nil, nil, 403},
		{"rebound host", "127.0.0.1:5000", "attacker.example:8080", nil, nil, 403},
		{"mapped loopback", "[::ffff:127.0.0.1]:5000", "127.0.0.1", nil, nil, 200},
		{"authorized remote", "192.0.2.7:5000", "app.example", nil, token, 200},
		{"authorize refuses loopback", "127.0.0.1:5000", "127.0.0.1", nil, func(*http.Request) bool { return false }, 403},

		// A proxy on this machine that rewrote Host says whom it
		// forwards for.
		{"X-Forwarded-For public", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "203.0.113.9"}, nil, 403},
		{"X-Forwarded-For chain", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "127.0.0.1, 10.0.0.5"}, nil, 403},
		{"X-Forwarded-For second header", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "127.0.0.1", "X-Forwarded-For", "198.51.100.1"}, nil, 403},
		{"X-Forwarded-For loopback", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "127.0.0.1, ::1"}, nil, 200},
		{"X-Forwarded-For empty", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", ""}, nil, 403},
		{"X-Forwarded-For garbage", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "unknown"}, nil, 403},
		{"X-Real-IP public", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Real-IP", "203.0.113.9"}, nil, 403},
		{"X-Real-IP loopback", "[::1]:5000", "[::1]:8080", []string{"X-Real-IP", "::1"}, nil, 200},
		{"Forwarded public", "127.0.0.1:5000", "127.0.0.1:8080", []string{"Forwarded", "for=203.0.113.9;proto=https"}, nil, 403},
		{"Forwarded v6 with port", "127.0.0.1:5000", "127.0.0.1:8080", []string{"Forwarded", `For="[2001:db8:cafe::17]:4711"`}, nil, 403},
		{"Forwarded hidden", "127.0.0.1:5000", "127.0.0.1:8080", []string{"Forwarded", "for=_hidden, for=127.0.0.1"}, nil, 403},
		{"Forwarded without for", "127.0.0.1:5000", "127.0.0.1:8080", []string{"Forwarded", "proto=https;host=app.example"}, nil, 403},
		{"Forwarded loopback", "127.0.0.1:5000", "127.0.0.1:8080", []string{"Forwarded", `for=127.0.0.1;proto=http, for="[::1]:80"`}, nil, 200},
		{"Authorize decides behind a proxy", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "203.0.113.9"}, token, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &Handler{Recorder: rec, Authorize: c.authorize}
			r := httptest.NewRequest("GET", "/debug/querytrace/", nil)
			r.RemoteAddr, r.Host = c.remote, c.host
			r.Header.Set("X-Token", "ok")
			for i := 0; i < len(c.header); i += 2 {
				r.Header.Add(c.header[i], c.header[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.wantStatus {
				t.Errorf("%s from %s for %s: %d, want %d", r.URL, c.remote, c.host, w.Code, c.wantStatus)
			}
			checkHeaders(t, c.name, w.Header())
		})
	}
}

func TestHandlerPrefix(t *testing.T) {
	rec := &Recorder{}
	srv := newSite(t, rec, &Handler{})
	visit(t, srv, "/one")
	mux := http.NewServeMux()
	mux.Handle("/ops/sql/", &Handler{Recorder: rec, Prefix: "/ops/sql/"})
	other := httptest.NewServer(mux)
	defer other.Close()
	resp, body := get(t, other.URL+"/ops/sql/requests/1")
	if resp.StatusCode != 200 {
		t.Fatalf("under a prefix: %s", resp.Status)
	}
	contains(t, "under a prefix", body, `href="/ops/sql/static/page.css"`, `href="/ops/sql/requests/1/json"`)
}

func TestHandlerReset(t *testing.T) {
	rec := &Recorder{}
	srv := newSite(t, rec, &Handler{})
	visit(t, srv, "/one", "/loop")
	url := srv.URL + "/debug/querytrace/stats/reset"

	// A form posted from another site is refused.
	req, _ := http.NewRequest("POST", url, nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || rec.Statistics(0).Requests != 2 {
		t.Fatalf("cross-site reset: %s, %d requests left, want 403 and 2", resp.Status, rec.Statistics(0).Requests)
	}

	req, _ = http.NewRequest("POST", url, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/debug/querytrace/stats" {
		t.Fatalf("reset: %s at %s, want 200 at the statistics after a redirect", resp.Status, resp.Request.URL.Path)
	}
	if st := rec.Statistics(0); st.Requests != 0 || len(st.Stats) != 0 {
		t.Errorf("after reset: %d requests, %d entries", st.Requests, len(st.Stats))
	}
	if n := rec.counts()[classAll]; n != 2 {
		t.Errorf("reset dropped the recent requests: %d left", n)
	}
}

// TestRequestShowsFindings checks that the request page shows what the
// text report shows of each finding: the loop's line where it is not the
// call site, a duplicate's other call sites, an allowed finding's reason,
// and the hint about statements that ran outside any trace, in the text
// report's words.
func TestRequestShowsFindings(t *testing.T) {
	rec := &Recorder{}
	srv := newSite(t, rec, &Handler{})
	visit(t, srv, "/team")
	rep := rec.lookup(1).Report
	if len(rep.NPlusOne) != 1 || len(rep.Duplicates) != 1 || len(rep.Allowed) != 1 || rep.Unattributed == 0 {
		t.Fatalf("the team page's report lacks a finding:\n%s", rep)
	}
	n, d := rep.NPlusOne[0], rep.Duplicates[0]
	if !strings.Contains(n.LoopSite(), "app_test.go:") || !strings.Contains(n.LoopSite(), "teamPage") || strings.Contains(n.CallSite(), "teamPage") {
		t.Fatalf("the N+1's loop is at %q and its statement at %q: want the loop in teamPage, the statement in itemName", n.LoopSite(), n.CallSite())
	}
	if len(d.Others) != 1 {
		t.Fatalf("the duplicate has %d other sites, want 1", len(d.Others))
	}
	_, body := get(t, srv.URL+"/debug/querytrace/requests/1")
	text := html.UnescapeString(body)
	var unattributed string
	for _, line := range strings.Split(rep.String(), "\n") {
		if strings.HasPrefix(line, "not attributed: ") {
			unattributed = line
		}
	}
	contains(t, "request", text,
		"in the loop at <code>"+n.LoopSite()+"</code>",
		"at <code>"+d.CallSite()+"</code>",
		"and at <code>"+d.Others[0].CallSite()+"</code>",
		"reason: paused: warm-up of the item cache",
		">allowed n+1</span>",
		unattributed,
	)
	if unattributed == "" {
		t.Errorf("the text report has no unattributed line:\n%s", rep)
	}
}

// TestSavedReportShowsAsLive serves a request's page from the live report
// and from the file an Archive saved of it: the same page, byte for byte,
// since the file is the report's own JSON, but for what says where the
// report came from. A file whose findings name groups it does not hold
// still shows.
func TestSavedReportShowsAsLive(t *testing.T) {
	live := &Recorder{}
	srv := newSite(t, live, &Handler{})
	visit(t, srv, "/team")
	dir := t.TempDir()
	if err := (&Archive{Dir: dir}).Save(live.lookup(1).Report); err != nil {
		t.Fatal(err)
	}
	odd := `{"name": "GET /odd", "start": "2100-01-01T00:00:00Z", "groups": [null],
		"n_plus_one": [{"kind": "n+1", "group": 7, "count": 3, "other_groups": [8], "loop": {"function": "f", "file": "f.go", "line": 1}}],
		"slow": [{"kind": "slow", "group": 7, "source": {"group": 9}}]}`
	os.WriteFile(filepath.Join(dir, "odd.json"), []byte(odd), 0o644)
	saved := &Recorder{}
	if ld, err := saved.LoadDir(dir, DirLimits{}); err != nil || ld.Files != 2 || ld.SkippedFiles() != 0 {
		t.Fatalf("LoadDir: %+v, %v; want 2 reports", ld, err)
	}
	page := func(rec *Recorder, path string) (int, string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/debug/querytrace"+path, nil)
		r.RemoteAddr, r.Host = "127.0.0.1:1", "127.0.0.1"
		(&Handler{Recorder: rec}).ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	// What says that the pages are of files: the banner, and the file
	// under the request's title.
	origin := regexp.MustCompile(`(?s)<div class="loaded">.*?</div>\n| · from <code>querytrace-[^<]*\.json</code>`)
	for _, path := range []string{"/requests/1", "/requests/1?sort=count", "/requests/1/json", "/compare?a=1&b=1"} {
		_, want := page(live, path)
		code, got := page(saved, path)
		if n := len(origin.FindAllString(got, -1)); strings.HasPrefix(path, "/requests/1") && !strings.HasSuffix(path, "json") && n != 2 {
			t.Errorf("GET %s of the saved report: %d of the banner and the file name, want both", path, n)
		}
		if got = origin.ReplaceAllString(got, ""); code != 200 || got != want {
			t.Errorf("GET %s of the saved report: %d, and differs from the live page:\n%s\nwant\n%s", path, code, got, want)
		}
	}
	if code, body := page(saved, "/requests/2"); code != 200 || !strings.Contains(body, "GET /odd") {
		t.Errorf("the odd report: %d\n%s", code, body)
	}
}

func TestRequestJSONReadsBack(t *testing.T) {
	srv := newSite(t, &Recorder{}, &Handler{})
	visit(t, srv, "/loop")
	_, body := get(t, srv.URL+"/debug/querytrace/requests/1/json")
	rep, err := querytrace.UnmarshalFile([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Name != "GET /loop" || len(rep.NPlusOne) != 1 || rep.Statements != 11 || len(rep.Events()) != 11 {
		t.Errorf("decoded %q: %d N+1, %d statements, %d events; want GET /loop, 1, 11, 11", rep.Name, len(rep.NPlusOne), rep.Statements, len(rep.Events()))
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil || raw["version"] != 1.0 {
		t.Errorf("envelope version %v (%v), want 1", raw["version"], err)
	}
}

func TestStatsOtherRow(t *testing.T) {
	rec := &Recorder{MaxStats: 1}
	srv := newSite(t, rec, &Handler{})
	visit(t, srv, "/loop", "/one")
	_, body := get(t, srv.URL+"/debug/querytrace/stats")
	contains(t, "bounded statistics", body, `<tr class="other">`, "(other statements)", "<strong>2 evicted</strong>")
	_, body = get(t, srv.URL+"/debug/querytrace/stats.json")
	var st struct {
		Evicted int `json:"evicted"`
		Stats   []struct {
			Calls int `json:"calls"`
		} `json:"stats"`
		Other struct {
			Calls int `json:"calls"`
		} `json:"other"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	// /loop runs 1 + 10 statements, /one 1: 12 in all, whatever was evicted.
	if calls := st.Other.Calls + st.Stats[0].Calls; st.Evicted != 2 || len(st.Stats) != 1 || calls != 12 {
		t.Errorf("stats.json: %d evicted, %d entries, %d calls; want 2, 1, 12", st.Evicted, len(st.Stats), calls)
	}
}

// refusing is a database that cannot be reached.
type refusing struct{}

func (refusing) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("connect: connection refused")
}
func (refusing) Driver() driver.Driver { return nil }

// TestConnErrorsShown: a request whose database could not be reached is
// among the requests with an error, and its page says how often.
func TestConnErrorsShown(t *testing.T) {
	db := querytrace.OpenDB(refusing{})
	defer db.Close()
	rec := &Recorder{}
	ctx, tr := querytrace.Start(context.Background(), "GET /down")
	db.QueryRowContext(ctx, `SELECT 1`).Scan(new(int))
	rec.Observe(nil, tr.Finish())
	srv := httptest.NewServer(&Handler{Recorder: rec})
	defer srv.Close()
	_, body := get(t, srv.URL+"/debug/querytrace/?class=error")
	contains(t, "the requests with an error", body, "GET /down", "1 conn err")
	_, body = get(t, srv.URL+"/debug/querytrace/requests/1")
	contains(t, "the request", body, "<dt>connection errors</dt><dd>1</dd>")
}

// TestStatsColumnsAndExamples checks the statistics' columns of requests,
// calls and calls per request, and that each row links a request that is
// still held: the last where the statement was a finding, at the finding
// and its fix, or else the last that ran it.
func TestStatsColumnsAndExamples(t *testing.T) {
	rec := &Recorder{Keep: 1}
	srv := newSite(t, rec, &Handler{})
	visit(t, srv, "/loop", "/one", "/loop", "/one", "/probe")
	// Held: 3 (the last N+1) and 5 (the last of all). The N+1's row
	// links 3, at its finding.
	var loop *Stat
	st := rec.Statistics(0)
	for i, s := range st.Stats {
		if strings.HasPrefix(s.Shape, "select name from items") {
			loop = &st.Stats[i]
		}
	}
	if loop == nil || loop.Requests != 2 || loop.Calls != 20 || loop.CallsPerRequest() != 10 || loop.NPlusOne != 2 {
		t.Fatalf("the N+1's statistics: %+v; want 2 requests, 20 calls, 10 per request, 2 N+1s", loop)
	}
	g := rec.lookup(3).NPlusOne[0].Group
	_, body := get(t, srv.URL+"/debug/querytrace/stats")
	contains(t, "statistics", body,
		`<th class="num"><a href="?sort=requests" title="requests that ran the statement">requests</a></th>`,
		`<a href="?sort=per_request" title="executions per request that ran the statement: the loop&#39;s length for an N&#43;1">calls/request</a>`,
		`min mean</a>`,
		`<td class="num">2</td>
<td class="num">20</td>
<td class="num">10.0</td>`,
		fmt.Sprintf(`<a class="example" href="/debug/querytrace/requests/3#nplus1-%d">example: request 3, where it is an N&#43;1</a>`, g.ID),
		`<a class="example" href="/debug/querytrace/requests/5#g1">example: request 5</a>`,
	)
	// /loop's first query last ran in request 3, held as an N+1's;
	// /one's in request 4, no longer held.
	if n := strings.Count(body, `class="example"`); n != 3 {
		t.Errorf("%d rows link an example, want the three of /loop and /probe", n)
	}
	_, body = get(t, srv.URL+"/debug/querytrace/requests/3")
	contains(t, "the example", body, fmt.Sprintf(`<article class="finding nplus1" id="nplus1-%d">`, g.ID), `class="fix"`)
}
