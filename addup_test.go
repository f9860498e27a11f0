package querytrace

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// TestMain checks every report the package's tests build (see
// reportBuilt) with findingsAddUp, so that a scenario added tomorrow is
// checked too.
func TestMain(m *testing.M) {
	var mu sync.Mutex
	var bad []string
	reportBuilt = func(r *Report) {
		if err := findingsAddUp(r); err != nil {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%s: %v\n%s", r.Name, err, r))
			mu.Unlock()
		}
	}
	code := m.Run()
	for _, b := range bad {
		fmt.Fprintf(os.Stderr, "findings do not add up in a report: %s\n", b)
		code = 1
	}
	os.Exit(code)
}

// findingsAddUp checks that no execution is in two findings of repeats
// (N+1, duplicate, batched, and those allowed; a slow finding is about
// time and stands beside them): findings that share a group count no more
// executions together than their groups ran. It checks too that a group
// of prepares folds into one finding at most, one of the statement it
// prepares.
func findingsAddUp(r *Report) error {
	parent := make(map[*Group]*Group)
	var find func(g *Group) *Group
	find = func(g *Group) *Group {
		if p, ok := parent[g]; ok && p != g {
			root := find(p)
			parent[g] = root
			return root
		}
		parent[g] = g
		return g
	}
	var all []Finding
	for _, l := range [][]Finding{r.NPlusOne, r.Duplicates, r.Batched, r.Allowed} {
		for _, f := range l {
			if f.Kind != FindingSlow {
				all = append(all, f)
			}
		}
	}
	served := make(map[*Group]bool)
	for _, f := range all {
		ran := 0
		var total, prepared time.Duration
		for _, g := range append([]*Group{f.Group}, f.Others...) {
			ran += g.Count
			total += g.Total
			parent[find(g)] = find(f.Group)
		}
		for _, p := range f.Prepares {
			if served[p] || p.Kind != KindPrepare || p.Fingerprint != f.Group.Fingerprint {
				return fmt.Errorf("prepares #%d in %s: folded twice, no prepares, or of another statement", p.ID, f)
			}
			served[p] = true
			prepared += p.Total
		}
		if f.Count > ran || f.Count < 0 {
			return fmt.Errorf("%s counts %d executions, its groups ran %d", f, f.Count, ran)
		}
		if f.Total > total+prepared {
			return fmt.Errorf("%s takes %s, its groups and prepares took %s", f, f.Total, total+prepared)
		}
	}
	counted := make(map[*Group]int)
	ran := make(map[*Group]int)
	for _, f := range all {
		counted[find(f.Group)] += f.Count
	}
	for g := range parent {
		ran[find(g)] += g.Count
	}
	for root, n := range counted {
		if n > ran[root] {
			return fmt.Errorf("findings with group #%d count %d executions, their groups ran %d", root.ID, n, ran[root])
		}
	}
	return nil
}

// TestFindingsAddUp checks the checker: it refuses the double count of
// issue 19, a duplicate across sites beside a duplicate of one of its
// sites, and passes the two as one.
func TestFindingsAddUp(t *testing.T) {
	handler := &Group{ID: 1, Count: 1, Total: time.Millisecond}
	loop := &Group{ID: 2, Count: 9, Total: 9 * time.Millisecond}
	twice := &Report{Duplicates: []Finding{
		{Kind: FindingDuplicate, Group: handler, Others: []*Group{loop}, Count: 10, Total: 10 * time.Millisecond},
		{Kind: FindingDuplicate, Group: loop, Count: 9, Total: 9 * time.Millisecond},
	}}
	if err := findingsAddUp(twice); err == nil {
		t.Error("the same nine executions in two findings passed")
	}
	once := &Report{Duplicates: twice.Duplicates[:1]}
	if err := findingsAddUp(once); err != nil {
		t.Error(err)
	}
}
