package querytracetest

import (
	"context"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
)

func TestBudgetPasses(t *testing.T) {
	f := runFake(t, "TestFast", func(t testing.TB) {
		db := openStore(t, 3) // setup with the plain context: not measured
		ctx := Budget(t, t.Context(),
			Exactly(3), Exactly(3).Selects(), Exactly(0).Inserts().Updates().Deletes(),
			Exactly(1).Table("items"), Exactly(1).Table("requests"),
			Exactly(1).Shape("FROM   items"), Exactly(2).CallSite("store.countsByEntry"), Exactly(0).Others())
		if _, err := store.FastInventory(ctx, db); err != nil {
			t.Fatal(err)
		}
	})
	f.Passes(t)
}

func TestBudgetFailsOnTheSeedScenario(t *testing.T) {
	setVerbose(t, false)
	f := runFake(t, "TestInventory", func(t testing.TB) {
		db := openStore(t, 3)
		ctx := Budget(t, t.Context(), AtMost(3))
		if _, err := store.SlowInventory(ctx, db); err != nil {
			t.Fatal(err)
		}
	})
	msg := f.Fails(t)
	t.Logf("failure text:\n%s", msg)
	contains(t, msg,
		"querytrace: 7 statements, budget at most 3 (db time ",
		"count     total  shape / call stack\n",
		"      3 ", "select count(*) from items where entry_id = ? and user_id is null", "N+1",
		"at store/pages.go:", "store.SlowInventory <- ",
		"      1 ", "select id, name, category from entries order by id",
		"N+1: select count(*) from items where entry_id = ? and user_id is null ran 3 times",
		"looping over: select id, name, category from entries order by id at store/pages.go:", "(3 rows, 1 per row)",
		"fix: ",
	)
	if strings.Contains(msg, "statements in order") {
		t.Errorf("statements listed one by one without -v:\n%s", msg)
	}
}

func TestBudgetExactlyFailsBelow(t *testing.T) {
	f := runFake(t, "TestFewer", func(t testing.TB) {
		db := openStore(t, 3)
		ctx := Budget(t, t.Context(), Exactly(5))
		store.FastInventory(ctx, db)
	})
	contains(t, f.Fails(t), "querytrace: 3 statements, budget exactly 5 (db time ")
}

// TestBudgetHintsAtAMissedContext: code under test that runs its
// statements with another context than the test's (a framework's, or
// context.Background()) leaves the budget at 0; the failure says that
// statements ran outside any trace meanwhile.
func TestBudgetHintsAtAMissedContext(t *testing.T) {
	f := runFake(t, "TestMissed", func(t testing.TB) {
		db := openStore(t, 3)
		Budget(t, t.Context(), Exactly(5))
		store.FastInventory(context.Background(), db)
	})
	contains(t, f.Fails(t), "querytrace: 0 statements, budget exactly 5",
		"none of the statements were this test's, but 3 ran outside any trace meanwhile")
}

func TestBudgetFilters(t *testing.T) {
	for _, tc := range []struct {
		limit Limit
		want  string
	}{
		{AtMost(1).Selects(), "querytrace: 7 select statements, budget at most 1"},
		{AtMost(1).Table("items"), "querytrace: 3 statements on table items, budget at most 1"},
		{AtMost(2).Table("requests").Selects(), "querytrace: 3 select statements on table requests, budget at most 2"},
		{AtMost(0).Shape("COUNT(*) from items"), `querytrace: 3 statements with shape "count(*) from items", budget at most 0`},
		{Exactly(6).CallSite("store.SlowInventory"), `querytrace: 7 statements from "store.SlowInventory", budget exactly 6`},
		{Exactly(1).CallSite("store.Entries"), ""},
		{AtMost(0).Inserts().Deletes(), ""},
	} {
		f := runFake(t, "TestFilter", func(t testing.TB) {
			db := openStore(t, 3)
			store.SlowInventory(Budget(t, t.Context(), tc.limit), db)
		})
		if tc.want == "" {
			f.Passes(t)
			continue
		}
		contains(t, f.Fails(t), tc.want)
	}
}

func TestBudgetReportsEveryBrokenLimitOnce(t *testing.T) {
	f := runFake(t, "TestLimits", func(t testing.TB) {
		db := openStore(t, 2)
		ctx := Budget(t, t.Context(), AtMost(3), AtMost(10), Exactly(0).Table("items"))
		store.SlowInventory(ctx, db)
	})
	msg := f.Fails(t)
	contains(t, msg, "querytrace: 5 statements, budget at most 3 (db time ",
		"\nquerytrace: 2 statements on table items, budget exactly 0\n")
	if strings.Contains(msg, "at most 10") {
		t.Errorf("a kept limit is reported:\n%s", msg)
	}
}

