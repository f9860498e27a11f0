package querytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/querytrace/querytrace/internal/human"
)

// The tests of this file run issue 19's "what is one loop, and what is a
// duplicate" through SQLite and PostgreSQL: sites that print alike, one
// execution in two findings, re-reads after a write, prepares per
// iteration, lists resolved a goroutine per element, arrays of keys, and
// loops that skip rows or read one more. TestMain checks that every
// report's findings add up.

// Three callers of one lookup, as in issue 19: the statement's own line is
// the same for the three.

func detDialUser(ctx context.Context, b *detBackend) error       { return detAttach(ctx, b, 1) }
func detDialMembership(ctx context.Context, b *detBackend) error { return detAttach(ctx, b, 1) }
func detDialTeam(ctx context.Context, b *detBackend) error       { return detAttach(ctx, b, 1) }

// TestSitesNamedApart checks that a duplicate across call sites that share
// their innermost line names each by where its stack parts from the
// others': the line that called it.
func TestSitesNamedApart(t *testing.T) {
	var lines [3]int
	page := func(ctx context.Context, b *detBackend) error {
		lines[0] = line() + 1
		if err := detDialUser(ctx, b); err != nil {
			return err
		}
		lines[1] = line() + 1
		if err := detDialMembership(ctx, b); err != nil {
			return err
		}
		lines[2] = line() + 1
		return detDialTeam(ctx, b)
	}
	detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
		if got := countsOf(r); got != (detCounts{dup: 1}) {
			t.Fatalf("got %+v, want one duplicate", got)
		}
		f := r.Duplicates[0]
		if f.Count != 3 || len(f.Others) != 2 {
			t.Fatalf("duplicate %s, want 3 runs from 3 sites", f.String())
		}
		for _, l := range lines {
			if want := fmt.Sprintf("oneloop_test.go:%d ", l); strings.Count(f.Fix, want) != 1 {
				t.Errorf("the fix does not name the site of line %d once: %s", l, f.Fix)
			}
		}
		if strings.Contains(f.Fix, "detFindUsers") {
			t.Errorf("the fix names the shared line, not where the sites part: %s", f.Fix)
		}
	})
}

// TestOneFindingPerExecution checks that a duplicate across call sites and
// the duplicate of one of its sites are one finding (issue 19): the
// handler's lookup and nine more in a loop are "10 times", once, at the
// loop, and a lookup after a loop of ten is "11 times".
func TestOneFindingPerExecution(t *testing.T) {
	for _, c := range []struct {
		name        string
		before      bool // the single lookup runs before the loop
		loop, count int
	}{
		{"the handler's lookup, then nine in a loop", true, 9, 10},
		{"ten in a loop, then one more", false, 10, 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			var at int
			page := func(ctx context.Context, b *detBackend) error {
				if c.before {
					if err := detHeader(ctx, b, 1); err != nil {
						return err
					}
				}
				for i := 0; i < c.loop; i++ {
					at = line() + 1
					if err := detAttach(ctx, b, 1); err != nil {
						return err
					}
				}
				if !c.before {
					return detHeader(ctx, b, 1)
				}
				return nil
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				if got := countsOf(r); got != (detCounts{dup: 1}) {
					t.Fatalf("got %+v, want one duplicate", got)
				}
				f := r.Duplicates[0]
				if f.Count != c.count || len(f.Others) != 1 || f.Group.Count != c.loop {
					t.Errorf("duplicate %s, want %d runs, its group the loop's %d and one other site", f.String(), c.count, c.loop)
				}
				if f.Loop == nil || f.Loop.Line != at {
					t.Errorf("loop at %v, want line %d", f.Loop, at)
				}
				if text := r.String(); strings.Count(text, "Duplicate:") != 1 {
					t.Errorf("the text report shows more than one duplicate:\n%s", text)
				}
			})
		})
	}
}

func detProduct(ctx context.Context, b *detBackend) error {
	return b.db.QueryRowContext(ctx, b.q(`SELECT stock FROM qd_products WHERE id = ?`), 1).Scan(new(int))
}

func detProductAgain(ctx context.Context, b *detBackend) error {
	return b.db.QueryRowContext(ctx, b.q(`SELECT stock FROM qd_products WHERE id = ?`), 1).Scan(new(int))
}

func detSell(ctx context.Context, b *detBackend) error {
	_, err := b.db.ExecContext(ctx, b.q(`UPDATE qd_products SET stock = stock - ? WHERE id = ?`), 1, 1)
	return err
}

