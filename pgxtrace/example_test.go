package pgxtrace_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/tracelog"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/pgxtrace"
)

// Set a Tracer on a pool's configuration, then run each request under a
// trace: its report counts the request's statements and names its N+1
// loops. Here the request looks up a name per id, one query each.
//
// The example needs a PostgreSQL server at $DATABASE_URL, so go test
// compiles it but does not run it; TestExamples runs it against
// $QUERYTRACE_POSTGRES_DSN and checks that it prints:
//
//	lookups: 4 statements, 1 N+1
//	N+1: 3 times select ? || ?::int
//	untraced: 0 statements
func Example() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	tracer := &pgxtrace.Tracer{}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	ctx, trace := querytrace.Start(ctx, "lookups") // or querytrace.Middleware, per request
	rows, _ := pool.Query(ctx, "SELECT id FROM generate_series(1, 3) AS id")
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range ids {
		var name string
		if err := pool.QueryRow(ctx, "SELECT 'customer ' || $1::int", id).Scan(&name); err != nil {
			log.Fatal(err)
		}
	}
	rep := trace.Finish()
	fmt.Printf("%s: %d statements, %d N+1\n", rep.Name, rep.Statements, len(rep.NPlusOne))
	for _, f := range rep.NPlusOne {
		fmt.Printf("N+1: %d times %s\n", f.Count, f.Group.Shape)
	}

	// Statements run with no trace on their context (background jobs,
	// AfterConnect hooks) are tallied in the tracer's fallback.
	fmt.Printf("untraced: %d statements\n", tracer.Untraced().Snapshot().Statements)
}

// A tracer already on the configuration, here pgx's tracelog, keeps
// running when it is composed with the Tracer by pgx's multitracer. The
// Tracer goes first, so that its timings leave out the other's end hooks.
//
// The example needs a PostgreSQL server at $DATABASE_URL, so go test
// compiles it but does not run it; TestExamples runs it against
// $QUERYTRACE_POSTGRES_DSN and checks that it prints:
//
//	tracelog: Connect
//	tracelog: Query
//	traced: 1 statements
func Example_multitracer() {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cfg.Tracer = &tracelog.TraceLog{
		Logger: tracelog.LoggerFunc(func(_ context.Context, _ tracelog.LogLevel, msg string, _ map[string]any) {
			fmt.Println("tracelog:", msg)
		}),
		LogLevel: tracelog.LogLevelInfo,
	}
	cfg.Tracer = multitracer.New(&pgxtrace.Tracer{}, cfg.Tracer)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)

	ctx, trace := querytrace.Start(ctx, "one query")
	if _, err := conn.Exec(ctx, "select 1"); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("traced: %d statements\n", trace.Finish().Statements)
}
