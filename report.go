package querytrace

import (
	"cmp"
	"slices"
	"time"

	"github.com/querytrace/querytrace/internal/callstack"
	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// A Report is what a finished trace found: how many statements ran, how
// much database time they took, which ones, from where, and what repeats.
// It holds no argument values and no SQL literals.
//
// A report renders itself for people (String, WriteText), for programs
// (MarshalJSON, whose keys are its own and documented there, and
// MarshalFile for saved files) and for log/slog (LogValue); UnmarshalJSON
// and UnmarshalFile read it back whole.
type Report struct {
	// Name is the trace's name; Start and Wall when it started and how
	// long it ran until Finish (or Snapshot).
	Name  string
	Start time.Time
	Wall  time.Duration

	// DBTime is the time spent in driver calls, for queries until their
	// rows were closed.
	DBTime time.Duration

	// Statements counts the queries and execs that ran, direct, prepared
	// or inside a transaction. A pgx batch counts each of its statements,
	// and so does a text of several statements separated by ";" (as
	// MySQL's multiStatements runs them).
	// Prepares, Begins (transactions begun), Commits and Rollbacks are
	// counted on their own.
	Statements int
	Prepares   int
	Begins     int
	Commits    int
	Rollbacks  int

	// Rows is the number of rows read, or affected where the source
	// knows it cheaply.
	Rows int64

	// Errors counts the driver calls that failed, Canceled those of them
	// that failed because their context ended. A query whose rows failed
	// as they were read or closed failed.
	Errors   int
	Canceled int

	// ConnErrors counts the driver calls that found no usable
	// connection: a connect that failed, and a call that the driver
	// refused with driver.ErrBadConn (a statement, prepare, begin or
	// session reset), which ran nothing, so it is neither a statement nor
	// one of Errors. database/sql tries such a call again on another
	// connection, three times in all, except in a transaction or on a
	// sql.Conn; the application gets "driver: bad connection" when it
	// does not try again or every try failed, and then this count is not
	// zero. One try that failed before one that worked shows here too:
	// the database or the network is dropping connections.
	ConnErrors int

	// EventsKept is how many single events Events returns; EventsMissed
	// how many more the trace counted but did not keep.
	EventsKept   int
	EventsMissed int

	// Unattributed counts the statements that ran outside any trace, in
	// the whole process, while this trace was open: with a context that
	// carries no trace (context.Background(), or a framework's own
	// context such as gin's *gin.Context without ContextWithFallback) or
	// through a legacy call without one. They are not part of this
	// report and may belong to other work running at the same time; a
	// request with no Statements and some Unattributed most likely ran
	// its own statements without its context.
	Unattributed int

	// Groups are the statements grouped by shape and call site, the most
	// costly first.
	Groups []*Group

	// NPlusOne lists the N+1 patterns: one statement run again and again
	// from one call site with different arguments.
	NPlusOne []Finding

	// Duplicates lists statements repeated with the same arguments.
	Duplicates []Finding

	// Slow lists groups with a statement slower than Detector.Slow.
	Slow []Finding

	// Batched lists repeats whose executions were batches rather than a
	// loop's iterations: pages of a result (LIMIT/OFFSET or keyset),
	// chunks of many keys (an IN or VALUES list, an array), a loader's
	// batches of whatever keys were pending. They are reported for
	// information, not as a problem.
	Batched []Finding

	// Allowed lists repeats that would have been findings but for an
	// allow-list entry or a Pause, with its reason.
	Allowed []Finding

	// sample is the trace's sample of events, turned into EventSamples
	// only when Events asks: most reports are never looked at that
	// closely. at is the trace's start on the package clock. A report
	// read from JSON has its events instead.
	sample []sampled
	at     time.Duration
	events []EventSample
}

// A Group is the statements of a trace that share a shape and a call site.
type Group struct {
	// ID numbers the group in its report, in order of first appearance.
	ID int

	// Shape is the statements' normalized text (see Normalize), and
	// Fingerprint its hash (see Fingerprint).
	Shape       string
	Fingerprint uint64

	// Verb is the statement's verb: select, insert, update, delete, ...
	Verb string

	// Kind is the kind of the group's first event.
	Kind Kind

	// Dialect is the dialect its statements were read in: the driver
	// wrapper's (WithDialect, or guessed from the driver), or
	// DialectPostgres from the pgx tracer; DialectMySQL for
	// DialectMySQLANSIQuotes too. Fixes follow it.
	Dialect Dialect

	// (Beside Kind and Dialect, these take no room of their own.)
	arrayKeys bool // some execution carried its keys in an array
	listsVary bool // its executions' IN or VALUES lists were of other lengths

	// Count is how many times the group ran; Statements how many
	// statements that was (more than Count for pgx batches and texts of
	// several statements).
	Count      int
	Statements int

	// Distinct is the number of distinct argument sets seen (counted
	// exactly up to 16); Repeats the executions whose arguments had
	// been seen before in the group. Rereads are the executions of a
	// select whose arguments had been seen before but that ran after a
	// write (insert, update, delete) to a table it reads: fresh work,
	// not a repeat, and not in Repeats.
	Distinct int
	Repeats  int
	Rereads  int

	// Errors counts the executions that failed; Total is their summed
	// time and Max the longest.
	Errors int
	Total  time.Duration
	Max    time.Duration

	// Rows is the sum of the rows read; MinRows, MaxRows and LastRows
	// those of single executions.
	Rows     int64
	MinRows  int64
	MaxRows  int64
	LastRows int64

	// First is when the group's first statement started and Last when
	// its last one ended, from the start of the trace; FirstSeq and
	// LastSeq are their positions among the trace's events.
	First    time.Duration
	Last     time.Duration
	FirstSeq int
	LastSeq  int

	// Overlapped counts executions that started before the previous one
	// of the group had ended: concurrent fan-out, not a loop.
	Overlapped int

	// Stack is the application's own frames that issued the group, the
	// innermost first.
	Stack []Frame

	// Paused is the reason given to Pause, when the group ran under one,
	// and PausedCount how many of its executions did.
	Paused      string
	PausedCount int

	// Keys is how many keys (IN-list items or VALUES rows) the group's
	// first execution carried, when its shape has such a list, or the
	// most an array argument carried ("= any($1)"), whichever is more:
	// a repeat of 10 or more keys at a time is a batch run in chunks, not
	// an N+1.
	Keys int

	stack      *callstack.Stack     // the whole stack: FullStack, the loop's line
	lastStart  time.Duration        // when its last execution started, as First
	hashes     *[maxDistinct]uint64 // the argument hashes it remembers: see argHashes
	dupRuns    int                  // runs of one argument set between writes that repeated it
	epochFirst uint32               // writes to its tables before its first execution
	epochLast  uint32               // ... and before its last
	text       *sqlnorm.Info        // its first execution's text, read by the normalizer
	varied     uint32               // the values of Shape that varied: bit i for the ith "?"
	unknown    uint32               // ... and those not known to have or not
}

// argHashes returns the hashes of the argument sets g remembers: the
// first Distinct of them, maxDistinct at most.
func (g *Group) argHashes() []uint64 {
	if g.hashes == nil {
		return nil
	}
	return g.hashes[:min(g.Distinct, maxDistinct)]
}

// Mean returns the mean time of one execution.
func (g *Group) Mean() time.Duration {
	if g.Count == 0 {
		return 0
	}
	return g.Total / time.Duration(g.Count)
}

// CallSite returns the group's innermost application frame as
// Frame.String prints it, file, line and function
// ("store/items.go:42 store.(*DB).Items"), or "" when none is known.
func (g *Group) CallSite() string {
	if len(g.Stack) == 0 {
		return ""
	}
	return g.Stack[0].String()
}

// Events returns a bounded sample of the trace's single events, the first
// ones, in order, for a timeline; for a report read from JSON, the events
// it held. EventsKept says how many there are and EventsMissed how many
// more were not kept.
func (r *Report) Events() []EventSample {
	if r.sample == nil {
		return slices.Clone(r.events)
	}
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

// clone returns a copy of r that shares nothing its holder can change: its
// own groups and findings, the findings pointing at its own groups. What no exported field reaches (stacks, argument hashes, the
// sample of events) is only ever read, and shared.
func (r *Report) clone() *Report {
	c := *r
	own := make(map[*Group]*Group, len(r.Groups))
	if r.Groups != nil {
		c.Groups = make([]*Group, len(r.Groups))
	}
	for i, g := range r.Groups {
		ng := *g
		ng.Stack = slices.Clone(g.Stack)
		c.Groups[i], own[g] = &ng, &ng
	}
	to := func(g *Group) *Group {
		if n, ok := own[g]; ok {
			return n
		}
		return g
	}
	for _, l := range c.findingLists() {
		*l = slices.Clone(*l)
		for i := range *l {
			f := &(*l)[i]
			f.Group, f.Source = to(f.Group), to(f.Source)
			f.Others, f.Prepares = groupsTo(f.Others, to), groupsTo(f.Prepares, to)
			f.Loop, f.Below, f.Via = frameCopy(f.Loop), frameCopy(f.Below), frameCopy(f.Via)
		}
	}
	return &c
}

// findingLists returns r's lists of findings, to range over or to change.
func (r *Report) findingLists() []*[]Finding {
	return []*[]Finding{&r.NPlusOne, &r.Duplicates, &r.Slow, &r.Batched, &r.Allowed}
}

// groupsTo returns a new slice of the groups that to maps gs to, or nil.
func groupsTo(gs []*Group, to func(*Group) *Group) []*Group {
	if gs == nil {
		return nil
	}
	out := make([]*Group, len(gs))
	for i, g := range gs {
		out[i] = to(g)
	}
	return out
}

// frameCopy returns a pointer to a copy of *f, or nil.
func frameCopy(f *Frame) *Frame {
	if f == nil {
		return nil
	}
	c := *f
	return &c
}

// stackFrames is how many application frames a group keeps.
const stackFrames = 5

// report builds the report of a finished trace: symbolizes the groups'
// stacks, sorts them, and classifies them with the trace's detector. Its
// groups are the trace's own, which nothing changes any more.
func (raw *rawTrace) report() *Report {
	r := raw.extract(true)
	r.complete(raw.detector)
	return r
}

// extract returns the report's counts and groups as raw holds them. With
// own unset, it returns nothing that the trace goes on writing: a trace
// still recording (see Snapshot) holds its lock while extract copies its
// groups, and no longer; with own set, the report's groups are the
// trace's own, which a finished trace never changes and one that lends
// them no longer does (see Trace.detach). A group's argument hashes are
// shared either way: the trace only appends past the ones it had.
func (raw *rawTrace) extract(own bool) *Report {
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
		ConnErrors:   tt.connErrors,
		EventsKept:   len(raw.sample),
		EventsMissed: raw.dropped,
		Groups:       make([]*Group, len(raw.groups)),
	}
	var copies []Group
	if !own {
		copies = make([]Group, len(raw.groups)) // one allocation for every group
	}
	for i, g := range raw.groups {
		out := &g.Group
		if !own {
			copies[i] = g.Group
			out = &copies[i]
		}
		g.settle(out)
		r.Groups[i] = out
	}
	// The trace only appends past the events it had.
	r.sample, r.at = raw.sample, raw.at
	return r
}

// settle sets the fields of out, g's Group or a copy of it, that a report
// derives from what only the trace holds.
func (g *group) settle(out *Group) {
	out.Keys = max(int(g.keys), int(g.arrayMax))
	out.hashes = &g.seen
	out.arrayKeys = g.arrayMax > 0
	out.listsVary = g.keysMin != g.keysMax || g.argsMin != g.argsMax
}

// complete gives r's groups their application frames, and classifies and
// sorts them with d (nil: the zero Detector).
func (r *Report) complete(d *Detector) {
	r.symbolize()
	r.classify(d)
}

// symbolize gives r's groups their application frames.
func (r *Report) symbolize() {
	for _, g := range r.Groups {
		g.Stack = framesOf(g.stack.AppFrames(stackFrames))
	}
}

// classify fills r's findings with d (nil: the zero Detector) and sorts
// its groups, reading the groups and changing none of them.
func (r *Report) classify(d *Detector) {
	if d == nil {
		d = &Detector{}
	}
	d.classify(r)
	slices.SortStableFunc(r.Groups, func(a, b *Group) int { return cmp.Compare(b.Total, a.Total) })
	if reportBuilt != nil {
		reportBuilt(r)
	}
}

// reportBuilt, when set, sees every report as it is built: the package's
// tests check each one's findings against what ran.
var reportBuilt func(*Report)
