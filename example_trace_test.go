package querytrace_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"

	"github.com/querytrace/querytrace"
)

// Start traces a unit of work outside HTTP: every statement run with the
// context it returns, from any goroutine, is recorded until Finish.
func ExampleStart() {
	db, err := querytrace.Open("sqlite3", "file:example_start?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as db
	if _, err := db.Exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT);
		CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER)`); err != nil {
		log.Fatal(err)
	}

	ctx, tr := querytrace.Start(context.Background(), "nightly export")
	var wg sync.WaitGroup
	for _, table := range []string{"entries", "items"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		}()
	}
	wg.Wait()
	report := tr.Finish() // in a job: defer func() { log.Print(tr.Finish()) }()

	fmt.Println(strings.SplitN(report.String(), "\n", 2)[0])
	fmt.Println(report.Statements, "statements in", len(report.Groups), "groups")
	// Output:
	// querytrace: nightly export
	// 2 statements in 2 groups
}

// In staging, a repeat is flagged only when it costs: StagingDetector
// returns a fresh Detector, whose allow-list is the caller's own.
func ExampleStagingDetector() {
	db, err := querytrace.Open("sqlite3", "file:example_staging?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER)`); err != nil {
		log.Fatal(err)
	}

	d := querytrace.StagingDetector()
	d.Allow = []querytrace.Allow{{Table: "feature_flags", Reason: "cached for the request"}}
	ctx, tr := querytrace.Start(context.Background(), "GET /inventory")
	tr.SetDetector(d) // or &querytrace.Handler{Next: mux, Detector: d}
	for id := range 3 {
		db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = ?`, id).Scan(new(int))
	}
	report := tr.Finish()

	fmt.Println(report.Statements, "statements,", len(report.NPlusOne), "N+1") // the zero Detector finds 1
	fmt.Println(len(querytrace.StagingDetector().Allow), "allow entries in a new StagingDetector")
	// Output:
	// 3 statements, 0 N+1
	// 0 allow entries in a new StagingDetector
}
