package debugpage

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/querytrace/querytrace"
)

// The bounds of a page, whatever the reports hold: a page of a long list
// holds pageRows rows and links to the next; a report's JSON holds all.
// Texts are cut too (see funcs).
const (
	pageRows    = 50  // requests, groups or compared statements per page
	maxFindings = 20  // findings on a request's page
	maxOthers   = 10  // other call sites of a duplicate
	maxTop      = 100 // statistics rows
)

// A pager says which rows of a long list a page shows, From to To of Of
// (from 1), and links to the pages before and after, "" where there is
// none.
type pager struct {
	From, To, Of int
	Prev, Next   string
	page         int
}

// paginate returns the rows of r's page ("page", from 1) of a list of n,
// lo to hi, and its pager; link returns the URL of a page.
func paginate(r *http.Request, n int, link func(page int) string) (lo, hi int, pg pager) {
	pages := max((n+pageRows-1)/pageRows, 1)
	p, _ := strconv.Atoi(r.FormValue("page"))
	p = min(max(p, 1), pages)
	lo, hi = (p-1)*pageRows, min(p*pageRows, n)
	pg = pager{From: lo + 1, To: hi, Of: n, page: p}
	if p > 1 {
		pg.Prev = link(p - 1)
	}
	if p < pages {
		pg.Next = link(p + 1)
	}
	return lo, hi, pg
}

// query returns "?" and the encoded pairs of key and value, the empty
// ones left out.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return "?" + q.Encode()
}

// indexView is the recent requests of one class.
type indexView struct {
	Class   string
	Classes []classTab
	Entries []*entry
	Pager   pager
	Keep    int
}

type classTab struct {
	Name    string
	Count   int
	Current bool
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	rec := h.recorder()
	c := classAll
	if name := r.FormValue("class"); name != "" {
		var ok bool
		if c, ok = parseClass(name); !ok {
			http.Error(w, "querytrace: no such class: use n+1, duplicate, slow, error or all", http.StatusBadRequest)
			return
		}
	}
	v := &indexView{Class: c.String(), Keep: rec.keep()}
	es := rec.recent(c)
	lo, hi, pg := paginate(r, len(es), func(p int) string { return query("class", c.String(), "page", strconv.Itoa(p)) })
	v.Entries, v.Pager = es[lo:hi], pg
	n := rec.counts()
	for k := range numClasses {
		v.Classes = append(v.Classes, classTab{Name: k.String(), Count: n[k], Current: k == c})
	}
	h.render(w, "index.html", "Requests", v)
}

func (h *Handler) recorder() *Recorder {
	if h.Recorder == nil {
		return &Recorder{}
	}
	return h.Recorder
}

// requestView is one request.
type requestView struct {
	ID           uint64
	File         string // the file it was read from, if it was
	Report       *querytrace.Report
	Findings     []findingView
	MoreFindings int
	Waterfall    *waterfall
	Groups       []*querytrace.Group // this page's
	Pager        pager
	Sort         string
	pageOf       map[int]int // a group's page in this order, by ID
}

// Href returns the link to the row of the group with the id, on this page
// or on the page of the groups that holds it.
func (v *requestView) Href(id int) string {
	anchor := "#g" + strconv.Itoa(id)
	if p, ok := v.pageOf[id]; ok && p != v.Pager.page {
		return query("sort", v.Sort, "page", strconv.Itoa(p)) + anchor
	}
	return anchor
}

// findingView is one finding with the title of its list, as the text
// report gives it: "N+1", "duplicate", "slow", "batched" or "allowed",
// and at most maxOthers of its other call sites.
type findingView struct {
	Title string
	*querytrace.Finding
	Others     []*querytrace.Group
	MoreOthers int
}

// findingClasses are the class of a finding's article by its title.
var findingClasses = map[string]string{"N+1": "nplus1", "duplicate": "dup", "slow": "slow", "batched": "batched", "allowed": "allowed"}

// Class returns the class of the finding's article.
func (f findingView) Class() string { return findingClasses[f.Title] }

// Anchor returns the id of the finding's article, which the statistics
// link to.
func (f findingView) Anchor() string {
	id := 0
	if f.Group != nil {
		id = f.Group.ID
	}
	return findingAnchor(f.Title, id)
}

func findingAnchor(title string, group int) string {
	return findingClasses[title] + "-" + strconv.Itoa(group)
}

