package debugpage

import (
	"strconv"
	"time"

	"github.com/querytrace/querytrace"
)

// A waterfall lays a request's sampled events out on a time axis: one row
// per statement at its real start, as long as it held the database (for a
// query, until its rows were closed), with the transactions shaded behind,
// the idle gaps before a statement drawn, and statements that overlap an
// earlier one marked. Positions are percentages of the axis, for SVG
// attributes: the page's Content-Security-Policy allows no inline style.
type waterfall struct {
	Span    time.Duration // the axis's length
	Partial bool          // the axis ends at the last sampled event
	Missed  int           // events the trace did not sample
	Rows    []waterRow
	Txs     []bar
	Ticks   []tick
}

type waterRow struct {
	Event   querytrace.EventSample
	Group   *querytrace.Group
	Bar     bar
	Gap     *bar          // the idle time before it, when any
	GapTime time.Duration // its length
	Overlap bool          // started before an earlier statement ended
	Loop    bool          // a statement of an N+1
}

// A bar is a span of the axis in percent.
type bar struct{ X, W string }

type tick struct {
	X      string
	Label  time.Duration
	Anchor string // the label's side of the tick: start, middle or end
}

// minWidth is the narrowest bar, in percent, so that a statement of a few
// microseconds on a long axis still shows.
const minWidth = 0.2

// minGap is the shortest idle time drawn, in percent of the axis.
const minGap = 0.5

func layout(rep *querytrace.Report) *waterfall {
	events := rep.Events()
	wf := &waterfall{Span: rep.Wall, Missed: rep.EventsMissed}
	var end time.Duration
	for _, e := range events {
		end = max(end, e.Start+e.Duration)
	}
	if rep.EventsMissed > 0 && end > 0 || end > wf.Span {
		wf.Span, wf.Partial = end, rep.EventsMissed > 0
	}
	if wf.Span <= 0 {
		wf.Span = 1
	}
	span := float64(wf.Span)
	pct := func(d time.Duration) float64 { return 100 * float64(d) / span }
	mkBar := func(from, to time.Duration) bar {
		x := pct(from)
		w := max(pct(to)-x, minWidth)
		return bar{fmtPct(min(x, 100-minWidth)), fmtPct(w)}
	}
	groups := make(map[int]*querytrace.Group, len(rep.Groups))
	for _, g := range rep.Groups {
		groups[g.ID] = g
	}
	loops := make(map[*querytrace.Group]bool)
	for _, f := range rep.NPlusOne {
		loops[f.Group] = true
	}
	var open []time.Duration // starts of begun transactions, in order
	var busy time.Duration   // when the statements so far ended
	for _, e := range events {
		switch e.Kind {
		case "begin":
			open = append(open, e.Start)
			continue
		case "commit", "rollback":
			// Transactions are matched first begun, first ended: events
			// carry no connection, so concurrent ones may pair wrongly,
			// but each shaded span covers real transaction time.
			if len(open) > 0 {
				wf.Txs = append(wf.Txs, mkBar(open[0], e.Start+e.Duration))
				open = open[1:]
			}
			continue
		}
		g := groups[e.Group]
		row := waterRow{Event: e, Group: g, Bar: mkBar(e.Start, e.Start+e.Duration), Loop: g != nil && loops[g]}
		switch {
		case len(wf.Rows) > 0 && e.Start < busy:
			row.Overlap = true
		case e.Start > busy && pct(e.Start-busy) >= minGap:
			gap := bar{fmtPct(pct(busy)), fmtPct(pct(e.Start - busy))}
			row.Gap, row.GapTime = &gap, e.Start-busy
		}
		busy = max(busy, e.Start+e.Duration)
		wf.Rows = append(wf.Rows, row)
	}
	for _, s := range open { // still open when the trace ended
		wf.Txs = append(wf.Txs, mkBar(s, wf.Span))
	}
	for i := range 5 {
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		wf.Ticks = append(wf.Ticks, tick{fmtPct(float64(i) * 25), wf.Span * time.Duration(i) / 4, anchor})
	}
	return wf
}

func fmtPct(p float64) string { return strconv.FormatFloat(p, 'f', 3, 64) + "%" }
