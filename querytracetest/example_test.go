package querytracetest_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/querytracetest"
)

// In the examples, each test body runs under runTest, which stands in for
// go test: it prints whether the test passed and the headlines of its
// failures, without timings. In a real test, t is the test's *testing.T.

func ExampleBudget() {
	runTest("TestInventoryPage", func(t testing.TB) {
		db := openInventory(t, 30) // setup, with an untraced context: not measured

		ctx := querytracetest.Budget(t, t.Context(),
			querytracetest.AtMost(3),
			querytracetest.Exactly(0).Inserts().Updates().Deletes(),
		)
		store.SlowInventory(ctx, db) // measured
	})
	// Output:
	// --- FAIL: TestInventoryPage
	// querytrace: 61 statements, budget at most 3
}

func ExampleLimit() {
	runTest("TestLimits", func(t testing.TB) {
		db := openInventory(t, 30)
		ctx := querytracetest.Budget(t, t.Context(),
			querytracetest.Exactly(1).Selects().Table("entries"),
			querytracetest.AtMost(1).Shape("count(*) FROM items"),
			querytracetest.AtMost(0).CallSite("nameCache.load"),
		)
		store.SlowInventory(ctx, db)
	})
	// Output:
	// --- FAIL: TestLimits
	// querytrace: 30 statements with shape "count(*) from items", budget at most 1
}

func ExampleForbid() {
	runTest("TestCachedNames", func(t testing.TB) {
		db := openInventory(t, 3)
		cache := &nameCache{db: db}
		cache.load(t.Context()) // fill the cache: not measured

		ctx := querytracetest.Forbid(t, t.Context())
		cache.names(ctx) // must be served from memory

		// The escape hatch, for the one intended statement.
		cache.load(querytrace.Pause(ctx, "reload after an update"))
	})
	// Output:
	// --- PASS: TestCachedNames
}

func ExampleNoNPlusOne() {
	runTest("TestInventoryPage", func(t testing.TB) {
		db := openInventory(t, 3)
		ctx := querytracetest.NoNPlusOne(t, t.Context())
		store.SlowInventory(ctx, db)
	})
	// Output:
	// --- FAIL: TestInventoryPage
	// querytrace: 2 N+1 patterns in 7 statements
}

func ExampleScale() {
	runTest("TestInventoryScales", func(t testing.TB) {
		db := openInventory(t, 0)
		querytracetest.Scale(t, querytracetest.ScaleTest{
			// Setup runs untraced, once per size: 2 entries, then 3.
			Setup: func(t testing.TB, n int) { store.Grow(context.Background(), db, n) },
			// Act runs traced, at each size.
			Act: func(t testing.TB, ctx context.Context) { store.SlowInventory(ctx, db) },
		})
	})
	// Output:
	// --- FAIL: TestInventoryScales
	// querytrace: statements grow with the data: 5 at size 2, 7 at size 3 (+2 per item); want the same count at every size
}

func ExampleScale_linear() {
	runTest("TestImportScales", func(t testing.TB) {
		db := openInventory(t, 0)
		var names []string
		querytracetest.Scale(t, querytracetest.ScaleTest{
			Sizes:   []int{1, 10, 100},
			PerItem: 1, // one INSERT per row imported, and nothing else per row
			Setup: func(t testing.TB, n int) {
				names = names[:0]
				for i := range n {
					names = append(names, fmt.Sprint("imported ", i))
				}
			},
			Act: func(t testing.TB, ctx context.Context) {
				for _, name := range names {
					if _, err := db.ExecContext(ctx, `INSERT INTO entries (name, category) VALUES (?, ?)`, name, "laptop"); err != nil {
						t.Fatal(err)
					}
				}
			},
		})
	})
	// Output:
	// --- PASS: TestImportScales
}

// Golden keeps testdata/querytrace/TestInventoryPage.golden; run
// go test -querytrace.update to rewrite it.
func ExampleGolden() {
	var t *testing.T // the test's
	db := openInventory(t, 3)
	ctx := querytracetest.Golden(t, t.Context())
	store.SlowInventory(ctx, db)
}

// runTest runs body as a test named name would run, then its cleanups,
// where the helpers check, and prints the outcome: the headlines of the
// failures, without timings.
func runTest(name string, body func(t testing.TB)) {
	t := &exampleT{name: name}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errFailNow {
				panic(p)
			}
		}()
		body(t)
	}()
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	if t.failures == nil {
		fmt.Println("--- PASS:", name)
		return
	}
	fmt.Println("--- FAIL:", name)
	for _, f := range t.failures {
		for _, line := range strings.Split(f, "\n") {
			if strings.HasPrefix(line, "querytrace:") {
				fmt.Println(timings.ReplaceAllString(line, ""))
			}
		}
	}
}

var (
	errFailNow = new(int)
	timings    = regexp.MustCompile(` \((db time|if the change)[^)]*\)`)
)

type exampleT struct {
	testing.TB
	name     string
	failures []string
	cleanups []func()
}

func (t *exampleT) Name() string                      { return t.name }
func (t *exampleT) Context() context.Context          { return context.Background() }
func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Failed() bool                      { return t.failures != nil }
func (t *exampleT) Skipped() bool                     { return false }
func (t *exampleT) Logf(string, ...any)               {}
func (t *exampleT) Error(args ...any)                 { t.failures = append(t.failures, fmt.Sprint(args...)) }
func (t *exampleT) Errorf(format string, args ...any) { t.Error(fmt.Sprintf(format, args...)) }
func (t *exampleT) Fatal(args ...any)                 { t.Error(args...); panic(errFailNow) }
func (t *exampleT) Fatalf(format string, args ...any) { t.Fatal(fmt.Sprintf(format, args...)) }

// The code under test of the examples is the demo's inventory page
// (examples/inventory/store), with two statements per entry.

var exampleDBs atomic.Int64

// openInventory opens a traced in-memory database holding the given
// number of entries.
func openInventory(t testing.TB, entries int) *sql.DB {
	db, err := querytrace.Open("sqlite3", store.MemoryDSN(fmt.Sprint("example-", exampleDBs.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Create(context.Background(), db, entries); err != nil {
		t.Fatal(err)
	}
	return db
}

// nameCache serves the names of the entries from memory once loaded.
type nameCache struct {
	db   *sql.DB
	list []string
}

func (c *nameCache) load(ctx context.Context) {
	rows, err := c.db.QueryContext(ctx, `SELECT name FROM entries`)
	if err != nil {
		return
	}
	defer rows.Close()
	c.list = c.list[:0]
	for rows.Next() {
		var s string
		rows.Scan(&s)
		c.list = append(c.list, s)
	}
}

func (c *nameCache) names(ctx context.Context) []string {
	if c.list == nil {
		c.load(ctx)
	}
	return c.list
}
