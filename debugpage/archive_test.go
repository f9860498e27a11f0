package debugpage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/querytrace/querytrace"
)

func TestArchive(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	arch := &Archive{Dir: filepath.Join(dir, "reports"), MaxFiles: 3}
	for i := range 5 {
		rep := trace(t, fmt.Sprint("GET /r", i), func(ctx context.Context) { itemIDs(ctx, db) })
		if err := arch.Save(rep); err != nil {
			t.Fatal(err)
		}
	}
	// A file the archive did not write stays.
	os.WriteFile(filepath.Join(arch.Dir, "notes.json"), []byte("{}"), 0o644)
	files, _ := filepath.Glob(filepath.Join(arch.Dir, filePrefix+"*.json"))
	if len(files) != 3 {
		t.Fatalf("%d files, want 3", len(files))
	}
	rec := &Recorder{}
	ld, err := rec.LoadDir(arch.Dir, DirLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if ld.Files != 3 || len(ld.Skipped) != 1 || ld.Skipped[0].Reason != "not a querytrace report" || ld.Skipped[0].Names[0] != "notes.json" {
		t.Fatalf("LoadDir: %d files, skipped %+v; want 3 and notes.json, not a report", ld.Files, ld.Skipped)
	}
	var names []string
	for _, e := range rec.recent(classAll) {
		names = append(names, e.Name)
	}
	if got, want := strings.Join(names, ","), "GET /r4,GET /r3,GET /r2"; got != want {
		t.Errorf("loaded %s, want %s: the oldest removed", got, want)
	}
	if _, err := os.Stat(filepath.Join(arch.Dir, "notes.json")); err != nil {
		t.Errorf("the archive removed a file of its own: %v", err)
	}

	// A second archive over the same directory counts the files there.
	again := &Archive{Dir: arch.Dir, MaxFiles: 2}
	if err := again.Save(trace(t, "GET /again", func(context.Context) {})); err != nil {
		t.Fatal(err)
	}
	files, _ = filepath.Glob(filepath.Join(arch.Dir, filePrefix+"*.json"))
	if len(files) != 2 {
		t.Errorf("after a restart: %d files, want 2", len(files))
	}
}

func TestArchiveBytesAndFilter(t *testing.T) {
	db := openDB(t)
	arch := &Archive{Dir: t.TempDir(), Filter: WithFindings}
	one := trace(t, "GET /one", func(ctx context.Context) { itemIDs(ctx, db) })
	loop := trace(t, "GET /loop", func(ctx context.Context) {
		ids, _ := itemIDs(ctx, db)
		for _, id := range ids {
			db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, id).Scan(new(string))
		}
	})
	arch.Observe(nil, one)
	arch.Observe(nil, loop)
	if err := arch.Err(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(arch.Dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("WithFindings kept %d files, want the one with an N+1", len(files))
	}
	data, _ := os.ReadFile(files[0])
	size := int64(len(data))
	bounded := &Archive{Dir: t.TempDir(), MaxBytes: 2*size + size/2}
	for range 4 {
		bounded.Save(loop)
	}
	files, _ = filepath.Glob(filepath.Join(bounded.Dir, "*.json"))
	if len(files) != 2 {
		t.Errorf("MaxBytes of 2.5 files kept %d files, want 2", len(files))
	}
}

// TestArchiveSlowerThan saves, of two reports of one request, the one whose
// wall time reaches the threshold, and reads it back with its wall time.
func TestArchiveSlowerThan(t *testing.T) {
	db := openDB(t)
	rep := trace(t, "GET /report", func(ctx context.Context) { itemIDs(ctx, db) })
	const threshold = 200 * time.Millisecond
	arch := &Archive{Dir: t.TempDir(), Filter: SlowerThan(threshold)}
	fast, slow := *rep, *rep
	fast.Wall, slow.Wall = threshold-time.Microsecond, threshold
	for _, r := range []*querytrace.Report{&fast, &slow} {
		if err := arch.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(arch.Dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("SlowerThan(%v) kept %d files, want the one that took %v", threshold, len(files), threshold)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	back, err := querytrace.UnmarshalFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Wall != threshold || back.Name != "GET /report" {
		t.Errorf("saved %q of %v, want %q of %v", back.Name, back.Wall, "GET /report", threshold)
	}
}
