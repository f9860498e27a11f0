package querytrace

import (
	"context"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/querytrace/querytrace/internal/clock"
	"github.com/querytrace/querytrace/internal/sqlnorm"
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
	at     time.Duration // start on the package clock
	parent *Trace

	// pause, when set, marks a node that Pause put on the context: it
	// records nothing itself and marks what passes through it for the
	// traces above.
	pause string

	// untracedAt is untracedStatements when a trace made by Start began.
	untracedAt int64

	once sync.Once
	// fallback marks a trace made by NewTrace, which no context carries;
	// finished, under mu, a trace that Finish ended; lent, under mu, a
	// trace whose groups a report of snapshot's holds, which it must not
	// change (see detach). (Beside once, they take no room of their own:
	// a trace is allocated per request.)
	fallback, finished, lent bool
	report                   *Report

	// snap is a copy of the last Snapshot's report while it still
	// describes the trace: a statement, a new name or a new detector
	// drops it. Finish reuses it, as in a handler that wrote its response
	// (and the Server-Timing header) after its last statement.
	snap *Report

	mu       sync.Mutex
	detector *Detector
	totals   totals
	groups   map[groupKey]*group // by key, once the trace has more than fewGroups
	order    []*group
	other    *group // where statements go once maxGroups is reached
	last     *group // the group folded into last: a loop hits it again
	writes   *tableWrites
	sample   []sampled
	dropped  int
	seq      int

	// The first groups and events go here, which spares most requests
	// two allocations.
	orderBuf  [fewGroups]*group
	sampleBuf [16]sampled
}

// fewGroups is how many groups a trace finds by looking through them all,
// before it keeps a map: most requests run a handful of statements.
const fewGroups = 8

// maxGroups bounds the groups of one trace; a trace that sees more shapes
// and call sites than this (a long-lived fallback, a generated query per
// call) folds the rest into one group.
const maxGroups = 1000

// maxSample bounds the individual events a trace keeps for its timeline.
const maxSample = 64

type totals struct {
	statements, prepares, begins, commits, rollbacks int
	errors, canceled, connErrors                     int
	rows                                             int64
	dbTime                                           time.Duration
}

type groupKey struct {
	fingerprint uint64
	site        uint64
}

// group is the running record of one (shape, call site). Its Group is
// what a report shows, kept as statements fold in (times from the
// trace's start, as the report has them), so that Finish hands the
// trace's own groups to the report rather than copying each one; the
// fields after it are the trace's alone.
type group struct {
	Group

	site uint64

	// seen holds the hashes of the first maxDistinct argument sets (the
	// report's Group.hashes points at it), and bloom a bit for each.
	seen  [maxDistinct]uint64
	bloom uint64
	run   int // the length of the current run of executions between writes (see tables)

	// keys is how many IN items or VALUES rows its first execution had,
	// keysMin and keysMax the fewest and most of any execution; argsMin
	// and argsMax are the fewest and most arguments of an execution: one
	// shape takes more where its lists are longer. arrayMax is the most
	// keys an array argument carried ("= any($1)").
	keys, keysMin, keysMax int32
	argsMin, argsMax       int32
	arrayMax               int32

	// A read repeated after a write to a table it reads is fresh work,
	// not a repeat: tables has a bit per table the shape names (once the
	// trace has seen a write, see tableWrites); Group.epochFirst and
	// epochLast are the writes to them before its first and its last
	// execution, Rereads counts the executions of a seen argument set
	// after such a write, and run and Group.dupRuns follow the runs of
	// executions between writes.
	tables uint64

	// What its executions had at each "?" of its shape: Group.text
	// describes its first execution's text, vals holds the first
	// execution's values, and a bit of Group.varied or Group.unknown is
	// set for each "?" that took another value in a later execution, or
	// whose value was not known.
	vals    [sqlnorm.MaxValues]uint32
	literal uint32 // the first execution had a literal there

	write bool // an insert, update, delete: it changes its tables (see tables)
}

// minBatchKeys is how many keys (IN-list items, VALUES rows) one
// execution must carry for a repeated statement to be a batch run in
// chunks rather than an N+1: loading 250 ids 100 at a time is the fix,
// not the problem.
const minBatchKeys = 10

// maxDistinct bounds how many argument hashes a group remembers; past it,
// every new execution counts as a new argument set.
const maxDistinct = 16

