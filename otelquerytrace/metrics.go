package otelquerytrace

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"

	"github.com/querytrace/querytrace"
)

// The metrics' names, besides the conventions' db.client.operation.duration.
const (
	MetricRequestStatements = "querytrace.request.statements"
	MetricRequestDBDuration = "querytrace.request.db.duration"
	MetricFindings          = "querytrace.findings"
)

// The metrics' own attributes.
const (
	AttrRoute       = "querytrace.route"        // the report's name, such as "GET /items/{id}"
	AttrCallSite    = "querytrace.call_site"    // "store/items.go:42 store.(*DB).Items"
	AttrFindingKind = "querytrace.finding.kind" // "n+1", "duplicate" or "slow"
)

// durationBuckets are the boundaries the conventions give for
// db.client.operation.duration, in seconds; the database time of a request
// uses them too.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// statementBuckets are for the statements of one request: a page with
// three is healthy, one with three hundred has a loop.
var statementBuckets = []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}

type instruments struct {
	operation  metric.Float64Histogram // db.client.operation.duration
	statements metric.Int64Histogram
	dbTime     metric.Float64Histogram
	findings   metric.Int64Counter
}

// newInstruments creates the instruments on m. An instrument the meter
// refuses is reported to otel.Handle and replaced by a no-op one, as the
// API does.
func newInstruments(m metric.Meter) instruments {
	var in instruments
	op, err := dbconv.NewClientOperationDuration(m, metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	in.operation = op.Inst()
	in.statements, err = m.Int64Histogram(MetricRequestStatements,
		metric.WithDescription("Statements run by one request (or job), by route."),
		metric.WithUnit("{statement}"),
		metric.WithExplicitBucketBoundaries(statementBuckets...))
	handle(err)
	in.dbTime, err = m.Float64Histogram(MetricRequestDBDuration,
		metric.WithDescription("Database time of one request (or job), by route."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	in.findings, err = m.Int64Counter(MetricFindings,
		metric.WithDescription("N+1, duplicate and slow statement findings, by route and call site."),
		metric.WithUnit("{finding}"))
	handle(err)
	return in
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// record records rep's metrics.
func (b *Bridge) record(ctx context.Context, rep *querytrace.Report) {
	route := b.routes.value(rep.Name)
	byRoute := b.routes.option(route)
	b.inst.statements.Record(ctx, int64(rep.Statements), byRoute)
	b.inst.dbTime.Record(ctx, rep.DBTime.Seconds(), byRoute)
	for _, g := range rep.Groups {
		b.recordGroup(ctx, g)
	}
	for _, l := range [][]querytrace.Finding{rep.NPlusOne, rep.Duplicates, rep.Slow} {
		for i := range l {
			f := &l[i]
			b.inst.findings.Add(ctx, 1, metric.WithAttributes(
				attribute.String(AttrRoute, route),
				attribute.String(AttrFindingKind, string(f.Kind)),
				attribute.String(AttrCallSite, b.callSite(route, f.CallSite())),
			))
		}
	}
}

// callSite returns site, or Other once the Bridge has seen as many
// (route, call site) pairs as its limit: pairs, not sites, so that the
// findings' series stay within the limit however routes and sites combine.
func (b *Bridge) callSite(route, site string) string {
	if site == "" || b.sites.value(route+"\x00"+site) != Other {
		return site
	}
	return Other
}

// recordGroup records a group's executions in db.client.operation.duration.
// A group knows its count, total and slowest execution, not each one: it
// is recorded as its slowest execution and Count-1 executions of the mean
// of the others, so that the count, the sum and the maximum are exact and
// only the spread within a group is smoothed. Its failed executions carry
// error.type "_OTHER": querytrace counts errors, it does not keep them.
func (b *Bridge) recordGroup(ctx context.Context, g *querytrace.Group) {
	if g.Statements == 0 || g.Count == 0 {
		return // prepares on their own are not operations
	}
	if !b.inst.operation.Enabled(ctx) {
		return
	}
	d := b.statements.get(b, g)
	ok, failed := d.ok, d.failed
	mean := 0.0
	if g.Count > 1 {
		mean = ((g.Total - g.Max) / time.Duration(g.Count-1)).Seconds()
	}
	for i := range g.Count {
		v, opt := mean, ok
		if i == 0 {
			v = g.Max.Seconds()
		}
		if i >= g.Count-g.Errors {
			opt = failed
		}
		b.inst.operation.Record(ctx, v, opt)
	}
}
