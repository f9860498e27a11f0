package pgxtrace_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/interleave"
	"github.com/querytrace/querytrace/pgxtrace"
)

// BenchmarkSelect1 measures a SELECT 1 round trip over a bare pool and over
// a traced one (a trace on the context, as in a request) in the same run;
// compare with benchstat -col /pool.
func BenchmarkSelect1(b *testing.B) {
	open := func(traced bool) *pgxpool.Pool { return benchPool(b, traced) }
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
	open := func(traced bool) *pgxpool.Pool { return benchPool(b, traced) }
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
	tr := &pgxtrace.Tracer{}
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

// BenchmarkOverhead measures what the tracer adds to a SELECT 1 round trip
// (QueryRow and Scan) the way the root package's BenchmarkOverhead does for
// the database/sql wrapper: a bare pool and a pool configured with the
// tracer, one connection each, run the statement in alternating blocks of
// 100 (which goes first alternates too), so that drift in the machine's
// load and the order of the blocks hit both alike. It reports each one's
// time per statement and their ratio:
//
//   - raw: both pools bare, the control: traced/raw shows the harness's
//     own bias and should read 1.00.
//   - record-only: the statements of both go to one trace that is never
//     finished: the per-statement path alone.
//   - traced: a trace per block, finished after its 100 statements as a
//     request's is, its Finish and the next Start timed with the traced
//     pool's block: the per-statement path plus building the report.
func BenchmarkOverhead(b *testing.B) {
	open := func(traced bool) *pgxpool.Pool { return benchPool(b, traced) }
	raw, raw2, traced := open(false), open(false), open(true)
	selectOne := func(b *testing.B, ctx context.Context, pool *pgxpool.Pool) {
		var n int
		if err := pool.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
			b.Fatalf("SELECT 1: %d, %v", n, err)
		}
	}
	for _, c := range []struct {
		name   string
		other  *pgxpool.Pool // the pool measured against raw
		finish bool
	}{
		{"raw", raw2, false},
		{"record-only", traced, false},
		{"traced", traced, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx, tr := querytrace.Start(context.Background(), "bench")
			defer func() { tr.Finish() }()
			for range 100 { // warm the connections and their statement caches
				selectOne(b, ctx, raw)
				selectOne(b, ctx, c.other)
			}
			interleave.Run(b, 100, "stmt", func(n int) {
				for range n {
					selectOne(b, ctx, raw)
				}
			}, func(n int) {
				for range n {
					selectOne(b, ctx, c.other)
				}
				if c.finish {
					tr.Finish()
					ctx, tr = querytrace.Start(context.Background(), "bench")
				}
			})
		})
	}
}

// benchPool opens a pool of one connection to the test server, configured
// with the tracer when traced is set.
func benchPool(b *testing.B, traced bool) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(postgresDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 1
	if traced {
		cfg.ConnConfig.Tracer = &pgxtrace.Tracer{}
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}
