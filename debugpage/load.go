package debugpage

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/querytrace/querytrace"
)

// DirLimits bounds what LoadDir reads of a directory. Its zero value is
// the defaults, which read all that an Archive with its own defaults
// keeps.
type DirLimits struct {
	// MaxFiles bounds the files read, the most recently modified
	// first; zero means 10000.
	MaxFiles int

	// MaxFileBytes bounds one file; zero means 16 MiB. A report of the
	// trace's 1000 groups takes a few megabytes.
	MaxFileBytes int64

	// MaxBytes bounds the files read together; zero means 256 MiB.
	MaxBytes int64
}

func (l DirLimits) withDefaults() DirLimits {
	l.MaxFiles = cmp.Or(max(l.MaxFiles, 0), 10000)
	l.MaxFileBytes = cmp.Or(max(l.MaxFileBytes, 0), 16<<20)
	l.MaxBytes = cmp.Or(max(l.MaxBytes, 0), 256<<20)
	return l
}

// Loaded tells what LoadDir read of a directory.
type Loaded struct {
	// Dir is the directory, as given to LoadDir, and At when it was read.
	Dir string
	At  time.Time

	// Files counts the reports recorded, and Bytes the size of their
	// files.
	Files int
	Bytes int64

	// First and Last are the earliest and the latest start of the
	// reports recorded.
	First, Last time.Time

	// Skipped are the files named *.json that were not recorded, by
	// reason, in the order the reasons were met.
	Skipped []Skipped
}

// Skipped is the files of a directory that LoadDir did not record for one
// reason.
type Skipped struct {
	// Reason says why, such as "a symbolic link (not followed)" or
	// "larger than 16 MiB".
	Reason string

	// Count is how many files; Names the first few of them.
	Count int
	Names []string

	// Err is the first file's error, for reasons that are errors (a
	// file that is no report, or that could not be read); nil for the
	// others.
	Err error
}

// namesKept is how many names a Skipped keeps.
const namesKept = 3

func (ld *Loaded) skip(reason, name string, err error) {
	i := slices.IndexFunc(ld.Skipped, func(s Skipped) bool { return s.Reason == reason })
	if i < 0 {
		ld.Skipped = append(ld.Skipped, Skipped{Reason: reason, Err: err})
		i = len(ld.Skipped) - 1
	}
	s := &ld.Skipped[i]
	s.Count++
	if len(s.Names) < namesKept {
		s.Names = append(s.Names, name)
	}
}

// SkippedFiles returns how many files were skipped, for any reason.
func (ld *Loaded) SkippedFiles() int {
	n := 0
	for _, s := range ld.Skipped {
		n += s.Count
	}
	return n
}

