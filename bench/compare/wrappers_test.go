package compare

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"github.com/ngrok/sqlmw"
	"github.com/qustavo/sqlhooks/v2"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/querytrace/querytrace"
)

// The wrappers compared, in the order of the table. raw comes first: it is
// the base benchstat compares the others to.
var wrappers = []string{
	"raw",
	"querytrace",
	"querytrace-nostacks",
	"sqlmw",
	"sqlhooks",
	"otelsql",
	"otelsql-sdk",
}

// diagnostics are wrappers that run only when COMPARE_WRAPPERS names
// them, to take querytrace's cost apart: querytrace-nofinish starts a
// trace for each request and never finishes it, so that it pays for
// recording the statements and not for the report.
var diagnostics = []string{"querytrace-nofinish"}

// stmtRecord is what the hand-written collectors keep of each statement:
// its text and how long the driver took.
type stmtRecord struct {
	query string
	dur   time.Duration
}

// collector is the per-request struct the sqlmw and sqlhooks hooks append
// to, found on the context. It is locked like querytrace's Trace is, since
// a request may run statements from several goroutines.
type collector struct {
	mu    sync.Mutex
	stmts []stmtRecord
}

type collectorKey struct{}

func newCollector() *collector {
	return &collector{stmts: make([]stmtRecord, 0, stmtsPerRequest)}
}

func (c *collector) add(query string, d time.Duration) {
	c.mu.Lock()
	c.stmts = append(c.stmts, stmtRecord{query, d})
	c.mu.Unlock()
}

func collectorFrom(ctx context.Context) *collector {
	c, _ := ctx.Value(collectorKey{}).(*collector)
	return c
}

// mwInterceptor records statements for sqlmw: it times the driver call and
// appends it to the request's collector.
type mwInterceptor struct{ sqlmw.NullInterceptor }

func (mwInterceptor) ConnQueryContext(ctx context.Context, conn driver.QueryerContext, query string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	start := time.Now()
	rows, err := conn.QueryContext(ctx, query, args)
	if c := collectorFrom(ctx); c != nil {
		c.add(query, time.Since(start))
	}
	return ctx, rows, err
}

func (mwInterceptor) ConnExecContext(ctx context.Context, conn driver.ExecerContext, query string, args []driver.NamedValue) (driver.Result, error) {
	start := time.Now()
	res, err := conn.ExecContext(ctx, query, args)
	if c := collectorFrom(ctx); c != nil {
		c.add(query, time.Since(start))
	}
	return res, err
}

func (mwInterceptor) StmtQueryContext(ctx context.Context, stmt driver.StmtQueryContext, query string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	start := time.Now()
	rows, err := stmt.QueryContext(ctx, args)
	if c := collectorFrom(ctx); c != nil {
		c.add(query, time.Since(start))
	}
	return ctx, rows, err
}

func (mwInterceptor) StmtExecContext(ctx context.Context, stmt driver.StmtExecContext, query string, args []driver.NamedValue) (driver.Result, error) {
	start := time.Now()
	res, err := stmt.ExecContext(ctx, args)
	if c := collectorFrom(ctx); c != nil {
		c.add(query, time.Since(start))
	}
	return res, err
}

// hooks records statements for sqlhooks. Before can only hand a value to
// After through the context, so the start time goes there, as in
// sqlhooks' own README.
type hooks struct{}

type startKey struct{}

func (hooks) Before(ctx context.Context, query string, args ...any) (context.Context, error) {
	return context.WithValue(ctx, startKey{}, time.Now()), nil
}

func (hooks) After(ctx context.Context, query string, args ...any) (context.Context, error) {
	if c := collectorFrom(ctx); c != nil {
		if start, ok := ctx.Value(startKey{}).(time.Time); ok {
			c.add(query, time.Since(start))
		}
	}
	return ctx, nil
}

func (h hooks) OnError(ctx context.Context, err error, query string, args ...any) error {
	h.After(ctx, query, args...)
	return err
}

// otelTracerProvider is the provider otelsql runs with, and the request
// spans come from: OpenTelemetry's no-op provider. With it otelsql does
// all its per-statement work (span name, attributes, query text) but the
// spans go nowhere; the test swaps in a counting one.
var otelTracerProvider trace.TracerProvider = tracenoop.NewTracerProvider()

// sdkProvider is the provider of otelsql-sdk: the OpenTelemetry SDK,
// sampling every span, with one span processor, statementProcessor, that
// keeps each statement span's text and duration. With the no-op provider
// otelsql skips its attributes (it checks span.IsRecording), so otelsql
// alone records no statement text; this is what recording them costs.
var sdkProvider = sdktrace.NewTracerProvider(
	sdktrace.WithSampler(sdktrace.AlwaysSample()),
	sdktrace.WithSpanProcessor(statementProcessor),
)

