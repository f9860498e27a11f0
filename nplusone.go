package querytrace

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
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

// String returns the finding on one line: kind, count, time, shape, call
// site and source. It holds no argument values.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d× %s", f.Kind, f.Count, fmtDur(f.Total))
	if f.Group != nil {
		if f.Kind == FindingSlow {
			fmt.Fprintf(&b, " (max %s)", fmtDur(f.Group.Max))
		}
		fmt.Fprintf(&b, " %s", clip(f.Group.Shape, 80))
		if s := f.Group.CallSite(); s != "" {
			fmt.Fprintf(&b, " at %s", s)
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
		if g.Count < d.minRepeats() || g.Total < d.MinTotal || !repeatable(g.Verb) {
			continue
		}
		f := Finding{Group: g, Count: g.Count, Total: g.Total}
		switch {
		case g.Distinct <= 1:
			f.Kind = FindingDuplicate
			f.Fix = duplicateFix(g)
		case isPaged(g):
			f.Kind = FindingBatched
			f.Fix = batchedFix(g)
			r.Batched = append(r.Batched, f)
			continue
		default:
			f.Source, f.PerRow = findSource(r.Groups, g)
			if f.Source == nil && isFanOut(g) {
				continue
			}
			f.Kind = FindingNPlusOne
			f.Fix = loopFix(g, f.Source, d.postgres(g))
		}
		allowed := false
		switch a := d.match(r.Name, g); {
		case g.Paused != "":
			f.Reason, allowed = "paused: "+g.Paused, true
		case a == nil:
		case a.Reason == "":
			f.Reason = "an allow entry (" + a.describe() + ") matched but has no Reason, so it is not applied"
		default:
			f.Reason, allowed = a.Reason, true
		}
		switch {
		case allowed:
			r.Allowed = append(r.Allowed, f)
		case f.Kind == FindingNPlusOne:
			r.NPlusOne = append(r.NPlusOne, f)
		default:
			r.Duplicates = append(r.Duplicates, f)
		}
	}
	for _, l := range [][]Finding{r.NPlusOne, r.Duplicates, r.Slow, r.Batched, r.Allowed} {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Total > l[j].Total })
	}
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

// findSource returns the earlier group whose rows loop most likely
// iterated, and how many executions of loop ran per row. A candidate
// started before the loop and read R ≥ 2 rows with loop.Count == k*R for
// some k ≤ maxPerRow. Groups that ran once come first (a loop over a
// loop's rows is rarer), then k == 1, then the nearest to the loop.
func findSource(groups []*Group, loop *Group) (*Group, int) {
	var best *Group
	bestK := 0
	better := func(g *Group, k int) bool {
		if best == nil {
			return true
		}
		if (g.Count == 1) != (best.Count == 1) {
			return g.Count == 1
		}
		if (k == 1) != (bestK == 1) {
			return k == 1
		}
		return g.FirstSeq > best.FirstSeq
	}
	for _, g := range groups {
		if g == loop || g.Rows < 2 || g.FirstSeq >= loop.FirstSeq || g.Shape == otherShape {
			continue
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
