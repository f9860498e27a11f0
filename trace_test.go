package querytrace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentTrace runs 64 goroutines in one trace.
func TestConcurrentTrace(t *testing.T) {
	db, err := Open("sqlite3", sqliteDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	keep, _ := db.Conn(context.Background()) // keeps the memory database alive
	defer keep.Close()
	if _, err := keep.ExecContext(context.Background(), "CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	ctx, tr := Start(context.Background(), "fan-out")
	const goroutines, each = 64, 10
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE id > ?", g).Scan(&n); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	// Finish while statements may still run elsewhere must be safe; the
	// real report is taken after the wait.
	_ = tr.Snapshot()
	wg.Wait()
	r := tr.Finish()
	if failed.Load() != 0 {
		t.Fatalf("%d statements failed", failed.Load())
	}
	if r.Statements != goroutines*each {
		t.Errorf("Statements = %d, want %d", r.Statements, goroutines*each)
	}
}

func TestNestedTraces(t *testing.T) {
	db := openSQLite(t, true)
	outerCtx, outer := Start(context.Background(), "outer")
	innerCtx, inner := Start(outerCtx, "inner")
	for i := 0; i < 3; i++ {
		db.ExecContext(innerCtx, "SELECT ?", i)
	}
	for i := 0; i < 2; i++ {
		db.ExecContext(outerCtx, "SELECT ?", i)
	}
	if FromContext(innerCtx) != inner || FromContext(outerCtx) != outer || FromContext(context.Background()) != nil {
		t.Errorf("FromContext returned the wrong traces")
	}
	ri := inner.Finish()
	db.ExecContext(innerCtx, "SELECT 1") // after the inner Finish: outer only
	ro := outer.Finish()
	if ri.Statements != 3 || ro.Statements != 6 {
		t.Errorf("inner %d, outer %d statements; want 3 and 6", ri.Statements, ro.Statements)
	}
}

// TestFinishAfterSnapshot checks that Finish reuses a snapshot taken after
// the last statement (as the middleware's Server-Timing header does) and
// builds afresh when a statement came in between.
func TestFinishAfterSnapshot(t *testing.T) {
	for _, more := range []bool{false, true} {
		ctx, tr := Start(context.Background(), "snap")
		stack := CaptureStack()
		e := Event{Kind: KindQuery, SQL: "SELECT 1", Start: time.Now(), Duration: time.Microsecond, Stack: stack}
		Record(ctx, &e)
		snap := tr.Snapshot()
		if more {
			Record(ctx, &e)
		}
		r := tr.Finish()
		if r == snap {
			t.Fatalf("Finish returned the snapshot itself, which its holder may still be reading")
		}
		// A reused snapshot's copy shares the read-only sample of events
		// with it; a report built afresh has the trace's own.
		reused := &r.sample[0] == &snap.sample[0]
		if reused == more {
			t.Errorf("statement after the snapshot %v: report reused %v", more, reused)
		}
		if want := 1 + map[bool]int{false: 0, true: 1}[more]; r.Statements != want || r.Wall < snap.Wall {
			t.Errorf("statement after the snapshot %v: %d statements, wall %v after %v", more, r.Statements, r.Wall, snap.Wall)
		}
	}
}

// TestSharedSnapshot checks the report that the Handler builds for
// Server-Timing (snapshot(true)), which takes the trace's groups as its
// own: Finish returns it when nothing ran since, and statements that run
// after it, from goroutines of their own while its holder reads it (as a
// handler may go on after writing its headers), leave it as it was and
// reach Finish's report. Run with -race, it also checks that classifying
// the lent groups outside the trace's lock races with nothing.
func TestSharedSnapshot(t *testing.T) {
	stack := CaptureStack()
	event := func(i int) *Event {
		return &Event{Kind: KindQuery, SQL: "SELECT v FROM t WHERE id = ?", Start: time.Now(), Duration: time.Microsecond,
			Rows: 1, ArgsHash: uint64(i), Stack: stack}
	}
	t.Run("reused", func(t *testing.T) {
		ctx, tr := Start(context.Background(), "shared")
		for i := range 10 {
			Record(ctx, event(i))
		}
		snap := tr.snapshot(true)
		if r := tr.Finish(); r != snap {
			t.Fatalf("Finish built a report afresh though nothing ran after the shared snapshot")
		}
		if len(snap.NPlusOne) != 1 || snap.Groups[0] != &tr.order[0].Group {
			t.Errorf("the shared report has %d N+1s, and its group is the trace's %v; want 1 and true",
				len(snap.NPlusOne), snap.Groups[0] == &tr.order[0].Group)
		}
	})
	t.Run("overflow group", func(t *testing.T) {
		// Past maxGroups, statements of new shapes go to one group,
		// which is then also the last one folded into.
		ctx, tr := Start(context.Background(), "shared")
		shape := func(i int) *Event {
			return &Event{Kind: KindQuery, SQL: fmt.Sprintf("SELECT v FROM t%d", i), Start: time.Now(), Stack: stack}
		}
		for i := range maxGroups + 1 {
			Record(ctx, shape(i))
		}
		snap := tr.snapshot(true)
		Record(ctx, shape(maxGroups+1))
		r := tr.Finish()
		other := func(r *Report) int {
			for _, g := range r.Groups {
				if g.Shape == otherShape {
					return g.Count
				}
			}
			return 0
		}
		if other(snap) != 1 || other(r) != 2 {
			t.Errorf("the overflow group counts %d in the shared snapshot and %d when finished; want 1 and 2", other(snap), other(r))
		}
	})
	for _, snapshots := range []int{1, 2} {
		t.Run(fmt.Sprintf("statements after %d", snapshots), func(t *testing.T) {
			ctx, tr := Start(context.Background(), "shared")
			for i := range 10 {
				Record(ctx, event(i))
			}
			var snap *Report
			for range snapshots {
				snap = tr.snapshot(true)
			}
			want := withoutWall(snap.String())
			const goroutines, each = 4, 25
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						Record(ctx, event(100+g*each+i))
					}
				}()
			}
			for range 20 { // the holder reads its report meanwhile
				if got := withoutWall(snap.String()); got != want {
					t.Fatalf("statements after the shared snapshot changed it:\n%s\nwant\n%s", got, want)
				}
			}
			wg.Wait()
			r := tr.Finish()
			if r == snap {
				t.Fatal("Finish returned the shared snapshot though statements ran after it")
			}
			if got := withoutWall(snap.String()); got != want {
				t.Errorf("Finish changed the shared snapshot:\n%s\nwant\n%s", got, want)
			}
			if n := 10 + goroutines*each; r.Statements != n || r.Groups[0].Count != n || snap.Groups[0].Count != 10 {
				t.Errorf("Finish counts %d statements, %d in its group, and the snapshot %d; want %d, %d and 10",
					r.Statements, r.Groups[0].Count, snap.Groups[0].Count, n, n)
			}
		})
	}
}

