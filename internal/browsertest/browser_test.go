package browsertest

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

var shots = flag.String("shots", "", "write the screenshots into `dir` (default: a folder under the system's temporary directory)")

// The XSS probes: a route name, and a column alias that survives into a
// statement's shape.
const (
	routeProbe = `<img src=x onerror=alert(1)>`
	shapeProbe = `<script>alert(2)</script>`
)

// browser is a headless Chromium tab that remembers every console error,
// uncaught exception, error log entry (a CSP violation is one) and dialog.
type browser struct {
	ctx context.Context
	mu  sync.Mutex
	bad []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium on PATH (apt-get install chromium): the browser test is skipped")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b.ctx = ctx
	// chromedp enables the Runtime and Log domains: console calls,
	// uncaught exceptions and the browser's log (where a CSP violation
	// goes) reach listen.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// listen notes what must not happen on a page. It runs on chromedp's
// event goroutine, so it only records.
func (b *browser) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			b.note("console %s: %s", ev.Type, args(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		b.note("exception: %s", ev.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Source == cdplog.EntrySourceSecurity {
			b.note("log %s/%s: %s %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	case *page.EventJavascriptDialogOpening:
		b.note("a script opened a dialog: %q", ev.Message)
		go chromedp.Run(b.ctx, chromedp.Action[cdp.Empty](func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
			return cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}))
	}
}

func args(as []*runtime.RemoteObject) string {
	var s []string
	for _, a := range as {
		s = append(s, string(a.Value)+a.Description)
	}
	return strings.Join(s, " ")
}

func (b *browser) note(format string, a ...any) {
	b.mu.Lock()
	b.bad = append(b.bad, fmt.Sprintf(format, a...))
	b.mu.Unlock()
}

// open loads url and checks that it loaded without an error of any kind.
func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url), chromedp.WaitReady("footer")); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	// Log entries arrive asynchronously: give them a moment.
	time.Sleep(300 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, bad := range b.bad {
		t.Errorf("%s: %s", url, bad)
	}
	b.bad = nil
}

// eval evaluates a script in the page (through the DevTools protocol, not
// the page: the page's policy allows no script).
func eval[T any](t *testing.T, b *browser, script string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](script))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return v
}

