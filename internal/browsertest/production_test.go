package browsertest

import (
	"context"
	"database/sql"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	"github.com/querytrace/querytrace/internal/viewertest"
)

// loopDB opens a database of ten items for a page that loops over them.
func loopDB(t *testing.T, name string) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("sqlite3", "file:"+name+"?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10) INSERT INTO items SELECT i, 'item ' || i FROM n`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// loopPage reads the items, then runs 600 statements in a loop: a page
// whose trace keeps only its first 64 events.
func loopPage(ctx context.Context, db *sql.DB) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM items ORDER BY id`)
	if err != nil {
		return
	}
	rows.Close()
	for i := range 600 {
		db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, i%10+1).Scan(new(string))
	}
}

// TestLoopWaterfallInBrowser opens the page of a request that ran a loop
// of 600 statements: the waterfall draws each group as one band over its
// real span, so that the loop's band is as wide as the loop took, and the
// page is as tall as its groups, not its statements.
func TestLoopWaterfallInBrowser(t *testing.T) {
	b := newBrowser(t)
	db := loopDB(t, "loopwaterfall")
	srv := serveTraced(t, &querytrace.Handler{
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { loopPage(r.Context(), db) }),
	})
	fetch(t, srv.URL+"/loop")
	rep := report(t, srv.URL+"/debug/querytrace/requests/1/json")
	if rep.Statements != 601 || rep.EventsMissed == 0 || len(rep.Groups) != 2 {
		t.Fatalf("the loop's report: %d statements, %d events missed, %d groups; want 601, some, 2", rep.Statements, rep.EventsMissed, len(rep.Groups))
	}
	b.open(t, srv.URL+"/debug/querytrace/requests/1")
	type band struct {
		Label string  `json:"label"`
		X     float64 `json:"x"`
		W     float64 `json:"w"`
		Lane  float64 `json:"lane"`
		Marks int     `json:"marks"`
	}
	type shown struct {
		Bands   []band  `json:"bands"`
		Rows    int     `json:"rows"`
		Groups  float64 `json:"groups"`
		Height  float64 `json:"height"`
		Section float64 `json:"section"`
	}
	got := eval[shown](t, b, `(() => {
		const box = e => e.getBoundingClientRect();
		const bands = Array.from(document.querySelectorAll('table.waterfall tr.band')).map(tr => {
			const svg = box(tr.querySelector('td.lane svg')), span = box(tr.querySelector('rect.span'));
			return {label: tr.querySelector('td.shape').innerText, x: span.left - svg.left, w: span.width, lane: svg.width,
				marks: tr.querySelectorAll('rect.bar').length};
		});
		return {
			bands: bands,
			rows: document.querySelectorAll('table.waterfall tbody tr').length,
			groups: box(document.querySelector('#groups')).top + window.scrollY,
			height: document.documentElement.scrollHeight,
			section: box(document.querySelector('#waterfall')).height,
		};
	})()`)
	if len(got.Bands) != 2 || got.Rows != 2 {
		t.Fatalf("the waterfall shows %d bands in %d rows, want one per group: %+v", len(got.Bands), got.Rows, got.Bands)
	}
	var loop *querytrace.Group
	for _, g := range rep.Groups {
		if g.Count == 600 {
			loop = g
		}
	}
	l := got.Bands[1]
	if !strings.HasPrefix(l.Label, "select name from items") || l.Marks == 0 {
		t.Fatalf("the second band is %q with %d marks, want the loop with its sampled executions", l.Label, l.Marks)
	}
	// The band spans the loop as the report times it, on an axis of
	// the whole request: within a pixel or two of its share.
	span := max(rep.Wall, loop.Last)
	wantX := l.Lane * float64(loop.First) / float64(span)
	wantW := l.Lane * float64(loop.Last-loop.First) / float64(span)
	if math.Abs(l.X-wantX) > 2 || math.Abs(l.W-wantW) > 2 {
		t.Errorf("the loop's band is at %.1fpx, %.1fpx wide; want %.1fpx, %.1fpx wide (%v to %v of %v)", l.X, l.W, wantX, wantW, loop.First, loop.Last, span)
	}
	// Two bands, not 64 rows: the groups follow within the first screen
	// or so of a 1000-pixel window.
	if got.Section > 300 || got.Groups > 1500 {
		t.Errorf("the waterfall is %.0fpx tall and the groups start at %.0fpx, want them near the top", got.Section, got.Groups)
	}
	b.shoot(t, "waterfall.png")
}

// TestStatsExampleInBrowser follows the link of a statistics row to the
// request where the statement is an N+1: the browser lands on the finding,
// its fix in view.
func TestStatsExampleInBrowser(t *testing.T) {
	b := newBrowser(t)
	db := loopDB(t, "statsexample")
	srv := serveTraced(t, &querytrace.Handler{
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/loop" {
				loopPage(r.Context(), db)
				return
			}
			db.QueryRowContext(r.Context(), `SELECT count(*) FROM items`).Scan(new(int))
		}),
	})
	for _, p := range []string{"/loop", "/count", "/loop", "/count"} {
		fetch(t, srv.URL+p)
	}
	b.open(t, srv.URL+"/debug/querytrace/stats")
	text := eval[string](t, b, `document.querySelector('table.stats thead').innerText`)
	for _, col := range []string{"requests", "calls", "calls/request", "min mean"} {
		if !strings.Contains(text, col) {
			t.Errorf("the statistics' columns %q lack %q", text, col)
		}
	}
	row := eval[string](t, b, `Array.from(document.querySelectorAll('table.stats tbody tr')).find(tr => tr.innerText.includes('select name from items')).innerText`)
	if !strings.Contains(row, "2\t1200\t600.0") && !strings.Contains(row, "2 1200 600.0") {
		t.Errorf("the loop's row %q lacks 2 requests, 1200 calls, 600.0 per request", row)
	}
	// The N+1's row is the one marked so.
	if err := chromedp.Do(b.ctx, chromedp.Click(`table.stats tr.nplus1 a.example`), chromedp.WaitReady("footer")); err != nil {
		t.Fatalf("follow the example: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	type landing struct {
		URL    string  `json:"url"`
		Fix    string  `json:"fix"`
		Top    float64 `json:"top"`
		Height float64 `json:"height"`
	}
	got := eval[landing](t, b, `(() => {
		const f = document.querySelector(':target');
		return {url: location.pathname + location.hash, fix: f ? f.querySelector('.fix pre').innerText : '',
			top: f ? f.getBoundingClientRect().top : -1, height: window.innerHeight};
	})()`)
	if !regexp.MustCompile(`^/debug/querytrace/requests/3#nplus1-\d+$`).MatchString(got.URL) || !strings.Contains(got.Fix, "in (") && !strings.Contains(got.Fix, "join") {
		t.Errorf("the example lands on %s, fix %q; want request 3's N+1 and its fix", got.URL, got.Fix)
	}
	if got.Top < 0 || got.Top >= got.Height {
		t.Errorf("the finding is at %.0fpx of a %.0fpx window, not in view", got.Top, got.Height)
	}
}

