package querytrace_test

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/querytrace/querytrace"
)

// Start traces a unit of work outside HTTP: every statement run with the
// context it returns, from any goroutine, is recorded until Finish.
func ExampleStart() {
	db := openInventory("example_start")
	defer db.Close()

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
	db := openInventory("example_staging")
	defer db.Close()

	d := querytrace.StagingDetector()
	d.Allow = []querytrace.Allow{{Table: "feature_flags", Reason: "cached for the request"}}
	ctx, tr := querytrace.Start(context.Background(), "GET /inventory")
	tr.SetDetector(d) // or &querytrace.Handler{Next: mux, Detector: d}
	unclaimed(ctx, db)
	report := tr.Finish()

	fmt.Println(report.Statements, "statements,", len(report.NPlusOne), "N+1") // the zero Detector finds 1
	fmt.Println(len(querytrace.StagingDetector().Allow), "allow entries in a new StagingDetector")
	// Output:
	// 4 statements, 0 N+1
	// 0 allow entries in a new StagingDetector
}
