//go:build unix

package debugpage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/querytrace/querytrace/internal/viewertest"
)

// hostileDir returns a directory of reports copied from elsewhere: two
// good ones, and what a directory may hold besides, each under a name
// that LoadDir considers. outside is a file elsewhere, a valid report
// that must not be read.
func hostileDir(t *testing.T) (dir, outside string) {
	t.Helper()
	db := openDB(t)
	dir = t.TempDir()
	arch := &Archive{Dir: dir}
	for _, name := range []string{"GET /a", "GET /b"} {
		if err := arch.Save(trace(t, name, func(ctx context.Context) { itemIDs(ctx, db) })); err != nil {
			t.Fatal(err)
		}
	}
	outside = filepath.Join(t.TempDir(), "id_ed25519.json")
	write(t, outside, string(viewertest.File(viewertest.Spec{Name: "GET /private", Statements: 1})))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"zero.json": "/dev/zero", "outside.json": outside, "inside.json": "querytrace-x.json"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "notes.json"), `{"todo": "read the reports"}`)
	write(t, filepath.Join(dir, "newer.json"), `{"format": "querytrace-report", "version": 9, "report": {}}`)
	write(t, filepath.Join(dir, "bomb.json"), `{"groups": [`+strings.Repeat("{},", 1<<18)+`{}]}`)
	write(t, filepath.Join(dir, "big.json"), strings.Repeat(" ", 5<<20)+string(viewertest.File(viewertest.Spec{Statements: 1})))
	write(t, filepath.Join(dir, "README"), "not a report, not named as one")
	return dir, outside
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadDir runs LoadDir, failing the test if it does not return: a read
// that waits on a named pipe never does.
func loadDir(t *testing.T, rec *Recorder, dir string, lim DirLimits) *Loaded {
	t.Helper()
	type result struct {
		ld  *Loaded
		err error
	}
	done := make(chan result, 1)
	go func() {
		ld, err := rec.LoadDir(dir, lim)
		done <- result{ld, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.ld
	case <-time.After(time.Minute):
		t.Fatal("LoadDir does not return")
	}
	return nil
}

// TestLoadDirHostile reads a directory of reports and of what else a
// directory may hold: only the regular files are read, no link is
// followed, nothing is waited on, and each reason to skip is counted once.
func TestLoadDirHostile(t *testing.T) {
	dir, _ := hostileDir(t)
	rec := &Recorder{}
	ld := loadDir(t, rec, dir, DirLimits{MaxFileBytes: 1 << 20})
	if ld.Files != 2 || ld.Dir != dir || ld.At.IsZero() || ld.First.IsZero() || ld.Last.Before(ld.First) {
		t.Errorf("loaded %+v, want the two reports", ld)
	}
	var got []string
	for _, s := range ld.Skipped {
		got = append(got, s.String())
	}
	for _, want := range []string{
		"1 file, a named pipe (not a regular file): fifo.json",
		"3 files, a symbolic link (not followed): ",
		"1 file, a directory: sub.json",
		"2 files, not a querytrace report: ",
		"1 file, written by a newer querytrace (update this one): newer.json (newer.json: querytrace report of format version 9",
		"1 file, larger than 1 MiB: big.json",
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("skipped:\n%s\nwant a line with %q", strings.Join(got, "\n"), want)
		}
	}
	if n := ld.SkippedFiles(); n != 9 {
		t.Errorf("%d files skipped, want 9", n)
	}
	for _, e := range rec.recent(classAll) {
		if e.Name == "GET /private" || !strings.HasPrefix(e.file, filePrefix) {
			t.Errorf("recorded %q from %q", e.Name, e.file)
		}
	}
}

// TestLoadDirBounds reads no more files, and no more bytes, than asked,
// the most recently modified first.
func TestLoadDirBounds(t *testing.T) {
	dir := t.TempDir()
	file := viewertest.File(viewertest.Spec{Statements: 5})
	old := time.Now().Add(-time.Hour)
	for i := range 25 {
		name := filepath.Join(dir, fmt.Sprintf("r%02d.json", i))
		write(t, name, strings.Replace(string(file), "GET /pathological", fmt.Sprint("GET /r", i), 1))
		os.Chtimes(name, old, old.Add(time.Duration(i)*time.Minute))
	}
	size := int64(len(file)) + 8
	for _, c := range []struct {
		lim     DirLimits
		files   int
		skipped string
	}{
		{DirLimits{MaxFiles: 10}, 10, "15 files, past the bound of 10 files read: "},
		{DirLimits{MaxBytes: 4 * size}, 4, "21 files, past the bound of "},
		{DirLimits{MaxFiles: 1000}, 25, ""},
	} {
		rec := &Recorder{}
		ld := loadDir(t, rec, dir, c.lim)
		if ld.Files != c.files || c.skipped != "" && (len(ld.Skipped) != 1 || !strings.HasPrefix(ld.Skipped[0].String(), c.skipped)) {
			t.Errorf("%+v: %d files, skipped %v; want %d, %q", c.lim, ld.Files, ld.Skipped, c.files, c.skipped)
		}
		// The newest files are the ones read.
		for _, e := range rec.recent(classAll) {
			if n := e.file; n < fmt.Sprintf("r%02d.json", 25-c.files) {
				t.Errorf("%+v: read %s, an older file than the %d newest", c.lim, n, c.files)
			}
		}
	}
}

// TestReadFile reads one named file, following a link the caller named,
// and refuses what is not a regular file or is too large, without
// waiting.
func TestReadFile(t *testing.T) {
	dir, _ := hostileDir(t)
	if rep, err := ReadFile(filepath.Join(dir, "outside.json"), 0); err != nil || rep.Name != "GET /private" {
		t.Errorf("a link named by the caller: %v, %v", rep, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for name, want := range map[string]string{
			"fifo.json":  "fifo.json: not a regular file",
			"zero.json":  "zero.json: not a regular file",
			"sub.json":   "sub.json: not a regular file",
			"big.json":   "big.json: larger than 4 MiB",
			"notes.json": "notes.json: not a querytrace report",
			"bomb.json":  "bomb.json: not read: 262147 JSON objects and arrays, more than a querytrace report holds",
		} {
			if _, err := ReadFile(filepath.Join(dir, name), 4<<20); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadFile(%s): %v, want %q", name, err, want)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("ReadFile does not return")
	}
}
