package querytrace

import (
	"strconv"
	"strings"
)

// duplicates files the duplicates: first those that span call sites, one
// shape run with the same arguments from two stacks, such as the current
// user loaded by a page's header and again by its body (a duplicate is
// about the database's work, not the stack); then the groups that
// repeated their one argument set on their own. A group is in one
// duplicate at most: a loop that repeats the header's lookup is one
// duplicate with the header's, which counts each execution once. Groups
// repeated with other arguments are left out: judge has judged them (an
// N+1 or a batch, whose fix is another).
func (d *Detector) duplicates(r *Report) {
	var shared map[*Group]bool
	for _, set := range d.crossSiteSets(r.Groups) {
		if shared == nil {
			shared = make(map[*Group]bool)
		}
		for _, g := range set.groups {
			shared[g] = true
		}
		d.fileCrossSite(r, set)
	}
	for _, g := range r.Groups {
		if shared[g] || !judgeable(g) || !d.repeated(g) || g.Distinct > 1 {
			continue
		}
		f := Finding{Kind: FindingDuplicate, Group: g, Count: g.Count, Total: g.Total}
		if g.Rereads > 0 {
			// Only the runs between writes that repeated the arguments
			// are a duplicate: a re-read after a write is fresh work.
			f.Count = g.Repeats + g.dupRuns
			f.Total = share(g, f.Count)
			if !d.enough(f.Count, f.Total) {
				continue
			}
		}
		f.Fix = duplicateFix(g, f.Count)
		f.Loop, f.Below = loopFrame(r.Groups, g, nil)
		d.file(r, f)
	}
}

// crossSiteCandidate reports whether g may be in a set of crossSiteSets.
func (d *Detector) crossSiteCandidate(g *Group) bool {
	return judgeable(g) && repeatable(g.Verb) && g.Count != g.Errors && !(d.repeated(g) && g.Distinct > 1)
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
// the order of groups. Groups repeated with other arguments are judge's.
func (d *Detector) crossSiteSets(groups []*Group) []siteSet {
	// A set takes two groups that may be in one: most reports have fewer,
	// and make no map.
	candidates := 0
	for _, g := range groups {
		if d.crossSiteCandidate(g) {
			candidates++
		}
	}
	if candidates < 2 {
		return nil
	}
	type key struct{ fp, args uint64 }
	sites := make(map[key][]*Group)
	var keys []key
	for _, g := range groups {
		if !d.crossSiteCandidate(g) {
			continue
		}
		for _, a := range g.argHashes() {
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
func (d *Detector) fileCrossSite(r *Report, set siteSet) {
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
	if !d.enough(f.Count, f.Total) {
		return
	}
	if sharedRuns(head) > 1 {
		f.Loop, f.Below = loopFrame(r.Groups, head, nil)
	}
	f.Fix = crossSiteFix(set)
	for _, g := range set.groups {
		if g.Paused != "" && g.PausedCount == g.Count {
			f.Reason = pausedReason(g)
			r.Allowed = append(r.Allowed, f)
			return
		}
	}
	if !d.allow(r, &f) {
		r.Duplicates = append(r.Duplicates, f)
	}
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
// reads apart from the others: its call site, or where groups share that
// line (one helper called from several places), the frame where its path
// parts from theirs, as partsAt finds it for Finding.Via.
func siteNames(groups []*Group) []string {
	bySite := make(map[string][]*Group)
	for _, g := range groups {
		if s := g.CallSite(); s != "" {
			bySite[s] = append(bySite[s], g)
		}
	}
	parts := make(map[*Group]*Frame)
	for _, gs := range bySite {
		if len(gs) < 2 {
			continue
		}
		for i, f := range partsAt(gs) {
			if f != nil {
				parts[gs[i]] = f
			}
		}
	}
	var names []string
	for _, g := range groups {
		site := g.CallSite()
		if f := parts[g]; f != nil {
			site = f.String()
		}
		if site != "" {
			names = append(names, site)
		}
	}
	return names
}
