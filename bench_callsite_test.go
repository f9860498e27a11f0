package querytrace

import (
	"fmt"
	"testing"
	"time"
)

// The per-statement path is Trace.Record: normalize (cached by text), hash
// the call site, fold into a group. Symbolizing call sites and classifying
// groups happen at Finish, once per trace; these benchmarks and the
// allocation test keep it that way.

func BenchmarkRecord(b *testing.B) {
	const q = "SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL"
	for _, c := range []struct {
		name    string
		capture bool
	}{{"stack-captured", true}, {"stack-given", false}} {
		b.Run(c.name, func(b *testing.B) {
			tr := NewTrace("bench")
			stack := CaptureStack()
			now := time.Now()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				e := Event{Kind: KindQuery, SQL: q, Start: now, Duration: time.Microsecond, ArgsHash: uint64(i)}
				if !c.capture {
					e.Stack = stack
				}
				tr.Record(&e)
			}
		})
	}
}

// BenchmarkRecordAfterWrite is Record once the trace has seen a write: a
// read then counts the writes to its tables, and a repeat of its
// arguments asks whether one came between.
func BenchmarkRecordAfterWrite(b *testing.B) {
	tr := NewTrace("bench")
	stack := CaptureStack()
	now := time.Now()
	tr.Record(&Event{Kind: KindExec, SQL: "UPDATE items SET user_id = ? WHERE id = ?", Start: now, ArgsHash: 1, Stack: stack})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr.Record(&Event{Kind: KindQuery, SQL: "SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL",
			Start: now, Duration: time.Microsecond, ArgsHash: uint64(i % 8), Stack: stack})
	}
}

// BenchmarkFinish is the cost moved off the hot path: a report of 50
// groups from 5 call sites, symbolized (from the cache after the first
// run) and classified.
func BenchmarkFinish(b *testing.B) {
	sites := [...]Stack{ // five lines: five call sites
		CaptureStack(),
		CaptureStack(),
		CaptureStack(),
		CaptureStack(),
		CaptureStack(),
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		tr := NewTrace("bench")
		for i := 0; i < 500; i++ {
			tr.Record(&Event{Kind: KindQuery, SQL: fmt.Sprintf("SELECT * FROM t%d WHERE id = ?", i%10),
				Start: now, Duration: time.Microsecond, Rows: 1, ArgsHash: uint64(i), Stack: sites[i%5]})
		}
		tr.Finish()
	}
}

// TestRecordAllocs checks that recording a statement whose shape is cached
// into an existing group allocates nothing, call site included: what the
// 1.15× budget over a raw QueryRow leaves room for.
func TestRecordAllocs(t *testing.T) {
	const q = "SELECT name FROM entries WHERE id = ?"
	tr := NewTrace("allocs")
	now := time.Now()
	e := Event{Kind: KindQuery, SQL: q, Start: now, Duration: time.Microsecond}
	for i := 0; i < maxSample+1; i++ { // fill the sample: it stops growing
		e.Stack = Stack{}
		tr.Record(&e)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		e.Stack = Stack{}
		e.ArgsHash = uint64(i)
		i++
		tr.Record(&e)
	})
	if allocs != 0 {
		t.Errorf("Record allocates %v times per statement, want 0", allocs)
	}
}