// statementProcessor collects what otelsql-sdk records. A span processor
// sees no context at its end, so it appends to one collector that the end
// of each request empties, rather than to one per request.
var statementProcessor = &spanCollector{c: newCollector()}

type spanCollector struct{ c *collector }

func (p *spanCollector) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (p *spanCollector) OnEnd(s sdktrace.ReadOnlySpan) {
	for _, a := range s.Attributes() {
		if a.Key == "db.query.text" || a.Key == "db.statement" {
			p.c.add(a.Value.AsString(), s.EndTime().Sub(s.StartTime()))
			return
		}
	}
}

func (p *spanCollector) Shutdown(context.Context) error   { return nil }
func (p *spanCollector) ForceFlush(context.Context) error { return nil }

// take returns how many statements were collected since the last take.
func (p *spanCollector) take() int {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	n := len(p.c.stmts)
	p.c.stmts = p.c.stmts[:0]
	return n
}

// registerOnce registers the sqlmw and sqlhooks drivers with database/sql:
// both are used through sql.Register, as their READMEs show.
var registerOnce sync.Once

func register() {
	registerOnce.Do(func() {
		sql.Register("sqlite3-sqlmw", sqlmw.Driver(&sqlite3.SQLiteDriver{}, mwInterceptor{}))
		sql.Register("pgx-sqlmw", sqlmw.Driver(stdlib.GetDefaultDriver(), mwInterceptor{}))
		sql.Register("sqlite3-sqlhooks", sqlhooks.Wrap(&sqlite3.SQLiteDriver{}, hooks{}))
		sql.Register("pgx-sqlhooks", sqlhooks.Wrap(stdlib.GetDefaultDriver(), hooks{}))
	})
}

// driverName is the name database/sql knows db's driver under.
func driverName(db string) string {
	if db == "sqlite" {
		return "sqlite3"
	}
	return "pgx"
}

// open opens db ("sqlite" or "postgres") at dsn through wrapper.
func open(wrapper, db, dsn string) (*sql.DB, error) {
	register()
	name := driverName(db)
	switch wrapper {
	case "raw", "raw-control":
		return sql.Open(name, dsn)
	case "querytrace", "querytrace-nofinish":
		return querytrace.Open(name, dsn)
	case "querytrace-nostacks":
		return querytrace.Open(name, dsn, querytrace.WithoutStacks())
	case "sqlmw":
		return sql.Open(name+"-sqlmw", dsn)
	case "sqlhooks":
		return sql.Open(name+"-sqlhooks", dsn)
	case "otelsql":
		return otelsql.Open(name, dsn,
			otelsql.WithTracerProvider(otelTracerProvider),
			otelsql.WithMeterProvider(metricnoop.NewMeterProvider()))
	case "otelsql-sdk":
		return otelsql.Open(name, dsn,
			otelsql.WithTracerProvider(sdkProvider),
			otelsql.WithMeterProvider(metricnoop.NewMeterProvider()))
	}
	return nil, fmt.Errorf("unknown wrapper %q", wrapper)
}

// request is what one wrapper holds for the length of a request.
type request struct {
	ctx  context.Context
	qt   *querytrace.Trace
	col  *collector
	span trace.Span
	sdk  bool
}

// sink keeps what requests end with alive.
var sink int

// begin starts a request on base the way a user of wrapper would in a
// request middleware.
func begin(base context.Context, wrapper string) request {
	switch wrapper {
	case "querytrace", "querytrace-nostacks":
		ctx, t := querytrace.Start(base, "request")
		return request{ctx: ctx, qt: t}
	case "querytrace-nofinish":
		ctx, _ := querytrace.Start(base, "request")
		return request{ctx: ctx}
	case "sqlmw", "sqlhooks":
		c := newCollector()
		return request{ctx: context.WithValue(base, collectorKey{}, c), col: c}
	case "otelsql":
		ctx, span := otelTracerProvider.Tracer("bench").Start(base, "request")
		return request{ctx: ctx, span: span}
	case "otelsql-sdk":
		ctx, span := sdkProvider.Tracer("bench").Start(base, "request")
		return request{ctx: ctx, span: span, sdk: true}
	}
	return request{ctx: base}
}

// end ends the request: the report of querytrace, what the collectors
// gathered, the request span.
func (r request) end() int {
	switch {
	case r.qt != nil:
		return r.qt.Finish().Statements
	case r.col != nil:
		r.col.mu.Lock()
		defer r.col.mu.Unlock()
		return len(r.col.stmts)
	case r.span != nil:
		r.span.End()
		if r.sdk {
			return statementProcessor.take()
		}
	}
	return 0
}
