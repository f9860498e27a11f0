package querytrace

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/querytrace/querytrace/internal/callstack"
	"github.com/querytrace/querytrace/internal/human"
	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// A Detector holds the thresholds and allow-lists that classify a trace's
// groups into findings. The zero value is what traces use unless told
// otherwise, for tests and development: it flags at 2 repeats with no time
// floor and calls a statement over 500ms slow. StagingDetector returns one
// for production-like traffic.
//
// A Detector is read, never written, when a report is built (at Finish or
// Snapshot, on the goroutine that calls them), so one Detector may be shared
// by any number of traces as long as nobody changes it meanwhile.
type Detector struct {
	// MinRepeats is how many times one group must run to be flagged as an
	// N+1 or a duplicate; zero means 2.
	MinRepeats int

	// MinTotal is the least total time of a group to be flagged as an N+1
	// or a duplicate: below it a repeat is too cheap to be worth a log
	// line. Zero means no floor.
	MinTotal time.Duration

	// Slow flags a group whose slowest statement took longer; zero means
	// 500ms.
	Slow time.Duration

	// Dialect words the fixes: DialectPostgres suggests "= any($1)" with
	// an array where the others suggest "in (...)". The zero value,
	// DialectGeneric, follows each group's own dialect (the driver's, or
	// PostgreSQL for the pgx tracer) and, where that is generic too,
	// guesses PostgreSQL from the shape ("::" casts, ILIKE, RETURNING,
	// ANY(...)).
	Dialect Dialect

	// Allow lists known and accepted repeats. Each entry needs a Reason;
	// an entry without one is not applied (see Allow).
	Allow []Allow
}

// An Allow entry exempts matching groups from N+1 and duplicate findings:
// they move to Report.Allowed with the entry's Reason. A group matches when
// every non-empty one of CallSite, Shape, Table and Route matches; an entry
// with none of them set matches nothing, so that a half-written entry never
// allows everything.
//
// The Reason is mandatory. An entry without one is not applied: the finding
// it matches stays where it is and its Finding.Reason says that an allow
// entry matched but lacks a reason, so the omission shows in every report
// instead of silently hiding a problem. Detector.Check lists such entries
// up front.
type Allow struct {
	// CallSite is a substring of one of the group's frames as
	// Frame.String prints it ("store/items.go:42 store.(*DB).Items"), or
	// of its full file path and line ("/src/app/store/items.go:42").
	CallSite string

	// Shape is a substring of the group's normalized shape, such as
	// "from feature_flags".
	Shape string

	// Table is a table the statement reads or writes, without quotes;
	// "public.users" and "users" both match a statement on public.users.
	Table string

	// Route is the trace's name, exactly, such as "GET /healthz".
	Route string

	// Reason says why the repeat is accepted; reports show it.
	Reason string
}

// StagingDetector returns a new Detector for logs in staging, where a
// repeat is worth a warning only when it costs: it flags a group at 5
// repeats and 50ms of total time. Each call returns a fresh Detector, so
// that an allow-list added to one is seen by no other.
func StagingDetector() *Detector {
	return &Detector{MinRepeats: 5, MinTotal: 50 * time.Millisecond, Slow: 500 * time.Millisecond}
}

// A FindingKind names a class of finding.
type FindingKind string

// The classes of findings.
const (
	FindingNPlusOne  FindingKind = "n+1"
	FindingDuplicate FindingKind = "duplicate"
	FindingSlow      FindingKind = "slow"
	FindingBatched   FindingKind = "batched"
)