// TestSnapshotIndependent checks that a snapshot and the finished report
// share nothing that their holders can change, whether Finish reuses the
// snapshot or the snapshot is taken after Finish: a Handler's Server-Timing
// snapshot must not alter what OnFinish and the logs get.
func TestSnapshotIndependent(t *testing.T) {
	b := detBackends(t)[0]
	ctx, tr := Start(context.Background(), "GET /team")
	if err := richPage(ctx, b); err != nil {
		t.Fatal(err)
	}
	snap := tr.Snapshot()
	if len(snap.NPlusOne) != 1 || len(snap.Duplicates) != 1 || len(snap.Duplicates[0].Others) != 1 || snap.NPlusOne[0].Loop == nil {
		t.Fatalf("the page's report lacks a finding to change:\n%s", snap)
	}
	want := withoutWall(snap.String())
	spoil := func(r *Report) {
		for _, g := range r.Groups {
			g.Count = 999
			g.Stack[0].Line = 999
		}
		r.NPlusOne[0].Loop.Line = 999
		r.NPlusOne[0].Source.Rows = 999
		r.Duplicates[0].Others[0].Shape = "spoilt"
		r.NPlusOne = r.NPlusOne[:0]
		r.Groups = r.Groups[:1]
	}
	spoil(snap)
	r := tr.Finish()
	if got := withoutWall(r.String()); got != want {
		t.Errorf("changing the snapshot changed the finished report:\n%s\nwant\n%s", got, want)
	}
	if paths := shared("report", reflect.ValueOf(snap), reflect.ValueOf(r)); len(paths) > 0 {
		t.Errorf("the snapshot and the finished report share %v", paths)
	}
	after := tr.Snapshot()
	if paths := shared("report", reflect.ValueOf(after), reflect.ValueOf(r)); len(paths) > 0 {
		t.Errorf("a snapshot after Finish and the finished report share %v", paths)
	}
	spoil(after)
	if got := withoutWall(r.String()); got != want {
		t.Errorf("changing a snapshot taken after Finish changed the finished report:\n%s", got)
	}
}