// maxTables bounds the tables whose writes a trace tells apart; the last
// one stands for every table past the others, so that a write to any of
// them counts as a write to all: a re-read is then taken for fresh work,
// and a duplicate is missed rather than invented.
const maxTables = 64

// tableWrites counts a trace's writes per table, from its first write
// on: a trace that only reads never parses its shapes' tables.
type tableWrites struct {
	names []string // bit i stands for names[i]
	count [maxTables]uint32
}

// mask returns the bits of the tables that the shape of in names, without
// their schema: a write to a.t counts as one to b.t, which errs on the
// side of fresh work.
func (w *tableWrites) mask(in *sqlnorm.Info) uint64 {
	var m uint64
	for _, name := range in.Tables() {
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		m |= 1 << w.bit(name)
	}
	return m
}

func (w *tableWrites) bit(name string) int {
	for i, n := range w.names {
		if n == name {
			return i
		}
	}
	if len(w.names) < maxTables-1 {
		w.names = append(w.names, name)
		return len(w.names) - 1
	}
	return maxTables - 1
}

// epoch returns how many writes the trace has seen to the tables of mask.
func (w *tableWrites) epoch(mask uint64) uint32 {
	var n uint32
	for ; mask != 0; mask &= mask - 1 {
		n += w.count[bits.TrailingZeros64(mask)]
	}
	return n
}

// trackWrites starts counting writes per table, at t's first write: the
// groups so far learn their tables, and read none written yet.
func (t *Trace) trackWrites() {
	t.writes = new(tableWrites)
	for _, g := range t.order {
		if g != t.other {
			g.tables = t.writes.mask(g.text)
		}
	}
}

// writes reports whether a statement that in describes changes the tables
// its shape names.
func writes(in *sqlnorm.Info) bool {
	switch in.Verb {
	case "insert", "update", "delete":
		return true
	case "other": // a verb of its own, read below
	default:
		return false // select, begin, set ...: no tokenizing
	}
	switch tok, _ := shapeToken(in.Shape, 0); tok {
	case "merge", "truncate", "copy":
		return true
	}
	return false
}

// sampled is one event of a trace's timeline.
type sampled struct {
	start time.Duration // on the package clock
	dur   time.Duration
	rows  int32 // clamped: a timeline shows it, nothing counts with it
	group int16 // group.id (at most maxGroups+1), or 0 for a transaction boundary
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
	t := newTrace(name)
	t.untracedAt = untracedStatements.Load()
	t.parent, _ = ctx.Value(traceKey{}).(*Trace)
	return context.WithValue(ctx, traceKey{}, t), t
}

// NewTrace returns a trace that is on no context: a tally that sources
// outside a request feed with (*Trace).Record, like the database-wide
// fallback of the driver wrapper.
func NewTrace(name string) *Trace {
	t := newTrace(name)
	t.fallback = true
	return t
}

func newTrace(name string) *Trace {
	start := time.Now()
	return &Trace{name: name, start: start, at: clock.Of(start)}
}

// untracedStatements counts the statements recorded into traces that no
// context carries (NewTrace's, such as the database-wide fallbacks): a
// trace reports how many ran while it was open as Report.Unattributed.
var untracedStatements atomic.Int64

// unattributed returns how many statements ran outside any trace since t
// started.
func (t *Trace) unattributed() int {
	if t.fallback {
		return 0
	}
	return int(untracedStatements.Load() - t.untracedAt)
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

// Name returns the trace's name: the one it was started with, or the
// route that a Handler learned once the request was served.
func (t *Trace) Name() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.name
}

// SetDetector sets the thresholds and allow-lists that Finish and Snapshot
// classify with; nil restores the default. It is safe to call at any time
// before Finish.
func (t *Trace) SetDetector(d *Detector) {
	t.mu.Lock()
	t.detector = d
	t.snap = nil
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
	t.Record(e)
	return true
}

// Record adds e to t and to the traces t was started inside. Events that
// arrive after Finish are dropped. It is safe for concurrent use.
func (t *Trace) Record(e *Event) {
	if e.Stack.s.Len() == 0 {
		e.Stack.s.Capture()
	}
	r := e.rec()
	t.record(&r)
}

