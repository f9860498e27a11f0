package pgxtrace_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/pgxtrace"
)

// Wire the tracer into a pool with one line, then run each request under a
// trace: its report counts the request's statements and flags its N+1
// loops. (It needs a server, so it is compiled but not run.)
func Example_pool() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	tracer := pgxtrace.Configure(cfg) // keeps a tracer already set, such as tracelog
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	http.HandleFunc("/orders", func(w http.ResponseWriter, r *http.Request) {
		ctx, trace := querytrace.Start(r.Context(), "GET /orders")
		defer func() {
			rep := trace.Finish()
			for _, f := range rep.NPlusOne {
				log.Printf("%s: N+1 at %s: %d× %s", rep.Name, f.Group.CallSite(), f.Count, f.Group.Shape)
			}
		}()
		rows, _ := pool.Query(ctx, "SELECT id, total FROM orders WHERE customer = $1", r.FormValue("customer"))
		_, _ = pgx.CollectRows(rows, pgx.RowToMap)
	})

	// Statements run with no trace on their context (background jobs,
	// AfterConnect hooks) are tallied in the tracer's fallback.
	log.Printf("untraced: %d statements", tracer.Untraced().Snapshot().Statements)
}

// Install is Configure for a single connection.
func ExampleInstall() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	pgxtrace.Install(cfg)
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(context.Background())
}
