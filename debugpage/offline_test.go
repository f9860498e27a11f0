//go:build unix

package debugpage

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/internal/viewertest"
)

// serve answers one request of the pages over rec, from a loopback client.
func serve(rec *Recorder, method, path string) (int, string) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(method, "/debug/querytrace"+path, nil)
	r.RemoteAddr, r.Host = "127.0.0.1:1", "127.0.0.1"
	(&Handler{Recorder: rec}).ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestOfflinePages serves loaded files: every page says where they came
// from and when, none speaks of a live process keeping its last requests,
// and the statistics, which are what the files hold, are not reset.
func TestOfflinePages(t *testing.T) {
	dir, _ := hostileDir(t)
	rec := &Recorder{Keep: 10}
	ld := loadDir(t, rec, dir, DirLimits{MaxFileBytes: 1 << 20})
	banner := fmt.Sprintf("Loaded 2 files from <code>%s</code> at %s", dir, ld.At.Local().Format("2006-01-02 15:04:05"))
	for _, path := range []string{"/", "/?class=n%2b1", "/requests/1", "/compare?a=1&b=2", "/stats"} {
		code, body := serve(rec, "GET", path)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		contains(t, path, body, banner, "9 files skipped", "a named pipe (not a regular file): fifo.json")
		for _, live := range []string{"keeps its last", "since", "Reset statistics", "yet"} {
			if strings.Contains(body, live) {
				t.Errorf("GET %s speaks of a live process: %q", path, live)
			}
		}
	}
	_, body := serve(rec, "GET", "/requests/1")
	contains(t, "a loaded request", body, "from <code>"+filePrefix)
	if code, _ := serve(rec, "POST", "/stats/reset"); code != 409 || rec.Statistics(0).Requests != 2 {
		t.Errorf("reset of loaded files: %d, %d requests left; want 409 and both", code, rec.Statistics(0).Requests)
	}
	if code, body := serve(rec, "GET", "/requests/99"); code != 404 || !strings.Contains(body, "not one of the files loaded") {
		t.Errorf("a request no file holds: %d %s", code, body)
	}
}

// TestPagesBounded serves reports that no trace would write: the pages
// stay within a few hundred kilobytes whatever the files hold, each list
// in pages or folded, each text cut.
func TestPagesBounded(t *testing.T) {
	dir := t.TempDir()
	for name, spec := range map[string]viewertest.Spec{
		// The issue's: 2,000 statements and 1,000 transactions, in a
		// file of a few hundred kilobytes, made a page of 132 MB.
		"loop.json": {Statements: 2000, Groups: 1000, Transactions: 1000},
		// Long statements of markup, deep stacks and a finding with a
		// fix for each of 300 groups.
		"wide.json": {Statements: 600, Groups: 300, ShapeBytes: 1500, Frames: 50, NPlusOne: true},
	} {
		write(t, filepath.Join(dir, name), string(viewertest.File(spec)))
	}
	rec := &Recorder{}
	ld := loadDir(t, rec, dir, DirLimits{MaxFileBytes: 1 << 30})
	if ld.Files != 2 {
		t.Fatalf("loaded %+v", ld)
	}
	ids := map[string]uint64{}
	for _, e := range rec.recent(classAll) {
		ids[e.file] = e.id
	}
	loop, wide := fmt.Sprint(ids["loop.json"]), fmt.Sprint(ids["wide.json"])
	for _, c := range []struct {
		path string
		max  int
		want []string
	}{
		{"/requests/" + loop, 100 << 10, []string{"1000 transactions", `class="band other"`, "1–50 of 1000", `href="?page=2&amp;sort=total#groups" rel="next"`}},
		{"/requests/" + loop + "?sort=count&page=20", 100 << 10, []string{"951–1000 of 1000", `rel="prev"`}},
		{"/requests/" + wide, 400 << 10, []string{"And 280 more findings", " … "}},
		{"/compare?a=" + loop + "&b=" + wide, 200 << 10, []string{"950 other statements"}},
		{"/stats", 300 << 10, []string{"(other statements)"}},
		{"/stats?top=1000000", 400 << 10, []string{"(other statements)"}},
		{"/", 20 << 10, nil},
	} {
		code, body := serve(rec, "GET", c.path)
		if code != 200 || len(body) > c.max {
			t.Errorf("GET %s: %d, %d bytes; want 200 and at most %d", c.path, code, len(body), c.max)
		}
		contains(t, c.path, body, c.want...)
	}
}

// BenchmarkRequestPageOfFile renders the page of the report of
// 2,000 statements and 1,000 transactions, read from a file: it took 16 s
// and made 132 MB when every row drew every transaction. Its timing needs
// a quiet machine.
func BenchmarkRequestPageOfFile(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "txs.json"), viewertest.File(viewertest.Spec{Statements: 2000, Groups: 1000, Transactions: 1000}), 0o644); err != nil {
		b.Fatal(err)
	}
	rec := &Recorder{}
	if _, err := rec.LoadDir(dir, DirLimits{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code, body := serve(rec, "GET", "/requests/1"); code != 200 {
			b.Fatalf("%d: %s", code, body)
		}
	}
}