// record adds r to t and to the traces t was started inside.
func (t *Trace) record(r *rec) {
	if t.fallback && r.kind.IsStatement() {
		untracedStatements.Add(1)
	}
	in := &noText
	if r.sql != "" || r.kind.IsStatement() || r.kind == KindPrepare {
		if in = r.info; in == nil {
			in = shapeOf(r.sql, r.dialect)
		}
		// A text of several statements (MySQL's multiStatements, SQLite's
		// and PostgreSQL's simple protocol) runs each of them.
		if r.stmts == 0 && r.kind.IsStatement() && in.Statements > 1 {
			r.stmts = in.Statements
		}
	}
	paused := ""
	for ; t != nil; t = t.parent {
		if t.pause != "" {
			paused = t.pause
			continue
		}
		t.fold(r, in, paused)
	}
}

// noText is the Info of a call without a statement.
var noText sqlnorm.Info

// fold adds one call to t, whose text in describes.
func (t *Trace) fold(r *rec, in *sqlnorm.Info, paused string) {
	shape, fp := in.Shape, in.Fingerprint
	// Values written into the text count as arguments: a loop over
	// "... where id = 1", "... id = 2" runs different arguments.
	args := r.args.hash ^ in.Literals
	dur := r.dbTime()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finished {
		return
	}
	t.ownGroups()
	if t.snap != nil { // a store through a pointer costs a write barrier while the GC marks
		t.snap = nil
	}
	t.seq++
	tt := &t.totals
	switch r.kind {
	case KindPrepare:
		tt.prepares++
	case KindBegin:
		tt.begins++
	case KindCommit:
		tt.commits++
	case KindRollback:
		tt.rollbacks++
	}
	n := r.statements()
	tt.statements += n
	tt.dbTime += dur
	tt.rows += r.rows
	if r.err != nil {
		tt.errors++
		if r.canceled() {
			tt.canceled++
		}
	}
	// Transaction boundaries are counted, not grouped: they have no shape
	// to repeat.
	if shape == "" && !r.kind.IsStatement() {
		t.sampleEvent(nil, r, dur)
		return
	}
	g := t.last
	if g == nil || g.Fingerprint != fp || g.site != r.site {
		key := groupKey{fp, r.site}
		g = t.group(key)
		if g == nil {
			g = t.newGroup(key, r, in)
		}
		t.last = g
	}
	// Times from the trace's start, as the report has them. A query is
	// folded when its rows close, after the statements run while they
	// were open: the group's span is by when they started.
	start := r.start - t.at
	g.Count++
	g.Statements += n
	g.Total += dur
	if dur > g.Max {
		g.Max = dur
	}
	g.Rows += r.rows
	if g.Count == 1 || r.rows < g.MinRows {
		g.MinRows = r.rows
	}
	if r.rows > g.MaxRows {
		g.MaxRows = r.rows
	}
	g.LastRows = r.rows
	if r.err != nil {
		g.Errors++
	}
	if g.Count > 1 && start < g.Last {
		g.Overlapped++
	}
	if start < g.First {
		g.First = start
	}
	if start > g.lastStart {
		g.lastStart = start
	}
	if end := start + dur; end > g.Last {
		g.Last = end
	}
	g.LastSeq = t.seq
	var epoch uint32
	if g.write && r.err == nil {
		if t.writes == nil {
			t.trackWrites()
		}
		for m := g.tables; m != 0; m &= m - 1 {
			t.writes.count[bits.TrailingZeros64(m)]++
		}
	} else if t.writes != nil && !g.write {
		epoch = t.writes.epoch(g.tables)
	}
	g.noteArgs(args, epoch)
	if g.Count == 1 {
		g.epochFirst = epoch
	}
	g.epochLast = epoch
	keys := int32(min(in.Keys, math.MaxInt32))
	g.arrayMax = max(g.arrayMax, r.args.keys)
	g.keysMin, g.keysMax = min(g.keysMin, keys), max(g.keysMax, keys)
	g.argsMin, g.argsMax = min(g.argsMin, r.args.count), max(g.argsMax, r.args.count)
	g.noteValues(in, &r.args)
	if paused != "" {
		g.Paused = paused
		g.PausedCount++
	}
	t.sampleEvent(g, r, dur)
}

