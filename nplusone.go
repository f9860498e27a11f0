package querytrace

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// classify fills r's findings from its groups, in stages:
//
//  1. A group with an execution slower than Slow is a slow finding,
//     whatever else it is: it is about one execution's time.
//  2. A group repeated with other arguments (see repeated) is judged on
//     its own (judge): batches, a fixed fan-out, or an N+1 over its
//     source's rows.
//  3. The groups repeated with the same arguments, and the call sites
//     that ran one another's arguments again, are duplicates
//     (duplicates).
//  4. The prepares of a finding's statement fold into it (foldPrepares).
//  5. Findings that would print alike name where their paths part
//     (setVia).
//
// An execution belongs to at most one finding of repeats (N+1, duplicate,
// batched, or one of these allowed). classify only reads the groups, and
// starts from empty lists, so calling it again (after renaming the report,
// say) gives the same answer for the new name.
func (d *Detector) classify(r *Report) {
	r.NPlusOne, r.Duplicates, r.Slow, r.Batched, r.Allowed = nil, nil, nil, nil, nil
	for _, g := range r.Groups {
		if !judgeable(g) {
			continue
		}
		if g.Max > d.slow() {
			f := Finding{Kind: FindingSlow, Group: g, Count: g.Count, Total: g.Total, Fix: slowFix(g)}
			if g.Paused != "" {
				f.Reason = pausedReason(g)
				r.Allowed = append(r.Allowed, f)
			} else {
				r.Slow = append(r.Slow, f)
			}
		}
		if d.repeated(g) && g.Distinct > 1 {
			d.judge(r, g)
		}
	}
	d.duplicates(r)
	foldPrepares(r)
	setVia(r)
	for _, l := range r.findingLists() {
		if len(*l) > 1 {
			slices.SortStableFunc(*l, func(a, b Finding) int { return cmp.Compare(b.Total, a.Total) })
		}
	}
}

// judgeable reports whether g's statements can be a finding: a group of
// prepares on its own is no statement, and the overflow group mixes
// unrelated statements.
func judgeable(g *Group) bool {
	return g.Statements > 0 && g.Shape != otherShape
}

// repeated reports whether g, a judgeable group, ran often enough and for
// long enough to be a finding of repeats, in a statement whose repeats can
// be a problem. A failed execution and its retry are not a repeat.
func (d *Detector) repeated(g *Group) bool {
	return repeatable(g.Verb) && d.enough(g.Count-g.Errors, g.Total)
}

// enough reports whether n executions that took total are enough of a
// repeat to be a finding.
func (d *Detector) enough(n int, total time.Duration) bool {
	return n >= d.minRepeats() && total >= d.MinTotal
}

// pausedReason is the Reason of a finding of g's executions under Pause.
func pausedReason(g *Group) string { return "paused: " + g.Paused }

// judge files the finding of g, a group repeated with other arguments:
// batched when its executions were batches rather than a loop's
// iterations (see batchFix), none for a fixed fan-out over no source's
// rows, else an N+1, with the loop's line and the fix.
func (d *Detector) judge(r *Report, g *Group) {
	source, perRow := findSource(r.Groups, g)
	if fix := batchFix(g, source); fix != "" {
		r.Batched = append(r.Batched, Finding{Kind: FindingBatched, Group: g, Count: g.Count, Total: g.Total, Fix: fix})
		return
	}
	if source == nil && isFanOut(g) {
		return
	}
	f := Finding{Kind: FindingNPlusOne, Group: g, Count: g.Count, Total: g.Total, Source: source, PerRow: perRow}
	f.Fix, f.ORMFix = loopFix(g, source, d.fixDialect(g))
	f.Loop, f.Below = loopFrame(r.Groups, g, source)
	d.file(r, f)
}

// batchFix returns the fix of g, whose most likely source is source (or
// nil), when its executions were batches, or "". Batches read pages of a
// result, or carry many keys at a time, or carry a list of keys and
// nothing else over no source's rows, or are a loader's batches of
// whatever keys were pending.
func batchFix(g, source *Group) string {
	switch {
	case isPaged(g):
		return pagedFix(g)
	case g.Keys >= minBatchKeys:
		return chunkFix(g)
	case source == nil && g.Keys >= 2 && keysOnly(g.Shape):
		// A statement whose one argument is a list of keys, run with
		// several at a time and over no rows, is a batch of whatever
		// keys were pending (a dataloader's), however few: a loop over
		// rows passes each row's keys, once per row, and a loop over
		// other keys passes one at a time.
		return chunkFix(g)
	case (source == nil || !mayLoop(g)) && pendingKeys(g):
		// With a source, only where no loop over its rows could have
		// run the batches: a query of as many rows as a loader fired
		// batches is a coincidence.
		return loaderFix
	}
	return ""
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
	if !sqlnorm.HasWord(g.Shape, "limit") && !sqlnorm.HasWord(g.Shape, "fetch") {
		return false
	}
	return g.Rows-g.LastRows == int64(g.Count-1)*g.MaxRows
}

