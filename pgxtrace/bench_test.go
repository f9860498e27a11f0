package pgxtrace_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/pgxtrace"
)

// BenchmarkSelect1 measures a SELECT 1 round trip over a bare pool and over
// a traced one (a trace on the context, as in a request) in the same run;
// compare with benchstat -col /pool.
func BenchmarkSelect1(b *testing.B) {
	dsn := postgresDSN(b)
	open := func(traced bool) *pgxpool.Pool {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = 1
		if traced {
			pgxtrace.Configure(cfg)
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return pool
	}
	bare, traced := open(false), open(true)
	for _, c := range []struct {
		name string
		pool *pgxpool.Pool
	}{{"pool=bare", bare}, {"pool=traced", traced}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, tr := querytrace.Start(context.Background(), "bench")
			defer tr.Finish()
			var n int
			for i := 0; i < 100; i++ { // warm the connection and its statement cache
				if err := c.pool.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.pool.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSelect1Paired alternates the bare and the traced pool on every
// iteration, so that drift in the machine's load hits both alike, and
// reports each one's time per round trip and the tracer's overhead.
func BenchmarkSelect1Paired(b *testing.B) {
	dsn := postgresDSN(b)
	open := func(traced bool) *pgxpool.Pool {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = 1
		if traced {
			pgxtrace.Configure(cfg)
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return pool
	}
	bare, traced := open(false), open(true)
	ctx, tr := querytrace.Start(context.Background(), "bench")
	defer tr.Finish()
	var n int
	for i := 0; i < 100; i++ {
		if err := bare.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			b.Fatal(err)
		}
		if err := traced.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
	var tBare, tTraced time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, q := bare, traced
		if i%2 == 1 {
			p, q = traced, bare
		}
		t0 := time.Now()
		if err := p.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := q.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if p == bare {
			tBare += t1.Sub(t0)
			tTraced += t2.Sub(t1)
		} else {
			tTraced += t1.Sub(t0)
			tBare += t2.Sub(t1)
		}
	}
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/query")
	b.ReportMetric(float64(tTraced.Nanoseconds())/float64(b.N), "traced-ns/query")
	b.ReportMetric(float64(tTraced)/float64(tBare), "traced/bare")
}

// BenchmarkHooks measures the tracer's own cost per statement, a start and
// an end hook with a trace on the context, with no server.
func BenchmarkHooks(b *testing.B) {
	tr := pgxtrace.New()
	ctx, trace := querytrace.Start(context.Background(), "bench")
	defer trace.Finish()
	start := pgx.TraceQueryStartData{SQL: "SELECT name FROM users WHERE id = $1", Args: []any{int64(42)}}
	end := pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		qctx := tr.TraceQueryStart(ctx, nil, start)
		tr.TraceQueryEnd(qctx, nil, end)
	}
}