func (t *Trace) newGroup(key groupKey, r *rec, in *sqlnorm.Info) *group {
	start := r.start - t.at
	if len(t.order) >= maxGroups {
		if t.other == nil {
			t.other = &group{Group: Group{
				ID: len(t.order) + 1, Shape: otherShape, Verb: verbOf(otherShape), Kind: r.kind,
				First: start, FirstSeq: t.seq, stack: &emptyStack, lastStart: start,
			}}
			t.order = append(t.order, t.other)
		}
		return t.other
	}
	keys := int32(min(in.Keys, math.MaxInt32))
	g := &group{
		Group: Group{
			ID:          len(t.order) + 1,
			Shape:       in.Shape,
			Fingerprint: key.fingerprint,
			Verb:        in.Verb,
			Kind:        r.kind,
			Dialect:     r.dialect.family(),
			First:       start,
			FirstSeq:    t.seq,
			stack:       r.stack,
			lastStart:   start,
			text:        in,
		},
		site:    key.site,
		write:   writes(in),
		keys:    keys,
		keysMin: keys,
		keysMax: keys,
		argsMin: r.args.count,
		argsMax: r.args.count,
	}
	if t.writes != nil {
		g.tables = t.writes.mask(in)
	}
	if t.order == nil {
		t.order = t.orderBuf[:0]
	}
	t.order = append(t.order, g)
	switch {
	case t.groups != nil:
		t.groups[key] = g
	case len(t.order) > fewGroups:
		t.groups = make(map[groupKey]*group, 2*fewGroups)
		for _, g := range t.order {
			t.groups[groupKey{g.Fingerprint, g.site}] = g
		}
	}
	return g
}

// group returns t's group of key, or nil.
func (t *Trace) group(key groupKey) *group {
	if t.groups != nil {
		return t.groups[key]
	}
	for _, g := range t.order {
		if g.Fingerprint == key.fingerprint && g.site == key.site {
			return g
		}
	}
	return nil
}

// ownGroups makes t's groups its own to change again, if a report holds
// them (see detach). The caller holds t.mu.
func (t *Trace) ownGroups() {
	if t.lent {
		t.detach()
	}
}

// detach gives t copies of its groups to go on with, and leaves the
// groups it had to the report that holds them: a report that the Handler
// built for Server-Timing, with the trace's groups as its own, before a
// statement that ran after the headers went out. The caller holds t.mu.
func (t *Trace) detach() {
	copies := make([]group, len(t.order))
	for i, g := range t.order {
		copies[i] = *g
		c := &copies[i]
		if g == t.last {
			t.last = c
		}
		if g == t.other { // which may be t.last too
			t.other = c
		}
		t.order[i] = c
		if t.groups != nil && c != t.other { // which no key finds
			t.groups[groupKey{c.Fingerprint, c.site}] = c
		}
	}
	t.lent = false
}

// noteValues notes which of the values of one execution, whose text in
// describes, differ from the first execution's. The first execution's
// text tells what each "?" is; a later text of the same shape may have a
// placeholder where it had a literal, or the other way round.
func (g *group) noteValues(in *sqlnorm.Info, a *argSum) {
	for i, v := range in.Values {
		bit := uint32(1) << i
		var h uint32
		switch {
		case v.IsLiteral():
			h = v.Lit
		case v.Arg > 0 && int(v.Arg) <= int(a.n):
			h = a.each[v.Arg-1]
		default:
			g.unknown |= bit
			continue
		}
		if g.Count == 1 {
			g.vals[i] = h
			if v.IsLiteral() {
				g.literal |= bit
			}
			continue
		}
		if v.IsLiteral() != (g.literal&bit != 0) {
			g.unknown |= bit
		} else if h != g.vals[i] {
			g.varied |= bit
		}
	}
}

// noteArgs tells a new argument set from one seen before, and a repeat
// from a re-read after a write: epoch is the count of writes to the
// group's tables before this execution. The bloom word answers most
// "never seen" without a scan of the remembered hashes.
func (g *group) noteArgs(h uint64, epoch uint32) {
	bit := uint64(1) << (h >> 58)
	if g.bloom&bit != 0 {
		for _, a := range g.seen[:min(g.Distinct, maxDistinct)] {
			if a != h {
				continue
			}
			if !g.write && epoch != g.epochLast {
				g.Rereads++
				g.run = 1
				return
			}
			g.Repeats++
			if g.run++; g.run == 2 {
				g.dupRuns++
			}
			return
		}
	}
	if g.Distinct < maxDistinct {
		g.seen[g.Distinct] = h
		g.bloom |= bit
	}
	g.Distinct++
	g.run = 1
}

func (t *Trace) sampleEvent(g *group, r *rec, dur time.Duration) {
	if len(t.sample) >= maxSample {
		t.dropped++
		return
	}
	if t.sample == nil {
		t.sample = t.sampleBuf[:0]
	}
	s := sampled{start: r.start, dur: dur, rows: int32(min(r.rows, math.MaxInt32)), kind: r.kind, err: r.err != nil}
	if g != nil {
		s.group = int16(g.ID)
	}
	t.sample = append(t.sample, s)
}

