package debugpage

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/querytrace/querytrace"
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
	Report    *querytrace.Report
	Findings  []findingView
	Waterfall *waterfall
	Groups    []*querytrace.Group
	Sort      string
}

// findingView is one finding with the title of its list, as the text
// report gives it: "N+1", "duplicate", "slow", "batched" or "allowed".
type findingView struct {
	Title string
	*querytrace.Finding
}

func (h *Handler) request(w http.ResponseWriter, r *http.Request) {
	e := h.entry(w, r, "id")
	if e == nil {
		return
	}
	rep := e.Report
	v := &requestView{ID: e.id, Report: rep, Waterfall: layout(rep), Sort: r.FormValue("sort")}
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
			v.Findings = append(v.Findings, findingView{list.title, &list.findings[i]})
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
var groupOrders = map[string]func(a, b *querytrace.Group) int{
	"id":    func(a, b *querytrace.Group) int { return cmp.Compare(a.ID, b.ID) },
	"count": func(a, b *querytrace.Group) int { return cmp.Compare(b.Count, a.Count) },
	"total": func(a, b *querytrace.Group) int { return cmp.Compare(b.Total, a.Total) },
	"mean":  func(a, b *querytrace.Group) int { return cmp.Compare(b.Mean(), a.Mean()) },
	"max":   func(a, b *querytrace.Group) int { return cmp.Compare(b.Max, a.Max) },
	"rows":  func(a, b *querytrace.Group) int { return cmp.Compare(b.Rows, a.Rows) },
}

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

// compareView is two requests side by side.
type compareView struct {
	AID, BID uint64
	A, B     *querytrace.Report
	Diffs    []*GroupDiff
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
	h.render(w, "compare.html", "Compare", &compareView{AID: a.id, BID: b.id, A: a.Report, B: b.Report, Diffs: Compare(a.Report, b.Report)})
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
