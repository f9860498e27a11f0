package querytrace_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/querytrace/querytrace"
)

// A server that does not serve through ServeHTTP, such as gRPC's, runs
// each call under a Handler with Run: the Handler's sinks and log get its
// report as a request's, and the server tells its client the totals its
// own way. Package grpcquerytrace does this for gRPC.
func ExampleHandler_Run() {
	db, err := querytrace.Open("sqlite3", "file:example_run?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as db
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER)`); err != nil {
		log.Fatal(err)
	}

	h := &querytrace.Handler{
		Logger:   slog.New(slog.DiscardHandler),
		OnFinish: func(r *http.Request, rep *querytrace.Report) { fmt.Println("OnFinish:", r.Method, r.URL.Path) },
	}

	// The call as the request it is on the wire, with its context.
	call := httptest.NewRequest("POST", "/inventory.Inventory/Unclaimed", nil)
	report := h.Run(call, "/inventory.Inventory/Unclaimed", func(r *http.Request) {
		for id := range 3 { // one COUNT per entry
			db.QueryRowContext(r.Context(), `SELECT count(*) FROM items WHERE entry_id = ?`, id).Scan(new(int))
		}
	})

	fmt.Println(report.Name)
	// The duration varies from run to run; the description does not.
	fmt.Println(regexp.MustCompile(`dur=[0-9.]+`).ReplaceAllString(report.ServerTiming(), "dur=…"))
	// Output:
	// OnFinish: POST /inventory.Inventory/Unclaimed
	// /inventory.Inventory/Unclaimed
	// db;dur=…;desc="3 statements, 1 N+1"
}
