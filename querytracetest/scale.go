package querytracetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/human"
)

// A ScaleTest is a step of work run at several sizes of data, for Scale.
// Its zero value, with Setup and Act filled in, runs at sizes 2 and 3 and
// wants the same statement count at both.
type ScaleTest struct {
	// Sizes are the sizes of data to run Act at, increasing; nil means
	// 2 and 3. Two sizes tell a loop from a constant; a third tells a
	// loop from work that happens to differ at small sizes.
	Sizes []int

	// Warmup runs Act once more at the first size, after its Setup and
	// before the measured run, and discards its statements: for code that
	// fills a cache on first use.
	Warmup bool

	// PerItem is how many statements one more item of data may add:
	// 0 wants the same count at every size; k > 0 wants exactly k more
	// per item (work that is per item by design, such as one INSERT per
	// row written), so that a second statement per item still fails.
	PerItem int

	// Setup makes the data of size n, untraced: what it runs is not
	// measured. It runs once per size, in order, before Act at that size.
	// Nil means no setup.
	Setup func(t testing.TB, n int)

	// Act runs the code under test once with ctx, which carries the
	// trace of the run.
	Act func(t testing.TB, ctx context.Context)
}

// Scale runs s.Act at each of s.Sizes, each time after s.Setup, and fails
// the test when the statement counts grow with the size (or, with PerItem,
// grow by other than PerItem per item). The failure shows the groups whose
// counts changed, by how much per item, where they are called from, and
// the N+1 findings and fixes of the largest run.
//
// Scale returns when the runs are done; their traces are on contexts made
// from t.Context().
func Scale(t testing.TB, s ScaleTest) {
	t.Helper()
	sizes := s.Sizes
	if sizes == nil {
		sizes = []int{2, 3}
	}
	if len(sizes) < 2 {
		t.Fatalf("querytracetest.Scale: %d size given; give two or more, such as []int{2, 3}", len(sizes))
	}
	for i, n := range sizes {
		if n < 0 || i > 0 && n <= sizes[i-1] {
			t.Fatalf("querytracetest.Scale: sizes %v: want increasing sizes of zero or more", sizes)
		}
	}
	if s.Act == nil {
		t.Fatalf("querytracetest.Scale: no Act")
	}
	if s.PerItem < 0 {
		t.Fatalf("querytracetest.Scale: PerItem %d: want zero or more", s.PerItem)
	}
	failed := t.Failed()
	runs := make([]*querytrace.Report, len(sizes))
	for i, n := range sizes {
		if s.Setup != nil {
			s.Setup(t, n)
		}
		if i == 0 && s.Warmup {
			ctx, tr := querytrace.Start(t.Context(), t.Name()+" warm-up")
			s.Act(t, ctx)
			tr.Finish()
		}
		ctx, tr := querytrace.Start(t.Context(), fmt.Sprintf("%s at size %d", t.Name(), n))
		tr.SetDetector(&testDetector)
		s.Act(t, ctx)
		runs[i] = tr.Finish()
	}
	if !failed && t.Failed() {
		return // the runs failed on their own: their counts tell nothing
	}
	if msg := scaleFailure(sizes, s.PerItem, runs); msg != "" {
		t.Error(msg)
	}
}

