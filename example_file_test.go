package querytrace_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/querytrace/querytrace"
)

// A report saved as a file reads back whole: what the live report found,
// where, and its timeline. debugpage's Archive saves reports so, and the
// querytrace command serves, summarizes and compares them.
func ExampleUnmarshalFile() {
	ctx, tr := querytrace.Start(context.Background(), "job nightly-digest")
	start := time.Now()
	for id := range 3 { // a loop's statements, one after the other, as a driver hands them over
		querytrace.Record(ctx, &querytrace.Event{
			Kind:     querytrace.KindQuery,
			SQL:      fmt.Sprintf("SELECT name FROM users WHERE id = %d", id),
			Start:    start.Add(time.Duration(id) * time.Millisecond),
			Duration: time.Millisecond,
		})
	}
	data, err := tr.Finish().MarshalFile()
	if err != nil {
		log.Fatal(err)
	}

	rep, err := querytrace.UnmarshalFile(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Name+":", rep.Summary())
	n := rep.NPlusOne[0]
	fmt.Printf("%s ran %d times, %d events kept\n", n.Group.Shape, n.Count, len(rep.Events()))
	// Output:
	// job nightly-digest: 3 statements, 3.00ms db, 1 N+1
	// select name from users where id = ? ran 3 times, 3 events kept
}