// TestRereadAfterWrite checks that a read of a row, a write to its table
// and the same read again are no duplicate (issue 19): following "pass
// the result along" would return stale stock. Reads with no write between
// them still are, and their fix says until when the result holds.
func TestRereadAfterWrite(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []func(context.Context, *detBackend) error
		count int // the duplicate's, 0 for none
	}{
		{"read, write, read from two lines", []func(context.Context, *detBackend) error{detProduct, detSell, detProductAgain}, 0},
		{"read, write, read from one line", []func(context.Context, *detBackend) error{detProduct, detSell, detProduct}, 0},
		{"read twice, write, read twice, from one line",
			[]func(context.Context, *detBackend) error{detProduct, detProduct, detSell, detProduct, detProduct}, 4},
		{"read from two lines, write, read again",
			[]func(context.Context, *detBackend) error{detProduct, detProductAgain, detSell, detProductAgain}, 2},
		{"a write to another table is no write between",
			[]func(context.Context, *detBackend) error{detProduct, func(ctx context.Context, b *detBackend) error {
				_, err := b.db.ExecContext(ctx, b.q(`UPDATE qd_users SET name = ? WHERE id = ?`), "renamed", 1)
				return err
			}, detProductAgain}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := func(ctx context.Context, b *detBackend) error {
				for _, step := range c.steps {
					if err := step(ctx, b); err != nil {
						return err
					}
				}
				return nil
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				var reads []Finding
				for _, f := range r.Duplicates {
					if f.Group.Verb == "select" {
						reads = append(reads, f)
					}
				}
				if c.count == 0 {
					if len(reads) != 0 {
						t.Errorf("a re-read after a write is a duplicate: %s", reads[0].String())
					}
					return
				}
				if len(reads) != 1 || reads[0].Count != c.count {
					t.Fatalf("%d duplicate reads, want one of %d", len(reads), c.count)
				}
				fix := reads[0].Fix
				split := c.name != "a write to another table is no write between"
				if split && (strings.Contains(fix, "pass the result along") || !strings.Contains(fix, "until the next write")) {
					t.Errorf("fix %q, want the result reused until the next write, never passed along", fix)
				}
			})
		})
	}
}

var detPreparedLine int

// detPreparedName looks a user up through a statement prepared for the
// one call, as code written against database/sql's Prepare often does.
func detPreparedName(ctx context.Context, b *detBackend, id int) error {
	detPreparedLine = line() + 1
	stmt, err := b.db.PrepareContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	return stmt.QueryRowContext(ctx, id).Scan(new(string))
}

// TestPreparesFold checks that a prepare per iteration is part of the
// loop's cost (issue 19): the prepares' group serves the N+1, whose time
// includes theirs and whose text says so.
func TestPreparesFold(t *testing.T) {
	page := func(ctx context.Context, b *detBackend) error {
		members, err := detMembers(ctx, b)
		for _, m := range members {
			if err := detPreparedName(ctx, b, m); err != nil {
				return err
			}
		}
		return err
	}
	detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
		if len(r.NPlusOne) != 1 {
			t.Fatalf("%d N+1 findings, want 1", len(r.NPlusOne))
		}
		f := r.NPlusOne[0]
		if len(f.Prepares) != 1 {
			t.Fatalf("%d groups of prepares folded, want 1", len(f.Prepares))
		}
		p := f.Prepares[0]
		if p.Kind != KindPrepare || p.Count != 6 || p.Serves != f.Group || p.Stack[0].Line != detPreparedLine {
			t.Errorf("prepares: kind %v, %d, serving %v at %v; want 6 prepares at line %d serving the N+1's group",
				p.Kind, p.Count, p.Serves, p.Stack[0], detPreparedLine)
		}
		if f.Count != 6 || f.Total != f.Group.Total+p.Total {
			t.Errorf("N+1 of %d in %v, want 6 in the group's %v and the prepares' %v", f.Count, f.Total, f.Group.Total, p.Total)
		}
		text := r.String()
		for _, want := range []string{"N+1: 6 times in " + human.Duration(f.Total) + ", 6 prepares included", fmt.Sprintf("prepare for #%d: select", f.Group.ID)} {
			if !strings.Contains(text, want) {
				t.Errorf("the text report lacks %q:\n%s", want, text)
			}
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(mustJSON(t, r))); err != nil {
			t.Fatal(err)
		}
		j := buf.String()
		for _, want := range []string{`"prepares":6`, fmt.Sprintf(`"prepare_groups":[%d]`, p.ID), fmt.Sprintf(`"serves":%d`, f.Group.ID)} {
			if !strings.Contains(j, want) {
				t.Errorf("the JSON lacks %s", want)
			}
		}
	})
}