// A Finding is one problem (or, for batched reads, one observation) in a
// report. Its JSON encoding (see Report.MarshalJSON) names its group and
// source by id, shape and call site rather than in full.
type Finding struct {
	Kind  FindingKind
	Group *Group

	// Count and Total are the group's executions and time.
	Count int
	Total time.Duration

	// Source is, for an N+1, the earlier query whose rows the loop was
	// most likely iterating, or nil; PerRow is how many times the loop
	// ran per row of it (2 for two COUNTs per row).
	Source *Group
	PerRow int

	// Loop is, for an N+1 or a duplicate, the application's line inside
	// the loop that repeated the statement: the call in the loop's body,
	// which may be several calls above the statement's own line (the
	// group's CallSite), or the go statement that a loop ran once per
	// row. It is named only where something shows the loop: the Go
	// source, where it is present, shows the for statement that encloses
	// a line of the stack; else a statement that ran outside the loop
	// shows where the stacks part; else, where the source shows that the
	// application does not loop and that the one library that calls back
	// into it does, around the call back, the line is the call of that
	// library. Otherwise it is nil (see Below), and so it is when no stack
	// was captured.
	Loop *Frame

	// Below is, when Loop is nil, the outermost application frame of the
	// group's stack (the handler, a middleware, the test): every
	// repetition ran below it, and nothing tells more.
	Below *Frame

	// Via is, where another finding's group prints the same frames (one
	// statement reached along two paths), the application's frame where
	// this group's path parts from the others': the line that tells them
	// apart.
	Via *Frame

	// Others are, for a duplicate found across call sites, the other
	// groups that ran the statement with the same arguments; Count and
	// Total then cover them all.
	Others []*Group

	// Prepares are, for an N+1 or a duplicate, the groups that prepared
	// its statement in the same function (a prepare per execution, as
	// database/sql does when the driver takes no query without one):
	// their time is in Total, their prepares are not in Count, and each
	// names the finding's group in Serves.
	Prepares []*Group

	// Fix says how to remove the finding, by the statement's shape. It
	// holds no literal values: shapes have none.
	Fix string

	// ORMFix is, for an N+1 whose statements GORM, bun, ent, sqlx or sqlc
	// issued (as the frames between the application's and the driver's
	// tell), the same fix in that library's own API, after its name:
	// "GORM: Preload(\"Posts\") on the query of users ...", "sqlx:
	// query, args, err := sqlx.In(...)". It is "" for other statements,
	// where the library has no way of its own, and when no stack was
	// captured.
	ORMFix string

	// Reason is, for an allowed finding, why it is allowed: the allow
	// entry's Reason or "paused: " and the reason given to Pause. For a
	// finding that an allow entry without a reason matched, it says so.
	Reason string
}

// CallSite returns the innermost application frame of the finding's group,
// as Group.CallSite does, or "" when none is known.
func (f Finding) CallSite() string {
	if f.Group == nil {
		return ""
	}
	return f.Group.CallSite()
}

// LoopSite returns the line of the loop (Loop) as Frame.String prints it,
// when it is another line than the call site, or "": what the text report
// and the debug page show as "in the loop at".
func (f Finding) LoopSite() string {
	if f.Loop == nil || f.Group != nil && len(f.Group.Stack) > 0 && *f.Loop == f.Group.Stack[0] {
		return ""
	}
	return f.Loop.String()
}

// prepares returns how many prepares the finding's Total includes.
func (f Finding) prepares() int {
	n := 0
	for _, p := range f.Prepares {
		n += p.Count
	}
	return n
}

// String returns the finding on one line: kind, count, time, shape, call
// site and source. It holds no argument values.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d× %s", f.Kind, f.Count, human.Duration(f.Total))
	if n := f.prepares(); n > 0 {
		fmt.Fprintf(&b, " (%s included)", human.Plural(n, "prepare", "prepares"))
	}
	if f.Group != nil {
		if f.Kind == FindingSlow {
			fmt.Fprintf(&b, " (max %s)", human.Duration(f.Group.Max))
		}
		fmt.Fprintf(&b, " %s", human.Clip(f.Group.Shape, 80))
		if s := f.Group.CallSite(); s != "" {
			fmt.Fprintf(&b, " at %s", s)
		}
		if s := f.LoopSite(); s != "" {
			fmt.Fprintf(&b, " in the loop at %s", s)
		}
		if f.Below != nil {
			fmt.Fprintf(&b, " repeated below %s", f.Below)
		}
		if f.Via != nil {
			fmt.Fprintf(&b, " via %s", f.Via)
		}
	}
	for _, o := range f.Others {
		if s := o.CallSite(); s != "" {
			fmt.Fprintf(&b, " and at %s", s)
		}
	}
	if f.Source != nil {
		fmt.Fprintf(&b, "; source #%d (%d rows)", f.Source.ID, f.Source.Rows)
		if s := f.Source.CallSite(); s != "" {
			fmt.Fprintf(&b, " at %s", s)
		}
	}
	if f.Reason != "" {
		fmt.Fprintf(&b, "; %s", f.Reason)
	}
	return b.String()
}

