package grpcquerytrace_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"

	_ "github.com/mattn/go-sqlite3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/grpcquerytrace"
)

// health answers grpc.health.v1.Health from the last probe of each of
// the service's dependencies: one query per dependency, an N+1.
type health struct {
	healthpb.UnimplementedHealthServer
	db *sql.DB
}

func (s *health) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	var deps []string
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM dependencies`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		deps = append(deps, name)
	}
	rows.Close()
	status := healthpb.HealthCheckResponse_SERVING
	for _, dep := range deps {
		var ok bool
		err := s.db.QueryRowContext(ctx, `SELECT ok FROM probes WHERE dependency = ? ORDER BY at DESC LIMIT 1`, dep).Scan(&ok)
		if err != nil || !ok {
			status = healthpb.HealthCheckResponse_NOT_SERVING
		}
	}
	return &healthpb.HealthCheckResponse{Status: status}, nil
}

// The interceptors trace each call under a querytrace.Handler's
// configuration; a client that asks for the totals gets them in the
// call's trailer.
func Example() {
	db, err := querytrace.Open("sqlite3", "file:example_grpc?mode=memory&cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.Exec(`CREATE TABLE dependencies (name TEXT PRIMARY KEY);
		CREATE TABLE probes (dependency TEXT, at INTEGER, ok BOOLEAN);
		INSERT INTO dependencies VALUES ('billing'), ('search'), ('mail');
		INSERT INTO probes VALUES ('billing', 1, true), ('search', 1, true), ('mail', 1, true)`)

	reports := make(chan *querytrace.Report, 1)
	h := &querytrace.Handler{
		Logger:   slog.New(slog.DiscardHandler), // in a service: a logger of your own, or nil for slog.Default()
		OnReport: func(_ *http.Request, r *querytrace.Report) { reports <- r },
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcquerytrace.UnaryServerInterceptor(h)),
		grpc.ChainStreamInterceptor(grpcquerytrace.StreamServerInterceptor(h)),
	)
	healthpb.RegisterHealthServer(srv, &health{db: db})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()

	// A client asks for the totals with TimingKey, and reads the trailer.
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), grpcquerytrace.TimingKey, "1")
	var trailer metadata.MD
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Trailer(&trailer)); err != nil {
		log.Fatal(err)
	}

	// The duration varies from run to run; the description does not.
	for _, t := range trailer.Get(grpcquerytrace.ServerTimingKey) {
		fmt.Println(regexp.MustCompile(`dur=[0-9.]+`).ReplaceAllString(t, "dur=…"))
	}
	report := <-reports
	fmt.Println(report.Name)
	f := report.NPlusOne[0]
	fmt.Println(f.Count, "times in the loop at", filepath.Base(f.Loop.File))
	// Output:
	// db;dur=…;desc="4 statements, 1 N+1"
	// /grpc.health.v1.Health/Check
	// 3 times in the loop at example_test.go
}
