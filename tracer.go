package querytrace

import (
	"context"
	"sync"
	"time"
)

// A Trace collects the statements of one unit of work: a request, a job, a
// test. Put one on a context with Start; every statement run with that
// context (or one derived from it) is recorded in it, from any goroutine.
//
// A Trace holds one record per group of statements that share a shape and a
// call site, plus a bounded sample of single events, so its memory does not
// grow with the number of statements.
type Trace struct {
	name   string
	start  time.Time
	parent *Trace

	// pause, when set, marks a node that Pause put on the context: it
	// records nothing itself and marks what passes through it for the
	// traces above.
	pause string

	once   sync.Once
	report *Report

	mu       sync.Mutex
	detector *Detector
	finished bool
	totals   totals
	groups   map[groupKey]*group
	order    []*group
	other    *group // where statements go once maxGroups is reached
	sample   []sampled
	dropped  int
	seq      int
}

// maxGroups bounds the groups of one trace; a trace that sees more shapes
// and call sites than this (a long-lived fallback, a generated query per
// call) folds the rest into one group.
const maxGroups = 1000

// maxSample bounds the individual events a trace keeps for its timeline.
const maxSample = 256

// totals are the counters of a trace.
type totals struct {
	statements, prepares, begins, commits, rollbacks int
	errors, canceled                                 int
	rows                                             int64
	dbTime                                           time.Duration
}

type groupKey struct {
	fingerprint uint64
	site        uint64
}

// group is the running record of one (shape, call site).
type group struct {
	shape       string
	fingerprint uint64
	kind        Kind
	stack       Stack
	count       int
	statements  int
	errors      int
	total, max  time.Duration
	rows        int64
	minRows     int64
	maxRows     int64
	lastRows    int64
	firstStart  time.Time
	lastEnd     time.Time
	firstSeq    int
	lastSeq     int
	overlapped  int
	args        [maxDistinct]uint64
	distinct    int
	repeats     int
	paused      string
}

// maxDistinct bounds how many argument hashes a group remembers; past it,
// every new execution counts as a new argument set.
const maxDistinct = 16

// sampled is one event of a trace's timeline.
type sampled struct {
	g     *group
	start time.Time
	dur   time.Duration
	rows  int64
	kind  Kind
	err   bool
}

// traceKey is the context key of the innermost trace.
type traceKey struct{}

// Start returns a context that carries a new trace named name, and the
// trace. Statements run with the context are recorded in the trace and in
// every trace already on ctx, so a test's trace around a handler that
// starts its own still sees each statement. Call Finish when the work is
// done.
func Start(ctx context.Context, name string) (context.Context, *Trace) {
	t := NewTrace(name)
	t.parent, _ = ctx.Value(traceKey{}).(*Trace)
	return context.WithValue(ctx, traceKey{}, t), t
}

// NewTrace returns a trace that is on no context: a tally that sources
// outside a request feed with (*Trace).Record, like the database-wide
// fallback of the driver wrapper.
func NewTrace(name string) *Trace {
	return &Trace{name: name, start: time.Now()}
}

// FromContext returns the innermost trace on ctx, or nil if there is none.
func FromContext(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	for t != nil && t.pause != "" {
		t = t.parent
	}
	return t
}

// Pause returns a context under which statements are still counted by the
// traces on ctx but never flagged as N+1, duplicate or slow: for work that
// is known and accepted, such as a migration or a warm-up loop. The reason
// is mandatory and shows in reports; an empty one is replaced by
// "no reason given" so that a pause never goes unexplained.
func Pause(ctx context.Context, reason string) context.Context {
	if reason == "" {
		reason = "no reason given"
	}
	parent, _ := ctx.Value(traceKey{}).(*Trace)
	if parent == nil {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, &Trace{pause: reason, parent: parent})
}

// Name returns the name the trace was started with.
func (t *Trace) Name() string { return t.name }

// SetDetector sets the thresholds and allow-lists that Finish and Snapshot
// classify with; nil restores the default. It is safe to call at any time
// before Finish.
func (t *Trace) SetDetector(d *Detector) {
	t.mu.Lock()
	t.detector = d
	t.mu.Unlock()
}

// Record adds e to every trace on ctx and reports whether there was one.
// Sources other than the driver wrapper, such as the pgx tracer or an ORM
// hook, use it; a source with no trace on ctx records into its own
// fallback with (*Trace).Record. An empty e.Stack is captured here.
func Record(ctx context.Context, e *Event) bool {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	if t == nil {
		return false
	}
	if e.Stack.n == 0 {
		e.Stack.capture()
	}
	t.record(e)
	return true
}

// Record adds e to t and to the traces t was started inside. Events that
// arrive after Finish are dropped. It is safe for concurrent use.
func (t *Trace) Record(e *Event) {
	if e.Stack.n == 0 {
		e.Stack.capture()
	}
	t.record(e)
}

