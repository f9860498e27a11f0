package querytrace

import (
	"context"
	"database/sql"
	"testing"

	"github.com/querytrace/querytrace/internal/clock"
	"github.com/querytrace/querytrace/internal/interleave"
)

// The driver benchmarks measure each workload raw, traced, and traced
// without call sites, in one run, so that benchstat compares them:
//
//	go test -run '^$' -bench 'Driver' -benchmem -count 6 . | tee /tmp/b.txt
//	benchstat -col /driver /tmp/b.txt
//
// Each iteration runs under a trace that is finished every 100 statements,
// as a request would; "record-only" keeps one trace for the whole run, to
// show the per-statement recording path without the report built at
// Finish.

var benchDrivers = []struct {
	name     string
	traced   bool
	opts     []Option
	noFinish bool // one trace for the whole run: the recording path alone
}{
	{"raw", false, nil, false},
	{"traced", true, nil, false},
	{"nostacks", true, []Option{WithoutStacks()}, false},
	{"record-only", true, nil, true},
}

// benchDB opens a seeded in-memory database with 100 rows.
func benchDB(b testing.TB, traced bool, opts []Option) *sql.DB {
	db := openSQLite(b, traced, opts...)
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		db.Exec("INSERT INTO t (id, v) VALUES (?, 'value')", i)
	}
	return db
}

func benchEach(b *testing.B, run func(b *testing.B, ctx func() context.Context, db *sql.DB)) {
	for _, d := range benchDrivers {
		b.Run("driver="+d.name, func(b *testing.B) {
			db := benchDB(b, d.traced, d.opts)
			var tr *Trace
			ctx := context.Background()
			n := 0
			next := func() context.Context {
				if d.noFinish && tr != nil {
					return ctx
				}
				if n%100 == 0 {
					if tr != nil {
						tr.Finish()
					}
					ctx, tr = Start(context.Background(), "bench")
				}
				n++
				return ctx
			}
			b.ReportAllocs()
			b.ResetTimer()
			run(b, next, db)
		})
	}
}

