package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
)

// testDBs numbers the test databases: shared-cache in-memory databases with
// the same name are one database, so each test needs a name of its own.
var testDBs atomic.Int64

func testStore(t *testing.T, entries int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", MemoryDSN(fmt.Sprintf("test-%s-%d", t.Name(), testDBs.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Create(context.Background(), db, entries); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestPagesAgree(t *testing.T) {
	for _, entries := range []int{0, 1, 2, 17, 300} {
		t.Run(fmt.Sprint(entries), func(t *testing.T) {
			ctx := context.Background()
			db := testStore(t, entries)

			slow, err := SlowInventory(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := FastInventory(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(slow) != entries {
				t.Errorf("slow page: %d rows, want %d", len(slow), entries)
			}
			if !reflect.DeepEqual(slow, fast) {
				t.Errorf("pages differ:\nslow %v\nfast %v", slow, fast)
			}

			// Agreeing with each other is not enough: check the total
			// against one query that shares no code with either page.
			var want int
			err = db.QueryRowContext(ctx, `SELECT
				(SELECT count(*) FROM items WHERE user_id IS NULL) -
				(SELECT coalesce(sum(ri.quantity), 0) FROM request_items ri
				 JOIN requests r ON r.id = ri.request_id WHERE r.status = 'approved')`).Scan(&want)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for i, r := range fast {
				got += r.Free
				if r.EntryID != i+1 {
					t.Errorf("row %d: entry %d, want %d (rows out of order?)", i, r.EntryID, i+1)
				}
			}
			if got != want {
				t.Errorf("total free = %d, want %d", got, want)
			}
		})
	}
}

// TestSeedDeterministic checks that two databases seeded alike hold the
// same data, which the load test's comparison between databases relies on.
func TestSeedDeterministic(t *testing.T) {
	ctx := context.Background()
	a, err := FastInventory(ctx, testStore(t, 50))
	if err != nil {
		t.Fatal(err)
	}
	b, err := FastInventory(ctx, testStore(t, 50))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two databases seeded with the same size differ")
	}
}

func TestSeedSize(t *testing.T) {
	db := testStore(t, 300)
	for table, lo := range map[string]int{"entries": 300, "items": 2500, "requests": 300, "request_items": 300} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < lo {
			t.Errorf("%s: %d rows, want at least %d", table, n, lo)
		}
	}
}

// TestGrow checks that a database grown in steps holds the rows of one
// created at its final size: Scale tests compare the sizes of one page.
func TestGrow(t *testing.T) {
	ctx := context.Background()
	grown := testStore(t, 0)
	for _, n := range []int{2, 3, 30} {
		if err := Grow(ctx, grown, n); err != nil {
			t.Fatal(err)
		}
	}
	created := testStore(t, 30)
	for _, table := range []string{"entries", "items", "requests", "request_items"} {
		dump := func(db *sql.DB) []string {
			rows, err := db.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprint(vals...))
			}
			return out
		}
		if a, b := dump(grown), dump(created); !reflect.DeepEqual(a, b) || len(a) < 30 {
			t.Errorf("%s: grown to 30 entries, %d rows; created with 30, %d; want the same rows", table, len(a), len(b))
		}
	}
}