// Check reports the allow entries that cannot apply: those without a
// Reason and those that name nothing to match. Call it where a detector is
// configured (at start-up, in a test) to fail early; classification does
// not need it, since it refuses such entries loudly on its own.
func (d *Detector) Check() error {
	var bad []string
	for i, a := range d.Allow {
		switch {
		case a.Reason == "":
			bad = append(bad, fmt.Sprintf("entry %d (%s) has no Reason", i, a.describe()))
		case a.CallSite == "" && a.Shape == "" && a.Table == "" && a.Route == "":
			bad = append(bad, fmt.Sprintf("entry %d (reason %q) names no CallSite, Shape, Table or Route", i, a.Reason))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("querytrace: Detector.Allow: %s; such entries are not applied", strings.Join(bad, "; "))
}

func (d *Detector) minRepeats() int {
	if d.MinRepeats <= 0 {
		return 2
	}
	return d.MinRepeats
}

func (d *Detector) slow() time.Duration {
	if d.Slow <= 0 {
		return 500 * time.Millisecond
	}
	return d.Slow
}

// maxPerRow is the largest number of executions per source row that still
// names a source: two COUNTs per row is common, ten is a coincidence.
const maxPerRow = 4

// minMultipleRows is the fewest rows of a source that a loop ran several
// times per row: four executions over two rows are as likely a loop over
// two rows and two more things (a bookmark's tags and two new ones) as
// twice per row.
const minMultipleRows = 3

// maxFanOut is the largest group whose overlapping executions count as a
// fixed fan-out rather than a loop run in parallel. Executions of one group
// share their whole stack, so they were started by one go statement run
// again and again: by a loop. Only one over a list written out by hand (a
// handful of keys) is fixed; one over a list resolved concurrently, as
// gqlgen resolves each element of a list in a goroutine of its own, has as
// many executions as the list has elements.
const maxFanOut = 4

// classify fills r's findings from its groups. It only reads the groups
// (but for Serves, which it sets anew), and starts from empty lists, so
// calling it again (after renaming the report, say) gives the same answer
// for the new name.
//
// An execution belongs to at most one finding of repeats (N+1, duplicate,
// batched, or one of these allowed): a group repeated with other
// arguments is an N+1 or a batch; one repeated with the same arguments is
// a duplicate, on its own or, where other call sites ran the same
// arguments, one duplicate with them. A slow finding is about one
// execution's time and stands beside those.
func (d *Detector) classify(r *Report) {
	r.NPlusOne, r.Duplicates, r.Slow, r.Batched, r.Allowed = nil, nil, nil, nil, nil
	judged := make(map[*Group]bool)
	var same []*Group // one argument set repeated: duplicates, filed with the other sites'
	for _, g := range r.Groups {
		g.Serves = nil
		if g.Statements == 0 || g.Shape == otherShape {
			// A prepare on its own is no statement; the overflow group
			// mixes unrelated statements.
			continue
		}
		if g.Max > d.slow() {
			f := Finding{Kind: FindingSlow, Group: g, Count: g.Count, Total: g.Total,
				Fix: slowFix(g)}
			if g.Paused != "" {
				f.Reason = "paused: " + g.Paused
				r.Allowed = append(r.Allowed, f)
			} else {
				r.Slow = append(r.Slow, f)
			}
		}
		// A failed execution and its retry are not a repeat.
		if g.Count-g.Errors < d.minRepeats() || g.Total < d.MinTotal || !repeatable(g.Verb) {
			continue
		}
		if g.Distinct <= 1 {
			same = append(same, g)
			continue
		}
		judged[g] = true
		f := Finding{Group: g, Count: g.Count, Total: g.Total}
		switch {
		case isPaged(g):
			f.Kind = FindingBatched
			f.Fix = batchedFix(g)
			r.Batched = append(r.Batched, f)
			continue
		case g.Keys >= minBatchKeys:
			f.Kind = FindingBatched
			f.Fix = chunkFix(g)
			r.Batched = append(r.Batched, f)
			continue
		default:
			f.Source, f.PerRow = findSource(r.Groups, g)
			if f.Source == nil && g.Keys >= 2 && keysOnly(g.Shape) {
				// A statement whose one argument is a list of keys, run
				// with several at a time and over no rows, is a batch of
				// whatever keys were pending (a dataloader's), however
				// few: a loop over rows passes each row's keys, once per
				// row, and a loop over other keys passes one at a time.
				f.Kind = FindingBatched
				f.Fix = chunkFix(g)
				r.Batched = append(r.Batched, f)
				continue
			}
			if (f.Source == nil || !mayLoop(g)) && pendingKeys(g) {
				// With a source, only where no loop over its rows could
				// have run the batches: a query of as many rows as a
				// loader fired batches is a coincidence.
				f.Kind, f.Source, f.PerRow = FindingBatched, nil, 0
				f.Fix = "takes its keys in an IN list, as many as were pending each time (a dataloader's batches): a batch, not an N+1"
				r.Batched = append(r.Batched, f)
				continue
			}
			if f.Source == nil && isFanOut(g) {
				continue
			}
			f.Kind = FindingNPlusOne
			f.Fix, f.ORMFix = loopFix(g, f.Source, d.fixDialect(g))
			f.Loop, f.Below = loopFrame(r.Groups, g, f.Source)
		}
		d.file(r, f)
	}
	d.duplicates(r, judged, same)
	foldPrepares(r)
	setVia(r)
	for _, l := range [][]Finding{r.NPlusOne, r.Duplicates, r.Slow, r.Batched, r.Allowed} {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Total > l[j].Total })
	}
}

