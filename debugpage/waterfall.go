package debugpage

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/querytrace/querytrace"
)

// A waterfall lays a request's statements out on a time axis that covers
// the whole request: one band per group (a statement and its call site),
// from its first execution's start to its last one's end, with its count,
// so that a loop of 600 statements is one band over the 30 ms it took,
// not 600 rows. The trace's sample of single events (its first 64) is
// marked inside the bands, where it shows what one execution looks like
// and the gaps between them, and pairs the transactions' boundaries,
// drawn in a lane of their own.
//
// Its size is bounded whatever the report holds: at most maxBands bands
// (the costliest groups; the others folded into one), maxMarks marks, and
// transactions merged where they nearly touch. Positions are percentages
// of the axis, for SVG attributes: the page's Content-Security-Policy
// allows no inline style.
type waterfall struct {
	Span  time.Duration // the axis's length
	Bands []*band       // by first start
	Other *band         // the groups past maxBands, folded into one band

	// Txs are the transactions' spans, merged where they nearly touch;
	// TxCount is how many transactions they hold. Shade is true when
	// they are few enough to shade behind every band.
	Txs     []bar
	TxCount int
	Shade   bool

	Marked int // sampled events marked
	Missed int // events the trace did not sample
	Ticks  []tick
}

// A band is one group, or the folded ones, on the axis.
type band struct {
	Group  *querytrace.Group // nil for the folded groups
	Groups int               // how many groups it stands for
	Count  int               // executions
	Total  time.Duration     // their database time
	Errors int

	First, Last time.Duration // the span, from the request's start
	Bar         bar
	Marks       []bar // sampled executions, merged where they touch
	Loop        bool  // an N+1
}

// bandRow is what the template of a band's row gets: the band, and the
// transactions to shade behind it.
type bandRow struct {
	Band  *band
	Shade bool
	Txs   []bar
}

// Row returns the row of the band b.
func (wf *waterfall) Row(b *band) bandRow { return bandRow{b, wf.Shade, wf.Txs} }

// A bar is a span of the axis in percent.
type bar struct{ X, W string }

type tick struct {
	X      string
	Label  time.Duration
	Anchor string // the label's side of the tick: start, middle or end
}

const (
	// maxBands bounds the bands drawn: groups past it are folded.
	maxBands = 40

	// maxMarks bounds the sampled events marked: the trace keeps 64,
	// a file may hold any number.
	maxMarks = 256

	// maxShadeTxs is the most transactions shaded behind each band;
	// past it they are drawn in their lane only.
	maxShadeTxs = 8

	// minWidth is the narrowest bar, in percent, so that a statement
	// of a few microseconds on a long axis still shows.
	minWidth = 0.2

	// txJoin merges transactions closer than it, in percent.
	txJoin = 0.5
)

func layout(rep *querytrace.Report) *waterfall {
	events := rep.Events()
	wf := &waterfall{Span: max(rep.Wall, 0), Missed: max(rep.EventsMissed, 0)}
	for _, g := range rep.Groups {
		wf.Span = max(wf.Span, g.Last)
	}
	for _, e := range events {
		wf.Span = max(wf.Span, e.Start+e.Duration)
	}
	wf.Span = max(wf.Span, 1)
	ax := axis(wf.Span)

	// The costliest groups get a band each, the rest one together.
	drawn := slices.Clone(rep.Groups)
	slices.SortStableFunc(drawn, func(a, b *querytrace.Group) int { return cmp.Compare(b.Total, a.Total) })
	var folded []*querytrace.Group
	if len(drawn) > maxBands {
		drawn, folded = drawn[:maxBands-1], drawn[maxBands-1:]
	}
	slices.SortStableFunc(drawn, func(a, b *querytrace.Group) int {
		return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(a.ID, b.ID))
	})
	loops := make(map[*querytrace.Group]bool)
	for _, f := range rep.NPlusOne {
		loops[f.Group] = true
	}
	byID := make(map[int]*band, len(rep.Groups))
	for _, g := range drawn {
		b := &band{Group: g, Groups: 1, Count: g.Count, Total: g.Total, Errors: g.Errors, First: g.First, Last: max(g.Last, g.First), Loop: loops[g]}
		wf.Bands = append(wf.Bands, b)
		byID[g.ID] = b
	}
	if len(folded) > 0 {
		o := &band{Groups: len(folded), First: folded[0].First, Last: folded[0].Last}
		for _, g := range folded {
			o.Count += g.Count
			o.Total += g.Total
			o.Errors += g.Errors
			o.First, o.Last = min(o.First, g.First), max(o.Last, g.Last)
			byID[g.ID] = o
		}
		wf.Other = o
	}

	marks := make(map[*band][]span)
	var open []time.Duration // starts of begun transactions, in order
	var txs []span
	for _, e := range events {
		switch e.Kind {
		case "begin":
			open = append(open, e.Start)
			continue
		case "commit", "rollback":
			// Transactions are matched first begun, first ended: events
			// carry no connection, so concurrent ones may pair wrongly,
			// but each span covers real transaction time.
			if len(open) > 0 {
				txs = append(txs, ax.span(open[0], e.Start+e.Duration))
				open = open[1:]
			}
			continue
		}
		if b := byID[e.Group]; b != nil && wf.Marked < maxMarks {
			wf.Marked++
			marks[b] = merge(marks[b], ax.span(e.Start, e.Start+e.Duration), 0)
		}
	}
	for _, s := range open { // still open when the trace ended
		txs = append(txs, ax.span(s, wf.Span))
	}
	wf.TxCount = len(txs)
	slices.SortFunc(txs, func(a, b span) int { return cmp.Compare(a.x, b.x) })
	var joined []span
	for _, t := range txs {
		joined = merge(joined, t, txJoin)
	}
	wf.Txs = bars(joined)
	wf.Shade = len(wf.Txs) <= maxShadeTxs

	for _, b := range append(wf.Bands, wf.Other) {
		if b != nil {
			b.Bar, b.Marks = ax.span(b.First, b.Last).bar(), bars(marks[b])
		}
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

// An axis places times of a request of its length.
type axis time.Duration

// pct returns where d falls, in percent; a file's times may be anything.
func (a axis) pct(d time.Duration) float64 {
	return min(max(100*float64(d)/float64(a), 0), 100)
}

// span returns the span from one time to another, at least minWidth wide.
func (a axis) span(from, to time.Duration) span {
	x := a.pct(from)
	w := max(a.pct(to)-x, minWidth)
	return span{min(x, 100-minWidth), w}
}

// A span is a bar in numbers: its start and width in percent.
type span struct{ x, w float64 }

func (s span) bar() bar { return bar{fmtPct(s.x), fmtPct(s.w)} }

func bars(spans []span) []bar {
	var bs []bar
	for _, s := range spans {
		bs = append(bs, s.bar())
	}
	return bs
}

// merge appends s to spans, which are in order of start, or extends the
// last one instead when s starts within join of its end: the number of
// spans is then bounded by the axis, not by how many were merged.
func merge(spans []span, s span, join float64) []span {
	if n := len(spans); n > 0 && s.x <= spans[n-1].x+spans[n-1].w+join {
		last := &spans[n-1]
		last.w = max(last.x+last.w, s.x+s.w) - last.x
		return spans
	}
	return append(spans, s)
}

func fmtPct(p float64) string { return strconv.FormatFloat(p, 'f', 3, 64) + "%" }
