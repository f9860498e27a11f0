package querytrace

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

var seedDBs atomic.Int64

// openSeed opens a traced in-memory SQLite database holding the demo's
// inventory (examples/inventory/store) with the given number of entries.
// Its one connection keeps the database alive and the order of statements
// deterministic. The set-up runs outside any trace: it lands in the
// database-wide fallback, not in the reports under test.
func openSeed(t testing.TB, entries int) *sql.DB {
	t.Helper()
	db, err := Open("sqlite3", store.MemoryDSN(fmt.Sprintf("seed%d", seedDBs.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Create(context.Background(), db, entries); err != nil {
		t.Fatal(err)
	}
	return db
}

// entryIDs returns the ids of the inventory's entries, from the query
// both pages start with: the source of the loops over them.
func entryIDs(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := store.Entries(ctx, db)
	ids := make([]int, len(rows))
	for i, r := range rows {
		ids[i] = r.EntryID
	}
	return ids, err
}

func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// sourceLine returns the number of the line of file that holds text,
// which must be on exactly one line.
func sourceLine(t testing.TB, file, text string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, text) {
			if n != 0 {
				t.Fatalf("%s holds %q on lines %d and %d", file, text, n, i+1)
			}
			n = i + 1
		}
	}
	if n == 0 {
		t.Fatalf("%s does not hold %q", file, text)
	}
	return n
}

func runSeed(t testing.TB, db *sql.DB, page func(context.Context, *sql.DB) ([]store.Row, error)) *Report {
	t.Helper()
	ctx, tr := Start(context.Background(), "GET /inventory")
	if _, err := page(ctx, db); err != nil {
		t.Fatal(err)
	}
	return tr.Finish()
}

func TestSeedScenario(t *testing.T) {
	db := openSeed(t, 30)
	slow := runSeed(t, db, store.SlowInventory)
	fast := runSeed(t, db, store.FastInventory)
	if testing.Verbose() {
		t.Logf("slow page:\n%s", slow)
	}

	if slow.Statements != 61 || len(slow.NPlusOne) != 2 {
		t.Fatalf("slow page: %d statements, %d N+1, want 61 and 2:\n%s", slow.Statements, len(slow.NPlusOne), slow)
	}
	const pages = "examples/inventory/store/pages.go"
	unclaimed := sourceLine(t, pages, "unclaimedSQL, rows[i].EntryID")
	approved := sourceLine(t, pages, "approvedSQL, rows[i].EntryID")
	want := map[int]string{
		unclaimed: "one query for all rows: select entry_id, count(*) from items where entry_id in (...) and user_id is null group by entry_id",
		approved:  "one query for all rows: select ri.entry_id, coalesce(sum(ri.quantity), …) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id in (...) and r.status = … group by ri.entry_id",
	}
	for _, f := range slow.NPlusOne {
		if len(f.Group.Stack) == 0 {
			t.Fatalf("N+1 %s has no call site", f.Group.Shape)
		}
		site := f.Group.Stack[0]
		if filepath.Base(site.File) != "pages.go" || !strings.HasSuffix(site.Function, ".SlowInventory") {
			t.Errorf("N+1 call site = %s, want pages.go in SlowInventory", site)
		}
		fix, ok := want[site.Line]
		if !ok {
			t.Errorf("N+1 at line %d, want one of the lines %d and %d", site.Line, unclaimed, approved)
			continue
		}
		if f.Fix != fix {
			t.Errorf("fix at line %d:\n got %s\nwant %s", site.Line, f.Fix, fix)
		}
		if f.Count != 30 || f.Group.Distinct != 30 {
			t.Errorf("N+1 count %d, distinct %d, want 30 and 30", f.Count, f.Group.Distinct)
		}
		if f.Source == nil || f.Source.Shape != "select id, name, category from entries order by id" || f.PerRow != 1 {
			t.Errorf("source = %v (per row %d), want the entries query, once per row", f.Source, f.PerRow)
		} else if !strings.HasSuffix(f.Source.Stack[0].Function, "store.Entries") {
			t.Errorf("source call site = %s, want store.Entries", f.Source.Stack[0])
		}
	}
	if n := len(slow.Duplicates) + len(slow.Slow) + len(slow.Batched) + len(slow.Allowed); n != 0 {
		t.Errorf("slow page: %d other findings, want none:\n%s", n, slow)
	}
	for _, out := range []string{slow.String(), mustJSON(t, slow)} {
		if strings.Contains(out, "Acme") || strings.Contains(out, "approved") || strings.Contains(out, "'") {
			t.Errorf("a literal leaked into a rendering:\n%s", out)
		}
	}

	if fast.Statements != 3 {
		t.Errorf("fast page: %d statements, want 3", fast.Statements)
	}
	if n := len(fast.NPlusOne) + len(fast.Duplicates) + len(fast.Slow) + len(fast.Allowed); n != 0 {
		t.Errorf("fast page: %d findings, want none:\n%s", n, fast)
	}
}

// TestPerRowMultiple checks a loop that runs one statement twice per row
// from one line: the source is still found, with PerRow 2.
func TestPerRowMultiple(t *testing.T) {
	db := openSeed(t, 12)
	ctx, tr := Start(context.Background(), "job")
	ids, err := entryIDs(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		for _, quantity := range []int{1, 2} {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM request_items WHERE entry_id = ? AND quantity = ?`, id, quantity).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1, want 1:\n%s", len(r.NPlusOne), r)
	}
	f := r.NPlusOne[0]
	if f.Source == nil || f.PerRow != 2 || f.Count != 24 {
		t.Errorf("source %v, per row %d, count %d; want the entries, 2, 24", f.Source, f.PerRow, f.Count)
	}
}

// TestFanOut checks that a fixed set of lookups run concurrently from
// different lines, each once, is no N+1, nor three lookups with the same
// shape from one helper when they overlap in time; while the same helper
// looping over many keys is one.
func TestFanOut(t *testing.T) {
	db := openSeed(t, 5)
	db.SetMaxOpenConns(4)
	ctx, tr := Start(context.Background(), "GET /dashboard")
	var wg sync.WaitGroup
	var errs [3]error
	wg.Add(3)
	go func() {
		defer wg.Done()
		errs[0] = db.QueryRowContext(ctx, `SELECT count(*) FROM entries`).Scan(new(int))
	}()
	go func() {
		defer wg.Done()
		errs[1] = db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE user_id IS NULL`).Scan(new(int))
	}()
	go func() {
		defer wg.Done()
		errs[2] = db.QueryRowContext(ctx, `SELECT count(*) FROM requests WHERE status = ?`, "approved").Scan(new(int))
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r := tr.Finish()
	if r.Statements != 3 || len(r.Groups) != 3 || len(r.NPlusOne)+len(r.Duplicates) != 0 {
		t.Errorf("fan-out: %d statements in %d groups, %d N+1, %d duplicates; want 3, 3, 0, 0:\n%s",
			r.Statements, len(r.Groups), len(r.NPlusOne), len(r.Duplicates), r)
	}

	// One helper, three overlapping lookups: synthetic events, since
	// whether SQLite's calls overlap is up to the scheduler.
	at := time.Now()
	fan := func(tr *Trace, n int, overlap bool) {
		stack := CaptureStack()
		for i := 0; i < n; i++ {
			start := at.Add(time.Duration(i) * time.Millisecond)
			if overlap {
				start = at.Add(time.Duration(i) * time.Microsecond)
			}
			tr.Record(&Event{Kind: KindQuery, SQL: "SELECT * FROM widgets WHERE id = ?", Start: start,
				Duration: time.Millisecond / 2, Rows: 1, ArgsHash: uint64(i + 1), Stack: stack})
		}
	}
	for _, c := range []struct {
		name    string
		n       int
		overlap bool
		want    int
	}{
		{"three overlapping", 3, true, 0},
		{"three in a row", 3, false, 1},
		{"a hundred overlapping", 100, true, 1},
	} {
		tr := NewTrace(c.name)
		fan(tr, c.n, c.overlap)
		if r := tr.Finish(); len(r.NPlusOne) != c.want {
			t.Errorf("%s: %d N+1, want %d:\n%s", c.name, len(r.NPlusOne), c.want, r)
		}
	}
}

// TestScenarios runs the other classes through SQLite, each beside its
// false-positive guard.
func TestScenarios(t *testing.T) {
	type want struct{ nplus1, dup, batched, allowed int }
	cases := []struct {
		name string
		det  *Detector
		run  func(ctx context.Context, db *sql.DB) error
		want want
		fix  string // a substring of the first finding's fix
	}{
		{
			name: "duplicate: same statement, same arguments",
			run: func(ctx context.Context, db *sql.DB) error {
				for i := 0; i < 5; i++ {
					if err := db.QueryRowContext(ctx, `SELECT name FROM entries WHERE id = ?`, 1).Scan(new(string)); err != nil {
						return err
					}
				}
				return nil
			},
			want: want{dup: 1},
			fix:  "memoize",
		},
		{
			name: "N+1 by primary key, not a duplicate",
			run: func(ctx context.Context, db *sql.DB) error {
				ids, err := entryIDs(ctx, db)
				for _, id := range ids {
					if err := db.QueryRowContext(ctx, `SELECT user_id FROM items WHERE id = ?`, id).Scan(new(sql.NullInt64)); err != nil {
						return err
					}
				}
				return err
			},
			want: want{nplus1: 1},
			fix:  "select id, user_id from items where id in (...); or a join to items in the source query",
		},
		{
			name: "keyset pages",
			run: func(ctx context.Context, db *sql.DB) error {
				last := 0
				for {
					rows, err := db.QueryContext(ctx, `SELECT id FROM entries WHERE id > ? ORDER BY id LIMIT 4`, last)
					if err != nil {
						return err
					}
					n := 0
					for rows.Next() {
						rows.Scan(&last)
						n++
					}
					rows.Close()
					if n < 4 {
						return nil
					}
				}
			},
			want: want{batched: 1},
		},
		{
			name: "offset pages ending on an empty page",
			run: func(ctx context.Context, db *sql.DB) error {
				for off := 0; ; off += 5 {
					rows, err := db.QueryContext(ctx, `SELECT id FROM entries ORDER BY id LIMIT 5 OFFSET ?`, off)
					if err != nil {
						return err
					}
					n := 0
					for rows.Next() {
						n++
					}
					rows.Close()
					if n == 0 {
						return nil
					}
				}
			},
			want: want{batched: 1},
			fix:  "keyset",
		},
		{
			name: "LIMIT 1 per row is no paging",
			run: func(ctx context.Context, db *sql.DB) error {
				ids, err := entryIDs(ctx, db)
				for _, id := range ids {
					rows, err := db.QueryContext(ctx, `SELECT id FROM items WHERE entry_id = ? ORDER BY id LIMIT 1`, id)
					if err != nil {
						return err
					}
					for rows.Next() {
					}
					rows.Close()
				}
				return err
			},
			want: want{nplus1: 1},
		},
		{
			name: "insert loop in a transaction: the inserts count, BEGIN and COMMIT never",
			run: func(ctx context.Context, db *sql.DB) error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				for i := 0; i < 5; i++ {
					if _, err := tx.ExecContext(ctx, `INSERT INTO items (entry_id, serial) VALUES (?, ?)`, i+1, fmt.Sprint("SN-new-", i)); err != nil {
						return err
					}
				}
				return tx.Commit()
			},
			want: want{nplus1: 1},
			fix:  "insert into items(entry_id, serial) values (?, ?), (?, ?), ...",
		},
		{
			name: "update loop",
			run: func(ctx context.Context, db *sql.DB) error {
				for i := 0; i < 5; i++ {
					if _, err := db.ExecContext(ctx, `UPDATE items SET user_id = ? WHERE id = ?`, 7, i+1); err != nil {
						return err
					}
				}
				return nil
			},
			want: want{nplus1: 1},
			fix:  "update items set user_id = ? where id in (...)",
		},
		{
			name: "delete loop",
			run: func(ctx context.Context, db *sql.DB) error {
				for i := 0; i < 3; i++ {
					if _, err := db.ExecContext(ctx, `DELETE FROM requests WHERE id = ?`, i+1); err != nil {
						return err
					}
				}
				return nil
			},
			want: want{nplus1: 1},
			fix:  "delete from requests where id in (...)",
		},
		{
			name: "SAVEPOINT and SET-like statements repeat by design",
			run: func(ctx context.Context, db *sql.DB) error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				for i := 0; i < 3; i++ {
					if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SAVEPOINT sp%d`, i)); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, fmt.Sprintf(`RELEASE sp%d`, i)); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "paused",
			run: func(ctx context.Context, db *sql.DB) error {
				ctx = Pause(ctx, "warm-up loop, one per deploy")
				for i := 0; i < 3; i++ {
					if err := db.QueryRowContext(ctx, `SELECT name FROM entries WHERE id = ?`, i+1).Scan(new(string)); err != nil {
						return err
					}
				}
				return nil
			},
			want: want{allowed: 1},
		},
		{
			name: "allowed by table",
			det:  &Detector{Allow: []Allow{{Table: "entries", Reason: "ten rows, cached by the CDN"}}},
			run: func(ctx context.Context, db *sql.DB) error {
				for i := 0; i < 3; i++ {
					if err := db.QueryRowContext(ctx, `SELECT name FROM entries WHERE id = ?`, i+1).Scan(new(string)); err != nil {
						return err
					}
				}
				return nil
			},
			want: want{allowed: 1},
		},
		{
			name: "staging: below the floor",
			det:  StagingDetector(),
			run: func(ctx context.Context, db *sql.DB) error {
				for i := 0; i < 6; i++ {
					if err := db.QueryRowContext(ctx, `SELECT name FROM entries WHERE id = ?`, i+1).Scan(new(string)); err != nil {
						return err
					}
				}
				return nil
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openSeed(t, 10)
			ctx, tr := Start(context.Background(), "GET /test")
			tr.SetDetector(c.det)
			if err := c.run(ctx, db); err != nil {
				t.Fatal(err)
			}
			r := tr.Finish()
			got := want{len(r.NPlusOne), len(r.Duplicates), len(r.Batched), len(r.Allowed)}
			if got != c.want {
				t.Fatalf("got %+v, want %+v:\n%s", got, c.want, r)
			}
			if c.fix != "" {
				all := append(append(append(r.NPlusOne, r.Duplicates...), r.Batched...), r.Allowed...)
				if !strings.Contains(all[0].Fix, c.fix) {
					t.Errorf("fix = %q, want it to contain %q", all[0].Fix, c.fix)
				}
			}
			for _, f := range r.Allowed {
				if f.Reason == "" {
					t.Errorf("allowed finding without a reason: %s", &f)
				}
			}
		})
	}
}

// synthetic builds a report from groups given in order of first
// appearance, classified by d, for the rules that need exact numbers.
func synthetic(d *Detector, name string, groups ...Group) *Report {
	r := &Report{Name: name}
	for i := range groups {
		g := groups[i]
		g.ID = i + 1
		if g.FirstSeq == 0 {
			g.FirstSeq = (i + 1) * 10
		}
		if g.Statements == 0 && g.Kind != KindPrepare {
			g.Statements = g.Count
		}
		if g.Verb == "" {
			g.Verb = verbOf(g.Shape)
		}
		if g.Stack == nil {
			g.Stack = []Frame{{Function: "example.com/app/store.(*DB).Lookup", File: "/src/app/store/db.go", Line: 40 + i}}
		}
		r.Groups = append(r.Groups, &g)
	}
	d.classify(r)
	if reportBuilt != nil {
		reportBuilt(r) // the checks of TestMain
	}
	return r
}

func TestClassify(t *testing.T) {
	const lookup = "select name from users where id = ?"
	loop := func(n int) Group {
		return Group{Shape: lookup, Count: n, Distinct: n, Rows: int64(n), MinRows: 1, MaxRows: 1, LastRows: 1, Total: time.Duration(n) * time.Millisecond, Max: time.Millisecond}
	}
	list := func(rows int64) Group {
		return Group{Shape: "select id, user_id from posts order by id", Count: 1, Distinct: 1, Rows: rows, MinRows: rows, MaxRows: rows, LastRows: rows, Total: time.Millisecond, Max: time.Millisecond}
	}
	with := func(g Group, f func(*Group)) Group { f(&g); return g }
	cases := []struct {
		name   string
		det    Detector
		route  string
		groups []Group
		// kinds lists, per group in order, the finding expected: "" for
		// none, else "n+1", "duplicate", "batched", "allowed:<kind>", "slow".
		kinds []string
		check func(t *testing.T, r *Report)
	}{
		{name: "n+1", det: Detector{}, groups: []Group{loop(10)}, kinds: []string{"n+1"}},
		{name: "once is nothing", det: Detector{}, groups: []Group{loop(1)}, kinds: []string{""}},
		{name: "zero detector flags at 2", groups: []Group{loop(2)}, kinds: []string{"n+1"}},
		{name: "staging: 4 repeats are too few", det: *StagingDetector(),
			groups: []Group{with(loop(4), func(g *Group) { g.Total = time.Second })}, kinds: []string{""}},
		{name: "staging: under the floor", det: *StagingDetector(), groups: []Group{loop(10)}, kinds: []string{""}},
		{name: "staging: flagged", det: *StagingDetector(), groups: []Group{loop(60)}, kinds: []string{"n+1"}},
		{name: "duplicate", det: Detector{},
			groups: []Group{with(loop(5), func(g *Group) { g.Distinct, g.Repeats = 1, 4 })}, kinds: []string{"duplicate"}},
		{name: "no arguments repeated is a duplicate", det: Detector{},
			groups: []Group{{Shape: "select * from settings", Count: 3, Distinct: 1, Repeats: 2}}, kinds: []string{"duplicate"}},
		{name: "offset pages", det: Detector{},
			groups: []Group{{Shape: "select * from t order by id limit ? offset ?", Count: 4, Distinct: 4, Rows: 337, MinRows: 37, MaxRows: 100, LastRows: 37}},
			kinds:  []string{"batched"}},
		{name: "uneven pages are no paging", det: Detector{},
			groups: []Group{{Shape: "select * from t where a = ? limit ?", Count: 4, Distinct: 4, Rows: 287, MinRows: 37, MaxRows: 100, LastRows: 37}},
			kinds:  []string{"n+1"}},
		{name: "pages without LIMIT are no paging", det: Detector{},
			groups: []Group{{Shape: "select * from t where a = ?", Count: 3, Distinct: 3, Rows: 300, MinRows: 100, MaxRows: 100, LastRows: 100}},
			kinds:  []string{"n+1"}},
		{name: "fixed fan-out", det: Detector{},
			groups: []Group{with(loop(3), func(g *Group) { g.Overlapped = 2 })}, kinds: []string{""}},
		{name: "parallel loop over a source", det: Detector{},
			groups: []Group{list(3), with(loop(3), func(g *Group) { g.Overlapped = 2 })}, kinds: []string{"", "n+1"}},
		{name: "begin, commit, savepoint, set never count", det: Detector{},
			groups: []Group{
				{Shape: "begin", Count: 5, Distinct: 1}, {Shape: "commit", Count: 5, Distinct: 1},
				{Shape: "savepoint ?", Count: 5, Distinct: 5}, {Shape: "set search_path = ?", Count: 5, Distinct: 5},
			},
			kinds: []string{"", "", "", ""}},
		{name: "prepares alone never count", det: Detector{},
			groups: []Group{with(loop(5), func(g *Group) { g.Kind = KindPrepare })}, kinds: []string{""}},
		{name: "slow", det: Detector{},
			groups: []Group{{Shape: "select * from big", Count: 1, Distinct: 1, Max: 600 * time.Millisecond, Total: 600 * time.Millisecond}},
			kinds:  []string{"slow"}},
		{name: "paused slow", det: Detector{},
			groups: []Group{{Shape: "select * from big", Count: 1, Distinct: 1, Max: time.Second, Total: time.Second, Paused: "nightly report"}},
			kinds:  []string{"allowed:slow"}},
		{name: "allow by call site", det: Detector{Allow: []Allow{{CallSite: "store/db.go:40", Reason: "bounded: 3 rows"}}},
			groups: []Group{loop(3)}, kinds: []string{"allowed:n+1"}},
		{name: "allow by function", det: Detector{Allow: []Allow{{CallSite: "store.(*DB).Lookup", Reason: "bounded"}}},
			groups: []Group{loop(3)}, kinds: []string{"allowed:n+1"}},
		{name: "allow by shape", det: Detector{Allow: []Allow{{Shape: "FROM users", Reason: "bounded"}}},
			groups: []Group{loop(3)}, kinds: []string{"allowed:n+1"}},
		{name: "allow by table", det: Detector{Allow: []Allow{{Table: "USERS", Reason: "bounded"}}},
			groups: []Group{loop(3)}, kinds: []string{"allowed:n+1"}},
		{name: "allow by route", det: Detector{Allow: []Allow{{Route: "GET /admin", Reason: "admin only"}}}, route: "GET /admin",
			groups: []Group{loop(3)}, kinds: []string{"allowed:n+1"}},
		{name: "allow for another route", det: Detector{Allow: []Allow{{Route: "GET /admin", Reason: "admin only"}}}, route: "GET /",
			groups: []Group{loop(3)}, kinds: []string{"n+1"}},
		{name: "allow needs every field to match", det: Detector{Allow: []Allow{{Table: "users", Route: "GET /admin", Reason: "r"}}}, route: "GET /",
			groups: []Group{loop(3)}, kinds: []string{"n+1"}},
		{name: "allow without criteria matches nothing", det: Detector{Allow: []Allow{{Reason: "everything is fine"}}},
			groups: []Group{loop(3)}, kinds: []string{"n+1"}},
		{name: "allow without a reason is not applied, loudly", det: Detector{Allow: []Allow{{Table: "users"}}},
			groups: []Group{loop(3)}, kinds: []string{"n+1"},
			check: func(t *testing.T, r *Report) {
				if !strings.Contains(r.NPlusOne[0].Reason, `Table "users"`) || !strings.Contains(r.NPlusOne[0].Reason, "no Reason") {
					t.Errorf("reason = %q, want it to name the entry and the missing reason", r.NPlusOne[0].Reason)
				}
				if !strings.Contains(r.String(), "no Reason") {
					t.Errorf("the text report does not show the entry without a reason:\n%s", r)
				}
			}},
		{name: "source: ran once and k == 1 first", det: Detector{},
			groups: []Group{list(5), list(10), with(loop(10), func(g *Group) { g.Count, g.Rows = 10, 10 })},
			kinds:  []string{"", "", "n+1"},
			check: func(t *testing.T, r *Report) {
				if f := r.NPlusOne[0]; f.Source != r.Groups[1] || f.PerRow != 1 {
					t.Errorf("source #%d, per row %d; want #2, 1", f.Source.ID, f.PerRow)
				}
			}},
		{name: "source: whole multiple", det: Detector{},
			groups: []Group{list(5), loop(10)},
			kinds:  []string{"", "n+1"},
			check: func(t *testing.T, r *Report) {
				if f := r.NPlusOne[0]; f.Source != r.Groups[0] || f.PerRow != 2 {
					t.Errorf("source %v, per row %d; want #1, 2", f.Source, f.PerRow)
				}
			}},
		// Seen in shiori: a loop over a bookmark's tags, the two it had
		// and two new ones, after the query of the two.
		{name: "source: twice per row of two rows is a coincidence", det: Detector{},
			groups: []Group{list(2), loop(4)},
			kinds:  []string{"", "n+1"},
			check: func(t *testing.T, r *Report) {
				if f := r.NPlusOne[0]; f.Source != nil {
					t.Errorf("source %v, per row %d; want none", f.Source, f.PerRow)
				}
			}},
		{name: "source: nearest earlier among equals, never a later one", det: Detector{},
			groups: []Group{list(10), list(10), with(loop(10), func(g *Group) { g.FirstSeq = 25 }), list(10)},
			kinds:  []string{"", "", "n+1", ""},
			check: func(t *testing.T, r *Report) {
				if f := r.NPlusOne[0]; f.Source != r.Groups[1] {
					t.Errorf("source %v, want #2", f.Source)
				}
			}},
		{name: "source: not too many per row, not a single row", det: Detector{},
			groups: []Group{list(1), list(2), loop(10)},
			kinds:  []string{"", "", "n+1"},
			check: func(t *testing.T, r *Report) {
				if f := r.NPlusOne[0]; f.Source != nil {
					t.Errorf("source %v, want none", f.Source)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := synthetic(&c.det, c.route, c.groups...)
			got := make([]string, len(r.Groups))
			for _, l := range [][]Finding{r.NPlusOne, r.Duplicates, r.Slow, r.Batched} {
				for _, f := range l {
					got[f.Group.ID-1] = string(f.Kind)
				}
			}
			for _, f := range r.Allowed {
				got[f.Group.ID-1] = "allowed:" + string(f.Kind)
				if f.Reason == "" {
					t.Errorf("allowed without a reason: %s", &f)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.kinds) {
				t.Fatalf("findings %q, want %q:\n%s", got, c.kinds, r)
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

func TestDetectorCheck(t *testing.T) {
	d := Detector{Allow: []Allow{
		{Table: "users", Reason: "fine"},
		{Table: "posts"},
		{Reason: "matches what?"},
	}}
	err := d.Check()
	if err == nil || !strings.Contains(err.Error(), `entry 1 (Table "posts") has no Reason`) || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("Check() = %v, want entries 1 and 2 named", err)
	}
	if err := StagingDetector().Check(); err != nil {
		t.Errorf("StagingDetector().Check() = %v", err)
	}
}

// TestCallSiteSkips checks the lead's call-site capture through the driver:
// database/sql and querytrace frames are skipped, a user skip moves the
// call site to the caller of the skipped frame, and two lines make two
// groups.
func TestCallSiteSkips(t *testing.T) {
	db := openSeed(t, 3)
	ctx, tr := Start(context.Background(), "sites")
	for i := 0; i < 2; i++ {
		db.QueryRowContext(ctx, `SELECT name FROM entries WHERE id = ?`, i).Scan(new(string))
		db.QueryRowContext(ctx, `SELECT name FROM entries WHERE id = ?`, i).Scan(new(string))
	}
	r := tr.Finish()
	if len(r.Groups) != 2 {
		t.Fatalf("%d groups, want 2 (one per line):\n%s", len(r.Groups), r)
	}
	for _, g := range r.Groups {
		if len(g.Stack) == 0 || !strings.HasSuffix(g.Stack[0].Function, ".TestCallSiteSkips") {
			t.Errorf("stack %v, want TestCallSiteSkips first", g.Stack)
		}
		for _, f := range g.Stack {
			if strings.HasPrefix(f.Function, "database/sql.") || strings.HasPrefix(f.Function, "runtime.") {
				t.Errorf("frame %s was not skipped", f)
			}
		}
	}
}

// TestFixFollowsDialect checks that an N+1's fix is worded for the dialect
// its statements were read in when the detector names none: "= any($1)"
// for statements from the pgx tracer, "in (...)" for generic ones, but
// for generic ones in PostgreSQL's own syntax (a "::" cast), whose fix is
// PostgreSQL's.
func TestFixFollowsDialect(t *testing.T) {
	for _, c := range []struct {
		dialect Dialect
		cast    string
		want    string
	}{
		{DialectPostgres, "", "any("},
		{DialectGeneric, "", "in (...)"},
		{DialectGeneric, "::bigint", "any("},
	} {
		ctx, tr := Start(context.Background(), "dialect")
		src, loop := CaptureStack(), CaptureStack()
		now := time.Now()
		Record(ctx, &Event{Kind: KindQuery, SQL: "SELECT id FROM users ORDER BY id", Dialect: c.dialect, Start: now, Rows: 5, Stack: src})
		for i := range 5 {
			Record(ctx, &Event{Kind: KindQuery, SQL: "SELECT name FROM users WHERE id = $1" + c.cast, Dialect: c.dialect,
				Start: now.Add(time.Duration(i+1) * time.Millisecond), Duration: time.Microsecond, Rows: 1, ArgsHash: uint64(i + 1), Stack: loop})
		}
		r := tr.Finish()
		if len(r.NPlusOne) != 1 {
			t.Fatalf("dialect %v%s: %d N+1 findings, want 1", c.dialect, c.cast, len(r.NPlusOne))
		}
		if fix := r.NPlusOne[0].Fix; !strings.Contains(fix, c.want) {
			t.Errorf("dialect %v%s: fix %q, want one with %q", c.dialect, c.cast, fix, c.want)
		}
	}
}
