package debugpage

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/querytrace/querytrace/internal/reportfile"
)

// indexView is the recent requests of one class.
type indexView struct {
	Class   string
	Classes []classTab
	Entries []*entry
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
	v := &indexView{Class: c.String(), Entries: rec.recent(c), Keep: rec.keep()}
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
	ID        uint64
	Report    *reportfile.Report
	Findings  []findingView
	Waterfall *waterfall
	Groups    []*reportfile.Group
	Sort      string
}

// findingView is one finding with its groups resolved.
type findingView struct {
	reportfile.Finding
	Group *reportfile.Group
}

func (h *Handler) request(w http.ResponseWriter, r *http.Request) {
	e := h.entry(w, r, "id")
	if e == nil {
		return
	}
	rep, err := e.report()
	if err != nil {
		http.Error(w, "querytrace: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v := &requestView{ID: e.id, Report: rep, Waterfall: layout(rep), Sort: r.FormValue("sort")}
	for _, list := range [][]reportfile.Finding{rep.NPlusOne, rep.Duplicates, rep.Slow} {
		for _, f := range list {
			v.Findings = append(v.Findings, findingView{f, rep.Group(f.Group)})
		}
	}
	v.Groups = slices.Clone(rep.Groups)
	by, ok := groupOrders[v.Sort]
	if !ok {
		v.Sort = "total"
		by = groupOrders["total"]
	}
	slices.SortStableFunc(v.Groups, by)
	h.render(w, "request.html", rep.Name, v)
}

// groupOrders are the sort orders of a request's groups table.
var groupOrders = map[string]func(a, b *reportfile.Group) int{
	"id":    func(a, b *reportfile.Group) int { return cmp.Compare(a.ID, b.ID) },
	"count": func(a, b *reportfile.Group) int { return cmp.Compare(b.Count, a.Count) },
	"total": func(a, b *reportfile.Group) int { return cmp.Compare(b.TotalNS, a.TotalNS) },
	"mean":  func(a, b *reportfile.Group) int { return cmp.Compare(b.MeanNS, a.MeanNS) },
	"max":   func(a, b *reportfile.Group) int { return cmp.Compare(b.MaxNS, a.MaxNS) },
	"rows":  func(a, b *reportfile.Group) int { return cmp.Compare(b.Rows, a.Rows) },
}

func (h *Handler) requestJSON(w http.ResponseWriter, r *http.Request) {
	e := h.entry(w, r, "id")
	if e == nil {
		return
	}
	data, err := e.file()
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

// compareView is two requests side by side.
type compareView struct {
	AID, BID uint64
	A, B     *reportfile.Report
	Diffs    []*reportfile.GroupDiff
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
	ra, err := a.report()
	if err == nil {
		var rb *reportfile.Report
		if rb, err = b.report(); err == nil {
			h.render(w, "compare.html", "Compare", &compareView{AID: a.id, BID: b.id, A: ra, B: rb, Diffs: reportfile.Compare(ra, rb)})
			return
		}
	}
	http.Error(w, "querytrace: "+err.Error(), http.StatusInternalServerError)
}

// statsView is the statistics page.
type statsView struct {
	*Statistics
	Top, Entries int
	Sort         string
	Limit        int
	Columns      []column
}

// column is a sortable column of the statistics.
type column struct{ Key, Label string }

var statColumns = []column{{"total", "total"}, {"calls", "calls"}, {"mean", "mean"}, {"min", "min"}, {"max", "max"}, {"rows", "rows"}, {"errors", "errors"}, {"n+1", "N+1"}}

// statOrders are the sort orders of the statistics table.
var statOrders = map[string]func(a, b Stat) int{
	"total":      func(a, b Stat) int { return cmp.Compare(b.Total, a.Total) },
	"calls":      func(a, b Stat) int { return cmp.Compare(b.Calls, a.Calls) },
	"mean":       func(a, b Stat) int { return cmp.Compare(b.Mean(), a.Mean()) },
	"min":        func(a, b Stat) int { return cmp.Compare(b.Min, a.Min) },
	"max":        func(a, b Stat) int { return cmp.Compare(b.Max, a.Max) },
	"rows":       func(a, b Stat) int { return cmp.Compare(b.Rows, a.Rows) },
	"errors":     func(a, b Stat) int { return cmp.Compare(b.Errors, a.Errors) },
	"n+1":        func(a, b Stat) int { return cmp.Compare(b.NPlusOne, a.NPlusOne) },
	"last_seen":  func(a, b Stat) int { return b.Last.Compare(a.Last) },
	"first_seen": func(a, b Stat) int { return a.First.Compare(b.First) },
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	rec := h.recorder()
	top := 50
	if n, err := strconv.Atoi(r.FormValue("top")); err == nil && n > 0 {
		top = n
	}
	// The top entries are the most total time; another order sorts
	// those, so that "other" stays the same row.
	st := rec.Statistics(top)
	v := &statsView{Statistics: st, Top: top, Sort: r.FormValue("sort"), Limit: cmp.Or(rec.MaxStats, 1000), Columns: statColumns}
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

func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	h.recorder().Reset()
	http.Redirect(w, r, h.prefix()+"/stats", http.StatusSeeOther)
}

func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.recorder().WritePrometheus(w)
}

// durationOf returns ns nanoseconds as a duration, for templates.
func durationOf(ns int64) time.Duration { return time.Duration(ns) }
