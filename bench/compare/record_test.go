package compare

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/querytrace/querytrace"
)

// countingProvider is a no-op tracer provider that keeps the name and
// db.query.text of every span started, to check otelsql's work.
type countingProvider struct {
	tracenoop.TracerProvider
	mu    *sync.Mutex
	spans *[]string
}

type countingTracer struct {
	tracenoop.Tracer
	p countingProvider
}

func (p countingProvider) Tracer(string, ...trace.TracerOption) trace.Tracer {
	return countingTracer{p: p}
}

func (t countingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	s := name
	cfg := trace.NewSpanStartConfig(opts...)
	for _, a := range cfg.Attributes() {
		if a.Key == "db.query.text" || a.Key == "db.statement" {
			s += " " + a.Value.AsString()
		}
	}
	t.p.mu.Lock()
	*t.p.spans = append(*t.p.spans, s)
	t.p.mu.Unlock()
	return t.Tracer.Start(ctx, name, opts...)
}

// TestWrappersRecord checks that every wrapper sees every statement of a
// request, with its text, so that the benchmarks compare equal work.
func TestWrappersRecord(t *testing.T) {
	var spans []string
	saved := otelTracerProvider
	otelTracerProvider = countingProvider{mu: new(sync.Mutex), spans: &spans}
	defer func() { otelTracerProvider = saved }()

	for _, dbName := range dbs() {
		q, x, _ := statements(dbName)
		for _, wrapper := range wrappers {
			t.Run(dbName+"/"+wrapper, func(t *testing.T) {
				tg := openTarget(t, dbName, wrapper, "record_"+wrapper)
				defer tg.db.Close()
				spans = spans[:0]
				statementProcessor.take()
				r := begin(context.Background(), wrapper)
				for i := range stmtsPerRequest {
					if err := queryRow(r.ctx, tg, int64(i+1)); err != nil {
						t.Fatal(err)
					}
					if err := exec(r.ctx, tg, int64(i+1)); err != nil {
						t.Fatal(err)
					}
				}
				want := 2 * stmtsPerRequest
				switch wrapper {
				case "querytrace", "querytrace-nostacks":
					rep := r.qt.Finish()
					if rep.Statements != want {
						t.Errorf("report has %d statements, want %d", rep.Statements, want)
					}
					if len(rep.Groups) != 2 {
						t.Errorf("report has %d groups, want 2", len(rep.Groups))
					}
				case "sqlmw", "sqlhooks":
					if len(r.col.stmts) != want {
						t.Fatalf("collector has %d statements, want %d", len(r.col.stmts), want)
					}
					for i, s := range r.col.stmts {
						wantQ := q
						if i%2 == 1 {
							wantQ = x
						}
						if s.query != wantQ || s.dur <= 0 {
							t.Errorf("statement %d: %q in %v, want %q", i, s.query, s.dur, wantQ)
						}
					}
				case "otelsql":
					// Non-recording spans: otelsql starts one per
					// statement but sets no attributes on them.
					r.end()
					var stmtSpans int
					for _, s := range spans {
						if s == "sql.conn.query" || s == "sql.conn.exec" {
							stmtSpans++
						}
					}
					if stmtSpans != want {
						t.Errorf("%d statement spans, want %d; spans: %q", stmtSpans, want, spans)
					}
					t.Logf("otelsql spans for one request of %d statements: %d %q", want, len(spans), spans)
				case "otelsql-sdk":
					statementProcessor.c.mu.Lock()
					got := append([]stmtRecord(nil), statementProcessor.c.stmts...)
					statementProcessor.c.mu.Unlock()
					r.end()
					var n int
					for _, s := range got {
						if (s.query == q || s.query == x) && s.dur > 0 {
							n++
						}
					}
					if n != want {
						t.Errorf("%d statement spans with text and duration, want %d: %v", n, want, got)
					}
				}
			})
		}
	}
}

// TestWorkloads checks that querytrace sees each workload as it is meant:
// a request of stmtsPerRequest statements (with a begin and a commit per
// transaction for Tx5), reading the rows it says.
func TestWorkloads(t *testing.T) {
	want := map[string]struct {
		commits   int
		prepared  bool
		rowsPerOp int64
	}{
		"QueryRow": {rowsPerOp: 1},
		"Exec":     {},
		"Prepared": {rowsPerOp: 1, prepared: true},
		"Tx5":      {commits: stmtsPerRequest / 5},
		"Rows100":  {rowsPerOp: 100},
	}
	for _, dbName := range dbs() {
		tg := openTarget(t, dbName, "querytrace", "workloads")
		for _, w := range workloads {
			r := begin(context.Background(), "querytrace")
			for i := range w.perRequest {
				if err := w.run(r.ctx, tg, int64(i+1)); err != nil {
					t.Fatalf("%s/%s: %v", dbName, w.name, err)
				}
			}
			rep := r.qt.Finish()
			wt := want[w.name]
			if rep.Statements != stmtsPerRequest || rep.Commits != wt.commits {
				t.Errorf("%s/%s: %d statements, %d commits; want %d and %d", dbName, w.name, rep.Statements, rep.Commits, stmtsPerRequest, wt.commits)
			}
			if got, want := rep.Rows, wt.rowsPerOp*int64(w.perRequest); w.name != "Exec" && w.name != "Tx5" && got != want {
				t.Errorf("%s/%s: %d rows read, want %d", dbName, w.name, got, want)
			}
			if len(rep.Groups) != 1 || (rep.Groups[0].Kind == querytrace.KindStmtQuery) != wt.prepared {
				t.Errorf("%s/%s: groups %v", dbName, w.name, rep.Groups)
			}
		}
		tg.db.Close()
	}
}
