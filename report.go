package querytrace

import (
	"sort"
	"time"

	"github.com/querytrace/querytrace/internal/callstack"
)

// A Report is what a finished trace found: how many statements ran, how
// much database time they took, which ones, from where, and what repeats.
// It holds no argument values and no SQL literals.
type Report struct {
	Name  string        `json:"name"`
	Start time.Time     `json:"start"`
	Wall  time.Duration `json:"wall_ns"`

	// DBTime is the time spent in driver calls, for queries until their
	// rows were closed.
	DBTime time.Duration `json:"db_time_ns"`

	// Statements counts the queries and execs that ran, direct, prepared
	// or inside a transaction. A pgx batch counts each of its statements.
	Statements   int   `json:"statements"`
	Prepares     int   `json:"prepares"`
	Begins       int   `json:"begins"`
	Commits      int   `json:"commits"`
	Rollbacks    int   `json:"rollbacks"`
	Rows         int64 `json:"rows"`
	Errors       int   `json:"errors"`
	Canceled     int   `json:"canceled"`
	EventsKept   int   `json:"events_kept"`
	EventsMissed int   `json:"events_missed"`

	// Groups are the statements grouped by shape and call site, the most
	// costly first.
	Groups []*Group `json:"groups"`

	// NPlusOne lists the N+1 patterns: one statement run again and again
	// from one call site with different arguments.
	NPlusOne []Finding `json:"n_plus_one"`

	// Duplicates lists statements repeated with the same arguments.
	Duplicates []Finding `json:"duplicates"`

	// Slow lists groups with a statement slower than Detector.Slow.
	Slow []Finding `json:"slow"`

	// Batched lists repeats that read pages of a result (LIMIT/OFFSET or
	// keyset): reported for information, not as a problem.
	Batched []Finding `json:"batched"`

	// Allowed lists repeats that would have been findings but for an
	// allow-list entry or a Pause, with its reason.
	Allowed []Finding `json:"allowed"`

	// sample is the trace's sample of events, turned into EventSamples
	// only when Events asks: most reports are never looked at that
	// closely. at is the trace's start on the package clock.
	sample []sampled
	at     time.Duration
}

// A Group is the statements of a trace that share a shape and a call site.
type Group struct {
	// ID numbers the group in its report, in order of first appearance.
	ID          int    `json:"id"`
	Shape       string `json:"shape"`
	Fingerprint uint64 `json:"fingerprint"`

	// Verb is the statement's verb: select, insert, update, delete, ...
	Verb string `json:"verb"`

	// Kind is the kind of the group's first event.
	Kind Kind `json:"-"`

	// Dialect is the dialect its statements were read in: the driver
	// wrapper's (WithDialect, or guessed from the driver), or
	// DialectPostgres from the pgx tracer. Fixes follow it.
	Dialect Dialect `json:"-"`

	// Count is how many times the group ran; Statements how many
	// statements that was (more than Count for pgx batches).
	Count      int `json:"count"`
	Statements int `json:"statements"`

	// Distinct is the number of distinct argument sets seen (counted
	// exactly up to 16); Repeats the executions whose arguments had
	// been seen before in the group.
	Distinct int `json:"distinct_args"`
	Repeats  int `json:"repeated_args"`

	Errors int           `json:"errors"`
	Total  time.Duration `json:"total_ns"`
	Max    time.Duration `json:"max_ns"`

	// Rows is the sum of the rows read; MinRows, MaxRows and LastRows
	// those of single executions.
	Rows     int64 `json:"rows"`
	MinRows  int64 `json:"min_rows"`
	MaxRows  int64 `json:"max_rows"`
	LastRows int64 `json:"last_rows"`

	// First is when the group's first statement started and Last when
	// its last one ended, from the start of the trace; FirstSeq and
	// LastSeq are their positions among the trace's events.
	First    time.Duration `json:"first_ns"`
	Last     time.Duration `json:"last_ns"`
	FirstSeq int           `json:"first_seq"`
	LastSeq  int           `json:"last_seq"`

	// Overlapped counts executions that started before the previous one
	// of the group had ended: concurrent fan-out, not a loop.
	Overlapped int `json:"overlapped"`

	// Stack is the application's own frames that issued the group, the
	// innermost first.
	Stack []Frame `json:"stack"`

	// Paused is the reason given to Pause, when the group ran under one,
	// and PausedCount how many of its executions did.
	Paused      string `json:"paused,omitempty"`
	PausedCount int    `json:"paused_count,omitempty"`

	// Keys is how many keys (IN-list items or VALUES rows) the group's
	// first execution carried, when its shape has such a list: a repeat
	// of 10 or more keys at a time is a batch run in chunks, not an N+1.
	Keys int `json:"keys,omitempty"`

	stack     *callstack.Stack // the whole stack: FullStack, the loop's line
	lastStart time.Duration    // when its last execution started, as First
	args      []uint64         // the argument hashes it remembers
}

