package debugpage

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWaterfall(t *testing.T) {
	db := openDB(t)
	db.SetMaxOpenConns(2)
	rep := trace(t, "GET /w", func(ctx context.Context) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		tx.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(new(int))
		tx.Commit()
		time.Sleep(5 * time.Millisecond) // a gap
		// A query whose rows stay open while another runs: an overlap.
		rows, err := db.QueryContext(ctx, `SELECT id FROM items`)
		if err != nil {
			t.Fatal(err)
		}
		db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = ?`, 1).Scan(new(string))
		rows.Close()
	})
	wf := layout(rep)
	if len(wf.Rows) != 3 || len(wf.Txs) != 1 {
		t.Fatalf("%d rows and %d transactions, want 3 and 1", len(wf.Rows), len(wf.Txs))
	}
	if wf.Partial || wf.Span != rep.Wall {
		t.Errorf("axis %v (partial %v), want the wall time %v", wf.Span, wf.Partial, rep.Wall)
	}
	if r := wf.Rows[1]; r.Gap == nil || r.GapTime < 5*time.Millisecond {
		t.Errorf("second statement: gap %v, want one of at least 5ms", r.GapTime)
	}
	if r := wf.Rows[2]; !r.Overlap || r.Gap != nil {
		t.Errorf("third statement: overlap %v, gap %v; want an overlap", r.Overlap, r.Gap)
	}
	if wf.Rows[0].Overlap || wf.Rows[1].Overlap {
		t.Errorf("the first two statements are marked overlapping")
	}
	// The transaction's shade starts before its statement's bar.
	pct := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if pct(wf.Txs[0].X) > pct(wf.Rows[0].Bar.X) {
		t.Errorf("transaction at %s, its statement at %s", wf.Txs[0].X, wf.Rows[0].Bar.X)
	}
}
