package browsertest

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// TestFormsInBrowser: what reaches the database (EXPLAIN) or changes state
// (Reset) takes a POST from the page's own forms. Another site the
// developer has open, here on localhost while the page is on 127.0.0.1,
// makes Chromium load the EXPLAIN URL as an image and submit forms to
// both: nothing reaches the database and the statistics stay. The page's
// own buttons then work, with no script. The database calls are counted
// by querytrace, on the database the page explains with.
func TestFormsInBrowser(t *testing.T) {
	b := newBrowser(t)
	db, err := querytrace.Open("sqlite3", "file:forms?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	calls := func() int {
		s := querytrace.Untraced(db).Snapshot()
		return s.Statements + s.Prepares + s.Begins + s.Rollbacks + s.Errors
	}

	rec := &debugpage.Recorder{}
	mux := http.NewServeMux()
	mux.Handle("/item", &querytrace.Handler{
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			db.QueryRowContext(r.Context(), `SELECT name FROM items WHERE id = ?`, 1).Scan(new(string))
		}),
		OnFinish: rec.Observe,
		Logger:   slog.New(slog.DiscardHandler),
	})
	mux.Handle("/debug/querytrace/", &debugpage.Handler{Recorder: rec, Explain: db})
	site := httptest.NewServer(mux)
	defer site.Close()
	fetch(t, site.URL+"/item")
	fp := fmt.Sprintf("%016x", rec.Statistics(0).Stats[0].Fingerprint)
	explain := site.URL + "/debug/querytrace/explain/" + fp

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><img src="%s">
<form method="post" action="%s"><button id="explain">win a prize</button></form>
<form method="post" action="%s/debug/querytrace/stats/reset"><button id="reset">win another</button></form>`,
			explain, explain, site.URL)
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another site

	before := calls()
	for _, button := range []string{"#explain", "#reset"} {
		if err := chromedp.Do(b.ctx, chromedp.Navigate(otherURL), chromedp.WaitVisible(button)); err != nil {
			t.Fatalf("open the other site: %v", err)
		}
		time.Sleep(300 * time.Millisecond) // the image loads
		if err := chromedp.Do(b.ctx, chromedp.Click(button)); err != nil {
			t.Fatalf("click %s: %v", button, err)
		}
		waitText(t, b, "cross-origin request refused")
	}
	if n := calls() - before; n != 0 {
		t.Errorf("another site's image and forms: %d database calls, want none", n)
	}
	if n := rec.Statistics(0).Requests; n != 1 {
		t.Errorf("another site's reset form: %d requests in the statistics, want the 1 still there", n)
	}
	b.mu.Lock()
	b.bad = nil // the refused image and forms, as the browser logs them
	b.mu.Unlock()

	// The page's own buttons.
	b.open(t, site.URL+"/debug/querytrace/stats")
	if err := chromedp.Do(b.ctx, chromedp.Click(`form.explain button`)); err != nil {
		t.Fatalf("click EXPLAIN: %v", err)
	}
	waitText(t, b, "EXPLAIN "+fp)
	if n := calls() - before; n == 0 {
		t.Error("the page's own EXPLAIN button reached no database")
	}
	b.open(t, site.URL+"/debug/querytrace/stats")
	if err := chromedp.Do(b.ctx, chromedp.Click(`form.inline button`)); err != nil {
		t.Fatalf("click Reset: %v", err)
	}
	waitText(t, b, "0 requests")
	if n := rec.Statistics(0).Requests; n != 0 {
		t.Errorf("after the page's own Reset: %d requests, want 0", n)
	}
}

// waitText waits until the page's text holds s.
func waitText(t *testing.T, b *browser, s string) {
	t.Helper()
	var text string
	for range 100 {
		text = eval[string](t, b, `document.body ? document.body.innerText : ""`)
		if strings.Contains(text, s) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the page never said %q; it says:\n%s", s, text)
}
