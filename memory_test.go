package querytrace

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/querytrace/querytrace/internal/clock"
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

// TestRequestMemory bounds what a request pays in memory besides its
// statements: Start, ten executions of one statement from one call site
// (an N+1, with its finding) and Finish, alone or after the report that
// the Handler builds for Server-Timing as the headers go out, which
// Finish then returns. Every request pays it, and on a page of a few
// statements it is most of querytrace's cost: each byte is allocated,
// cleared and collected. The bounds are today's figures; a trace, a group
// or a report that grows past its size class (Go's classes go 640, 704,
// 768, 896 bytes, and an object over 512 bytes with pointers takes 8
// more) shows here first, and so does a report that copies the trace's
// groups instead of taking them.
func TestRequestMemory(t *testing.T) {
	defer func(f func(*Report)) { reportBuilt = f }(reportBuilt)
	reportBuilt = nil // the package tests' own check allocates
	const (
		maxAllocs = 9
		maxBytes  = 2144
	)
	stack, site := siteOf()
	for _, c := range []struct {
		name   string
		finish func(*Trace) *Report
	}{
		{"Finish", (*Trace).Finish},
		{"Server-Timing, then Finish", func(tr *Trace) *Report {
			s := tr.snapshot(true)
			if tr.Finish() != s {
				t.Fatal("Finish built a second report")
			}
			return s
		}},
	} {
		request := func() {
			_, tr := Start(context.Background(), "request")
			for i := range 10 {
				r := rec{kind: KindQuery, sql: "SELECT v FROM t WHERE id = ?", dialect: DialectSQLite, stack: stack, site: site,
					args: argSum{hash: uint64(i)}, start: clock.Now(), dur: 1000, rowsDur: 2000, rows: 1}
				tr.record(&r)
			}
			if r := c.finish(tr); len(r.NPlusOne) != 1 {
				t.Fatalf("%s: %d N+1 findings, want 1", c.name, len(r.NPlusOne))
			}
		}
		request() // the shape, the fix and the call site's symbols are cached from here on
		allocs := testing.AllocsPerRun(100, request)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 1000
		for range n {
			request()
		}
		runtime.ReadMemStats(&after)
		bytes := float64(after.TotalAlloc-before.TotalAlloc) / n
		t.Logf("%s: a request of ten statements: %.0f allocations, %.0f bytes", c.name, allocs, bytes)
		if allocs > maxAllocs || bytes > maxBytes {
			t.Errorf("%s: a request of ten statements: %.0f allocations of %.0f bytes in all, want at most %d of %d",
				c.name, allocs, bytes, maxAllocs, maxBytes)
		}
	}
}
