package querytrace_test

import (
	"fmt"
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
	db := openInventory("example_run")
	defer db.Close()

	h := &querytrace.Handler{
		Logger:   slog.New(slog.DiscardHandler),
		OnFinish: func(r *http.Request, rep *querytrace.Report) { fmt.Println("OnFinish:", r.Method, r.URL.Path) },
	}

	// The call as the request it is on the wire, with its context.
	call := httptest.NewRequest("POST", "/inventory.Inventory/Unclaimed", nil)
	report := h.Run(call, "/inventory.Inventory/Unclaimed", func(r *http.Request) {
		unclaimed(r.Context(), db)
	})

	fmt.Println(report.Name)
	// The duration varies from run to run; the description does not.
	fmt.Println(regexp.MustCompile(`dur=[0-9.]+`).ReplaceAllString(report.ServerTiming(), "dur=…"))
	// Output:
	// OnFinish: POST /inventory.Inventory/Unclaimed
	// /inventory.Inventory/Unclaimed
	// db;dur=…;desc="4 statements, 1 N+1"
}
