//go:build unix

package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/querytrace/querytrace/internal/viewertest"
)

// escName is a file name that, printed raw, would set the terminal's
// title and write to its clipboard.
const escName = "\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4K\x07.json"

// hostile returns a directory of two saved reports and of what a
// directory copied from elsewhere may hold besides; outside is a valid
// report elsewhere, standing for a private file, that must never be
// served.
func hostile(t *testing.T) (dir, slow, outside string) {
	t.Helper()
	dir, slow, _ = archive(t)
	outside = filepath.Join(t.TempDir(), "id_ed25519")
	put(t, outside, strings.Replace(string(viewertest.File(viewertest.Spec{Statements: 1})), "GET /pathological", "PRIVATE KEY", 1))
	if err := syscall.Mkfifo(filepath.Join(dir, "x.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"zero.json": "/dev/zero", "key.json": outside} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "sub.json"), 0o755)
	put(t, filepath.Join(dir, escName), "not a report")
	put(t, filepath.Join(dir, "bomb.json"), `{"groups": [`+strings.Repeat("{},", 1<<18)+`{}]}`)
	put(t, filepath.Join(dir, "huge.json"), strings.Repeat(" ", 3<<20)+string(viewertest.File(viewertest.Spec{Statements: 1})))
	// The issue's: 2,000 statements and 1,000 transactions.
	put(t, filepath.Join(dir, "txs.json"), string(viewertest.File(viewertest.Spec{Name: "GET /txs", Statements: 2000, Groups: 1000, Transactions: 1000})))
	return dir, slow, outside
}

func put(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fetch(t *testing.T, url string) (int, string) {
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
	return resp.StatusCode, string(body)
}

// requestIDs returns the page numbers of the requests the index lists, by
// route.
func requestIDs(t *testing.T, base string) map[string]string {
	t.Helper()
	_, body := fetch(t, base+"/debug/querytrace/")
	ids := map[string]string{}
	for _, m := range regexp.MustCompile(`<a href="/debug/querytrace/requests/(\d+)">([^<]*)</a>`).FindAllStringSubmatch(body, -1) {
		ids[m[2]] = m[1]
	}
	return ids
}

// TestServeHostileDirectory runs the command over a directory that holds,
// besides two reports, a named pipe, links to /dev/zero and to a file
// elsewhere, a directory, a file whose name would take over the terminal,
// a file of empty objects, one past the size bound and a report of 2,000
// statements and 1,000 transactions. It must start without waiting, read
// only the reports, say once why it skipped each kind of file, serve
// bounded pages, and keep serving what it read when a file is changed.
func TestServeHostileDirectory(t *testing.T) {
	dir, slow, outside := hostile(t)
	base, logged := viewertest.Serve(t, viewertest.Command(t), dir, "-max-file", "2MiB")
	log := strings.Join(logged, "\n")
	if strings.ContainsAny(log, "\x1b\x07\r") {
		t.Errorf("the log passes control characters to the terminal:\n%q", log)
	}
	for _, want := range []string{
		"querytrace: skipped 1 file, a named pipe (not a regular file): x.json",
		"querytrace: skipped 2 files, a symbolic link (not followed): ",
		"querytrace: skipped 1 file, a directory: sub.json",
		"querytrace: skipped 1 file, larger than 2 MiB: huge.json",
		`querytrace: skipped 2 files, not a querytrace report: `,
		`\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4K\x07.json`,
		"querytrace: serving 3 reports from " + dir,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for _, reason := range []string{"named pipe", "symbolic link", "directory", "larger than", "not a querytrace report"} {
		if n := strings.Count(log, reason); n != 1 {
			t.Errorf("the log says %d times %q, want once:\n%s", n, reason, log)
		}
	}

	ids := requestIDs(t, base)
	if len(ids) != 3 || ids["GET /slow"] == "" || ids["GET /txs"] == "" {
		t.Fatalf("the index lists %v, want GET /slow, GET /fast and GET /txs", ids)
	}
	for _, c := range []struct {
		path string
		max  int
		want string
	}{
		{"/debug/querytrace/", 20 << 10, "Loaded 3 files from"},
		{"/debug/querytrace/requests/" + ids["GET /txs"], 100 << 10, "1000 transactions"},
		{"/debug/querytrace/stats", 200 << 10, "example: request"},
		{"/debug/querytrace/compare?a=" + ids["GET /slow"] + "&b=" + ids["GET /txs"], 100 << 10, "other statements"},
	} {
		code, body := fetch(t, base+c.path)
		if code != 200 || len(body) > c.max || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d, %d bytes; want 200, at most %d bytes, with %q", c.path, code, len(body), c.max, c.want)
		}
		if strings.Contains(body, "PRIVATE KEY") || strings.Contains(body, "keeps its last") {
			t.Errorf("GET %s shows the file outside, or speaks of a live process", c.path)
		}
	}

	// The report is served as it was read, whatever its file becomes.
	download := base + "/debug/querytrace/requests/" + ids["GET /slow"] + "/json?download=1"
	_, before := fetch(t, download)
	if !strings.Contains(before, `"name": "GET /slow"`) {
		t.Fatalf("the download of GET /slow:\n%.300s", before)
	}
	if err := os.Remove(slow); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, slow); err != nil {
		t.Fatal(err)
	}
	if _, after := fetch(t, download); after != before {
		t.Errorf("after its file became a link to another, the download is:\n%.300s", after)
	}
	if code, _ := fetch(t, base+"/debug/querytrace/requests/"+ids["GET /slow"]); code != 200 {
		t.Errorf("after its file changed, the request's page: %d", code)
	}
}

// TestTerminalEscapes prints with top and diff, through the command, a
// report whose route and statement carry what would act on a terminal:
// the output carries escapes instead.
func TestTerminalEscapes(t *testing.T) {
	dir, slow, fast := archive(t)
	const attack = `\u001b]0;pwned\u0007\u001b]52;c;cm0gLXJmIH4K\u0007\r\u001b[2J\u009b2J`
	for _, name := range []string{slow, fast} {
		data, _ := os.ReadFile(name)
		data = bytes.ReplaceAll(data, []byte(`"name": "GET /`), []byte(`"name": "`+attack+`GET /`))
		data = bytes.ReplaceAll(data, []byte(`"shape": "select`), []byte(`"shape": "`+attack+`select`))
		put(t, name, string(data))
	}
	bin := viewertest.Command(t)
	for _, args := range [][]string{{"top", "-all", dir}, {"diff", slow, fast}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("querytrace %s: %v\n%s", args[0], err, out)
		}
		if bytes.ContainsAny(out, "\x1b\x07\r") || bytes.Contains(out, []byte("\u009b")) {
			t.Errorf("querytrace %s passes control characters to the terminal:\n%q", args[0], out)
		}
		if !bytes.Contains(out, []byte(`\x1b]52;c;cm0gLXJmIH4K\x07\x0d\x1b[2J\xc2\x9b2J`)) {
			t.Errorf("querytrace %s does not show the escapes:\n%s", args[0], out)
		}
	}
}
