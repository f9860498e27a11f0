package debugpage

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/querytrace/querytrace"
)

// An Archive saves reports as JSON files in a directory, for the
// querytrace command (serve, top, diff) to read later. Plug it into a
// querytrace.Handler's OnReport, which runs after the response, off the
// request's goroutine:
//
//	arch := &debugpage.Archive{Dir: "reports", Filter: debugpage.WithFindings}
//	h := &querytrace.Handler{Next: mux, OnReport: arch.Observe}
//
// OnReport drops reports when its goroutines fall behind; where every
// report must be saved, use OnFinish, at the cost of the file's writing
// on the request's goroutine.
//
// Each file holds one report as Report.MarshalFile writes it, in an
// envelope that names its format version, and is written whole or not at
// all. Files are named by the report's start time,
// so that the oldest sort first; past MaxFiles or MaxBytes the oldest are
// removed. Files of the directory that the Archive did not write are left
// alone.
//
// The zero value saves nothing until Dir is set; the fields must not
// change once it is in use. It is safe for concurrent use.
type Archive struct {
	// Dir is the directory, created when missing.
	Dir string

	// Filter, when set, saves only the reports for which it returns
	// true: WithFindings, or one made by SlowerThan.
	Filter func(*querytrace.Report) bool

	// MaxFiles bounds the files kept; zero means 1000.
	MaxFiles int

	// MaxBytes bounds their total size; zero means 100 MiB.
	MaxBytes int64

	mu      sync.Mutex
	scanned bool
	files   []savedFile // the oldest first
	bytes   int64
	seq     int
	err     error
}

type savedFile struct {
	name string
	size int64
}

// WithFindings is a Filter that saves reports with an N+1, a duplicate or
// a slow statement.
func WithFindings(rep *querytrace.Report) bool {
	return len(rep.NPlusOne)+len(rep.Duplicates)+len(rep.Slow) > 0
}

// SlowerThan returns a Filter that saves reports whose wall time reaches d.
func SlowerThan(d time.Duration) func(*querytrace.Report) bool {
	return func(rep *querytrace.Report) bool { return rep.Wall >= d }
}

// filePrefix marks the files an Archive writes, and so may remove.
const filePrefix = "querytrace-"

// Observe saves rep as Save does, keeping the error for Err. Its
// signature is that of querytrace.Handler's OnReport (and OnFinish).
func (a *Archive) Observe(_ *http.Request, rep *querytrace.Report) {
	if err := a.Save(rep); err != nil {
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
	}
}

// Err returns the last error of Observe, or nil.
func (a *Archive) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Save writes rep into Dir, unless Filter turns it down, and removes the
// oldest files past the bounds.
func (a *Archive) Save(rep *querytrace.Report) error {
	if a.Dir == "" || rep == nil || a.Filter != nil && !a.Filter(rep) {
		return nil
	}
	data, err := rep.MarshalFile()
	if err != nil {
		return fmt.Errorf("querytrace archive: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.scan(); err != nil {
		return err
	}
	a.seq++
	name := fmt.Sprintf("%s%s-%06d.json", filePrefix, rep.Start.UTC().Format("20060102T150405.000000000Z"), a.seq%1000000)
	if err := writeFile(filepath.Join(a.Dir, name), data); err != nil {
		return fmt.Errorf("querytrace archive: %w", err)
	}
	a.files = append(a.files, savedFile{name, int64(len(data))})
	a.bytes += int64(len(data))
	// Reports finish out of order: keep the list by name, which is by
	// start time.
	for i := len(a.files) - 1; i > 0 && a.files[i].name < a.files[i-1].name; i-- {
		a.files[i], a.files[i-1] = a.files[i-1], a.files[i]
	}
	return a.trim()
}

// scan lists the files written earlier, by this Archive or another one of
// the same directory in an earlier run.
func (a *Archive) scan() error {
	if a.scanned {
		return nil
	}
	if err := os.MkdirAll(a.Dir, 0o755); err != nil {
		return fmt.Errorf("querytrace archive: %w", err)
	}
	ents, err := os.ReadDir(a.Dir)
	if err != nil {
		return fmt.Errorf("querytrace archive: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), filePrefix) || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		a.files = append(a.files, savedFile{e.Name(), info.Size()})
		a.bytes += info.Size()
	}
	slices.SortFunc(a.files, func(x, y savedFile) int { return strings.Compare(x.name, y.name) })
	a.scanned = true
	return nil
}

// trim removes the oldest files past the bounds.
func (a *Archive) trim() error {
	maxFiles, maxBytes := a.MaxFiles, a.MaxBytes
	if maxFiles <= 0 {
		maxFiles = 1000
	}
	if maxBytes <= 0 {
		maxBytes = 100 << 20
	}
	var errs []error
	for len(a.files) > 0 && (len(a.files) > maxFiles || a.bytes > maxBytes) {
		f := a.files[0]
		if err := os.Remove(filepath.Join(a.Dir, f.name)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
		a.files = a.files[1:]
		a.bytes -= f.size
	}
	if len(errs) > 0 {
		return fmt.Errorf("querytrace archive: %w", errs[0])
	}
	return nil
}

// writeFile writes data to name through a temporary file and a rename, so
// that a reader never sees half a report.
func writeFile(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
