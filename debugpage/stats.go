package debugpage

import (
	"cmp"
	"slices"
	"time"

	"github.com/querytrace/querytrace"
)

// A Stat is what the statistics know of one statement, identified by the
// route that ran it, its shape and its call site, across every request
// since the last reset (or every report loaded).
type Stat struct {
	Route       string
	Shape       string
	Fingerprint uint64
	Stack       []querytrace.Frame // the application's frames, innermost first

	// Calls counts the executions; Requests the requests that ran the
	// statement at least once.
	Calls    int
	Requests int

	// Total is the time of all executions. Max is the longest single
	// execution. MinMean is the least of the requests' mean times of one
	// execution: the best a request did. (Traces keep each statement's
	// longest execution, not its shortest, so no Stat knows the fastest
	// one.)
	Total, MinMean, Max time.Duration

	Rows   int64
	Errors int

	// NPlusOne counts the requests in which the statement was an N+1.
	NPlusOne int

	// First and Last are the start times of the first and the last
	// request that ran the statement.
	First, Last time.Time

	// last and lastFinding are the last request that ran the statement
	// and the last in which it was a finding, for the page to link.
	last, lastFinding example
}

// An example is a recorded request that ran a statement.
type example struct {
	id    uint64                 // the request's entry
	group int                    // the statement's group in its report
	kind  querytrace.FindingKind // its finding there (N+1, duplicate, slow), or ""
}

// CallsPerRequest returns the mean executions per request that ran the
// statement: 1 for a statement run once per request, the loop's length
// for an N+1.
func (s *Stat) CallsPerRequest() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Calls) / float64(s.Requests)
}

// Mean returns the mean time of one execution.
func (s *Stat) Mean() time.Duration {
	if s.Calls == 0 {
		return 0
	}
	return s.Total / time.Duration(s.Calls)
}

// CallSite returns the statement's innermost application frame as
// "dir/file.go:42 pkg.Func", or "".
func (s *Stat) CallSite() string {
	if len(s.Stack) == 0 {
		return ""
	}
	return s.Stack[0].String()
}

// Statistics are the recorder's statement statistics at one moment.
type Statistics struct {
	// Since is when they were last reset, or the recorder first used.
	Since time.Time

	// Requests counts the reports recorded.
	Requests int

	// Stats are the entries, the most total time first.
	Stats []Stat

	// Other folds together the entries evicted to bound memory and,
	// when Statistics was asked for the top entries only, those past
	// them: the totals of Stats and Other are those of every statement.
	// Its Calls is zero when it holds nothing.
	Other Stat

	// Evicted counts the entries folded into Other to bound memory.
	Evicted int
}

// statKey identifies a statistics entry: the call site by its innermost
// frame's file and line, which need no allocation to compare.
type statKey struct {
	route       string
	fingerprint uint64
	file        string
	line        int
}

type statsTable struct {
	since    time.Time
	requests int
	entries  map[statKey]*Stat
	other    Stat
	evicted  int
}

func (t *statsTable) add(e *entry, limit int) {
	t.begin(e.Start)
	// A statement's finding in the request, the one an example is
	// best for first.
	kinds := make(map[*querytrace.Group]querytrace.FindingKind)
	for _, l := range [][]querytrace.Finding{e.Slow, e.Duplicates, e.NPlusOne} {
		for _, f := range l {
			kinds[f.Group] = f.Kind
		}
	}
	for _, g := range e.Groups {
		t.addGroup(e.Name, e.Start, limit, g, example{e.id, g.ID, kinds[g]})
	}
}

func (t *statsTable) begin(start time.Time) {
	if t.entries == nil {
		t.entries = make(map[statKey]*Stat)
		t.since = time.Now()
	}
	t.requests++
}

// evictSample is how many entries eviction looks at: the one with the
// least total time of a few, found in random order, goes. Map iteration
// gives the randomness; the few keep an eviction O(1).
const evictSample = 8

func (t *statsTable) addGroup(route string, at time.Time, limit int, g *querytrace.Group, ex example) {
	if limit <= 0 {
		limit = 1000
	}
	k := statKey{route: route, fingerprint: g.Fingerprint}
	if len(g.Stack) > 0 {
		k.file, k.line = g.Stack[0].File, g.Stack[0].Line
	}
	s := t.entries[k]
	if s == nil {
		if len(t.entries) >= limit {
			t.evict()
		}
		s = &Stat{Route: route, Shape: g.Shape, Fingerprint: g.Fingerprint, Stack: g.Stack, MinMean: g.Mean(), First: at}
		t.entries[k] = s
	}
	s.fold(g, ex, at)
}

func (t *statsTable) evict() {
	var victim statKey
	var least *Stat
	n := 0
	for k, s := range t.entries {
		if least == nil || s.Total < least.Total {
			victim, least = k, s
		}
		if n++; n == evictSample {
			break
		}
	}
	if least == nil {
		return
	}
	t.other.merge(least)
	delete(t.entries, victim)
	t.evicted++
}

func (s *Stat) fold(g *querytrace.Group, ex example, at time.Time) {
	s.Calls += g.Count
	s.Requests++
	s.Total += g.Total
	s.Max = max(s.Max, g.Max)
	s.MinMean = min(s.MinMean, g.Mean())
	s.Rows += g.Rows
	s.Errors += g.Errors
	if ex.kind == querytrace.FindingNPlusOne {
		s.NPlusOne++
	}
	s.last = ex
	if ex.kind != "" {
		s.lastFinding = ex
	}
	if at.Before(s.First) {
		s.First = at
	}
	if at.After(s.Last) {
		s.Last = at
	}
}

// merge folds o into s, for the "other" row.
func (s *Stat) merge(o *Stat) {
	if s.Calls == 0 || o.MinMean < s.MinMean {
		s.MinMean = o.MinMean
	}
	if s.First.IsZero() || o.First.Before(s.First) {
		s.First = o.First
	}
	s.Last = later(s.Last, o.Last)
	s.Calls += o.Calls
	s.Requests += o.Requests
	s.Total += o.Total
	s.Max = max(s.Max, o.Max)
	s.Rows += o.Rows
	s.Errors += o.Errors
	s.NPlusOne += o.NPlusOne
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Statistics returns the statement statistics, the most total time first.
// With top > 0, the entries past the first top are folded into Other.
func (r *Recorder) Statistics(top int) *Statistics {
	r.mu.Lock()
	t := &r.stats
	st := &Statistics{Since: t.since, Requests: t.requests, Other: t.other, Evicted: t.evicted}
	st.Stats = make([]Stat, 0, len(t.entries))
	for _, s := range t.entries {
		st.Stats = append(st.Stats, *s)
	}
	r.mu.Unlock()
	if st.Since.IsZero() {
		st.Since = time.Now()
	}
	st.Other.Route, st.Other.Shape = "", "(other statements)"
	st.Other.Stack = nil
	slices.SortFunc(st.Stats, func(a, b Stat) int {
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Shape, b.Shape), cmp.Compare(a.CallSite(), b.CallSite()))
	})
	if top > 0 && len(st.Stats) > top {
		for i := range st.Stats[top:] {
			st.Other.merge(&st.Stats[top+i])
		}
		st.Stats = st.Stats[:top]
	}
	return st
}

// Reset clears the statistics. The recent requests stay.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.stats = statsTable{since: time.Now(), entries: make(map[statKey]*Stat)}
	r.mu.Unlock()
}
