package debugpage

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/querytrace/querytrace"
)

// A Recorder keeps the reports of recent requests, per class, and
// application-wide statistics of their statements. Feed it from a
// querytrace.Handler's OnFinish:
//
//	rec := &debugpage.Recorder{}
//	h := &querytrace.Handler{Next: mux, OnFinish: rec.Observe}
//
// Reports are kept in five rings of Keep reports each: the last requests
// with an N+1, with a duplicate, with a slow statement (or slower than
// Slow), with an error, and the last of all. A request enters every ring
// it belongs to, so healthy traffic never pushes out the one bad request.
// The memory it holds is bounded: at most 5×Keep reports (fewer, as a
// report is shared by its rings), each of at most 1000 groups with 5
// stack frames and 64 timeline events. A report of a few groups takes a
// few kilobytes, so the defaults hold about a megabyte; one at the trace's
// bound of 1000 groups takes up to about a megabyte, so an application whose
// requests run hundreds of distinct statements should lower Keep. The
// statistics hold at most MaxStats entries of about 200 bytes each.
//
// The zero value is ready to use; the fields must not change once it is
// in use. It is safe for concurrent use.
type Recorder struct {
	// Keep is how many reports each class keeps; zero means 50.
	Keep int

	// Slow also counts as slow a request whose wall time reaches it,
	// besides one with a statement the detector found slow. Zero means
	// only the latter.
	Slow time.Duration

	// MaxStats bounds the statistics' entries (route × shape × call
	// site); zero means 1000. Past it, the entry with the least total
	// time of a few sampled is folded into the "other" row, so that
	// totals stay exact, and counted as evicted.
	MaxStats int

	mu    sync.Mutex
	seq   uint64
	links map[*querytrace.Trace]uint64 // numbers Handler.Link gave out, until Observe
	rings [numClasses]ring
	stats statsTable

	loaded *Loaded // what LoadDir read, if it did
}

// A class is a ring of recent requests.
type class int

const (
	classNPlusOne class = iota
	classDuplicate
	classSlow
	classError
	classAll
	numClasses
)

var classNames = [numClasses]string{"n+1", "duplicate", "slow", "error", "all"}

func (c class) String() string { return classNames[c] }

func parseClass(s string) (class, bool) {
	for c, name := range classNames {
		if name == s {
			return class(c), true
		}
	}
	return 0, false
}

// An entry is one recorded request: its report, live or read from a file,
// its number and, when read from a file, the file's name.
type entry struct {
	id uint64
	*querytrace.Report
	file string
}

// ID returns the entry's number, for its URL.
func (e *entry) ID() uint64 { return e.id }

func (e *entry) in(c class, slow time.Duration) bool {
	switch c {
	case classNPlusOne:
		return len(e.NPlusOne) > 0
	case classDuplicate:
		return len(e.Duplicates) > 0
	case classSlow:
		return len(e.Slow) > 0 || slow > 0 && e.Wall >= slow
	case classError:
		return e.Errors > 0 || e.ConnErrors > 0
	}
	return true
}

// ring is a bounded list of the last entries pushed, oldest overwritten.
type ring struct {
	buf  []*entry
	next int
}

func (r *ring) push(e *entry, keep int) {
	if len(r.buf) < keep {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % keep
}

// newest returns the ring's entries, the newest first.
func (r *ring) newest() []*entry {
	out := make([]*entry, 0, len(r.buf))
	for i := range r.buf {
		out = append(out, r.buf[(r.next-1-i+2*len(r.buf))%len(r.buf)])
	}
	return out
}

func (r *Recorder) keep() int {
	if r.Keep > 0 {
		return r.Keep
	}
	return 50
}

// Observe records rep, the report of the request req (which may be nil,
// and is not kept: its trace tells the number Handler.Link named in the
// response, if it did). Its signature is that of querytrace.Handler's
// OnFinish.
// It costs a few map updates per group of the report, under a short lock;
// nothing per statement.
func (r *Recorder) Observe(req *http.Request, rep *querytrace.Report) {
	if rep == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(rep, r.claim(req))
}

// add puts rep in its rings, numbered id (0: the next number), and its
// statistics, and returns its entry. The caller holds r.mu.
func (r *Recorder) add(rep *querytrace.Report, id uint64) *entry {
	if id == 0 {
		r.seq++
		id = r.seq
	}
	e := &entry{id: id, Report: rep}
	for c := range numClasses {
		if e.in(c, r.Slow) {
			r.rings[c].push(e, r.keep())
		}
	}
	r.stats.add(e, r.MaxStats)
	return e
}

// recent returns the entries of class c, the latest started first.
// Requests are recorded as they finish, and a quick one that started
// later can finish first.
func (r *Recorder) recent(c class) []*entry {
	r.mu.Lock()
	es := r.rings[c].newest()
	r.mu.Unlock()
	slices.SortStableFunc(es, func(a, b *entry) int { return b.Start.Compare(a.Start) })
	return es
}

// counts returns how many entries each class holds.
func (r *Recorder) counts() [numClasses]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n [numClasses]int
	for c := range numClasses {
		n[c] = len(r.rings[c].buf)
	}
	return n
}

// lookup returns the entry with the id, or nil when no ring holds it any
// more.
func (r *Recorder) lookup(id uint64) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range numClasses {
		for _, e := range r.rings[c].buf {
			if e.id == id {
				return e
			}
		}
	}
	return nil
}

// shape returns the normalized text of the statement whose fingerprint
// (16 hex digits) is fp, from the statistics or a recent report, or "".
func (r *Recorder) shape(fp string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.stats.entries {
		if fmtFingerprint(k.fingerprint) == fp {
			return s.Shape
		}
	}
	for _, e := range r.rings[classAll].buf {
		for _, g := range e.Groups {
			if fmtFingerprint(g.Fingerprint) == fp && !strings.HasPrefix(g.Shape, "(") {
				return g.Shape
			}
		}
	}
	return ""
}

// held returns the numbers of the entries that some ring holds.
func (r *Recorder) held() map[uint64]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make(map[uint64]bool, len(r.rings[classAll].buf))
	for c := range numClasses {
		for _, e := range r.rings[c].buf {
			ids[e.id] = true
		}
	}
	return ids
}

// loadedDir returns what LoadDir read, or nil for a live recorder.
func (r *Recorder) loadedDir() *Loaded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loaded
}
