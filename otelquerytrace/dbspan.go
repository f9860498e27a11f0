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
	if b.dbSpans <= 0 {
		return
	}
	n := min(len(rep.Groups), b.dbSpans)
	if dropped := len(rep.Groups) - n; dropped > 0 {
		parent.SetAttributes(attribute.Int("querytrace.db_spans.dropped", dropped))
	}
	var kinds map[*querytrace.Group]querytrace.FindingKind
	for _, l := range [][]querytrace.Finding{rep.Slow, rep.Duplicates, rep.NPlusOne} {
		for i := range l {
			if kinds == nil {
				kinds = make(map[*querytrace.Group]querytrace.FindingKind)
			}
			kinds[l[i].Group] = l[i].Kind
		}
	}
	attrs := make([]attribute.KeyValue, 0, 20)
	for _, g := range rep.Groups[:n] {
		d := b.statements.get(b, g)
		attrs = append(attrs[:0], d.spanAttrs...)
		if g.Kind == querytrace.KindQuery || g.Kind == querytrace.KindStmtQuery {
			// For execs querytrace counts the rows affected, which are
			// not rows returned.
			attrs = append(attrs, semconv.DBResponseReturnedRows(int(g.Rows)))
		}
		attrs = append(attrs,
			attribute.Int("querytrace.group.id", g.ID),
			attribute.Int("querytrace.count", g.Count),
			attribute.Float64("querytrace.duration", g.Total.Seconds()),
			attribute.Float64("querytrace.duration.max", g.Max.Seconds()),
		)
		if g.Statements != g.Count {
			attrs = append(attrs, attribute.Int("querytrace.statements", g.Statements))
		}
		if k, ok := kinds[g]; ok {
			attrs = append(attrs,
				attribute.String("querytrace.finding", string(k)),
				attribute.Int("querytrace.distinct_args", g.Distinct))
		}
		if g.Errors > 0 {
			attrs = append(attrs, semconv.ErrorTypeOther, attribute.Int("querytrace.errors", g.Errors))
		}
		if len(g.Stack) > 0 {
			f := g.Stack[0]
			attrs = append(attrs,
				semconv.CodeFunctionName(f.Function),
				semconv.CodeFilePath(f.File),
				semconv.CodeLineNumber(f.Line))
		}
		_, s := b.tracer.Start(ctx, spanName(d.statement, b.systemName(g)),
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
