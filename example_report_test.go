package querytrace_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3"
	"github.com/querytrace/querytrace"
)

// openInventory opens a traced in-memory database with three entries and
// their items.
func openInventory(name string) *sql.DB {
	db, err := querytrace.Open("sqlite3", "file:"+name+"?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as db
	for _, q := range []string{
		`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT)`,
		`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER, user_id INTEGER)`,
		`INSERT INTO entries (name) VALUES ('laptop'), ('monitor'), ('dock')`,
		`INSERT INTO items (entry_id, user_id) VALUES (1, NULL), (1, 7), (2, NULL), (3, NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			log.Fatal(err)
		}
	}
	return db
}

// unclaimed counts the unclaimed items of each entry the slow way: one
// COUNT per entry.
func unclaimed(ctx context.Context, db *sql.DB) (map[int]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var ids []int
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	counts := make(map[int]int)
	for _, id := range ids {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL`, id).Scan(&n)
		if err != nil {
			return nil, err
		}
		counts[id] = n
	}
	return counts, nil
}

// A trace around a unit of work finds the N+1 in it: the loop's call site,
// the query whose rows it iterated, and the statement that replaces it.
func Example_nPlusOne() {
	db := openInventory("example_nplusone")
	defer db.Close()

	ctx, tr := querytrace.Start(context.Background(), "GET /inventory")
	if _, err := unclaimed(ctx, db); err != nil {
		log.Fatal(err)
	}
	report := tr.Finish()

	fmt.Println(len(report.NPlusOne), "N+1")
	f := report.NPlusOne[0]
	fmt.Println("count:", f.Count)
	fmt.Println("at:", filepath.Base(f.Group.Stack[0].File), f.Group.Stack[0].Function)
	fmt.Println("source:", f.Source.Shape)
	fmt.Println("fix:", f.Fix)
	// Output:
	// 1 N+1
	// count: 3
	// at: example_report_test.go github.com/querytrace/querytrace_test.unclaimed
	// source: select id from entries order by id
	// fix: one query for all rows: select entry_id, count(*) from items where entry_id in (...) and user_id is null group by entry_id
}

// Known and accepted repeats go on an allow-list with a reason, which the
// report shows instead of a finding.
func ExampleDetector_allow() {
	db := openInventory("example_allow")
	defer db.Close()

	d := &querytrace.Detector{
		Allow: []querytrace.Allow{{Table: "items", Reason: "three entries at most: the page is paginated"}},
	}
	ctx, tr := querytrace.Start(context.Background(), "GET /inventory")
	tr.SetDetector(d)
	unclaimed(ctx, db)
	report := tr.Finish()

	fmt.Println(len(report.NPlusOne), "N+1,", len(report.Allowed), "allowed:", report.Allowed[0].Reason)
	// Output:
	// 0 N+1, 1 allowed: three entries at most: the page is paginated
}

// Pause marks work that is known and accepted; its statements still count.
func ExamplePause() {
	db := openInventory("example_pause")
	defer db.Close()

	ctx, tr := querytrace.Start(context.Background(), "deploy")
	unclaimed(querytrace.Pause(ctx, "cache warm-up, once per deploy"), db)
	report := tr.Finish()

	fmt.Println(report.Statements, "statements,", len(report.NPlusOne), "N+1")
	fmt.Println(report.Allowed[0].Reason)
	// Output:
	// 4 statements, 0 N+1
	// paused: cache warm-up, once per deploy
}