// Mean returns the mean time of one execution.
func (g *Group) Mean() time.Duration {
	if g.Count == 0 {
		return 0
	}
	return g.Total / time.Duration(g.Count)
}

// CallSite returns the group's innermost application frame as
// "dir/file.go:42", or "" when none is known.
func (g *Group) CallSite() string {
	if len(g.Stack) == 0 {
		return ""
	}
	f := g.Stack[0]
	return f.String()
}

// Events returns a bounded sample of the trace's single events, the first
// ones, in order, for a timeline. EventsKept says how many there are and
// EventsMissed how many more were not kept.
func (r *Report) Events() []EventSample {
	events := make([]EventSample, len(r.sample))
	for i, s := range r.sample {
		events[i] = EventSample{
			Kind:     s.kind.String(),
			Group:    int(s.group),
			Start:    s.start - r.at,
			Duration: s.dur,
			Rows:     int64(s.rows),
			Err:      s.err,
		}
	}
	return events
}

// An EventSample is one event of a report's timeline.
type EventSample struct {
	Kind     string        `json:"kind"`
	Group    int           `json:"group"` // Group.ID, or 0 for a transaction boundary
	Start    time.Duration `json:"start_ns"`
	Duration time.Duration `json:"duration_ns"`
	Rows     int64         `json:"rows"`
	Err      bool          `json:"error,omitempty"`
}

// stackFrames is how many application frames a group keeps.
const stackFrames = 5

// report builds the report of a raw trace: symbolizes the groups' stacks,
// sorts them, and classifies them with the trace's detector.
func (raw *rawTrace) report() *Report {
	tt := raw.totals
	r := &Report{
		Name:         raw.name,
		Start:        raw.start,
		Wall:         raw.end.Sub(raw.start),
		DBTime:       tt.dbTime,
		Statements:   tt.statements,
		Prepares:     tt.prepares,
		Begins:       tt.begins,
		Commits:      tt.commits,
		Rollbacks:    tt.rollbacks,
		Rows:         tt.rows,
		Errors:       tt.errors,
		Canceled:     tt.canceled,
		EventsKept:   len(raw.sample),
		EventsMissed: raw.dropped,
		Groups:       make([]*Group, len(raw.groups)),
	}
	for i, g := range raw.groups {
		r.Groups[i] = &Group{
			ID:          g.id,
			Shape:       g.shape,
			Fingerprint: g.fingerprint,
			Verb:        verbOf(g.shape),
			Kind:        g.kind,
			Dialect:     g.dialect,
			Count:       g.count,
			Statements:  g.statements,
			Distinct:    g.distinct,
			Repeats:     g.repeats,
			Errors:      g.errors,
			Total:       g.total,
			Max:         g.max,
			Rows:        g.rows,
			MinRows:     g.minRows,
			MaxRows:     g.maxRows,
			LastRows:    g.lastRows,
			First:       g.firstStart - raw.at,
			Last:        g.lastEnd - raw.at,
			FirstSeq:    g.firstSeq,
			LastSeq:     g.lastSeq,
			Overlapped:  g.overlapped,
			Stack:       framesOf(g.stack.AppFrames(stackFrames)),
			Paused:      g.paused,
			PausedCount: g.pausedCount,
			Keys:        g.keys,
			stack:       g.stack,
			lastStart:   g.lastStart - raw.at,
			args:        g.args[:min(g.distinct, maxDistinct)],
		}
	}
	r.sample, r.at = raw.sample, raw.at
	d := raw.detector
	if d == nil {
		d = &DefaultDetector
	}
	d.classify(r)
	sort.SliceStable(r.Groups, func(i, j int) bool { return r.Groups[i].Total > r.Groups[j].Total })
	return r
}
