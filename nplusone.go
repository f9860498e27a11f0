package querytrace

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/querytrace/querytrace/internal/callstack"
	"github.com/querytrace/querytrace/internal/human"
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
	// which may be several calls above the statement's own line, the
	// group's CallSite. It is nil when no stack was captured.
	Loop *Frame

	// Others are, for a duplicate found across call sites, the other
	// groups that ran the statement with the same arguments; Count and
	// Total then cover them all.
	Others []*Group

	// Fix says how to remove the finding, by the statement's shape. It
	// holds no literal values: shapes have none.
	Fix string

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

// String returns the finding on one line: kind, count, time, shape, call
// site and source. It holds no argument values.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d× %s", f.Kind, f.Count, human.Duration(f.Total))
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

// maxFanOut is the largest group whose overlapping executions count as a
// fixed fan-out rather than a loop run in parallel.
const maxFanOut = 16

// classify fills r's findings from its groups. It only reads the groups,
// and starts from empty lists, so calling it again (after renaming the
// report, say) gives the same answer for the new name.
func (d *Detector) classify(r *Report) {
	r.NPlusOne, r.Duplicates, r.Slow, r.Batched, r.Allowed = nil, nil, nil, nil, nil
	judged := make(map[*Group]bool)
	for _, g := range r.Groups {
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
		judged[g] = true
		f := Finding{Group: g, Count: g.Count, Total: g.Total}
		switch {
		case g.Distinct <= 1:
			f.Kind = FindingDuplicate
			f.Fix = duplicateFix(g)
			f.Loop = loopFrame(r.Groups, g, nil)
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
			if f.Source == nil && isFanOut(g) {
				continue
			}
			f.Kind = FindingNPlusOne
			f.Fix = loopFix(g, f.Source, d.fixDialect(g))
			f.Loop = loopFrame(r.Groups, g, f.Source)
		}
		d.file(r, f)
	}
	d.crossSite(r, judged)
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

// crossSite adds the duplicates that span call sites: one shape run with
// the same arguments from two stacks, such as the current user loaded by
// a page's header and again by its body. A duplicate is about the
// database's work, not the stack. Groups already judged as an N+1 or a
// batch are left out (their fix is another); a group that is a duplicate
// on its own has the other sites added to its finding.
func (d *Detector) crossSite(r *Report, judged map[*Group]bool) {
	type key struct{ fp, args uint64 }
	sites := make(map[key][]*Group)
	var keys []key
	for _, g := range r.Groups {
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
	done := make(map[*Group]bool)
	for _, k := range keys {
		gs := sites[k]
		if len(gs) < 2 || done[gs[0]] {
			continue
		}
		// Every group that shares arguments with these, in order.
		var all []*Group
		for _, g := range r.Groups {
			for _, h := range gs {
				if g == h && !done[g] {
					all = append(all, g)
					done[g] = true
				}
			}
		}
		if len(all) < 2 {
			continue
		}
		d.fileCrossSite(r, all)
	}
}

// fileCrossSite files one duplicate across the call sites of groups, the
// first of which is its Group. Where that group is already a duplicate on
// its own, the others join its finding.
func (d *Detector) fileCrossSite(r *Report, groups []*Group) {
	f := Finding{Kind: FindingDuplicate, Group: groups[0], Others: groups[1:]}
	for _, g := range groups {
		// Executions known to have run with the shared arguments: all of
		// a group that saw no other, else at least one.
		n := 1
		if g.Distinct <= 1 {
			n = g.Count - g.Errors
		}
		f.Count += n
		f.Total += share(g, n)
	}
	for _, l := range []*[]Finding{&r.Duplicates, &r.Allowed} {
		for i := range *l {
			if e := &(*l)[i]; e.Kind == FindingDuplicate && e.Group == groups[0] && e.Others == nil {
				e.Others, e.Count, e.Total = f.Others, f.Count, f.Total
				e.Fix = crossSiteFix(groups)
				return
			}
		}
	}
	if f.Count < d.minRepeats() || f.Total < d.MinTotal {
		return
	}
	f.Fix = crossSiteFix(groups)
	for _, g := range groups {
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
func crossSiteFix(groups []*Group) string {
	var at []string
	for _, g := range groups {
		if s := g.CallSite(); s != "" {
			at = append(at, s)
		}
	}
	s := "the same " + groups[0].Verb + " with the same arguments ran from " + strconv.Itoa(len(groups)) + " call sites"
	if len(at) > 0 {
		s += " (" + strings.Join(at, "; ") + ")"
	}
	if groups[0].Verb == "select" {
		return s + ": run it once and pass the result along, or memoize it for the request"
	}
	return s + ": run it once"
}

// chunkFix is the fix of a repeat that already runs many keys at a time.
func chunkFix(g *Group) string {
	return fmt.Sprintf("runs %d keys at a time (an IN or VALUES list): a batch in chunks, not an N+1", g.Keys)
}

// loopFrame returns the application's line inside the loop that repeated
// g: where the path to g's statement leaves the path to one that ran
// outside the loop. The loop's source query is the surest such statement
// (the loop iterates its rows); else the groups that started before the
// loop's first execution or after its last, the one whose path stays
// with g's the longest; else, with no other statement to tell, g's
// outermost application frame (the handler, the test).
func loopFrame(groups []*Group, g, source *Group) *Frame {
	if g.stack == nil || g.stack.Len() == 0 {
		return nil
	}
	if source != nil && source.stack != nil {
		if f, _, ok := g.stack.Fork(source.stack); ok {
			return framePtr(f)
		}
	}
	var best callstack.Frame
	depth, tried := -1, 0
	for _, o := range groups {
		if o == g || o.stack == nil || o.stack == g.stack || o.Shape == otherShape ||
			o.lastStart >= g.First && o.First <= g.lastStart {
			continue
		}
		if tried++; tried > maxForks {
			break
		}
		if f, dd, ok := g.stack.Fork(o.stack); ok && (depth < 0 || dd < depth) {
			best, depth = f, dd
		}
	}
	if depth >= 0 {
		return framePtr(best)
	}
	if f, ok := g.stack.Outermost(); ok {
		return framePtr(f)
	}
	return nil
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
// some k ≤ maxPerRow. A statement that returned at most one row each time
// has no rows to iterate: a statement of the loop's own iterations, such
// as an "insert ... returning id" before each dependent insert, never
// becomes the source. One execution per row comes first (in a loop over
// a loop, per post, per comment, the author's source is the comments
// query), then queries that ran once, then the nearest to the loop.
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
		if g == loop || g.Rows < 2 || g.MaxRows < 2 || g.Shape == otherShape || !startedBefore(g, loop) {
			continue
		}
		if g.Verb != "select" && !hasWord(g.Shape, "returning") {
			continue // rows affected are no rows to iterate
		}
		n := int64(loop.Count)
		if n%g.Rows != 0 || n/g.Rows > maxPerRow {
			continue
		}
		if k := int(n / g.Rows); better(g, k) {
			best, bestK = g, k
		}
	}
	return best, bestK
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