// record is Record without capturing a missing stack, for a driver wrapped
// WithoutStacks.
func (t *Trace) record(e *Event) {
	var shape string
	var fp uint64
	if e.SQL != "" || e.Kind.IsStatement() || e.Kind == KindPrepare {
		shape, fp = shapeOf(e.SQL, e.Dialect)
	}
	site := e.Stack.hash()
	paused := ""
	for ; t != nil; t = t.parent {
		if t.pause != "" {
			paused = t.pause
			continue
		}
		t.fold(e, shape, fp, site, paused)
	}
}

// fold adds one event to t.
func (t *Trace) fold(e *Event, shape string, fp, site uint64, paused string) {
	dur := e.dbTime()
	end := e.Start.Add(dur)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finished {
		return
	}
	t.seq++
	tt := &t.totals
	switch e.Kind {
	case KindPrepare:
		tt.prepares++
	case KindBegin:
		tt.begins++
	case KindCommit:
		tt.commits++
	case KindRollback:
		tt.rollbacks++
	}
	n := e.statements()
	tt.statements += n
	tt.dbTime += dur
	tt.rows += e.Rows
	if e.Err != nil {
		tt.errors++
		if e.canceled() {
			tt.canceled++
		}
	}
	// Transaction boundaries are counted, not grouped: they have no shape
	// to repeat.
	if shape == "" && !e.Kind.IsStatement() {
		t.sampleEvent(nil, e, dur)
		return
	}
	key := groupKey{fp, site}
	g := t.groups[key]
	if g == nil {
		g = t.newGroup(key, e, shape)
	}
	g.count++
	g.statements += n
	g.total += dur
	if dur > g.max {
		g.max = dur
	}
	g.rows += e.Rows
	if g.count == 1 || e.Rows < g.minRows {
		g.minRows = e.Rows
	}
	if e.Rows > g.maxRows {
		g.maxRows = e.Rows
	}
	g.lastRows = e.Rows
	if e.Err != nil {
		g.errors++
	}
	if g.count > 1 && e.Start.Before(g.lastEnd) {
		g.overlapped++
	}
	if end.After(g.lastEnd) {
		g.lastEnd = end
	}
	g.lastSeq = t.seq
	g.noteArgs(e.ArgsHash)
	if paused != "" {
		g.paused = paused
	}
	t.sampleEvent(g, e, dur)
}

func (t *Trace) newGroup(key groupKey, e *Event, shape string) *group {
	if len(t.order) >= maxGroups {
		if t.other == nil {
			t.other = &group{shape: "(other statements)", kind: e.Kind, firstStart: e.Start, firstSeq: t.seq}
			t.order = append(t.order, t.other)
		}
		return t.other
	}
	if t.groups == nil {
		t.groups = make(map[groupKey]*group)
	}
	g := &group{
		shape:       shape,
		fingerprint: key.fingerprint,
		kind:        e.Kind,
		stack:       e.Stack,
		firstStart:  e.Start,
		firstSeq:    t.seq,
	}
	t.groups[key] = g
	t.order = append(t.order, g)
	return g
}

// noteArgs tells a new argument set from one seen before.
func (g *group) noteArgs(h uint64) {
	for _, a := range g.args[:min(g.distinct, maxDistinct)] {
		if a == h {
			g.repeats++
			return
		}
	}
	if g.distinct < maxDistinct {
		g.args[g.distinct] = h
	}
	g.distinct++
}

func (t *Trace) sampleEvent(g *group, e *Event, dur time.Duration) {
	if len(t.sample) >= maxSample {
		t.dropped++
		return
	}
	t.sample = append(t.sample, sampled{g: g, start: e.Start, dur: dur, rows: e.Rows, kind: e.Kind, err: e.Err != nil})
}

// Finish ends the trace and returns its report. It is idempotent: later
// calls return the same report, and calls from several goroutines wait for
// the one report. Statements still running elsewhere when it is called are
// not part of the report.
func (t *Trace) Finish() *Report {
	t.once.Do(func() {
		t.mu.Lock()
		t.finished = true
		raw := t.rawLocked(time.Now())
		t.mu.Unlock()
		t.report = raw.report()
	})
	return t.report
}

// Snapshot returns a report of what t has recorded so far, without
// finishing it: for long-lived traces such as the database-wide fallback.
// After Finish it returns the finished report.
func (t *Trace) Snapshot() *Report {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		return t.Finish()
	}
	raw := t.rawLocked(time.Now())
	t.mu.Unlock()
	return raw.report()
}

// rawTrace is a copy of a trace's state, taken under its lock so that the
// report is built (stacks symbolized, findings classified) without holding
// up the statements still being recorded.
type rawTrace struct {
	name     string
	start    time.Time
	end      time.Time
	detector *Detector
	totals   totals
	groups   []group
	sample   []sampled
	index    map[*group]int
	dropped  int
}

func (t *Trace) rawLocked(end time.Time) *rawTrace {
	raw := &rawTrace{
		name:     t.name,
		start:    t.start,
		end:      end,
		detector: t.detector,
		totals:   t.totals,
		groups:   make([]group, len(t.order)),
		sample:   append([]sampled(nil), t.sample...),
		index:    make(map[*group]int, len(t.order)),
		dropped:  t.dropped,
	}
	for i, g := range t.order {
		raw.groups[i] = *g
		raw.index[g] = i
	}
	return raw
}
