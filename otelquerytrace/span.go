package otelquerytrace

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/querytrace/querytrace"
)

// Event names: one event on the request's span per finding.
const (
	EventNPlusOne  = "querytrace.n_plus_one"
	EventDuplicate = "querytrace.duplicate"
	EventSlow      = "querytrace.slow"
)

// maxEvents bounds the finding events on one span, the costliest first;
// the counts on the span still count them all.
const maxEvents = 32

// annotate puts rep's totals on span as attributes and its findings as
// events. The counts that are zero on most requests are left out when
// they are: every attribute is paid for on every request.
func (b *Bridge) annotate(span trace.Span, rep *querytrace.Report) {
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs,
		attribute.Int("querytrace.statements", rep.Statements),
		attribute.Float64("querytrace.db.duration", rep.DBTime.Seconds()),
		attribute.Int64("querytrace.rows", rep.Rows),
		attribute.Int("querytrace.n_plus_one.count", len(rep.NPlusOne)),
		attribute.Int("querytrace.duplicate.count", len(rep.Duplicates)),
	)
	for _, c := range []struct {
		key string
		n   int
	}{
		{"querytrace.n_plus_one.statements", loopStatements(rep)},
		{"querytrace.slow.count", len(rep.Slow)},
		{"querytrace.transactions", rep.Begins},
		{"querytrace.errors", rep.Errors},
		{"querytrace.conn_errors", rep.ConnErrors},
	} {
		if c.n != 0 {
			attrs = append(attrs, attribute.Int(c.key, c.n))
		}
	}
	span.SetAttributes(attrs...)
	n, dropped := 0, 0
	for _, l := range []struct {
		name     string
		findings []querytrace.Finding
	}{
		{EventNPlusOne, rep.NPlusOne},
		{EventDuplicate, rep.Duplicates},
		{EventSlow, rep.Slow},
	} {
		for i := range l.findings {
			f := &l.findings[i]
			if n == maxEvents || f.Group == nil {
				dropped++
				continue
			}
			n++
			span.AddEvent(l.name,
				trace.WithTimestamp(rep.Start.Add(f.Group.First)),
				trace.WithAttributes(b.findingAttrs(f)...))
		}
	}
	if dropped > 0 {
		span.SetAttributes(attribute.Int("querytrace.events.dropped", dropped))
	}
}

// loopStatements returns the statements that rep's N+1 loops ran.
func loopStatements(rep *querytrace.Report) int {
	n := 0
	for i := range rep.NPlusOne {
		n += rep.NPlusOne[i].Count
	}
	return n
}

// findingAttrs describes a finding by its statement's shape, call site,
// loop, count, time, source and fixes: never an argument value, which
// querytrace does not keep.
func (b *Bridge) findingAttrs(f *querytrace.Finding) []attribute.KeyValue {
	g := f.Group
	attrs := append(make([]attribute.KeyValue, 0, 20), b.statements.get(b, g).spanAttrs...)
	attrs = append(attrs,
		attribute.Int("querytrace.group.id", g.ID),
		attribute.Int("querytrace.count", f.Count),
		attribute.Float64("querytrace.duration", f.Total.Seconds()),
		attribute.String("querytrace.fix", f.Fix),
	)
	if f.ORMFix != "" {
		attrs = append(attrs, attribute.String("querytrace.orm_fix", f.ORMFix))
	}
	attrs = appendCallSite(attrs, g)
	if f.Loop != nil {
		attrs = append(attrs, attribute.String("querytrace.loop", f.Loop.String()))
	}
	if f.Source != nil {
		attrs = append(attrs,
			attribute.String("querytrace.source.query", f.Source.Shape),
			attribute.Int64("querytrace.source.rows", f.Source.Rows),
			attribute.Int("querytrace.per_row", f.PerRow),
		)
		if s := f.Source.CallSite(); s != "" {
			attrs = append(attrs, attribute.String("querytrace.source.call_site", s))
		}
	}
	return attrs
}

// appendCallSite appends where the group's statements were issued: the
// innermost application frame in code.* attributes and as querytrace
// prints it, and the application frames querytrace kept.
func appendCallSite(attrs []attribute.KeyValue, g *querytrace.Group) []attribute.KeyValue {
	if len(g.Stack) == 0 {
		return attrs
	}
	f := g.Stack[0]
	frames := make([]string, len(g.Stack))
	for i, fr := range g.Stack {
		frames[i] = fr.String()
	}
	return append(attrs,
		attribute.String("querytrace.call_site", f.String()),
		semconv.CodeFunctionName(f.Function),
		semconv.CodeFilePath(f.File),
		semconv.CodeLineNumber(f.Line),
		semconv.CodeStacktrace(strings.Join(frames, "\n")),
	)
}
