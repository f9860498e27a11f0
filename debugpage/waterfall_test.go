package debugpage

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/viewertest"
)

func pct(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWaterfall lays out a request of a transaction, an idle gap, a loop
// of 600 statements and one last statement: one band per group over its
// real span, on an axis of the whole request, although the trace kept
// only its first 64 events.
func TestWaterfall(t *testing.T) {
	db := openDB(t)
	rep := trace(t, "GET /w", func(ctx context.Context) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		tx.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(new(int))
		tx.Commit()
		time.Sleep(5 * time.Millisecond)
		for i := range 600 {
			db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, i%10+1).Scan(new(string))
		}
		db.QueryRowContext(ctx, `SELECT max(id) FROM items`).Scan(new(int))
	})
	if rep.EventsMissed == 0 {
		t.Fatalf("the trace kept all %d events: the test wants a sample", rep.EventsKept)
	}
	wf := layout(rep)
	if len(wf.Bands) != len(rep.Groups) || len(wf.Bands) != 3 || wf.Other != nil {
		t.Fatalf("%d bands for %d groups, want one each", len(wf.Bands), len(rep.Groups))
	}
	if wf.Span != rep.Wall {
		t.Errorf("axis %v, want the whole request, %v", wf.Span, rep.Wall)
	}
	first, loop, last := wf.Bands[0], wf.Bands[1], wf.Bands[2]
	if first.Count != 1 || loop.Count != 600 || last.Count != 1 || !loop.Loop {
		t.Fatalf("bands of %d, %d (N+1 %v), %d executions; want 1, 600 (an N+1), 1, in order of start", first.Count, loop.Count, loop.Loop, last.Count)
	}
	// The loop's band covers its real span: from its first statement's
	// start to its last one's end.
	g := loop.Group
	if x, w := pct(t, loop.Bar.X), pct(t, loop.Bar.W); abs(int64(1000*(x-100*float64(g.First)/float64(wf.Span)))) > 1 ||
		abs(int64(1000*(w-100*float64(g.Last-g.First)/float64(wf.Span)))) > 1 {
		t.Errorf("the loop's band at %s, %s wide; want %v to %v of %v", loop.Bar.X, loop.Bar.W, g.First, g.Last, wf.Span)
	}
	// The sample is marked inside the bands: the statements of the
	// first 64 events, the transaction's boundaries in their lane.
	if wf.Marked != rep.EventsKept-2 || len(loop.Marks) == 0 || len(last.Marks) != 0 {
		t.Errorf("%d events marked (%d in the loop, %d in the last band), want the %d statements sampled, none of the last", wf.Marked, len(loop.Marks), len(last.Marks), rep.EventsKept-2)
	}
	end := pct(t, loop.Bar.X) + pct(t, loop.Bar.W)
	for _, m := range loop.Marks {
		if pct(t, m.X) < pct(t, loop.Bar.X)-0.001 || pct(t, m.X)+pct(t, m.W) > end+0.001 {
			t.Errorf("a mark at %s, %s wide, outside its band at %s, %s wide", m.X, m.W, loop.Bar.X, loop.Bar.W)
		}
	}
	// Past the sample, the band goes on to the loop's end.
	if m := loop.Marks[len(loop.Marks)-1]; pct(t, m.X)+pct(t, m.W) >= end {
		t.Errorf("the loop's band ends with its sampled executions, at %.3f%%: it covers the sample, not the loop", end)
	}
	if wf.TxCount != 1 || len(wf.Txs) != 1 || !wf.Shade || pct(t, wf.Txs[0].X) > pct(t, first.Bar.X) {
		t.Errorf("transactions %+v (%d), want one, shaded, from before its statement at %s", wf.Txs, wf.TxCount, first.Bar.X)
	}
}

// TestWaterfallBounded lays out a file's report of more groups, events
// and transactions than a trace keeps: bands, marks and transaction spans
// stay bounded, and the folded groups keep their sums.
func TestWaterfallBounded(t *testing.T) {
	rep, err := querytrace.UnmarshalFile(viewertest.File(viewertest.Spec{Statements: 4000, Groups: 2000, Transactions: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	wf := layout(rep)
	if len(wf.Bands) != maxBands-1 || wf.Other == nil || wf.Other.Groups != 2000-len(wf.Bands) {
		t.Fatalf("%d bands and %+v folded, want %d and the other %d groups", len(wf.Bands), wf.Other, maxBands-1, 2000-maxBands+1)
	}
	count := wf.Other.Count
	for _, b := range wf.Bands {
		count += b.Count
	}
	if count != 4000 {
		t.Errorf("the bands count %d executions, want 4000", count)
	}
	marks := len(wf.Other.Marks)
	for _, b := range wf.Bands {
		marks += len(b.Marks)
	}
	if wf.Marked != maxMarks || marks > maxMarks {
		t.Errorf("%d events marked in %d marks, want at most %d", wf.Marked, marks, maxMarks)
	}
	if wf.TxCount != 1000 || len(wf.Txs) > int(100/txJoin)+1 || wf.Shade != (len(wf.Txs) <= maxShadeTxs) {
		t.Errorf("%d transactions in %d spans (shaded behind every band: %v), want 1000 in at most %d", wf.TxCount, len(wf.Txs), wf.Shade, int(100/txJoin)+1)
	}
}
