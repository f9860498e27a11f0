package otelquerytrace

import (
	"fmt"
	"testing"

	"github.com/querytrace/querytrace"
)

// TestDescribe: what the conventions' attributes say about a shape.
func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		sql                            string
		operation, collection, summary string
	}{
		{"SELECT id FROM items WHERE id = 1", "SELECT", "items", "SELECT items"},
		{"select * from orders o join customers c on c.id = o.customer_id where o.id = $1", "SELECT", "", "SELECT orders customers"},
		{"INSERT INTO audit (at, what) VALUES (now(), 'x')", "INSERT", "audit", "INSERT audit"},
		{"UPDATE public.users SET name = 'a' WHERE id = 2", "UPDATE", "public.users", "UPDATE public.users"},
		{"DELETE FROM sessions WHERE expires < 5", "DELETE", "sessions", "DELETE sessions"},
		{"WITH recent AS (SELECT * FROM events) SELECT count(*) FROM recent", "SELECT", "", "SELECT events recent"},
		{"CREATE TABLE t (id int)", "CREATE", "", "CREATE"},
		{"SELECT 1", "SELECT", "", "SELECT"},
		{"(other statements)", "", "", "other statements"},
	} {
		shape := querytrace.Normalize(c.sql)
		if c.sql == otherShape {
			shape = otherShape
		}
		g := &querytrace.Group{Shape: shape, Verb: verb(shape)}
		st := readStatement(g)
		if st.operation != c.operation || st.collection != c.collection || st.summary != c.summary {
			t.Errorf("%q: operation %q, collection %q, summary %q; want %q, %q, %q",
				c.sql, st.operation, st.collection, st.summary, c.operation, c.collection, c.summary)
		}
	}
}

// verb is the Verb a report gives a shape, read back through a trace.
func verb(shape string) string {
	tr := querytrace.NewTrace("verb")
	tr.Record(&querytrace.Event{Kind: querytrace.KindQuery, SQL: shape})
	r := tr.Finish()
	if len(r.Groups) == 0 {
		return ""
	}
	return r.Groups[0].Verb
}

// TestLimiter: the first values are kept, the rest are Other, and no value
// is Other once admitted, for a limiter that does not hand over.
func TestLimiter(t *testing.T) {
	l := newLimiter("k", 2, false)
	for _, c := range []struct{ in, want string }{
		{"a", "a"}, {"b", "b"}, {"c", Other}, {"a", "a"}, {"", ""}, {Other, Other}, {"d", Other}, {"b", "b"},
	} {
		if got := l.value(c.in); got != c.want {
			t.Errorf("value(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLimiterHandsOver: once full, a limiter that hands over gives the slot
// of a value idle for max ticks (values turned away) to a value turned
// away twice; values seen once never get one, and values in use keep
// theirs.
func TestLimiterHandsOver(t *testing.T) {
	l := newLimiter("k", 3, true)
	want := func(in, out string) {
		t.Helper()
		if got := l.value(in); got != out {
			t.Errorf("value(%q) = %q, want %q", in, got, out)
		}
	}
	for _, v := range []string{"a", "b", "c"} {
		want(v, v)
	}
	for i := range 10 {
		want(fmt.Sprint("noise", i), Other) // a, b and c are idle, but noise comes once
	}
	for _, v := range []string{"x", "w", "u"} {
		want(v, Other)
	}
	for _, v := range []string{"x", "w", "u"} {
		want(v, v) // again: the slot of one of a, b and c
	}
	for range 20 {
		for _, v := range []string{"x", "w", "u"} {
			want(v, v)
		}
		want("v", Other) // all in use
	}
}