// TestThinSources checks the sources of loops that did not run once per
// row (issue 19): a loop over open rows behind a cache (20 orders, 3
// users to look up), a page that read one row more than it shows; and
// that rows read before a loop over other keys are no source.
func TestThinSources(t *testing.T) {
	for _, c := range []struct {
		name   string
		page   func(ctx context.Context, b *detBackend) error
		count  int
		source string // a substring of the source's shape, "" for none
	}{
		{"a cache in front of the lookup, over open rows", func(ctx context.Context, b *detBackend) error {
			rows, err := b.db.QueryContext(ctx, `SELECT id, user_id FROM qd_orders ORDER BY id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			cache := map[int]bool{}
			for rows.Next() {
				var id, user int
				if err := rows.Scan(&id, &user); err != nil {
					return err
				}
				if !cache[user] {
					cache[user] = true
					if err := detAttach(ctx, b, user); err != nil {
						return err
					}
				}
			}
			return rows.Err()
		}, 3, "qd_orders"},
		{"a page of 5 read with one more row", func(ctx context.Context, b *detBackend) error {
			ids, err := detIDs(ctx, b, `SELECT id FROM qd_users ORDER BY id LIMIT ?`, 5+1)
			if err != nil {
				return err
			}
			for _, id := range ids[:5] { // the sixth tells that a next page exists
				if err := detAttach(ctx, b, id); err != nil {
					return err
				}
			}
			return nil
		}, 5, "limit"},
		{"rows read, then a loop over the request's keys", func(ctx context.Context, b *detBackend) error {
			rows, err := b.db.QueryContext(ctx, `SELECT id, user_id FROM qd_orders ORDER BY id`)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			for _, id := range []int{7, 2, 9} {
				if err := detAttach(ctx, b, id); err != nil {
					return err
				}
			}
			return nil
		}, 3, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			detRun(t, c.page, func(t *testing.T, b *detBackend, r *Report) {
				if len(r.NPlusOne) != 1 || r.NPlusOne[0].Count != c.count {
					t.Fatalf("%d N+1 findings, want one of %d", len(r.NPlusOne), c.count)
				}
				f := r.NPlusOne[0]
				switch {
				case c.source == "" && f.Source != nil:
					t.Errorf("source %s, want none", f.Source.Shape)
				case c.source != "" && (f.Source == nil || !strings.Contains(f.Source.Shape, c.source) || f.PerRow != 1):
					t.Errorf("source %v per row %d, want the query with %q, once per row", f.Source, f.PerRow, c.source)
				}
			})
		})
	}
}

// TestListInGoroutines checks a list resolved a goroutine per element, as
// gqlgen resolves a list's fields (issue 19): ten lookups from one site at
// once are a loop, with or without rows to name as its source.
func TestListInGoroutines(t *testing.T) {
	each := func(ctx context.Context, b *detBackend, ids []int) error {
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = detHeader(ctx, b, id)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		page   func(ctx context.Context, b *detBackend) error
		source bool
	}{
		{"the team's members", func(ctx context.Context, b *detBackend) error {
			members, err := detMembers(ctx, b)
			if err != nil {
				return err
			}
			return each(ctx, b, members)
		}, true},
		{"ten ids from the request", func(ctx context.Context, b *detBackend) error {
			return each(ctx, b, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			detRun(t, c.page, func(t *testing.T, b *detBackend, r *Report) {
				if len(r.NPlusOne) != 1 {
					t.Fatalf("%d N+1 findings, want 1", len(r.NPlusOne))
				}
				if f := r.NPlusOne[0]; (f.Source != nil) != c.source {
					t.Errorf("source %v, want one: %v", f.Source, c.source)
				}
			})
		})
	}
}

// TestArrayKeys checks statements that take their keys as an array, on
// PostgreSQL through database/sql: a dataloader's "= any($1)" with 18
// keys, then 2, is a batch (issue 19), while a loop that passes each
// row's keys is an N+1 over the rows.
func TestArrayKeys(t *testing.T) {
	load := func(ctx context.Context, b *detBackend, keys []int64) error {
		rows, err := b.db.QueryContext(ctx, `SELECT id, name FROM qd_users WHERE id = any($1)`, keys)
		if err != nil {
			return err
		}
		return rows.Close()
	}
	for _, c := range []struct {
		name string
		page func(ctx context.Context, b *detBackend) error
		want detCounts
	}{
		{"a dataloader's batches", func(ctx context.Context, b *detBackend) error {
			var first []int64
			for id := int64(1); id <= 18; id++ {
				first = append(first, id)
			}
			// A loader runs its batch function from one place, for the
			// keys pending when it fires: all but two stragglers first.
			for _, batch := range [][]int64{first, {19, 20}} {
				if err := load(ctx, b, batch); err != nil {
					return err
				}
			}
			return nil
		}, detCounts{batched: 1}},
		{"each post's authors", func(ctx context.Context, b *detBackend) error {
			posts, err := detIDs(ctx, b, `SELECT id FROM qd_posts ORDER BY id`)
			if err != nil {
				return err
			}
			for i, p := range posts {
				authors := []int64{int64(p)}
				for k := 1; k <= i; k++ {
					authors = append(authors, int64(p+k))
				}
				if err := load(ctx, b, authors); err != nil {
					return err
				}
			}
			return nil
		}, detCounts{nplus1: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := func(ctx context.Context, b *detBackend) error {
				if !b.pg {
					return nil
				}
				return c.page(ctx, b)
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				if !b.pg {
					t.Skip("SQLite has no arrays")
				}
				if got := countsOf(r); got != c.want {
					t.Fatalf("got %+v, want %+v:\n%s", got, c.want, r)
				}
				if c.want.batched == 1 && !strings.Contains(r.Batched[0].Fix, "up to 18 at a time") {
					t.Errorf("fix %q, want it to say the array carried up to 18 keys", r.Batched[0].Fix)
				}
			})
		})
	}
}

// TestLoaderBatchesWithConditions checks a dataloader's batches whose
// statement holds more than its keys (issue 19, seen in photoview): the
// keys' IN list beside a condition that is the same in every batch, one
// value or a list of constants. As the loader's callers come, its batches
// carry one key, then three, then two: a batch of whatever keys were
// pending, not an N+1 whose fix would be the statement itself. A loop that
// passes one key at a time, or whose other value changes with each key,
// is still an N+1.
func TestLoaderBatchesWithConditions(t *testing.T) {
	load := func(ctx context.Context, b *detBackend, ids []int, cond string, args ...any) error {
		keys := make([]any, len(ids))
		for i, id := range ids {
			keys[i] = id
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		rows, err := b.db.QueryContext(ctx, b.q(`SELECT id, name FROM qd_users WHERE id IN (`+in+`) AND `+cond), append(keys, args...)...)
		if err != nil {
			return err
		}
		return rows.Close()
	}
	batches := [][]int{{1}, {2, 3, 4}, {5, 6}}
	for _, c := range []struct {
		name    string
		batches [][]int
		cond    string
		args    func(i int) []any
		want    detCounts
	}{
		{"a value beside the keys", batches, "name <> ?", func(int) []any { return []any{""} }, detCounts{batched: 1}},
		{"a list of constants beside the keys", batches, "name NOT IN (?, ?)", func(int) []any { return []any{"", "x"} }, detCounts{batched: 1}},
		{"a longer list of constants beside the keys", batches, "name NOT IN (?, ?, ?, ?, ?)",
			func(int) []any { return []any{"", "a", "b", "c", "d"} }, detCounts{batched: 1}},
		{"one key at a time", [][]int{{1}, {2}, {3}}, "name NOT IN (?, ?)", func(int) []any { return []any{"", "x"} }, detCounts{nplus1: 1}},
		{"another value with each batch", batches, "name <> ?", func(i int) []any { return []any{fmt.Sprint(i)} }, detCounts{nplus1: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := func(ctx context.Context, b *detBackend) error {
				for i, batch := range c.batches {
					if err := load(ctx, b, batch, c.cond, c.args(i)...); err != nil {
						return err
					}
				}
				return nil
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				if got := countsOf(r); got != c.want {
					t.Fatalf("got %+v, want %+v", got, c.want)
				}
			})
		})
	}
	// A loader fires its batches from goroutines of its own, not from a
	// loop of the application's: here after another loader's query of
	// three rows, which its three batches do not iterate.
	t.Run("beside a query of as many rows", func(t *testing.T) {
		SkipFrames("github.com/querytrace/querytrace.detLoader")
		page := func(ctx context.Context, b *detBackend) error {
			if _, err := detIDs(ctx, b, `SELECT id FROM qd_posts ORDER BY id`); err != nil {
				return err
			}
			return detLoader(batches, func(ids []int) error {
				return load(ctx, b, ids, "name NOT IN (?, ?)", "", "x")
			})
		}
		detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
			if got := countsOf(r); got != (detCounts{batched: 1}) {
				t.Fatalf("got %+v, want one batch", got)
			}
		})
	})
}

// detLoader stands for a dataloader (TestLoaderBatchesWithConditions
// declares it a library): it runs fetch for each batch of pending keys in
// a goroutine of its own, one after the other, as a loader's timer does.
func detLoader(batches [][]int, fetch func([]int) error) error {
	var errs []error
	for _, batch := range batches {
		done := make(chan error)
		go func() { done <- fetch(batch) }()
		errs = append(errs, <-done)
	}
	return errors.Join(errs...)
}