func (h *Handler) request(w http.ResponseWriter, r *http.Request) {
	e := h.entry(w, r, "id")
	if e == nil {
		return
	}
	rep := e.Report
	v := &requestView{ID: e.id, File: e.file, Report: rep, Waterfall: layout(rep), Sort: r.FormValue("sort")}
	for _, list := range []struct {
		title    string
		findings []querytrace.Finding
	}{
		{"N+1", rep.NPlusOne},
		{"duplicate", rep.Duplicates},
		{"slow", rep.Slow},
		{"batched", rep.Batched},
		{"allowed", rep.Allowed},
	} {
		for i := range list.findings {
			if len(v.Findings) == maxFindings {
				v.MoreFindings++
				continue
			}
			f := &list.findings[i]
			fv := findingView{Title: list.title, Finding: f, Others: f.Others}
			if len(fv.Others) > maxOthers {
				fv.Others, fv.MoreOthers = fv.Others[:maxOthers], len(fv.Others)-maxOthers
			}
			v.Findings = append(v.Findings, fv)
		}
	}
	groups := slices.Clone(rep.Groups)
	by, ok := groupOrders[v.Sort]
	if !ok {
		v.Sort = "total"
		by = groupOrders["total"]
	}
	slices.SortStableFunc(groups, by)
	v.pageOf = make(map[int]int, len(groups))
	for i, g := range groups {
		v.pageOf[g.ID] = i/pageRows + 1
	}
	lo, hi, pg := paginate(r, len(groups), func(p int) string {
		return query("sort", v.Sort, "page", strconv.Itoa(p)) + "#groups"
	})
	v.Groups, v.Pager = groups[lo:hi], pg
	h.render(w, "request.html", rep.Name, v)
}

// groupOrders are the sort orders of a request's groups table.
var groupOrders = map[string]func(a, b *querytrace.Group) int{
	"id":    func(a, b *querytrace.Group) int { return cmp.Compare(a.ID, b.ID) },
	"count": func(a, b *querytrace.Group) int { return cmp.Compare(b.Count, a.Count) },
	"total": func(a, b *querytrace.Group) int { return cmp.Compare(b.Total, a.Total) },
	"mean":  func(a, b *querytrace.Group) int { return cmp.Compare(b.Mean(), a.Mean()) },
	"max":   func(a, b *querytrace.Group) int { return cmp.Compare(b.Max, a.Max) },
	"rows":  func(a, b *querytrace.Group) int { return cmp.Compare(b.Rows, a.Rows) },
}

