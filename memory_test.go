package querytrace

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// siteStacks returns n different call sites: one stack per line.
func siteStacks() [3]Stack {
	return [3]Stack{CaptureStack(), CaptureStack(), CaptureStack()}
}

// TestTraceMemoryBounded records a million statements of ten shapes from
// three call sites into one trace and checks that the trace's heap stays
// under 1 MB: groups and a bounded sample, nothing per statement.
func TestTraceMemoryBounded(t *testing.T) {
	const statements = 1_000_000
	n := statements
	if testing.Short() {
		n = statements / 10
	}
	var shapes [10]string
	for i := range shapes {
		shapes[i] = fmt.Sprintf("SELECT a, b FROM table%d WHERE id = ? AND owner = ?", i)
		shapeOf(shapes[i], DialectGeneric) // warm the shape cache, which is global
	}
	sites := siteStacks()
	start := time.Now()
	e := Event{Kind: KindQuery, Start: start, Duration: time.Microsecond, Rows: 1}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	tr := NewTrace("batch job")
	for i := 0; i < n; i++ {
		e.SQL = shapes[i%len(shapes)]
		e.Stack = sites[i%len(sites)]
		e.ArgsHash = uint64(i + 1)
		e.Start = start.Add(time.Duration(i) * time.Microsecond)
		tr.Record(&e)
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	allocated := after.TotalAlloc - before.TotalAlloc
	runtime.KeepAlive(tr)

	r := tr.Finish()
	t.Logf("%d statements in %d groups: live heap grew %d bytes, %d bytes allocated in all (%.3f per statement), %v",
		r.Statements, len(r.Groups), heap, allocated, float64(allocated)/float64(n), time.Since(start).Round(time.Millisecond))
	if r.Statements != n || len(r.Groups) != 30 {
		t.Errorf("%d statements in %d groups, want %d in 30", r.Statements, len(r.Groups), n)
	}
	// The live heap is what the issue bounds; everything allocated while
	// recording, garbage included, is a stricter bound that GC noise in
	// the live figure cannot hide.
	if heap > 1<<20 || allocated > 1<<20 {
		t.Errorf("a trace of %d statements: heap grew %d bytes, %d allocated; want both under 1 MB", n, heap, allocated)
	}
}
