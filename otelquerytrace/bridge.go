package otelquerytrace

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/querytrace/querytrace"
)

// ScopeName is the instrumentation scope of the spans and metrics a Bridge
// makes.
const ScopeName = "github.com/querytrace/querytrace/otelquerytrace"

// A Bridge exports querytrace reports to OpenTelemetry: their totals and
// findings onto the request's span, metrics of bounded cardinality, and,
// with WithDBSpans, a span per group of statements. Make one with New and share it: it is
// safe for concurrent use.
type Bridge struct {
	tracer  trace.Tracer
	dbSpans int
	system  attribute.KeyValue // db.system.name when set by an option
	systems map[querytrace.Dialect]attribute.KeyValue
	inst    instruments

	routes, sites, shapes, collections, operations *limiter
	statements                                     statements
}

// An Option configures a Bridge.
type Option func(*config)

type config struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	dbSpans int
	limits  Limits
	system  string
	systems map[querytrace.Dialect]string
}

// WithTracerProvider sets where spans go; the global provider
// (otel.GetTracerProvider) by default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go; the global provider
// (otel.GetMeterProvider) by default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithDBSpans turns database spans on: each report makes up to max of
// them, one per group of statements (a shape at a call site), the
// costliest first, from the group's first statement to its last, built
// after the request from the report rather than live per driver call.
// They are off by default (zero or less), because the request's span
// already carries the totals and the findings and the metrics the
// durations, and on a cheap page three spans more cost more than the
// rest of the bridge (see the README for the figures); 20 is a good cap.
func WithDBSpans(max int) Option {
	return func(c *config) { c.dbSpans = max }
}

// WithLimits bounds the distinct values of the metrics' attributes.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limits = l }
}

// WithDBSystemName sets db.system.name, such as "cockroachdb" or
// "mariadb", of every statement, for an application whose one database
// speaks another's protocol. By default it follows each statement's
// dialect: "postgresql", "sqlite", "mysql", or "other_sql" for a driver
// querytrace does not know; WithDialectSystemName changes it for one
// dialect.
func WithDBSystemName(name string) Option {
	return func(c *config) { c.system = name }
}

// WithDialectSystemName sets db.system.name for the statements read in
// dialect d, leaving the others' to their default: for a MariaDB server,
// which speaks MySQL's protocol and is read in its dialect,
// WithDialectSystemName(querytrace.DialectMySQL, "mariadb"). The name
// MySQLSystemName returns is the one to give.
func WithDialectSystemName(d querytrace.Dialect, name string) Option {
	return func(c *config) {
		if c.systems == nil {
			c.systems = map[querytrace.Dialect]string{}
		}
		c.systems[d] = name
	}
}

// New returns a Bridge configured by opts.
func New(opts ...Option) *Bridge {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	l := c.limits.withDefaults()
	b := &Bridge{
		tracer:      c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		dbSpans:     c.dbSpans,
		inst:        newInstruments(c.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))),
		routes:      newLimiter(AttrRoute, l.Routes, true),
		sites:       newLimiter(AttrCallSite, l.CallSites, true),
		shapes:      newLimiter(semconv.DBQuerySummaryKey, l.Shapes, false),
		collections: newLimiter(semconv.DBCollectionNameKey, l.Collections, false),
		operations:  newLimiter(semconv.DBOperationNameKey, maxOperations, false),
	}
	if c.system != "" {
		b.system = semconv.DBSystemNameKey.String(c.system)
	}
	for d, name := range c.systems {
		if b.systems == nil {
			b.systems = map[querytrace.Dialect]attribute.KeyValue{}
		}
		b.systems[d] = semconv.DBSystemNameKey.String(name)
	}
	return b
}

// OnFinish exports rep with the request's context. It is made for
// querytrace.Handler's OnFinish hook, which runs on the request's
// goroutine before the handler returns, so the span that otelhttp (or the
// application) started around the handler is still open:
//
//	h := &querytrace.Handler{Next: mux, OnFinish: bridge.OnFinish}
//	http.ListenAndServe(addr, otelhttp.NewHandler(h, "server"))
func (b *Bridge) OnFinish(r *http.Request, rep *querytrace.Report) {
	b.Export(r.Context(), rep)
}

// Export exports rep: onto the span on ctx, and as metrics. Call it before
// that span ends, as querytrace.Handler's OnFinish does for requests; for
// work outside a request (a job under querytrace.Start), call it with the
// job's context after Finish:
//
//	ctx, tr := querytrace.Start(ctx, "job nightly-digest")
//	runJob(ctx)
//	bridge.Export(ctx, tr.Finish())
//
// When ctx carries no span at all, Export starts one named after the
// report, from its start to its end, to hold what it found. A span that is
// not recording (sampled out) gets nothing, and no database spans are
// made for it; the metrics are recorded either way. rep may be nil.
func (b *Bridge) Export(ctx context.Context, rep *querytrace.Report) {
	if rep == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.SpanContext().IsValid() {
		ctx, span = b.tracer.Start(ctx, rep.Name, trace.WithTimestamp(rep.Start))
		defer span.End(trace.WithTimestamp(rep.Start.Add(rep.Wall)))
	}
	if span.IsRecording() {
		b.annotate(span, rep)
		b.groupSpans(ctx, span, rep)
	}
	b.record(ctx, rep)
}