// TestCloneFull checks that the copy Snapshot and Finish hand out of a
// report whose every exported field is set (fullReport, so that a field
// added later is covered) reads the same as the report and shares nothing
// its holder can change with it.
func TestCloneFull(t *testing.T) {
	r := fullReport(t)
	c := r.clone()
	for _, d := range sameExported("Report", reflect.ValueOf(r).Elem(), reflect.ValueOf(c).Elem()) {
		t.Error(d)
	}
	if paths := shared("Report", reflect.ValueOf(c), reflect.ValueOf(r)); len(paths) > 0 {
		t.Errorf("the copy shares %v", paths)
	}
}

// withoutWall drops the line of a text report that tells its wall time,
// which Finish sets anew.
func withoutWall(text string) string {
	lines := strings.Split(text, "\n")
	return strings.Join(slices.Delete(lines, 1, 2), "\n")
}

// TestPause checks that statements under Pause still count in the trace
// above it, are allowed rather than flagged, and carry the pause's reason,
// never an empty one.
func TestPause(t *testing.T) {
	for _, c := range []struct{ reason, want string }{
		{"warm-up", "paused: warm-up"},
		{"", "paused: no reason given"},
	} {
		ctx, tr := Start(context.Background(), "deploy")
		paused := Pause(ctx, c.reason)
		if FromContext(paused) != tr {
			t.Errorf("Pause(%q): FromContext is not the trace above it", c.reason)
		}
		for i := range 3 {
			Record(paused, &Event{Kind: KindQuery, SQL: "SELECT a FROM t WHERE id = ?", Start: time.Now(), ArgsHash: uint64(i + 1)})
		}
		r := tr.Finish()
		if r.Statements != 3 || len(r.NPlusOne) != 0 || len(r.Allowed) != 1 {
			t.Fatalf("Pause(%q): %d statements, %d N+1, %d allowed; want 3, 0, 1", c.reason, r.Statements, len(r.NPlusOne), len(r.Allowed))
		}
		if got := r.Allowed[0].Reason; got != c.want {
			t.Errorf("Pause(%q): reason %q, want %q", c.reason, got, c.want)
		}
	}
	if ctx := context.Background(); Pause(ctx, "nothing to pause") != ctx {
		t.Errorf("Pause without a trace returned a new context")
	}
}

