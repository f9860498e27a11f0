package querytracetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// inventoryScale is the scale test of an inventory page.
func inventoryScale(page func(context.Context, *sql.DB) ([]store.Row, error)) func(t testing.TB) {
	return func(t testing.TB) {
		db := openStore(t, 0)
		Scale(t, ScaleTest{
			Setup: func(t testing.TB, n int) { grow(t, db, n) },
			Act: func(t testing.TB, ctx context.Context) {
				rows, err := page(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) == 0 {
					t.Fatal("no rows")
				}
			},
		})
	}
}

func TestScaleFailsOnTheSeedScenario(t *testing.T) {
	f := runFake(t, "TestInventoryScales", inventoryScale(store.SlowInventory))
	msg := f.Fails(t)
	t.Logf("failure text:\n%s", msg)
	contains(t, msg,
		"querytrace: statements grow with the data: 5 at size 2, 7 at size 3 (+2 per item); want the same count at every size (db time ",
		" at size 3)\n",
		"  groups whose count changed:\n",
		"    +1 per item  select count(*) from items where entry_id = ? and user_id is null",
		"                 2 at size 2, 3 at size 3\n",
		"                 at store/pages.go:", " store.SlowInventory <- ",
		"    +1 per item  select coalesce(sum(ri.quantity), ?) from request_items ri",
		"                 at store/pages.go:", " store.SlowInventory",
		"N+1: ", "fix: ",
	)
	// The entries query shows as what the loops iterate, never as a
	// group that grew.
	if strings.Contains(msg, "per item  select id, name, category from entries") {
		t.Errorf("a group that does not grow is listed:\n%s", msg)
	}
}

func TestScalePassesOnGroupBy(t *testing.T) {
	runFake(t, "TestInventoryScales", inventoryScale(store.FastInventory)).Passes(t)
}

// writeItems inserts one row per item, and with twice also reads it back.
func writeItems(db *sql.DB, twice bool) func(t testing.TB) {
	return func(t testing.TB) {
		var n int
		Scale(t, ScaleTest{
			Sizes:   []int{1, 2, 4},
			PerItem: 1,
			Setup:   func(_ testing.TB, size int) { n = size },
			Act: func(t testing.TB, ctx context.Context) {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				for i := range n {
					if _, err := tx.ExecContext(ctx, `INSERT INTO entries (name, category) VALUES (?, ?)`, fmt.Sprint("item ", i), "laptop"); err != nil {
						t.Fatal(err)
					}
					if twice {
						tx.QueryRowContext(ctx, `SELECT count(*) FROM entries`).Scan(new(int))
					}
				}
			},
		})
	}
}

func TestScaleLinear(t *testing.T) {
	db := openStore(t, 0)
	runFake(t, "TestWrite", writeItems(db, false)).Passes(t)

	msg := runFake(t, "TestWriteTwice", writeItems(db, true)).Fails(t)
	contains(t, msg,
		"querytrace: statements grow by +2 per item: 2 at size 1, 4 at size 2, 8 at size 4; want +1 per item",
		"    +1 per item  insert into entries(name, category) values (?, ?)  N+1\n",
		"                 1 at size 1, 2 at size 2, 4 at size 4\n",
		// Each count follows an insert into its table: fresh work, no
		// duplicate (issue 19).
		"    +1 per item  select count(*) from entries\n",
	)
}

// cachedNames reads the names once and then serves them from memory.
type cachedNames struct {
	db    *sql.DB
	names []string
}

func (c *cachedNames) get(ctx context.Context) {
	if c.names == nil {
		rows, _ := store.Entries(ctx, c.db)
		c.names = []string{}
		for _, r := range rows {
			c.names = append(c.names, r.Name)
		}
	}
}

func TestScaleWarmup(t *testing.T) {
	act := func(warm bool) func(t testing.TB) {
		return func(t testing.TB) {
			db := openStore(t, 3)
			c := &cachedNames{db: db}
			Scale(t, ScaleTest{Warmup: warm, Act: func(t testing.TB, ctx context.Context) { c.get(ctx) }})
		}
	}
	runFake(t, "TestWarm", act(true)).Passes(t)
	msg := runFake(t, "TestCold", act(false)).Fails(t)
	contains(t, msg, "querytrace: statements change with the data: 1 at size 2, 0 at size 3 (-1 per item)",
		"    -1 per item  select id, name, category from entries order by id\n")
}

func TestScaleStepsThatDiffer(t *testing.T) {
	var n int
	f := runFake(t, "TestSquare", func(t testing.TB) {
		db := openStore(t, 1)
		Scale(t, ScaleTest{
			Sizes: []int{1, 2, 3},
			Setup: func(_ testing.TB, size int) { n = size },
			Act: func(t testing.TB, ctx context.Context) {
				for range n * n {
					store.Entries(ctx, db)
				}
			},
		})
	})
	contains(t, f.Fails(t), "querytrace: statements grow with the data: 1 at size 1, 4 at size 2, 9 at size 3 (+3, +5 per item)")
}

func TestScaleMisuse(t *testing.T) {
	act := func(testing.TB, context.Context) {}
	for _, tc := range []struct {
		s    ScaleTest
		want string
	}{
		{ScaleTest{Sizes: []int{5}, Act: act}, "querytracetest.Scale: 1 size given; give two or more, such as []int{2, 3}"},
		{ScaleTest{Sizes: []int{3, 2}, Act: act}, "querytracetest.Scale: sizes [3 2]: want increasing sizes of zero or more"},
		{ScaleTest{}, "querytracetest.Scale: no Act"},
		{ScaleTest{Act: act, PerItem: -1}, "querytracetest.Scale: PerItem -1: want zero or more"},
	} {
		contains(t, runFake(t, "TestMisuse", func(t testing.TB) { Scale(t, tc.s) }).Fails(t), tc.want)
	}
}

// A run that fails on its own is the failure; the counts are not compared.
func TestScaleQuietWhenActFails(t *testing.T) {
	f := runFake(t, "TestBroken", func(t testing.TB) {
		db := openStore(t, 0)
		Scale(t, ScaleTest{
			Setup: func(t testing.TB, n int) { grow(t, db, n) },
			Act: func(t testing.TB, ctx context.Context) {
				store.SlowInventory(ctx, db)
				t.Error("page is wrong")
			},
		})
	})
	if len(f.Errors) != 2 || f.Errors[0] != "page is wrong" {
		t.Errorf("errors = %q; want only the two of the runs", f.Errors)
	}
}
