package querytracetest_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/querytracetest"
)

// The example runs tests of the demo's inventory page
// (examples/inventory/store), which runs two statements per entry, and
// of a cache of its names. Each test body is what a real test holds,
// with t the test's *testing.T; runTest, below, stands in for go test:
// it prints whether the test passed and the headline of each failure,
// without the timings that go test would print.
func Example() {
	runTest("TestInventoryPage", func(t testing.TB) {
		db := openInventory(t, "budget", 30) // setup, with an untraced context: not measured

		ctx := querytracetest.Budget(t, t.Context(),
			querytracetest.AtMost(3),
			querytracetest.Exactly(0).Inserts().Updates().Deletes(),
		)
		store.SlowInventory(ctx, db) // measured
	})

	runTest("TestLimits", func(t testing.TB) {
		db := openInventory(t, "limits", 30)
		ctx := querytracetest.Budget(t, t.Context(),
			querytracetest.Exactly(1).Selects().Table("entries"),
			querytracetest.AtMost(1).Shape("count(*) FROM items"),
			querytracetest.AtMost(0).CallSite("nameCache.load"),
		)
		store.SlowInventory(ctx, db)
	})

	runTest("TestNoNPlusOne", func(t testing.TB) {
		db := openInventory(t, "nplusone", 3)
		ctx := querytracetest.NoNPlusOne(t, t.Context())
		store.SlowInventory(ctx, db)
	})

	runTest("TestCachedNames", func(t testing.TB) {
		cache := &nameCache{db: openInventory(t, "cache", 3)}
		cache.load(t.Context()) // fill the cache: not measured

		ctx := querytracetest.Forbid(t, t.Context())
		cache.names(ctx) // must be served from memory

		// The escape hatch, for the one intended statement.
		cache.load(querytrace.Pause(ctx, "reload after an update"))
	})

	runTest("TestInventoryScales", func(t testing.TB) {
		db := openInventory(t, "scale", 0)
		querytracetest.Scale(t, querytracetest.ScaleTest{
			// Setup runs untraced, once per size: 2 entries, then 3.
			Setup: func(t testing.TB, n int) { store.Grow(context.Background(), db, n) },
			// Act runs traced, at each size.
			Act: func(t testing.TB, ctx context.Context) { store.SlowInventory(ctx, db) },
		})
	})

	runTest("TestImportScales", func(t testing.TB) {
		db := openInventory(t, "import", 0)
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

	// Golden compares with testdata/querytrace/TestInventoryGolden.golden;
	// go test -querytrace.update rewrites it.
	runTest("TestInventoryGolden", func(t testing.TB) {
		db := openInventory(t, "golden", 3)
		ctx := querytracetest.Golden(t, t.Context())
		store.SlowInventory(ctx, db)
	})

	// Output:
	// --- FAIL: TestInventoryPage
	// querytrace: 61 statements, budget at most 3
	// --- FAIL: TestLimits
	// querytrace: 30 statements with shape "count(*) from items", budget at most 1
	// --- FAIL: TestNoNPlusOne
	// querytrace: 2 N+1 patterns in 7 statements
	// --- PASS: TestCachedNames
	// --- FAIL: TestInventoryScales
	// querytrace: statements grow with the data: 5 at size 2, 7 at size 3 (+2 per item); want the same count at every size
	// --- PASS: TestImportScales
	// --- PASS: TestInventoryGolden
}

// openInventory opens a traced in-memory database of the given name
// holding the given number of entries, closed when the test ends.
func openInventory(t testing.TB, name string, entries int) *sql.DB {
	db, err := querytrace.Open("sqlite3", store.MemoryDSN("example-"+name))
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

// exampleT is the *testing.T of runTest's tests: it keeps their failures
// and cleanups, and t.Fatal ends the test body.
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
