package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// archive saves the reports of a slow page (an N+1 over ten items) and a
// fast one into a fresh directory, as an application with an Archive
// would, and returns the directory and the two files.
func archive(t *testing.T) (dir, slow, fast string) {
	t.Helper()
	db, err := querytrace.Open("sqlite3", "file:cmdtest?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER)`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 10) INSERT INTO items SELECT i, i FROM s`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir = t.TempDir()
	arch := &debugpage.Archive{Dir: dir}
	pages := map[string]func(context.Context){
		"GET /slow": func(ctx context.Context) {
			for id := 1; id <= 10; id++ {
				db.QueryRowContext(ctx, `SELECT n FROM items WHERE id = ?`, id).Scan(new(int))
			}
		},
		"GET /fast": func(ctx context.Context) {
			rows, _ := db.QueryContext(ctx, `SELECT n FROM items`)
			rows.Close()
		},
	}
	for _, name := range []string{"GET /slow", "GET /fast"} {
		ctx, tr := querytrace.Start(context.Background(), name)
		pages[name](ctx)
		if err := arch.Save(tr.Finish()); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d files saved, want 2", len(files))
	}
	return dir, files[0], files[1]
}

func TestTop(t *testing.T) {
	dir, _, _ := archive(t)
	var out bytes.Buffer
	if err := run([]string{"top", dir}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"2 reports, N+1s by total time", "GET /slow", "select n from items where id = ?", "main_test.go:"} {
		if !strings.Contains(got, want) {
			t.Errorf("top: missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "GET /fast") {
		t.Errorf("top lists a statement that is no N+1:\n%s", got)
	}
	out.Reset()
	if err := run([]string{"top", "-all", dir}, &out); err != nil || !strings.Contains(out.String(), "GET /fast") {
		t.Errorf("top -all: %v\n%s", err, out.String())
	}
}

func TestDiff(t *testing.T) {
	_, slow, fast := archive(t)
	var out bytes.Buffer
	if err := run([]string{"diff", slow, fast}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"GET /slow", "GET /fast", "removed", "added", "select n from items where id = ?"} {
		if !strings.Contains(got, want) {
			t.Errorf("diff: missing %q in\n%s", want, got)
		}
	}
}

func TestNewerVersion(t *testing.T) {
	_, slow, _ := archive(t)
	data, _ := os.ReadFile(slow)
	newer := filepath.Join(t.TempDir(), "newer.json")
	os.WriteFile(newer, bytes.Replace(data, []byte(`"version": 1`), []byte(`"version": 2`), 1), 0o644)
	err := run([]string{"diff", slow, newer}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "newer.json: querytrace report of format version 2, written by a newer querytrace") {
		t.Errorf("diff of a newer file: %v", err)
	}
	err = run([]string{"top", filepath.Dir(newer)}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "written by a newer querytrace") {
		t.Errorf("top of a directory of newer files: %v", err)
	}
}

// TestBareReport reads a report as Report.MarshalJSON writes it, without
// the file envelope: format version 0, as logged by earlier versions.
func TestBareReport(t *testing.T) {
	_, slow, fast := archive(t)
	dir := t.TempDir()
	for i, path := range []string{slow, fast} {
		data, _ := os.ReadFile(path)
		var env struct {
			Report json.RawMessage `json:"report"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, []string{"a.json", "b.json"}[i]), env.Report, 0o644)
	}
	var out bytes.Buffer
	if err := run([]string{"top", dir}, &out); err != nil || !strings.Contains(out.String(), "2 reports") {
		t.Errorf("top of bare reports: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"diff", filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")}, &out); err != nil || !strings.Contains(out.String(), "removed") {
		t.Errorf("diff of bare reports: %v\n%s", err, out.String())
	}
}

func TestServe(t *testing.T) {
	dir, _, _ := archive(t)
	h, ld, err := newServer(dir, debugpage.DirLimits{})
	if err != nil || ld.Files != 2 {
		t.Fatalf("newServer: %+v, %v", ld, err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]string{
		"/debug/querytrace/":                "GET /slow",
		"/debug/querytrace/requests/1":      "select n from items where id = ?",
		"/debug/querytrace/requests/1/json": `"format": "querytrace-report"`,
		"/debug/querytrace/stats":           "GET /fast",
		"/debug/querytrace/compare?a=1&b=2": "removed",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %s, want 200 with %q", path, resp.Status, want)
		}
	}
}