// file adds f to the findings, or to the allowed ones for the executions
// that ran under Pause or that an allow entry matches. Pause covers only
// what it paused: the group's other executions stay a finding when they
// are enough of a repeat on their own.
func (d *Detector) file(r *Report, f Finding) {
	g := f.Group
	if paused := g.PausedCount; paused > 0 {
		a := f
		a.Count, a.Total = paused, share(g, paused)
		a.Reason = "paused: " + g.Paused
		r.Allowed = append(r.Allowed, a)
		f.Count, f.Total = g.Count-paused, g.Total-a.Total
		if f.Count-g.Errors < d.minRepeats() || f.Total < d.MinTotal {
			return
		}
	}
	if d.allow(r, &f) {
		return
	}
	if f.Kind == FindingNPlusOne {
		r.NPlusOne = append(r.NPlusOne, f)
	} else {
		r.Duplicates = append(r.Duplicates, f)
	}
}

// share is the part of g's time that n of its executions took, at its
// mean.
func share(g *Group, n int) time.Duration {
	if g.Count == 0 {
		return 0
	}
	return g.Total * time.Duration(n) / time.Duration(g.Count)
}

// duplicates files the duplicates: first those that span call sites, one
// shape run with the same arguments from two stacks, such as the current
// user loaded by a page's header and again by its body (a duplicate is
// about the database's work, not the stack); then the groups of same
// that repeated their one argument set on their own. A group is in one
// duplicate at most: a loop that repeats the header's lookup is one
// duplicate with the header's, which counts each execution once. Groups
// judged an N+1 or a batch are left out (their fix is another).
func (d *Detector) duplicates(r *Report, judged map[*Group]bool, same []*Group) {
	shared := make(map[*Group]bool)
	for _, set := range crossSiteSets(r.Groups, judged) {
		for _, g := range set.groups {
			shared[g] = true
		}
		d.fileCrossSite(r, r.Groups, set)
	}
	for _, g := range same {
		if shared[g] {
			continue
		}
		f := Finding{Kind: FindingDuplicate, Group: g, Count: g.Count, Total: g.Total}
		if g.Rereads > 0 {
			// Only the runs between writes that repeated the arguments
			// are a duplicate: a re-read after a write is fresh work.
			f.Count = g.Repeats + g.dupRuns
			f.Total = share(g, f.Count)
			if f.Count < d.minRepeats() || f.Total < d.MinTotal {
				continue
			}
		}
		f.Fix = duplicateFix(g, f.Count)
		f.Loop, f.Below = loopFrame(r.Groups, g, nil)
		d.file(r, f)
	}
}

// A siteSet is the groups that ran one shape with the same arguments from
// several call sites, with no write to the shape's tables between them;
// split tells that the same arguments ran again elsewhere in the trace
// after such a write.
type siteSet struct {
	groups []*Group
	split  bool
}

// crossSiteSets returns the sets of groups that ran a shape with the same
// arguments from several call sites, each group in one set at most, in
// the order of groups.
func crossSiteSets(groups []*Group, judged map[*Group]bool) []siteSet {
	type key struct{ fp, args uint64 }
	sites := make(map[key][]*Group)
	var keys []key
	for _, g := range groups {
		if g.Statements == 0 || g.Shape == otherShape || !repeatable(g.Verb) || g.Count == g.Errors ||
			judged[g] && g.Distinct > 1 {
			continue
		}
		for _, a := range g.args {
			// Values written into the text are in a too: the
			// normalizer's hash of them is folded into the arguments'.
			k := key{g.Fingerprint, a}
			if len(sites[k]) == 0 {
				keys = append(keys, k)
			}
			sites[k] = append(sites[k], g)
		}
	}
	var sets []siteSet
	done := make(map[*Group]bool)
	for _, k := range keys {
		gs := sites[k]
		if len(gs) < 2 {
			continue
		}
		clusters := betweenWrites(gs)
		for _, c := range clusters {
			var all []*Group
			for _, g := range c {
				if !done[g] {
					all = append(all, g)
				}
			}
			if len(all) < 2 {
				continue
			}
			split := len(clusters) > 1
			for _, g := range all {
				done[g] = true
				split = split || g.epochFirst != g.epochLast
			}
			sets = append(sets, siteSet{groups: all, split: split})
		}
	}
	return sets
}

