package querytrace

import (
	"log/slog"
	"strconv"
)

// slogGroups is how many groups a logged report carries: a log line is no
// place for a thousand of them (the JSON encoding has them all).
const slogGroups = 5

// LogValue makes a report log well through log/slog: the totals, the
// number of each kind of finding, every finding (kind, count, total, shape,
// call site, loop, source, fix, reason) under "findings" and the most costly
// groups under "groups", keyed "1", "2", ... in order. Keys match the JSON
// encoding's where both have the value. It holds no argument values and no
// SQL literals.
func (r *Report) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("name", r.Name),
		slog.String("summary", r.Summary()),
		slog.Duration("wall", r.Wall),
		slog.Duration("db_time", r.DBTime),
		slog.Int("statements", r.Statements),
		slog.Int("prepares", r.Prepares),
		slog.Int("transactions", r.Begins),
		slog.Int64("rows", r.Rows),
		slog.Int("errors", r.Errors),
		slog.Int("conn_errors", r.ConnErrors),
		slog.Int("unattributed", r.Unattributed),
		slog.Int("n_plus_one", len(r.NPlusOne)),
		slog.Int("duplicates", len(r.Duplicates)),
		slog.Int("slow", len(r.Slow)),
		slog.Int("batched", len(r.Batched)),
		slog.Int("allowed", len(r.Allowed)),
	}
	var findings []slog.Attr
	for _, l := range [][]Finding{r.NPlusOne, r.Duplicates, r.Slow, r.Batched, r.Allowed} {
		for i := range l {
			findings = append(findings, slog.Attr{
				Key:   strconv.Itoa(len(findings) + 1),
				Value: l[i].LogValue(),
			})
		}
	}
	if len(findings) > 0 {
		attrs = append(attrs, slog.Attr{Key: "findings", Value: slog.GroupValue(findings...)})
	}
	var groups []slog.Attr
	for i, g := range r.Groups {
		if i == slogGroups {
			break
		}
		ga := []slog.Attr{
			slog.Int("id", g.ID),
			slog.Int("count", g.Count),
			slog.Duration("total", g.Total),
			slog.Duration("max", g.Max),
			slog.Int64("rows", g.Rows),
			slog.String("shape", g.Shape),
		}
		if site := g.CallSite(); site != "" {
			ga = append(ga, slog.String("call_site", site))
		}
		groups = append(groups, slog.Attr{Key: strconv.Itoa(i + 1), Value: slog.GroupValue(ga...)})
	}
	if len(groups) > 0 {
		attrs = append(attrs, slog.Attr{Key: "groups", Value: slog.GroupValue(groups...)})
	}
	if n := len(r.Groups) - slogGroups; n > 0 {
		attrs = append(attrs, slog.Int("groups_omitted", n))
	}
	return slog.GroupValue(attrs...)
}

// LogValue makes a finding log well through log/slog, as one group of
// kind, count, total, shape, call_site, loop, repeated_below, via, source,
// per_row, fix and reason.
func (f Finding) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("kind", string(f.Kind)),
		slog.Int("count", f.Count),
		slog.Duration("total", f.Total),
	}
	if g := f.Group; g != nil {
		attrs = append(attrs, slog.String("shape", g.Shape))
		if site := g.CallSite(); site != "" {
			attrs = append(attrs, slog.String("call_site", site))
		}
	}
	for _, fr := range []struct {
		key   string
		frame *Frame
	}{{"loop", f.Loop}, {"repeated_below", f.Below}, {"via", f.Via}} {
		if fr.frame != nil {
			attrs = append(attrs, slog.String(fr.key, fr.frame.String()))
		}
	}
	if s := f.Source; s != nil {
		src := []slog.Attr{slog.String("shape", s.Shape), slog.Int64("rows", s.Rows)}
		if site := s.CallSite(); site != "" {
			src = append(src, slog.String("call_site", site))
		}
		attrs = append(attrs, slog.Attr{Key: "source", Value: slog.GroupValue(src...)}, slog.Int("per_row", f.PerRow))
	}
	if n := f.prepares(); n > 0 {
		attrs = append(attrs, slog.Int("prepares", n))
	}
	if f.Fix != "" {
		attrs = append(attrs, slog.String("fix", f.Fix))
	}
	if f.ORMFix != "" {
		attrs = append(attrs, slog.String("orm_fix", f.ORMFix))
	}
	if f.Reason != "" {
		attrs = append(attrs, slog.String("reason", f.Reason))
	}
	return slog.GroupValue(attrs...)
}