// scaleFailure returns the failure message of runs at sizes, or "".
func scaleFailure(sizes []int, perItem int, runs []*querytrace.Report) string {
	counts := make([]int, len(runs))
	for i, r := range runs {
		counts[i] = r.Statements
	}
	if growsBy(sizes, counts, perItem) {
		return ""
	}
	var b strings.Builder
	if perItem == 0 {
		verb := "grow"
		if counts[len(counts)-1] <= counts[0] {
			verb = "change"
		}
		fmt.Fprintf(&b, "querytrace: statements %s with the data: %s (%s); want the same count at every size",
			verb, atSizes(sizes, counts), slopes(sizes, counts))
	} else {
		fmt.Fprintf(&b, "querytrace: statements grow by %s: %s; want +%d per item",
			slopes(sizes, counts), atSizes(sizes, counts), perItem)
	}
	last := runs[len(runs)-1]
	fmt.Fprintf(&b, " (db time %s at size %d)\n", human.Duration(last.DBTime), sizes[len(sizes)-1])

	m := marks(last)
	grew := growingGroups(runs)
	if len(grew) > 0 {
		fmt.Fprintf(&b, "  groups whose count changed:\n")
	}
	width := 0
	for _, gg := range grew {
		width = max(width, len(slopes(sizes, gg.counts)))
	}
	for _, gg := range grew {
		line := short(gg.g.Shape)
		if gg.last != nil {
			if ms := m[gg.last.ID]; len(ms) > 0 {
				line += "  " + strings.Join(ms, ", ")
			}
		}
		fmt.Fprintf(&b, "    %-*s  %s\n", width, slopes(sizes, gg.counts), line)
		fmt.Fprintf(&b, "    %-*s  %s\n", width, "", atSizes(sizes, gg.counts))
		if st := stack(gg.g); st != "" {
			fmt.Fprintf(&b, "    %-*s  at %s\n", width, "", st)
		}
	}
	writeFindings(&b, last)
	if verbose() {
		fmt.Fprintf(&b, "  at size %d:\n", sizes[len(sizes)-1])
		writeGroups(&b, last)
		writeEvents(&b, last)
	}
	return strings.TrimRight(b.String(), "\n")
}

// growsBy reports whether counts grow by exactly perItem per unit of size.
func growsBy(sizes, counts []int, perItem int) bool {
	for i := 1; i < len(sizes); i++ {
		if counts[i]-counts[i-1] != perItem*(sizes[i]-sizes[i-1]) {
			return false
		}
	}
	return true
}

// slopes says how counts grow per item: "+2 per item", or one slope per
// step when they differ: "+1, +3 per item".
func slopes(sizes, counts []int) string {
	var parts []string
	same := true
	for i := 1; i < len(sizes); i++ {
		s := float64(counts[i]-counts[i-1]) / float64(sizes[i]-sizes[i-1])
		p := strconv.FormatFloat(s, 'g', 3, 64)
		if s >= 0 {
			p = "+" + p
		}
		same = same && (len(parts) == 0 || parts[0] == p)
		parts = append(parts, p)
	}
	if same {
		parts = parts[:1]
	}
	return strings.Join(parts, ", ") + " per item"
}

// atSizes says "5 at size 2, 7 at size 3".
func atSizes(sizes, counts []int) string {
	parts := make([]string, len(sizes))
	for i := range sizes {
		parts[i] = fmt.Sprintf("%d at size %d", counts[i], sizes[i])
	}
	return strings.Join(parts, ", ")
}

// A grownGroup is a group (by shape and call stack) whose count differs
// between runs.
type grownGroup struct {
	g      *querytrace.Group // the group in the first run that has it
	last   *querytrace.Group // the group in the last run, or nil
	counts []int
	first  [2]int // the run and position where the group first ran
}

// growingGroups matches the groups of runs by shape and stack and returns
// those whose counts differ, the fastest growing first.
func growingGroups(runs []*querytrace.Report) []*grownGroup {
	byKey := make(map[string]*grownGroup)
	var all []*grownGroup
	for i, r := range runs {
		for _, g := range r.Groups {
			if g.Statements == 0 {
				continue
			}
			key := g.Shape + "\x00" + fullStack(g)
			gg := byKey[key]
			if gg == nil {
				gg = &grownGroup{g: g, counts: make([]int, len(runs)), first: [2]int{i, g.FirstSeq}}
				byKey[key] = gg
				all = append(all, gg)
			}
			gg.counts[i] += g.Statements
			if i == len(runs)-1 {
				gg.last = g
			}
		}
	}
	var grew []*grownGroup
	for _, gg := range all {
		if slices.Min(gg.counts) != slices.Max(gg.counts) {
			grew = append(grew, gg)
		}
	}
	slices.SortStableFunc(grew, func(a, b *grownGroup) int {
		da := a.counts[len(a.counts)-1] - a.counts[0]
		db := b.counts[len(b.counts)-1] - b.counts[0]
		return cmp.Or(cmp.Compare(db, da), cmp.Compare(a.first[0], b.first[0]), cmp.Compare(a.first[1], b.first[1]))
	})
	return grew
}

func fullStack(g *querytrace.Group) string {
	fs := g.Stack
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, "\n")
}