// betweenWrites splits groups (in the report's order) into those that ran
// with no write to their tables between them: as many such writes came
// before their first executions. A group whose executions straddle writes
// (which of them ran the shared arguments is not known) joins the others
// by its first.
func betweenWrites(groups []*Group) [][]*Group {
	var out [][]*Group
	at := make(map[uint32]int)
	for _, g := range groups {
		i, ok := at[g.epochFirst]
		if !ok {
			i = len(out)
			at[g.epochFirst] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], g)
	}
	return out
}

// sharedRuns returns how many executions of g, a group of a duplicate
// across sites, are known to have run with the shared arguments: all of
// a group that saw no other and no write between its executions, else at
// least one.
func sharedRuns(g *Group) int {
	if g.Distinct <= 1 && g.epochFirst == g.epochLast {
		return g.Count - g.Errors
	}
	return 1
}

// fileCrossSite files one duplicate across the call sites of a set. Its
// Group is the set's group that ran the arguments most (the first of
// those), the loop where one repeated them on its own; Others are the
// rest.
func (d *Detector) fileCrossSite(r *Report, groups []*Group, set siteSet) {
	head := set.groups[0]
	for _, g := range set.groups {
		if sharedRuns(g) > sharedRuns(head) {
			head = g
		}
	}
	f := Finding{Kind: FindingDuplicate, Group: head}
	for _, g := range set.groups {
		if g != head {
			f.Others = append(f.Others, g)
		}
		n := sharedRuns(g)
		f.Count += n
		f.Total += share(g, n)
	}
	if f.Count < d.minRepeats() || f.Total < d.MinTotal {
		return
	}
	if sharedRuns(head) > 1 {
		f.Loop, f.Below = loopFrame(groups, head, nil)
	}
	f.Fix = crossSiteFix(set)
	for _, g := range set.groups {
		if g.Paused != "" && g.PausedCount == g.Count {
			f.Reason = "paused: " + g.Paused
			r.Allowed = append(r.Allowed, f)
			return
		}
	}
	if !d.allow(r, &f) {
		r.Duplicates = append(r.Duplicates, f)
	}
}

// allow files f as allowed when an allow entry with a reason matches its
// group, and reports whether it did. A matching entry without a reason is
// not applied: f's Reason says so.
func (d *Detector) allow(r *Report, f *Finding) bool {
	switch a := d.match(r.Name, f.Group); {
	case a == nil:
	case a.Reason == "":
		f.Reason = "an allow entry (" + a.describe() + ") matched but has no Reason, so it is not applied"
	default:
		f.Reason = a.Reason
		r.Allowed = append(r.Allowed, *f)
		return true
	}
	return false
}

// crossSiteFix says how to remove a duplicate that spans call sites.
func crossSiteFix(set siteSet) string {
	groups := set.groups
	s := "the same " + groups[0].Verb + " with the same arguments ran from " + strconv.Itoa(len(groups)) + " call sites"
	if at := siteNames(groups); len(at) > 0 {
		s += " (" + strings.Join(at, "; ") + ")"
	}
	if set.split {
		return s + " with no write to " + strings.Join(tablesOf(groups[0].Shape), ", ") +
			" between them: run it once and reuse the result until the next write"
	}
	if groups[0].Verb == "select" {
		return s + ": run it once and pass the result along, or memoize it for the request"
	}
	return s + ": run it once"
}

// siteNames names the call sites of groups, those known, so that each
// reads apart from the others: its call site, or where two groups share
// that line (one helper called from several places), the frame where its
// stack parts from theirs, the caller that differs.
func siteNames(groups []*Group) []string {
	var names []string
	for _, g := range groups {
		site := g.CallSite()
		if site == "" {
			continue
		}
		var at callstack.Frame
		depth := -1
		for _, o := range groups {
			if o == g || o.CallSite() != site || g.stack == nil || o.stack == nil {
				continue
			}
			if f, dd, ok := g.stack.Fork(o.stack); ok && dd > depth {
				at, depth = f, dd
			}
		}
		if depth >= 0 {
			site = Frame(at).String()
		}
		names = append(names, site)
	}
	return names
}

// chunkFix is the fix of a repeat that already runs many keys at a time.
func chunkFix(g *Group) string {
	if g.arrayKeys {
		return fmt.Sprintf("takes its keys as an array, up to %d at a time: a batch (a dataloader's), not an N+1", g.Keys)
	}
	return fmt.Sprintf("runs %d keys at a time (an IN or VALUES list): a batch in chunks, not an N+1", g.Keys)
}

