package debugpage

import (
	"cmp"
	"slices"
	"time"

	"github.com/querytrace/querytrace"
)

// A GroupDiff is one statement (shape and call site) of two compared
// reports: A is its group in the first, B in the second, either nil where
// the statement did not run.
type GroupDiff struct {
	Shape, CallSite string
	A, B            *querytrace.Group
}

// Status returns "removed" (only in A), "added" (only in B) or "".
func (d *GroupDiff) Status() string {
	switch {
	case d.B == nil:
		return "removed"
	case d.A == nil:
		return "added"
	}
	return ""
}

// Count returns the executions of the statement in A and in B.
func (d *GroupDiff) Count() (a, b int) {
	if d.A != nil {
		a = d.A.Count
	}
	if d.B != nil {
		b = d.B.Count
	}
	return a, b
}

// Total returns the time of the statement in A and in B.
func (d *GroupDiff) Total() (a, b time.Duration) {
	if d.A != nil {
		a = d.A.Total
	}
	if d.B != nil {
		b = d.B.Total
	}
	return a, b
}

// Compare matches the groups of two reports by statement (fingerprint)
// and call site, and returns them the most costly (in either report) first:
// what the comparison page and querytrace diff show.
func Compare(a, b *querytrace.Report) []*GroupDiff {
	type key struct {
		fp   uint64
		site string
	}
	var diffs []*GroupDiff
	at := make(map[key]*GroupDiff)
	for _, g := range a.Groups {
		d := &GroupDiff{Shape: g.Shape, CallSite: g.CallSite(), A: g}
		at[key{g.Fingerprint, d.CallSite}] = d
		diffs = append(diffs, d)
	}
	for _, g := range b.Groups {
		site := g.CallSite()
		if d := at[key{g.Fingerprint, site}]; d != nil && d.B == nil {
			d.B = g
			continue
		}
		diffs = append(diffs, &GroupDiff{Shape: g.Shape, CallSite: site, B: g})
	}
	slices.SortStableFunc(diffs, func(x, y *GroupDiff) int {
		xa, xb := x.Total()
		ya, yb := y.Total()
		return cmp.Compare(max(ya, yb), max(xa, xb))
	})
	return diffs
}
