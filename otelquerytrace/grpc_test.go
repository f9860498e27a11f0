package otelquerytrace_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
	"github.com/querytrace/querytrace/grpcquerytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// inventoryHealth answers grpc.health.v1.Health/Check by reading the slow
// inventory page: an N+1 per entry, behind a gRPC method.
type inventoryHealth struct {
	healthpb.UnimplementedHealthServer
	db *sql.DB
}

func (s *inventoryHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if _, err := store.SlowInventory(ctx, s.db); err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// TestGRPC feeds the bridge from grpcquerytrace's interceptors through the
// same OnFinish hook as a request's, on a server whose spans otelgrpc's
// stats handler makes: the call's server span, still open when OnFinish
// runs, gets the totals and the N+1 events, and the per-request metrics
// are by the call's method.
func TestGRPC(t *testing.T) {
	const entries = 12
	s := newSDK(t)
	h := &querytrace.Handler{Logger: slog.New(slog.DiscardHandler), OnFinish: s.bridge().OnFinish}
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(s.tp), otelgrpc.WithMeterProvider(noop.NewMeterProvider()))),
		grpc.ChainUnaryInterceptor(grpcquerytrace.UnaryServerInterceptor(h)),
	)
	healthpb.RegisterHealthServer(srv, &inventoryHealth{db: openInventory(t, entries)})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	// The server ends its span after the status went out: wait for it.
	var spans []sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(10 * time.Second); len(spans) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		spans = s.spans.Ended()
	}
	call := requestSpan(t, spans)
	a := attrs(call.Attributes())
	if call.Name() != "grpc.health.v1.Health/Check" || a["querytrace.statements"].AsInt64() != 1+2*entries || a["querytrace.n_plus_one.count"].AsInt64() != 2 {
		t.Errorf("span %q: querytrace.statements %d, n_plus_one.count %d; want grpc.health.v1.Health/Check, %d and 2",
			call.Name(), a["querytrace.statements"].AsInt64(), a["querytrace.n_plus_one.count"].AsInt64(), 1+2*entries)
	}
	if n := len(call.Events()); n != 2 {
		t.Errorf("span has %d events, want the 2 N+1", n)
	}

	rm := s.metrics(t)
	route := attribute.String(otelquerytrace.AttrRoute, "/grpc.health.v1.Health/Check")
	if ps := where(points(rm, otelquerytrace.MetricRequestStatements), route); len(ps) != 1 || ps[0].count != 1 || ps[0].sum != 1+2*entries {
		t.Errorf("%s: %+v, want one call of %d statements", otelquerytrace.MetricRequestStatements, ps, 1+2*entries)
	}
}