// LoadDir records the reports saved in dir (as by Archive), the oldest
// first by their start time, and remembers that the recorder holds
// files: the pages then say where they came from, and offer no reset of
// the statistics.
//
// A directory of saved reports is copied from machine to machine, and
// LoadDir reads one it need not trust. It reads only regular files named
// *.json directly in dir, never following a symbolic link, never waiting
// on a named pipe or a device, and within lim: the most recently modified
// files first, each read at most once and no more of it than the bounds
// allow, whatever it turns into while being read. What it reads is kept
// in memory and never read again by name, so that a file changed later
// changes nothing served. Files it skips (too large, past the bounds, not
// a report, of a newer format version) are counted in the result by
// reason; the error is for a directory that cannot be listed at all.
//
// It may be called again to add another directory's reports; the pages
// then describe the last one read.
func (r *Recorder) LoadDir(dir string, lim DirLimits) (*Loaded, error) {
	lim = lim.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	ld := &Loaded{Dir: dir, At: time.Now()}
	files, err := candidates(root, ld, lim.MaxFiles)
	if err != nil {
		return nil, err
	}
	var reps []loadedReport
	var readBytes int64
	for _, f := range files {
		switch {
		case f.size > lim.MaxFileBytes:
			ld.skip("larger than "+sizeText(lim.MaxFileBytes), f.name, nil)
			continue
		case readBytes+f.size > lim.MaxBytes:
			ld.skip("past the bound of "+sizeText(lim.MaxBytes)+" read in all", f.name, nil)
			continue
		}
		data, err := readRegular(root, f.name, min(lim.MaxFileBytes, lim.MaxBytes-readBytes))
		readBytes += int64(len(data))
		var rep *querytrace.Report
		if err == nil {
			rep, err = querytrace.UnmarshalFile(data)
		}
		if err != nil {
			ld.skip(reasonOf(err), f.name, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		reps = append(reps, loadedReport{rep, f.name})
		ld.Files++
		ld.Bytes += int64(len(data))
	}
	slices.SortStableFunc(reps, func(a, b loadedReport) int { return a.rep.Start.Compare(b.rep.Start) })
	if len(reps) > 0 {
		ld.First, ld.Last = reps[0].rep.Start, reps[len(reps)-1].rep.Start
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, lr := range reps {
		r.add(lr.rep, 0).file = lr.file
	}
	r.loaded = ld
	return ld, nil
}

type loadedReport struct {
	rep  *querytrace.Report
	file string
}

// A candidate is a regular file named *.json, as listed.
type candidate struct {
	name    string
	size    int64
	modTime time.Time
}

// candidates lists the regular files named *.json of root, the most
// recently modified first, at most max of them: the others, and the other
// *.json entries, are noted as skipped. The listing reads no file and
// follows no link, and holds no more than twice max entries at a time
// however many the directory has.
func candidates(root *os.Root, ld *Loaded, max int) ([]candidate, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var files []candidate
	newest := func() {
		slices.SortFunc(files, func(a, b candidate) int {
			return cmp.Or(b.modTime.Compare(a.modTime), strings.Compare(b.name, a.name))
		})
		if len(files) > max {
			for _, f := range files[max:] {
				ld.skip(fmt.Sprintf("past the bound of %d files read", max), f.name, nil)
			}
			files = files[:max]
		}
	}
	for {
		ents, err := d.ReadDir(1024)
		for _, e := range ents {
			name := e.Name()
			if !strings.HasSuffix(name, ".json") {
				continue
			}
			if t := e.Type(); !t.IsRegular() {
				ld.skip(typeText(t), name, nil)
				continue
			}
			info, err := e.Info() // Lstat: a link put there meanwhile is not followed
			if err != nil || !info.Mode().IsRegular() {
				ld.skip("removed or replaced while listed", name, nil)
				continue
			}
			files = append(files, candidate{name, info.Size(), info.ModTime()})
		}
		if len(files) > 2*max {
			newest()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	newest()
	return files, nil
}

// readRegular reads the file name of root, which must be a regular file
// when opened, up to limit bytes. A link to outside root is refused by
// root; one within it reads another file of the directory.
func readRegular(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpened(f, limit)
}

// ReadFile reads the report saved in the file name, which may be a link
// (the caller named it) to a regular file of at most maxBytes (zero means
// 16 MiB). It opens without waiting, so that a named pipe or a device is
// refused rather than read from or waited on, and reads no more than
// maxBytes whatever the file turns into meanwhile.
func ReadFile(name string, maxBytes int64) (*querytrace.Report, error) {
	maxBytes = DirLimits{MaxFileBytes: maxBytes}.withDefaults().MaxFileBytes
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readOpened(f, maxBytes)
	if err == nil {
		var rep *querytrace.Report
		if rep, err = querytrace.UnmarshalFile(data); err == nil {
			return rep, nil
		}
	}
	if errors.Is(err, errGrew) || errors.Is(err, errTooLarge) {
		err = fmt.Errorf("larger than %s", sizeText(maxBytes))
	}
	return nil, fmt.Errorf("%s: %w", name, err)
}

// readOpened reads f, opened without waiting, if it is a regular file, up
// to limit bytes. A named pipe or a device is refused after the open,
// before any read.
func readOpened(f *os.File, limit int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errNotRegular
	}
	if info.Size() > limit {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errGrew
	}
	return data, nil
}

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("larger than the bounds")
	errGrew       = errors.New("grew past the bounds while read")
)

// reasonOf names the reason of a file's error.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, errNotRegular):
		return "replaced by what is not a regular file while listed"
	case errors.Is(err, errTooLarge), errors.Is(err, errGrew):
		return "grew past the bounds since listed"
	case errors.Is(err, querytrace.ErrNewerFile):
		return "written by a newer querytrace (update this one)"
	case errors.Is(err, fs.ErrPermission):
		return "not readable"
	case strings.Contains(err.Error(), "path escapes from parent"):
		return "replaced by a link out of the directory while listed"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "not readable"
	}
	return "not a querytrace report"
}

// typeText says what an entry that is not a regular file is.
func typeText(t fs.FileMode) string {
	switch {
	case t&fs.ModeSymlink != 0:
		return "a symbolic link (not followed)"
	case t.IsDir():
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (not a regular file)"
	case t&fs.ModeSocket != 0:
		return "a socket (not a regular file)"
	case t&fs.ModeDevice != 0:
		return "a device (not a regular file)"
	}
	return "not a regular file"
}

// sizeText writes n bytes in the largest binary unit that divides it,
// "16 MiB", as the command's flags take them.
func sizeText(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.unit)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// String returns the files and their reason on one line, such as
// "2 files, a symbolic link (not followed): a.json, b.json" or, for a
// reason that is an error, "1 file, not a querytrace report: x.json (x.json:
// invalid character...)".
func (s Skipped) String() string {
	var b strings.Builder
	if s.Count == 1 {
		b.WriteString("1 file, ")
	} else {
		fmt.Fprintf(&b, "%d files, ", s.Count)
	}
	b.WriteString(s.Reason + ": " + strings.Join(s.Names, ", "))
	if s.Count > len(s.Names) {
		fmt.Fprintf(&b, " and %d more", s.Count-len(s.Names))
	}
	if s.Err != nil {
		b.WriteString(" (" + s.Err.Error() + ")")
	}
	return b.String()
}