// keysOnly reports whether a shape's one argument is a list of keys: an IN
// list or "= any(?)", and no other placeholder or literal.
func keysOnly(shape string) bool {
	return strings.Count(shape, "?") == 1 && sqlnorm.KeyLists(shape) == 1
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
// Where a query of as many rows ran before, batchFix takes it for the
// batches' source only if a loop over its rows shows (mayLoop): else a
// resolver run per element in goroutines of a GraphQL executor's, passing
// each element's list of keys, reads as batches too.
func pendingKeys(g *Group) bool {
	if !g.listsVary || g.text == nil || g.text.NValues > sqlnorm.MaxValues {
		return false
	}
	lists := sqlnorm.KeyLists(g.Shape)
	return lists != 0 && (g.varied|g.unknown)&^lists == 0
}

// mayLoop reports whether g's stack may hold a loop over a source's
// rows: the Go source shows one of the application's, or one of the
// library that calls back into it, or the source of an application frame
// is absent, which hides what it does. A loader's batches run from its
// own goroutines, below no loop of the application's.
func mayLoop(g *Group) bool {
	return g.stack == nil || g.stack.MayLoop()
}

// maxFanOut is the largest group whose overlapping executions count as a
// fixed fan-out rather than a loop run in parallel. Executions of one group
// share their whole stack, so they were started by one go statement run
// again and again: by a loop. Only one over a list written out by hand (a
// handful of keys) is fixed; one over a list resolved concurrently, as
// gqlgen resolves each element of a list in a goroutine of its own, has as
// many executions as the list has elements.
const maxFanOut = 4

// isFanOut reports whether g's executions all ran at once, a handful of
// them: a fixed set of lookups issued concurrently, not a loop.
func isFanOut(g *Group) bool {
	return g.Count <= maxFanOut && g.Overlapped >= g.Count-1
}

// maxPerRow is the largest number of executions per source row that still
// names a source: two COUNTs per row is common, ten is a coincidence.
const maxPerRow = 4

// minMultipleRows is the fewest rows of a source that a loop ran several
// times per row: four executions over two rows are as likely a loop over
// two rows and two more things (a bookmark's tags and two new ones) as
// twice per row.
const minMultipleRows = 3

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
	return g.Verb == "select" || sqlnorm.HasWord(g.Shape, "returning") // rows affected are no rows to iterate
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
		page := g.Rows == n+1 && (sqlnorm.HasWord(g.Shape, "limit") || sqlnorm.HasWord(g.Shape, "fetch"))
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

// file adds f to the findings, or to the allowed ones for the executions
// that ran under Pause or that an allow entry matches. Pause covers only
// what it paused: the group's other executions stay a finding when they
// are enough of a repeat on their own.
func (d *Detector) file(r *Report, f Finding) {
	g := f.Group
	if paused := g.PausedCount; paused > 0 {
		a := f
		a.Count, a.Total = paused, share(g, paused)
		a.Reason = pausedReason(g)
		r.Allowed = append(r.Allowed, a)
		f.Count, f.Total = g.Count-paused, g.Total-a.Total
		if !d.enough(f.Count-g.Errors, f.Total) {
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

// share is the part of g's time that n of its executions took, at its
// mean.
func share(g *Group, n int) time.Duration {
	if g.Count == 0 {
		return 0
	}
	return g.Total * time.Duration(n) / time.Duration(g.Count)
}

// foldPrepares adds to each N+1 and duplicate the groups that prepared its
// statement: the same shape, prepared in the function that holds its
// loop (or, with no loop known, in the function that ran it). A prepare
// per execution is part of the loop's cost. A group of prepares folds
// into one finding at most.
func foldPrepares(r *Report) {
	folded := make(map[*Group]bool)
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
				if p.Kind != KindPrepare || folded[p] || p.Fingerprint != f.Group.Fingerprint || fn == "" ||
					!slices.ContainsFunc(p.Stack, func(fr Frame) bool { return fr.Function == fn }) {
					continue
				}
				folded[p] = true
				f.Prepares = append(f.Prepares, p)
				f.Total += p.Total
			}
		}
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
