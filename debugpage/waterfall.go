package debugpage

import (
	"strconv"
	"time"

	"github.com/querytrace/querytrace/internal/reportfile"
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
	Event   reportfile.Event
	Group   *reportfile.Group
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

func layout(rep *reportfile.Report) *waterfall {
	wf := &waterfall{Span: rep.Wall(), Missed: rep.EventsMissed}
	var end int64
	for _, e := range rep.Events {
		end = max(end, e.StartNS+e.DurationNS)
	}
	if rep.EventsMissed > 0 && end > 0 || time.Duration(end) > wf.Span {
		wf.Span, wf.Partial = time.Duration(end), rep.EventsMissed > 0
	}
	if wf.Span <= 0 {
		wf.Span = 1
	}
	span := float64(wf.Span)
	pct := func(ns int64) float64 { return 100 * float64(ns) / span }
	mkBar := func(from, to int64) bar {
		x := pct(from)
		w := max(pct(to)-x, minWidth)
		return bar{fmtPct(min(x, 100-minWidth)), fmtPct(w)}
	}
	loops := make(map[int]bool)
	for _, f := range rep.NPlusOne {
		loops[f.Group] = true
	}
	var open []int64 // starts of begun transactions, in order
	var busy int64   // when the statements so far ended
	for _, e := range rep.Events {
		switch e.Kind {
		case "begin":
			open = append(open, e.StartNS)
			continue
		case "commit", "rollback":
			// Transactions are matched first begun, first ended: events
			// carry no connection, so concurrent ones may pair wrongly,
			// but each shaded span covers real transaction time.
			if len(open) > 0 {
				wf.Txs = append(wf.Txs, mkBar(open[0], e.StartNS+e.DurationNS))
				open = open[1:]
			}
			continue
		}
		row := waterRow{Event: e, Group: rep.Group(e.Group), Bar: mkBar(e.StartNS, e.StartNS+e.DurationNS), Loop: loops[e.Group]}
		switch {
		case len(wf.Rows) > 0 && e.StartNS < busy:
			row.Overlap = true
		case e.StartNS > busy && pct(e.StartNS-busy) >= minGap:
			g := bar{fmtPct(pct(busy)), fmtPct(pct(e.StartNS - busy))}
			row.Gap, row.GapTime = &g, time.Duration(e.StartNS-busy)
		}
		busy = max(busy, e.StartNS+e.DurationNS)
		wf.Rows = append(wf.Rows, row)
	}
	for _, s := range open { // still open when the trace ended
		wf.Txs = append(wf.Txs, mkBar(s, int64(wf.Span)))
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
