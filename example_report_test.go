package querytrace_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3"
	"github.com/querytrace/querytrace"
)

// A trace around a unit of work finds the N+1 in it: the loop's call site,
// the query whose rows it iterated, and the statement that replaces it.
func Example_nPlusOne() {
	db, err := querytrace.Open("sqlite3", "file:example_nplusone?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as db
	if _, err := db.Exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT);
		CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER, user_id INTEGER);
		INSERT INTO entries (name) VALUES ('laptop'), ('monitor'), ('dock');
		INSERT INTO items (entry_id, user_id) VALUES (1, NULL), (1, 7), (2, NULL), (3, NULL)`); err != nil {
		log.Fatal(err)
	}

	ctx, tr := querytrace.Start(context.Background(), "GET /inventory")
	rows, err := db.QueryContext(ctx, `SELECT id FROM entries ORDER BY id`)
	if err != nil {
		log.Fatal(err)
	}
	var ids []int
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids { // one COUNT per entry
		db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL`, id).Scan(new(int))
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
	// at: example_report_test.go github.com/querytrace/querytrace_test.Example_nPlusOne
	// source: select id from entries order by id
	// fix: one query for all rows: select entry_id, count(*) from items where entry_id in (...) and user_id is null group by entry_id
}

// Known and accepted repeats go on an allow-list with a reason, which the
// report shows instead of a finding.
func ExampleDetector_allow() {
	db, err := querytrace.Open("sqlite3", "file:example_allow?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER)`); err != nil {
		log.Fatal(err)
	}

	d := &querytrace.Detector{
		Allow: []querytrace.Allow{{Table: "items", Reason: "three entries at most: the page is paginated"}},
	}
	ctx, tr := querytrace.Start(context.Background(), "GET /inventory")
	tr.SetDetector(d)
	for id := range 3 {
		db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = ?`, id).Scan(new(int))
	}
	report := tr.Finish()

	fmt.Println(len(report.NPlusOne), "N+1,", len(report.Allowed), "allowed:", report.Allowed[0].Reason)
	// Output:
	// 0 N+1, 1 allowed: three entries at most: the page is paginated
}

// Pause marks work that is known and accepted; its statements still count.
func ExamplePause() {
	db, err := querytrace.Open("sqlite3", "file:example_pause?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER)`); err != nil {
		log.Fatal(err)
	}

	ctx, tr := querytrace.Start(context.Background(), "deploy")
	warm := querytrace.Pause(ctx, "cache warm-up, once per deploy")
	for id := range 3 {
		db.QueryRowContext(warm, `SELECT count(*) FROM items WHERE entry_id = ?`, id).Scan(new(int))
	}
	report := tr.Finish()

	fmt.Println(report.Statements, "statements,", len(report.NPlusOne), "N+1")
	fmt.Println(report.Allowed[0].Reason)
	// Output:
	// 3 statements, 0 N+1
	// paused: cache warm-up, once per deploy
}