// foldPrepares adds to each N+1 and duplicate the groups that prepared its
// statement: the same shape, prepared in the function that holds its
// loop (or, with no loop known, in the function that ran it). A prepare
// per execution is part of the loop's cost.
func foldPrepares(r *Report) {
	for _, l := range []*[]Finding{&r.NPlusOne, &r.Duplicates, &r.Allowed} {
		for i := range *l {
			f := &(*l)[i]
			if f.Kind != FindingNPlusOne && f.Kind != FindingDuplicate {
				continue
			}
			fn := ""
			if f.Loop != nil {
				fn = f.Loop.Function
			} else if len(f.Group.Stack) > 0 {
				fn = f.Group.Stack[0].Function
			}
			for _, p := range r.Groups {
				if p.Kind != KindPrepare || p.Serves != nil || p.Fingerprint != f.Group.Fingerprint || fn == "" ||
					!slices.ContainsFunc(p.Stack, func(fr Frame) bool { return fr.Function == fn }) {
					continue
				}
				p.Serves = f.Group
				f.Prepares = append(f.Prepares, p)
				f.Total += p.Total
			}
		}
	}
}

// loopFrame returns the application's line inside the loop that
// repeated g, or, when nothing shows a loop, the frame every repetition
// ran below. Three things show a loop, each where the one before it says
// nothing:
//
//   - The Go source, where it is present, shows the for statement that
//     encloses a line of g's stack (in the function that runs the
//     statement, or in one of its callers).
//   - A statement that ran outside the loop shows where the path to g's
//     statement leaves the path to it: the loop's source query is the
//     surest such statement (the loop iterates its rows); else the groups
//     that started before the loop's first execution or after its last,
//     the one whose path stays with g's the longest. That fork also bounds
//     the search of the source: a loop above it would have repeated the
//     other statement too.
//   - Where the source of every application frame is present and none
//     loops, the repetition is in code that is not the application's: if
//     one library alone calls back into the application on g's path
//     (pgx.ForEachRow) and its own source shows a for statement around
//     the call back, the loop is that library's, and its line is the call
//     of it. Code that calls back once (a GraphQL executor's field code
//     below the application's directive) is no loop.
//
// Otherwise the outermost application frame (the handler, a middleware,
// the test) is all that is known: every repetition ran below it.
func loopFrame(groups []*Group, g, source *Group) (loop, below *Frame) {
	if g.stack == nil || g.stack.Len() == 0 {
		return nil, nil
	}
	fork, forked := forkOf(groups, g, source)
	var stop *callstack.Frame
	if forked {
		stop = &fork
	}
	f, found, complete := g.stack.SourceLoop(stop)
	switch {
	case found:
		return framePtr(f), nil
	case forked:
		return framePtr(fork), nil
	case complete:
		if f, ok := g.stack.LoopingCallback(); ok {
			return framePtr(f), nil
		}
	}
	if f, ok := g.stack.Outermost(); ok {
		return nil, framePtr(f)
	}
	return nil, nil
}

// forkOf returns the application's frame where g's path leaves that of a
// statement that ran outside g's loop: its source's, else the nearest of
// the groups that ran wholly before or after it.
func forkOf(groups []*Group, g, source *Group) (callstack.Frame, bool) {
	if source != nil && source.stack != nil {
		if f, _, ok := g.stack.Fork(source.stack); ok {
			return f, true
		}
	}
	var best callstack.Frame
	depth, tried := -1, 0
	for _, o := range groups {
		if o == g || o.stack == nil || o.stack == g.stack || o.Shape == otherShape ||
			o.lastStart >= g.First && o.First <= g.lastStart {
			continue
		}
		// The prepares of g's own statement ran in its loop, even where
		// they all started before its first execution (a goroutine per
		// row, each preparing before it runs).
		if o.Kind == KindPrepare && o.Fingerprint == g.Fingerprint {
			continue
		}
		if tried++; tried > maxForks {
			break
		}
		if f, dd, ok := g.stack.Fork(o.stack); ok && (depth < 0 || dd < depth) {
			best, depth = f, dd
		}
	}
	return best, depth >= 0
}

// maxForks bounds the statements outside a loop that loopFrame compares
// its stack with, so that a report of a thousand groups stays cheap.
const maxForks = 64

func framePtr(f callstack.Frame) *Frame {
	fr := Frame(f)
	return &fr
}

// otherShape is the shape of the group a trace folds statements into once
// it holds maxGroups groups (see tracer.go).
const otherShape = "(other statements)"

// repeatable reports whether a repeat of a statement with this verb can be
// a problem. Transaction control and session settings repeat by design.
func repeatable(verb string) bool {
	switch verb {
	case "select", "insert", "update", "delete":
		return true
	}
	return false
}

