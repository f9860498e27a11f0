package otelquerytrace

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/querytrace/querytrace"
)

// groupSpans makes a client span under parent for each of rep's groups,
// the costliest first, up to the Bridge's limit: from the group's first
// statement's start to its last one's end, with its count. A loop of 600
// statements is one span that says 600, not 600 spans.
func (b *Bridge) groupSpans(ctx context.Context, parent trace.Span, rep *querytrace.Report) {
	n := min(len(rep.Groups), max(b.dbSpans, 0))
	if dropped := len(rep.Groups) - n; dropped > 0 {
		parent.SetAttributes(attribute.Int("querytrace.db_spans.dropped", dropped))
	}
	if n == 0 {
		return
	}
	kinds := make(map[*querytrace.Group]querytrace.FindingKind, len(rep.NPlusOne)+len(rep.Duplicates))
	for _, l := range [][]querytrace.Finding{rep.Slow, rep.Duplicates, rep.NPlusOne} {
		for i := range l {
			kinds[l[i].Group] = l[i].Kind
		}
	}
	attrs := make([]attribute.KeyValue, 0, 24)
	for _, g := range rep.Groups[:n] {
		attrs = b.statementAttrs(g, attrs[:0])
		attrs = append(attrs,
			semconv.DBResponseReturnedRows(int(g.Rows)),
			attribute.Int("querytrace.group.id", g.ID),
			attribute.Int("querytrace.count", g.Count),
			attribute.Int("querytrace.statements", g.Statements),
			attribute.Float64("querytrace.duration", g.Total.Seconds()),
			attribute.Float64("querytrace.duration.max", g.Max.Seconds()),
			attribute.Int("querytrace.distinct_args", g.Distinct),
		)
		if k, ok := kinds[g]; ok {
			attrs = append(attrs, attribute.String("querytrace.finding", string(k)))
		}
		if g.Errors > 0 {
			attrs = append(attrs, semconv.ErrorTypeOther, attribute.Int("querytrace.errors", g.Errors))
		}
		attrs = appendCallSite(attrs, g)
		_, s := b.tracer.Start(ctx, spanName(b.statements.get(g), b.systemName(g)),
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithTimestamp(rep.Start.Add(g.First)),
			trace.WithAttributes(attrs...))
		if g.Errors > 0 {
			s.SetStatus(codes.Error, strconv.Itoa(g.Errors)+" of "+strconv.Itoa(g.Count)+" executions failed")
		}
		s.End(trace.WithTimestamp(rep.Start.Add(max(g.Last, g.First))))
	}
}

// spanName names a database span as the conventions say: its
// db.query.summary, else its operation, else the database system.
func spanName(st statement, system attribute.KeyValue) string {
	switch {
	case st.summary != "":
		return st.summary
	case st.operation != "":
		return st.operation
	}
	return system.Value.AsString()
}