func BenchmarkDriverQueryRow(b *testing.B) {
	benchEach(b, func(b *testing.B, ctx func() context.Context, db *sql.DB) {
		var v string
		for i := 0; i < b.N; i++ {
			if err := db.QueryRowContext(ctx(), "SELECT v FROM t WHERE id = ?", i%100).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDriverExec(b *testing.B) {
	benchEach(b, func(b *testing.B, ctx func() context.Context, db *sql.DB) {
		for i := 0; i < b.N; i++ {
			if _, err := db.ExecContext(ctx(), "UPDATE t SET v = 'x' WHERE id = ?", i%100); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDriverQuery100 reads 100 rows a statement: the difference per
// op over 100 is the cost per row.
func BenchmarkDriverQuery100(b *testing.B) {
	benchEach(b, func(b *testing.B, ctx func() context.Context, db *sql.DB) {
		var id int
		var v string
		for i := 0; i < b.N; i++ {
			rows, err := db.QueryContext(ctx(), "SELECT id, v FROM t")
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				rows.Scan(&id, &v)
			}
			rows.Close()
		}
	})
}

func BenchmarkDriverPrepared(b *testing.B) {
	benchEach(b, func(b *testing.B, ctx func() context.Context, db *sql.DB) {
		st, err := db.Prepare("SELECT v FROM t WHERE id = ?")
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		var v string
		for i := 0; i < b.N; i++ {
			if err := st.QueryRowContext(ctx(), i%100).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDriverTx5 is a transaction of five statements a op.
func BenchmarkDriverTx5(b *testing.B) {
	benchEach(b, func(b *testing.B, ctx func() context.Context, db *sql.DB) {
		for i := 0; i < b.N; i++ {
			c := ctx()
			tx, err := db.BeginTx(c, nil)
			if err != nil {
				b.Fatal(err)
			}
			for j := 0; j < 5; j++ {
				tx.ExecContext(c, "UPDATE t SET v = 'y' WHERE id = ?", (i+j)%100)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDriverParallel runs QueryRow from GOMAXPROCS goroutines, each
// with its own trace, over a pool of connections to a shared database.
func BenchmarkDriverParallel(b *testing.B) {
	for _, d := range benchDrivers {
		b.Run("driver="+d.name, func(b *testing.B) {
			db := benchDB(b, d.traced, d.opts)
			db.SetMaxOpenConns(4)
			db.SetMaxIdleConns(4)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var v string
				ctx, tr := Start(context.Background(), "bench")
				for i := 0; pb.Next(); i++ {
					if i%100 == 99 {
						tr.Finish()
						ctx, tr = Start(context.Background(), "bench")
					}
					if err := db.QueryRowContext(ctx, "SELECT v FROM t WHERE id = ?", i%100).Scan(&v); err != nil {
						b.Error(err)
						return
					}
				}
				tr.Finish()
			})
		})
	}
}

// BenchmarkOverhead measures the wrapper's cost as a ratio that the
// machine's noise does not swamp: each op runs one statement raw and one
// traced, in alternating blocks of 100, so that a slow spell of a shared
// machine slows both alike. It reports each side's time per statement and
// their ratio:
//
//	go test -run '^$' -bench Overhead -count 10 . | tee /tmp/o.txt
//	benchstat /tmp/o.txt
//
// "record-only" is the recording path (timing, counting, call site,
// folding) under one long trace; "traced" also finishes a trace, building
// its report, every 100 statements, as requests would, and that time is
// the traced side's. "nostacks" is record-only without call sites, and
// "raw" runs both sides raw: the harness's own bias, which should read 1.
// With -v it logs whether the statement clock reads the time-stamp
// counter; QUERYTRACE_CLOCKSOURCE=kvm-clock measures the monotonic clock's
// path, as on a kvm-clock VM.
func BenchmarkOverhead(b *testing.B) {
	b.Logf("statement clock reads the time-stamp counter: %v", clock.Counter())
	workloads := []struct {
		name string
		run  func(b *testing.B, ctx context.Context, db *sql.DB, i int)
	}{
		{"QueryRow", func(b *testing.B, ctx context.Context, db *sql.DB, i int) {
			var v string
			if err := db.QueryRowContext(ctx, "SELECT v FROM t WHERE id = ?", i%100).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}},
		{"Exec", func(b *testing.B, ctx context.Context, db *sql.DB, i int) {
			if _, err := db.ExecContext(ctx, "UPDATE t SET v = 'x' WHERE id = ?", i%100); err != nil {
				b.Fatal(err)
			}
		}},
		// 100 rows a statement: the difference over 100 bounds the
		// cost per row read.
		{"Query100", func(b *testing.B, ctx context.Context, db *sql.DB, i int) {
			rows, err := db.QueryContext(ctx, "SELECT id, v FROM t")
			if err != nil {
				b.Fatal(err)
			}
			var id int
			var v string
			for rows.Next() {
				rows.Scan(&id, &v)
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
		}},
	}
	configs := []struct {
		name   string
		opts   []Option
		finish bool
	}{
		{"raw", nil, false}, // both sides raw: the harness's own bias
		{"record-only", nil, false},
		{"nostacks", []Option{WithoutStacks()}, false},
		{"traced", nil, true},
	}
	for _, w := range workloads {
		for _, c := range configs {
			b.Run(w.name+"/"+c.name, func(b *testing.B) {
				raw := benchDB(b, false, nil)
				traced := benchDB(b, c.name != "raw", c.opts)
				ctx, tr := Start(context.Background(), "bench")
				interleave.Run(b, 100, "stmt", func(n int) {
					for i := range n {
						w.run(b, ctx, raw, i)
					}
				}, func(n int) {
					for i := range n {
						w.run(b, ctx, traced, i)
					}
					if c.finish {
						tr.Finish()
						ctx, tr = Start(context.Background(), "bench")
					}
				})
			})
		}
	}
}