// postgres tells whether fixes for g should use PostgreSQL's wording: the
// detector's dialect when set, else the one g's statements were read in,
// else what the shape tells.
func (d *Detector) postgres(g *Group) bool {
	switch {
	case d.Dialect == DialectPostgres:
		return true
	case d.Dialect != DialectGeneric:
		return false
	case g.Dialect == DialectPostgres:
		return true
	case g.Dialect != DialectGeneric:
		return false
	}
	for _, tell := range []string{"::", " ilike ", " returning ", "any(", " distinct on", "array["} {
		if strings.Contains(g.Shape, tell) {
			return true
		}
	}
	return false
}

// match returns the first allow entry that matches g in a trace named
// route, with or without a reason, or nil.
func (d *Detector) match(route string, g *Group) *Allow {
	for i := range d.Allow {
		if a := &d.Allow[i]; a.matches(route, g) {
			return a
		}
	}
	return nil
}

func (a *Allow) matches(route string, g *Group) bool {
	if a.CallSite == "" && a.Shape == "" && a.Table == "" && a.Route == "" {
		return false
	}
	if a.Route != "" && a.Route != route {
		return false
	}
	if a.Shape != "" && !strings.Contains(g.Shape, strings.ToLower(a.Shape)) {
		return false
	}
	if a.Table != "" && !MentionsTable(g.Shape, a.Table) {
		return false
	}
	if a.CallSite != "" && !frameMatches(g.Stack, a.CallSite) {
		return false
	}
	return true
}

// describe names an entry by its criteria, for messages.
func (a *Allow) describe() string {
	var parts []string
	for _, kv := range [][2]string{{"CallSite", a.CallSite}, {"Shape", a.Shape}, {"Table", a.Table}, {"Route", a.Route}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+strconv.Quote(kv[1]))
		}
	}
	if len(parts) == 0 {
		return "no criteria"
	}
	return strings.Join(parts, ", ")
}

func frameMatches(stack []Frame, s string) bool {
	for _, f := range stack {
		if strings.Contains(f.String(), s) || strings.Contains(f.File+":"+strconv.Itoa(f.Line), s) {
			return true
		}
	}
	return false
}

// isPaged reports whether g reads a result page by page: a LIMIT (or
// FETCH) in the shape, and every execution but the last returned the same
// number of rows, at least two. The sum tells: each execution returned at
// most MaxRows, so Rows == (Count-1)*MaxRows + LastRows only if all but
// the last returned exactly MaxRows. A page of one row is not paging: it
// is what a per-row "LIMIT 1" lookup looks like.
func isPaged(g *Group) bool {
	if g.Verb != "select" || g.MaxRows < 2 {
		return false
	}
	if !hasWord(g.Shape, "limit") && !hasWord(g.Shape, "fetch") {
		return false
	}
	return g.Rows-g.LastRows == int64(g.Count-1)*g.MaxRows
}

// keysOnly reports whether a shape's one argument is a list of keys: an IN
// list or "= any(?)", and no other placeholder or literal.
func keysOnly(shape string) bool {
	return strings.Count(shape, "?") == 1 && strings.Count(shape, " in (?)")+strings.Count(shape, " any(?)") == 1
}

// pendingKeys reports whether g's executions, over no rows, differed only
// in their lists of keys, and those lists in length: the batches of a
// loader that runs for whatever keys are pending as its callers come (one,
// then three, then two), beside conditions that are the same in every
// batch ("and purpose in (?)", "and favorite = ?"). A loop over other keys
// passes one at a time, and one whose other values change with each key
// is an N+1 however many keys each execution carries. Only values that
// were compared tell: a shape with more than sqlnorm.MaxValues values, or
// with one not known by position (a named placeholder), is no batch.
// Where a query of as many rows ran before, classify takes it for the
// batches' source only if a loop over its rows shows (mayLoop): else a
// resolver run per element in goroutines of a GraphQL executor's, passing
// each element's list of keys, reads as batches too.
func pendingKeys(g *Group) bool {
	if !g.listsVary || g.text == nil || g.text.NValues > sqlnorm.MaxValues {
		return false
	}
	lists := keyLists(g.Shape)
	return lists != 0 && (g.varied|g.unknown)&^lists == 0
}

// mayLoop reports whether g's stack may hold a loop over a source's
// rows: the Go source shows one of the application's, or one of the
// library that calls back into it, or the source of an application frame
// is absent, which hides what it does. A loader's batches run from its
// own goroutines, below no loop of the application's.
func mayLoop(g *Group) bool {
	if g.stack == nil {
		return true
	}
	if _, found, complete := g.stack.SourceLoop(nil); found || !complete {
		return true
	}
	_, ok := g.stack.LoopingCallback()
	return ok
}