// requestJSON serves the report as a file holds it, encoded from the
// report in memory: for a report read from a file, what was read, never
// the file again.
func (h *Handler) requestJSON(w http.ResponseWriter, r *http.Request) {
	e := h.entry(w, r, "id")
	if e == nil {
		return
	}
	data, err := e.MarshalFile()
	if err != nil {
		http.Error(w, "querytrace: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.FormValue("download") != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="querytrace-`+strconv.FormatUint(e.id, 10)+`.json"`)
	}
	w.Write(data)
}

// compareView is two requests side by side, and the statements of both,
// the most costly pageRows of them; the rest are summed in More.
type compareView struct {
	AID, BID uint64
	A, B     *querytrace.Report
	Diffs    []*GroupDiff
	More     *foldedDiffs
}

// foldedDiffs sums the compared statements past a page.
type foldedDiffs struct {
	N              int
	CountA, CountB int
	TotalA, TotalB time.Duration
	Added, Removed int
}

func (h *Handler) compare(w http.ResponseWriter, r *http.Request) {
	a := h.entry(w, r, "a")
	if a == nil {
		return
	}
	b := h.entry(w, r, "b")
	if b == nil {
		return
	}
	v := &compareView{AID: a.id, BID: b.id, A: a.Report, B: b.Report, Diffs: Compare(a.Report, b.Report)}
	if len(v.Diffs) > pageRows {
		m := &foldedDiffs{}
		for _, d := range v.Diffs[pageRows:] {
			ca, cb := d.Count()
			ta, tb := d.Total()
			m.N++
			m.CountA, m.CountB, m.TotalA, m.TotalB = m.CountA+ca, m.CountB+cb, m.TotalA+ta, m.TotalB+tb
			switch d.Status() {
			case "added":
				m.Added++
			case "removed":
				m.Removed++
			}
		}
		v.Diffs, v.More = v.Diffs[:pageRows], m
	}
	h.render(w, "compare.html", "Compare", v)
}

// statsView is the statistics page.
type statsView struct {
	*Statistics
	Top, Entries int
	Sort         string
	Limit        int
	Columns      []column
	held         map[uint64]bool
	prefix       string
}

// column is a sortable column of the statistics.
type column struct{ Key, Label, Title string }

var statColumns = []column{
	{"total", "total", "time of all executions"},
	{"requests", "requests", "requests that ran the statement"},
	{"calls", "calls", "executions"},
	{"per_request", "calls/request", "executions per request that ran the statement: the loop's length for an N+1"},
	{"mean", "mean", "mean time of one execution"},
	{"min_mean", "min mean", "the least of the requests' mean times of one execution (traces keep each statement's longest execution, not its shortest)"},
	{"max", "max", "longest execution"},
	{"rows", "rows", "rows read or affected"},
	{"errors", "errors", "executions that failed"},
	{"n+1", "N+1", "requests in which the statement was an N+1"},
}

// statOrders are the sort orders of the statistics table.
var statOrders = map[string]func(a, b Stat) int{
	"total":       func(a, b Stat) int { return cmp.Compare(b.Total, a.Total) },
	"requests":    func(a, b Stat) int { return cmp.Compare(b.Requests, a.Requests) },
	"calls":       func(a, b Stat) int { return cmp.Compare(b.Calls, a.Calls) },
	"per_request": func(a, b Stat) int { return cmp.Compare(b.CallsPerRequest(), a.CallsPerRequest()) },
	"mean":        func(a, b Stat) int { return cmp.Compare(b.Mean(), a.Mean()) },
	"min_mean":    func(a, b Stat) int { return cmp.Compare(b.MinMean, a.MinMean) },
	"max":         func(a, b Stat) int { return cmp.Compare(b.Max, a.Max) },
	"rows":        func(a, b Stat) int { return cmp.Compare(b.Rows, a.Rows) },
	"errors":      func(a, b Stat) int { return cmp.Compare(b.Errors, a.Errors) },
	"n+1":         func(a, b Stat) int { return cmp.Compare(b.NPlusOne, a.NPlusOne) },
	"last_seen":   func(a, b Stat) int { return b.Last.Compare(a.Last) },
	"first_seen":  func(a, b Stat) int { return a.First.Compare(b.First) },
}

// An exampleLink is the link from a statistics row to a request that ran
// the statement.
type exampleLink struct {
	Href    string
	ID      uint64
	Finding string // the statement's finding in it ("an N+1"), "" for none
}

// examples say what a statement was in a request.
var examples = map[querytrace.FindingKind]string{
	querytrace.FindingNPlusOne:  "an N+1",
	querytrace.FindingDuplicate: "a duplicate",
	querytrace.FindingSlow:      "slow",
}

// Example returns the link to the last request held that ran s in which
// it was a finding (the request's page shows its fix), or else to the
// last one held that ran it at all; nil when neither is held any more.
func (v *statsView) Example(s Stat) *exampleLink {
	for _, ex := range []example{s.lastFinding, s.last} {
		if ex.id == 0 || !v.held[ex.id] {
			continue
		}
		anchor := "g" + strconv.Itoa(ex.group)
		if ex.kind != "" {
			title := string(ex.kind)
			if ex.kind == querytrace.FindingNPlusOne {
				title = "N+1"
			}
			anchor = findingAnchor(title, ex.group)
		}
		return &exampleLink{ID: ex.id, Href: v.prefix + "/requests/" + strconv.FormatUint(ex.id, 10) + "#" + anchor, Finding: examples[ex.kind]}
	}
	return nil
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	rec := h.recorder()
	top := 50
	if n, err := strconv.Atoi(r.FormValue("top")); err == nil && n > 0 {
		top = min(n, maxTop)
	}
	// The top entries are the most total time; another order sorts
	// those, so that "other" stays the same row.
	st := rec.Statistics(top)
	v := &statsView{Statistics: st, Top: top, Sort: r.FormValue("sort"), Limit: cmp.Or(rec.MaxStats, 1000), Columns: statColumns, held: rec.held(), prefix: h.prefix()}
	v.Entries = len(st.Stats)
	by, ok := statOrders[v.Sort]
	if !ok {
		v.Sort = "total"
		by = statOrders["total"]
	}
	slices.SortStableFunc(st.Stats, by)
	h.render(w, "stats.html", "Statistics", v)
}

func (h *Handler) statsJSON(w http.ResponseWriter, r *http.Request) {
	top, _ := strconv.Atoi(r.FormValue("top"))
	writeJSON(w, h.recorder().Statistics(top))
}

// reset clears the statistics of a live recorder. Those of loaded files
// are what the files hold, and stay: a reset would only hide them until
// a restart.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	rec := h.recorder()
	if rec.loadedDir() != nil {
		http.Error(w, "querytrace: the statistics of loaded files are not reset (restart querytrace serve to read the directory again)", http.StatusConflict)
		return
	}
	rec.Reset()
	http.Redirect(w, r, h.prefix()+"/stats", http.StatusSeeOther)
}

func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.recorder().WritePrometheus(w)
}