// connError counts, in t and the traces t was started inside, a driver
// call that found no usable connection: see Report.ConnErrors. It is not
// an event: nothing ran.
func (t *Trace) connError() {
	for ; t != nil; t = t.parent {
		if t.pause != "" {
			continue
		}
		t.mu.Lock()
		if !t.finished {
			t.totals.connErrors++
			t.seq++ // a Snapshot being built is no longer the trace's
			t.snap = nil
		}
		t.mu.Unlock()
	}
}

// Finish ends the trace and returns its report. It is idempotent: later
// calls return the same report, and calls from several goroutines wait for
// the one report. Statements still running elsewhere when it is called are
// not part of the report.
func (t *Trace) Finish() *Report {
	t.once.Do(func() {
		end := time.Now()
		t.mu.Lock()
		t.finished = true
		if s := t.snap; s != nil {
			t.mu.Unlock()
			// Snapshot kept this copy for Finish alone: its caller
			// got another.
			s.Wall = end.Sub(s.Start)
			s.Unattributed = t.unattributed()
			t.report = s
			return
		}
		// Nothing changes a finished trace: the report is built from
		// its groups and sample in place.
		t.ownGroups()
		raw := t.rawLocked(end)
		t.mu.Unlock()
		t.report = raw.report()
		t.report.Unattributed = t.unattributed()
	})
	return t.report
}

// Snapshot returns a report of what t has recorded so far, without
// finishing it: for long-lived traces such as the database-wide fallback.
// After Finish it returns a copy of the finished report. Each report it
// returns is its caller's: changing one changes no other report.
func (t *Trace) Snapshot() *Report { return t.snapshot(false) }

// snapshot is Snapshot. With shared set, the report it returns is also
// the one Finish returns if nothing changes meanwhile, rather than a copy
// of it: for a caller, such as the Handler's Server-Timing, that reads it
// before Finish and never changes it.
func (t *Trace) snapshot(shared bool) *Report {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		if shared {
			return t.Finish()
		}
		return t.Finish().clone()
	}
	seq, name, det := t.seq, t.name, t.detector
	var r *Report
	if shared {
		// The report takes the trace's groups, as Finish's does, and
		// their frames under the lock; a statement that comes later
		// goes on with copies (detach), and classifying them below
		// only reads them.
		t.ownGroups()
		raw := t.rawLocked(time.Now())
		r = raw.extract(true)
		r.symbolize()
		t.lent = true
		t.mu.Unlock()
	} else {
		raw := t.rawLocked(time.Now())
		r = raw.extract(false)
		t.mu.Unlock()
		// A report built afresh by Finish has the trace's own events;
		// this one, a copy.
		r.sample = slices.Clone(r.sample)
		r.symbolize()
	}
	r.classify(det)
	r.Unattributed = t.unattributed()
	// When nothing changed while r was built, Finish reuses it: a copy,
	// since r is the caller's to change, made outside the lock that the
	// statements still running need.
	c := r
	if !shared {
		c = r.clone()
	}
	t.mu.Lock()
	if !t.finished && t.seq == seq && t.name == name && t.detector == det {
		t.snap = c
	}
	t.mu.Unlock()
	return r
}

// rename sets the name the trace's reports carry (and that Allow entries
// by route match), for a handler that learns its route after the trace
// started.
func (t *Trace) rename(name string) {
	t.mu.Lock()
	if name != t.name {
		t.name = name
		t.snap = nil
	}
	t.mu.Unlock()
}

// rawTrace is a trace's state as a report is built from it: its groups
// are read under the trace's lock (extract), and the rest of the report
// is built outside it, so that classifying groups never holds up the
// statements still being recorded (symbolizing their stacks, which is
// cached per call site, neither, but for the Handler's report: see
// snapshot).
type rawTrace struct {
	name     string
	start    time.Time
	at       time.Duration // start on the package clock
	end      time.Time
	detector *Detector
	totals   totals
	groups   []*group
	sample   []sampled
	dropped  int
}

// rawLocked returns t's state. The caller holds t.mu.
func (t *Trace) rawLocked(end time.Time) rawTrace {
	return rawTrace{
		name:     t.name,
		start:    t.start,
		at:       t.at,
		end:      end,
		detector: t.detector,
		totals:   t.totals,
		groups:   t.order,
		sample:   t.sample,
		dropped:  t.dropped,
	}
}