// keyLists returns a bit for each "?" of shape, among the first
// sqlnorm.MaxValues, that stands for a list of keys: the one item of
// "in (?)", or the array of "any(?)".
func keyLists(shape string) uint32 {
	var bits uint32
	var before [2]string // the two tokens before the current one
	n := 0
	for i := 0; ; {
		var tok string
		if tok, i = shapeToken(shape, i); tok == "" {
			return bits
		}
		if tok == "?" {
			if next, _ := shapeToken(shape, i); next == ")" && before[1] == "(" &&
				(before[0] == "in" || before[0] == "any") && n < sqlnorm.MaxValues {
				bits |= 1 << n
			}
			n++
		}
		before[0], before[1] = before[1], tok
	}
}

// isFanOut reports whether g's executions all ran at once, a handful of
// them: a fixed set of lookups issued concurrently, not a loop.
func isFanOut(g *Group) bool {
	return g.Count <= maxFanOut && g.Overlapped >= g.Count-1
}

// findSource returns the group whose rows loop most likely iterated, and
// how many executions of loop ran per row. A candidate is a query that
// started before the loop's first execution (a query's rows may still be
// open while the loop runs: what counts is when it started) and read
// R ≥ 2 rows, more than one in some execution, with loop.Count == k*R for
// some k ≤ maxPerRow (only k == 1 over fewer than minMultipleRows rows).
// A statement that returned at most one row each time
// has no rows to iterate: a statement of the loop's own iterations, such
// as an "insert ... returning id" before each dependent insert, never
// becomes the source. One execution per row comes first (in a loop over
// a loop, per post, per comment, the author's source is the comments
// query), then queries that ran once, then the nearest to the loop.
//
// With no such query, a loop may still have iterated rows it did not
// run once for each (see thinSource).
func findSource(groups []*Group, loop *Group) (*Group, int) {
	var best *Group
	bestK := 0
	better := func(g *Group, k int) bool {
		if best == nil {
			return true
		}
		if (k == 1) != (bestK == 1) {
			return k == 1
		}
		if (g.Count == 1) != (best.Count == 1) {
			return g.Count == 1
		}
		return startedBefore(best, g)
	}
	for _, g := range groups {
		if !rowSource(g, loop) {
			continue
		}
		n := int64(loop.Count)
		if n%g.Rows != 0 || n/g.Rows > maxPerRow || n/g.Rows > 1 && g.Rows < minMultipleRows {
			continue
		}
		if k := int(n / g.Rows); better(g, k) {
			best, bestK = g, k
		}
	}
	if best == nil {
		if g := thinSource(groups, loop); g != nil {
			return g, 1
		}
	}
	return best, bestK
}

// rowSource reports whether g may be the source of loop: a query, or a
// write that returns rows, that started before it and read rows to
// iterate.
func rowSource(g, loop *Group) bool {
	if g == loop || g.Rows < 2 || g.MaxRows < 2 || g.Shape == otherShape || !startedBefore(g, loop) {
		return false
	}
	return g.Verb == "select" || hasWord(g.Shape, "returning") // rows affected are no rows to iterate
}

// thinSource returns the query whose rows loop iterated without running
// once for each, or nil: one that ran once and either read one row more
// than the loop ran (a page that reads a row past the ones it shows, to
// tell whether a next one exists: a LIMIT or FETCH in its shape), or read
// more rows than the loop ran and still had them open while every
// execution of the loop started (a loop that skips rows, such as one
// with a cache in front of its statement). A query that ran more than once
// may be a statement of the loop's own iterations, and rows read before a
// loop over other keys (from the request, say) would make a false source:
// neither is taken. Among several, the nearest to the loop.
func thinSource(groups []*Group, loop *Group) *Group {
	var best *Group
	for _, g := range groups {
		if g.Count != 1 || !rowSource(g, loop) {
			continue
		}
		n := int64(loop.Count)
		page := g.Rows == n+1 && (hasWord(g.Shape, "limit") || hasWord(g.Shape, "fetch"))
		open := g.Rows > n && loop.lastStart < g.Last
		if (page || open) && (best == nil || startedBefore(best, g)) {
			best = g
		}
	}
	return best
}

// startedBefore reports whether a's first execution started before b's.
func startedBefore(a, b *Group) bool {
	return a.First < b.First || a.First == b.First && a.FirstSeq < b.FirstSeq
}

// hasWord reports whether shape holds the keyword w as a token.
func hasWord(shape, w string) bool {
	for i := 0; i < len(shape); {
		var tok string
		tok, i = shapeToken(shape, i)
		if tok == "" {
			return false
		}
		if tok == w {
			return true
		}
	}
	return false
}