// shoot saves a screenshot of the whole page as name.
func (b *browser) shoot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := *shots
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "querytrace-browsertest")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// startDemo builds and starts examples/inventory -serve on a free port.
func startDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "inventory")
	build := exec.Command("go", "build", "-o", bin, "./examples/inventory")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the demo: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "-serve", addr)
	var log strings.Builder
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("the demo's log:\n%s", log.String())
		}
	})
	base := "http://" + addr
	for i := 0; ; i++ {
		// The debug page is not traced: asking it records no request.
		resp, err := http.Get(base + "/debug/querytrace/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("the demo does not answer on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base
}

func fetch(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// page facts, as the browser sees them.
type facts struct {
	NPlusOne  int      `json:"nplus1"`
	Bars      int      `json:"bars"`
	Fixes     []string `json:"fixes"`
	Tx        int      `json:"tx"`
	Rows      []string `json:"rows"`
	Images    int      `json:"images"`
	Scripts   int      `json:"scripts"`
	Text      string   `json:"text"`
	StatsRows int      `json:"statsRows"`
	Badges    int      `json:"badges"`
}

// factsJS collects what is visible: elements with a box.
const factsJS = `(() => {
	const vis = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
	const q = s => Array.from(document.querySelectorAll(s)).filter(vis);
	return {
		nplus1: q('article.finding.nplus1').length,
		bars: q('table.waterfall rect.bar').length,
		fixes: q('.fix pre').map(e => e.innerText),
		rows: q('td.route').map(e => e.innerText),
		images: document.querySelectorAll('img').length,
		scripts: document.querySelectorAll('script').length,
		text: document.body.innerText,
		statsRows: q('table.stats tbody tr').length,
		badges: q('table.stats .badge.nplus1').length,
	};
})()`

func TestDemoInBrowser(t *testing.T) {
	b := newBrowser(t)
	base := startDemo(t)
	fetch(t, base+"/inventory/slow") // request 1
	fetch(t, base+"/inventory/fast") // request 2
	// More traffic, for the statistics.
	for _, p := range []string{"slow", "fast", "fast", "slow", "fast"} {
		fetch(t, base+"/inventory/"+p)
	}

	// The slow page's request view: the two N+1s with their fixes first,
	// then the waterfall.
	b.open(t, base+"/debug/querytrace/requests/1")
	f := eval[facts](t, b, factsJS)
	if f.NPlusOne != 2 {
		t.Errorf("request view: %d N+1 findings visible, want 2", f.NPlusOne)
	}
	if f.Bars < 10 {
		t.Errorf("request view: %d waterfall bars visible, want the sampled statements", f.Bars)
	}
	if len(f.Fixes) != 2 || !strings.Contains(strings.Join(f.Fixes, "\n"), "group by entry_id") {
		t.Errorf("request view: fixes %q, want two GROUP BY rewrites", f.Fixes)
	}
	b.shoot(t, "request.png")

	// A bar is as wide as its statement took: the first query (the
	// entries, read whole) is wider than a per-entry COUNT.
	widths := eval[[]float64](t, b, `Array.from(document.querySelectorAll('table.waterfall rect.bar')).slice(0, 3).map(e => e.getBoundingClientRect().width)`)
	if len(widths) != 3 || widths[0] <= 0 {
		t.Errorf("bar widths %v", widths)
	}

	// A group's full call stack, on demand.
	if err := chromedp.Do(b.ctx, chromedp.Click("#groups details summary")); err != nil {
		t.Fatalf("open a call stack: %v", err)
	}
	if n := eval[int](t, b, `Array.from(document.querySelectorAll('#groups ol.stack li')).filter(e => e.getBoundingClientRect().height > 0).length`); n < 2 {
		t.Errorf("an opened call stack shows %d frames, want the application's frames", n)
	}
	// Sorting the groups by count, by a link: the page has no script.
	if err := chromedp.Do(b.ctx, chromedp.Click(`#groups th a[href^="?sort=count"]`), chromedp.WaitReady("footer")); err != nil {
		t.Fatalf("sort by count: %v", err)
	}
	if u := eval[string](t, b, `location.search`); u != "?sort=count" {
		t.Errorf("after the count link: %q", u)
	}

	// The statistics.
	b.open(t, base+"/debug/querytrace/stats")
	f = eval[facts](t, b, factsJS)
	if f.StatsRows < 6 || f.Badges != 2 || !strings.Contains(f.Text, "GET /inventory/slow") {
		t.Errorf("statistics: %d rows, %d N+1 badges; want the 6 statements and 2 N+1s", f.StatsRows, f.Badges)
	}
	b.shoot(t, "stats.png")

	// The comparison of slow and fast.
	b.open(t, base+"/debug/querytrace/compare?a=1&b=2")
	b.shoot(t, "compare.png")

	// The recent requests. (A path any client can ask for does not
	// reach a route name: querytrace masks its segments. The probes are
	// in TestShapeProbeInBrowser, through Handler.Name.)
	b.open(t, base+"/debug/querytrace/?class=all")
	f = eval[facts](t, b, factsJS)
	if len(f.Rows) != 7 || !strings.Contains(strings.Join(f.Rows, "\n"), "GET /inventory/slow") {
		t.Errorf("index: routes %q, want the 7 requests", f.Rows)
	}
	b.shoot(t, "index.png")
}

// serveTraced serves the application of h traced, its reports recorded
// through OnFinish, with the debug page beside it, as an application
// mounts them.
func serveTraced(t *testing.T, h *querytrace.Handler) *httptest.Server {
	rec := &debugpage.Recorder{}
	h.OnFinish, h.Logger = rec.Observe, slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("/debug/querytrace/", &debugpage.Handler{Recorder: rec})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestShapeProbeInBrowser records a statement whose shape carries markup
// (a quoted column alias survives normalizing) under a route that does
// too, and checks that the pages show both as text.
func TestShapeProbeInBrowser(t *testing.T) {
	b := newBrowser(t)
	db, err := querytrace.Open("sqlite3", "file:probe?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := serveTraced(t, &querytrace.Handler{
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var n int
			db.QueryRowContext(r.Context(), `SELECT 1 AS "`+shapeProbe+`"`).Scan(&n)
		}),
		Name: func(*http.Request) string { return "GET " + routeProbe },
	})
	fetch(t, srv.URL+"/probe")
	for _, path := range []string{"/debug/querytrace/requests/1", "/debug/querytrace/stats", "/debug/querytrace/"} {
		b.open(t, srv.URL+path)
		f := eval[facts](t, b, factsJS)
		if f.Images != 0 || f.Scripts != 0 {
			t.Errorf("%s: %d img and %d script elements: a probe became markup", path, f.Images, f.Scripts)
		}
		if !strings.Contains(f.Text, routeProbe) {
			t.Errorf("%s: the route probe is not shown as text", path)
		}
		if path != "/debug/querytrace/" && !strings.Contains(f.Text, shapeProbe) {
			t.Errorf("%s: the shape probe is not shown as text", path)
		}
	}
}

// loopLine is the line in the body of listPage's loop that calls itemName.
var loopLine int