func TestBudgetShowsNoArgumentValues(t *testing.T) {
	f := runFake(t, "TestSecret", func(t testing.TB) {
		db := openStore(t, 1)
		ctx := Budget(t, t.Context(), AtMost(0))
		if _, err := db.ExecContext(ctx, `INSERT INTO entries (id, name, category) VALUES (?, 'literal-s3cret', ?)`, 987654, "arg-s3cret"); err != nil {
			t.Fatal(err)
		}
		db.QueryRowContext(ctx, `SELECT name FROM entries WHERE name = ?`, "arg-s3cret").Scan(new(string))
	})
	msg := f.Fails(t)
	contains(t, msg, "insert into entries(id, name, category) values (?, ?, ?)")
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "987654") {
		t.Errorf("failure shows argument values:\n%s", msg)
	}
}

func TestBudgetListsStatementsWithVerbose(t *testing.T) {
	setVerbose(t, true)
	f := runFake(t, "TestVerbose", func(t testing.TB) {
		db := openStore(t, 2)
		store.SlowInventory(Budget(t, t.Context(), AtMost(1)), db)
	})
	contains(t, f.Fails(t), "statements in order:\n",
		"    1 ", "query", "2 rows  select id, name, category from entries order by id  store/pages.go:",
		"    2 ", "1 rows  select count(*) from items",
		"    5 ", "select coalesce(sum(ri.quantity), ?)")
}

func TestBudgetMisuse(t *testing.T) {
	f := runFake(t, "TestNoLimit", func(t testing.TB) { Budget(t, t.Context()) })
	contains(t, f.Fails(t), "querytracetest.Budget: no limits; give one, such as querytracetest.AtMost(10), or use Forbid for none")
	f = runFake(t, "TestNegative", func(t testing.TB) { Budget(t, t.Context(), AtMost(-1).Selects()) })
	contains(t, f.Fails(t), "querytracetest.Budget: at most -1 select statements: a negative count")
}

func TestForbid(t *testing.T) {
	f := runFake(t, "TestCached", func(t testing.TB) {
		db := openStore(t, 2)
		ctx := Forbid(t, t.Context())
		_ = ctx // served from memory: nothing runs
		_ = db
	})
	f.Passes(t)

	f = runFake(t, "TestCacheMiss", func(t testing.TB) {
		db := openStore(t, 2)
		ctx := Forbid(t, t.Context())
		store.Entries(ctx, db)
	})
	contains(t, f.Fails(t),
		"querytrace: 1 statement where none are allowed (db time ", "); run intended ones under querytrace.Pause(ctx, reason)\n",
		"select id, name, category from entries order by id")
}

func TestForbidLetsPausedStatementsThrough(t *testing.T) {
	f := runFake(t, "TestPaused", func(t testing.TB) {
		db := openStore(t, 2)
		ctx := Forbid(t, t.Context())
		store.Entries(querytrace.Pause(ctx, "warms the cache once"), db)
	})
	f.Passes(t)

	f = runFake(t, "TestPausedAndNot", func(t testing.TB) {
		db := openStore(t, 2)
		ctx := Forbid(t, t.Context())
		store.Entries(querytrace.Pause(ctx, "warms the cache once"), db)
		store.FastInventory(ctx, db)
	})
	msg := f.Fails(t)
	contains(t, msg, "querytrace: 3 statements where none are allowed",
		"select id, name, category from entries order by id  (paused: warms the cache once)")
}

// A budget counts statements under Pause: they cost what they cost.
func TestBudgetCountsPausedStatements(t *testing.T) {
	f := runFake(t, "TestPausedBudget", func(t testing.TB) {
		db := openStore(t, 2)
		ctx := Budget(t, t.Context(), Exactly(1))
		store.Entries(querytrace.Pause(ctx, "known"), db)
	})
	f.Passes(t)
}

func TestLimitString(t *testing.T) {
	for l, want := range map[*Limit]string{
		ptr(AtMost(3)):                                    "at most 3 statements",
		ptr(Exactly(0).Inserts().Updates()):               "exactly 0 insert or update statements",
		ptr(AtMost(2).Table("items").CallSite("a.go:1")):  `at most 2 statements on table items from "a.go:1"`,
		ptr(AtMost(1).Others().Shape("  CREATE  Table ")): `at most 1 other statements with shape "create table"`,
	} {
		if got := l.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	// Narrowing a limit leaves the one it came from alone.
	base := AtMost(3).Selects()
	_ = base.Inserts()
	if got := base.Table("x").String(); got != "at most 3 select statements on table x" {
		t.Errorf("narrowed limit = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

// The budget's context is an ordinary context: cancelling the parent ends
// what runs with it, and the statements that fail still count.
func TestBudgetCountsFailedStatements(t *testing.T) {
	f := runFake(t, "TestCanceled", func(t testing.TB) {
		db := openStore(t, 1)
		parent, cancel := context.WithCancel(t.Context())
		ctx := Budget(t, parent, Exactly(1))
		db.ExecContext(ctx, `SELECT * FROM no_such_table`)
		cancel()
	})
	f.Passes(t)
}