// TestServeInBrowser runs querytrace serve, built as a user builds it,
// over a directory holding reports saved by an Archive, a named pipe, a
// link to /dev/zero and the report of 2,000 statements and 1,000
// transactions, and opens its pages: they speak of files, offer no reset,
// and the large report's page is short and light.
func TestServeInBrowser(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	arch := &debugpage.Archive{Dir: dir}
	db := loopDB(t, "serve")
	for _, name := range []string{"GET /loop", "GET /again"} {
		ctx, tr := querytrace.Start(context.Background(), name)
		loopPage(ctx, db)
		if err := arch.Save(tr.Finish()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "txs.json"), viewertest.File(viewertest.Spec{Name: "GET /txs", Statements: 2000, Groups: 1000, Transactions: 1000}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.json")); err != nil {
		t.Fatal(err)
	}
	base, _ := viewertest.Serve(t, viewertest.Command(t), dir)

	b.open(t, base+"/debug/querytrace/")
	text := eval[string](t, b, `document.body.innerText`)
	for _, want := range []string{"Loaded 3 files from " + dir, "2 files skipped", "GET /txs", "GET /loop"} {
		if !strings.Contains(text, want) {
			t.Errorf("the index lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "keeps its last") {
		t.Errorf("the index of loaded files speaks of a live process:\n%s", text)
	}
	b.shoot(t, "offline-index.png")

	b.open(t, base+"/debug/querytrace/stats")
	if n := eval[int](t, b, `Array.from(document.querySelectorAll('button')).filter(e => e.innerText.includes('Reset')).length`); n != 0 {
		t.Errorf("the statistics of loaded files offer a reset")
	}

	b.open(t, base+"/debug/querytrace/?class=all")
	href := eval[string](t, b, `Array.from(document.querySelectorAll('td.route a')).find(a => a.innerText == 'GET /txs').getAttribute('href')`)
	resp, err := http.Get(base + href)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(page) > 100<<10 {
		t.Errorf("the page of 2,000 statements and 1,000 transactions is %d bytes, want at most 100 KiB", len(page))
	}
	b.open(t, base+href)
	type shown struct {
		Height int `json:"height"`
		Rows   int `json:"rows"`
		Rects  int `json:"rects"`
	}
	got := eval[shown](t, b, `({height: document.documentElement.scrollHeight,
		rows: document.querySelectorAll('#groups tbody tr').length,
		rects: document.querySelectorAll('svg rect').length})`)
	if got.Height > 8000 || got.Rows > 50 || got.Rects > 1000 {
		t.Errorf("the page is %dpx tall, with %d group rows and %d rectangles; want at most 8000, 50, 1000", got.Height, got.Rows, got.Rects)
	}
	b.shoot(t, "offline-request.png")
}

// report reads the report a page serves as JSON.
func report(t *testing.T, url string) *querytrace.Report {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	rep, err := querytrace.UnmarshalFile(data)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