// listPage reads the items, then each item's name in a loop whose line is
// in another function than the statement's: an N+1. It counts the items
// twice from two call sites with the same argument, a duplicate, reads
// the names again under Pause, allowed, and counts the items without the
// request's context, outside any trace.
func listPage(ctx context.Context, db *sql.DB) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM items ORDER BY id`)
	if err != nil {
		return
	}
	var ids []int
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	_, _, here, _ := goruntime.Caller(0)
	loopLine = here + 3
	for _, id := range ids {
		itemName(ctx, db, id)
	}
	headerCount(ctx, db)
	footerCount(ctx, db)
	warm := querytrace.Pause(ctx, "warm-up of the item cache")
	for _, id := range ids {
		itemName(warm, db, id)
	}
	db.QueryRowContext(context.Background(), `SELECT count(*) FROM items`).Scan(new(int))
}

func itemName(ctx context.Context, db *sql.DB, id int) {
	db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, id).Scan(new(string))
}

func headerCount(ctx context.Context, db *sql.DB) {
	db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE name <> ?`, "").Scan(new(int))
}

func footerCount(ctx context.Context, db *sql.DB) {
	db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE name <> ?`, "").Scan(new(int))
}

// TestFindingsInBrowser records, through a real driver and the Handler's
// OnFinish, a request whose N+1's loop is in another function than its
// statement and which runs a duplicate from two call sites, and checks
// that the request page shows the loop's line and the duplicate's other
// call site, visibly, as the text report does.
func TestFindingsInBrowser(t *testing.T) {
	b := newBrowser(t)
	db, err := querytrace.Open("sqlite3", "file:findings?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`,
		`INSERT INTO items (name) VALUES ('a'), ('b'), ('c'), ('d')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveTraced(t, &querytrace.Handler{
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { listPage(r.Context(), db) }),
	})
	fetch(t, srv.URL+"/list")

	// The report as the page serves it.
	resp, err := http.Get(srv.URL + "/debug/querytrace/requests/1/json")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rep, err := querytrace.UnmarshalFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.NPlusOne) != 1 || len(rep.Duplicates) != 1 || len(rep.Duplicates[0].Others) != 1 {
		t.Fatalf("want one N+1 and one duplicate from two sites:\n%s", rep)
	}
	loop := rep.NPlusOne[0].LoopSite()
	if want := fmt.Sprintf("browsertest/browser_test.go:%d browsertest.listPage", loopLine); loop != want {
		t.Fatalf("the N+1's loop is at %q, want %q", loop, want)
	}

	b.open(t, srv.URL+"/debug/querytrace/requests/1")
	type sites struct {
		Loops        []string `json:"loops"`
		Others       []string `json:"others"`
		Reasons      []string `json:"reasons"`
		Unattributed []string `json:"unattributed"`
	}
	shown := eval[sites](t, b, `(() => {
		const vis = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
		const q = s => Array.from(document.querySelectorAll(s)).filter(vis).map(e => e.innerText);
		return {
			loops: q('article.finding.nplus1 .loop'),
			others: q('article.finding.dup .other'),
			reasons: q('article.finding.allowed .reason'),
			unattributed: q('.unattributed'),
		};
	})()`)
	if want := "in the loop at " + loop; len(shown.Loops) != 1 || shown.Loops[0] != want {
		t.Errorf("the N+1 shows %q, want %q", shown.Loops, want)
	}
	if want := "and at " + rep.Duplicates[0].Others[0].CallSite(); len(shown.Others) != 1 || shown.Others[0] != want {
		t.Errorf("the duplicate shows %q, want %q", shown.Others, want)
	}
	if want := "reason: paused: warm-up of the item cache"; len(shown.Reasons) != 1 || shown.Reasons[0] != want {
		t.Errorf("the allowed N+1 shows %q, want %q", shown.Reasons, want)
	}
	var unattributed []string // the text report's line
	for _, l := range strings.Split(rep.String(), "\n") {
		if strings.HasPrefix(l, "not attributed: ") {
			unattributed = append(unattributed, l)
		}
	}
	if len(unattributed) != 1 || !slices.Equal(shown.Unattributed, unattributed) {
		t.Errorf("the page shows %q for the statements outside any trace, want the text report's %q", shown.Unattributed, unattributed)
	}
	b.shoot(t, "findings.png")
}

// TestBrowserSeesViolations checks the checker: a page that breaks the
// debug page's policy (an inline script, an inline style) must be noted,
// or the tests above would pass whatever the pages did.
func TestBrowserSeesViolations(t *testing.T) {
	b := newBrowser(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The policy the debug page sends, taken from it.
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/debug/querytrace/static/page.css", nil)
		req.RemoteAddr = "127.0.0.1:1"
		(&debugpage.Handler{Recorder: &debugpage.Recorder{}}).ServeHTTP(rec, req)
		w.Header().Set("Content-Security-Policy", rec.Header().Get("Content-Security-Policy"))
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><p style="color: red">x</p><script>console.log(1)</script><footer></footer>`)
	}))
	defer page.Close()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(page.URL), chromedp.WaitReady("footer")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.bad) < 2 {
		t.Errorf("the browser noted %q, want the inline style and script refused", b.bad)
	}
}
