package grpcquerytrace_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/querytrace/querytrace"
)

// TestGateway is a service whose HTTP API answers by calling its own gRPC
// server over a connection, as a gRPC gateway registered from an
// endpoint does, with one Handler for both. Without the interceptors, the
// HTTP request's report has no statement and every one unattributed;
// with them, the call has a report of its own with the statements and
// the N+1, and the request's has none unattributed.
func TestGateway(t *testing.T) {
	db := sqlite(t, 10)
	for _, intercept := range []bool{false, true} {
		logs := &logRecorder{}
		h, ch := sinks(logs)
		var opts []grpc.ServerOption
		if intercept {
			opts = interceptors(h)
		}
		conn := serve(t, db, opts...)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/free", func(w http.ResponseWriter, r *http.Request) {
			if err := conn.Invoke(r.Context(), "/inventory.Inventory/Free", new(emptypb.Empty), new(structpb.Struct)); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
		})
		h.Next = mux // before the Handler serves
		gateway := httptest.NewServer(h)
		get(t, gateway.URL+"/v1/free")
		gateway.Close()

		reps := map[string]*querytrace.Report{}
		for range map[bool]int{false: 1, true: 2}[intercept] {
			rep := wait(t, ch).rep
			reps[rep.Name] = rep
		}
		req, call := reps["GET /v1/free"], reps["/inventory.Inventory/Free"]
		switch {
		case req == nil:
			t.Fatalf("intercepted: %v: no report of the HTTP request among %v", intercept, slices.Collect(maps.Keys(reps)))
		case !intercept && (req.Statements != 0 || req.Unattributed < 11):
			t.Errorf("without the interceptors: request: %d statements, %d unattributed; want 0 and at least 11", req.Statements, req.Unattributed)
		case intercept && (req.Statements != 0 || req.Unattributed != 0):
			t.Errorf("with the interceptors: request: %d statements, %d unattributed; want 0 and 0", req.Statements, req.Unattributed)
		case intercept && (call == nil || call.Statements != 11 || len(call.NPlusOne) != 1):
			t.Errorf("with the interceptors: call's report %v, want 11 statements and 1 N+1", call)
		}
		missed := slices.ContainsFunc(logs.warnings(), func(w string) bool { return strings.Contains(w, "saw no statements") })
		if missed != !intercept {
			t.Errorf("intercepted: %v: warned of a missed context: %v", intercept, missed)
		}
	}
}