// TestWrites checks which statements count as writes to the tables they
// name, from their verb or, for statements with a verb of their own, the
// shape's first word.
func TestWrites(t *testing.T) {
	for _, c := range []struct {
		q    string
		want bool
	}{
		{"INSERT INTO t (a) VALUES (?)", true},
		{"REPLACE INTO t (a) VALUES (?)", true},
		{"UPDATE t SET a = ? WHERE id = ?", true},
		{"DELETE FROM t WHERE id = ?", true},
		{"WITH x AS (SELECT 1) UPDATE t SET a = 1", true},
		{"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", true},
		{"TRUNCATE TABLE t", true},
		{"COPY t FROM STDIN", true},
		{"SELECT a FROM t WHERE id = ?", false},
		{"WITH x AS (SELECT 1) SELECT * FROM x", false},
		{"SET search_path = ?", false},
		{"BEGIN", false},
		{"EXPLAIN SELECT 1", false},
	} {
		if got := writes(shapeOf(c.q, DialectPostgres)); got != c.want {
			t.Errorf("writes(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

// TestReportPathsAgree builds reports of random traces each way a report
// is built, and checks that they agree: Finish's, from the trace's own
// groups; Snapshot's, from copies of them, taken just before; and the
// Handler's Server-Timing report, from the trace's groups lent to it at a
// random point, which must read the same after the statements that came
// later as when it was built. A field that one way sets and another
// forgets shows here.
func TestReportPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 6))
	sites := [...]Stack{CaptureStack(), CaptureStack(), CaptureStack()} // three call sites
	texts := []string{
		"SELECT v FROM items WHERE id = ?",
		"SELECT count(*) FROM tags WHERE item_id = ? AND kind IN (?, ?)",
		"SELECT * FROM items WHERE id IN (?, ?, ?) LIMIT 10",
		"SELECT * FROM items WHERE id IN (?) LIMIT 10", // the shape above, with lists of other lengths
		"SELECT * FROM items WHERE id = any(?)",
		"UPDATE items SET v = ? WHERE id = ?",
		"INSERT INTO tags (item_id, kind) VALUES (?, ?)",
	}
	text := func(r *Report) string {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n" + withoutWall(r.String())
	}
	base := time.Now()
	for i := range 300 {
		ctx, tr := Start(context.Background(), "paths")
		paused := Pause(ctx, "warm-up")
		n := 1 + rng.IntN(40)
		lendAt := rng.IntN(n + 1)
		var lent *Report
		var lentText string
		at := time.Duration(0)
		for k := range n {
			if k == lendAt {
				lent = tr.snapshot(true)
				lentText = text(lent)
			}
			sql := texts[rng.IntN(len(texts))]
			e := Event{Kind: KindQuery, SQL: sql, Start: base.Add(at), Duration: time.Duration(1+rng.IntN(500)) * time.Microsecond,
				Rows: rng.Int64N(5), ArgsHash: rng.Uint64N(6), Stack: sites[rng.IntN(len(sites))]}
			if rng.IntN(2) == 0 { // the same arguments again: duplicates, across call sites too
				e.ArgsHash = 0
			}
			if strings.Contains(sql, "any") {
				e.ArgsKeys = rng.IntN(20)
			}
			if !strings.HasPrefix(sql, "SELECT") {
				e.Kind = KindExec
			}
			if rng.IntN(12) == 0 {
				e.Err = errors.New("failed")
			}
			at += e.Duration + time.Duration(rng.IntN(50))*time.Microsecond
			if rng.IntN(8) == 0 {
				Record(paused, &e)
			} else {
				Record(ctx, &e)
			}
		}
		c := tr.Snapshot()
		tr.SetDetector(nil) // the same detector, and no snapshot for Finish to reuse
		r := tr.Finish()
		c.Wall, c.Unattributed = r.Wall, r.Unattributed
		if got, want := text(c), text(r); got != want {
			t.Fatalf("trace %d: Snapshot's report reads\n%s\nand Finish's\n%s", i, got, want)
		}
		if lent == nil {
			continue
		}
		if got := text(lent); got != lentText {
			t.Fatalf("trace %d: the Handler's report changed after %d of %d statements:\n%s\nwas\n%s", i, lendAt, n, got, lentText)
		}
	}
}
