package querytracetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/human"
)

// A Limit bounds the number of statements a test runs, all of them or those
// its filters select. Make one with AtMost or Exactly and narrow it with
// its methods; each method returns a new Limit.
//
//	querytracetest.AtMost(10)                        // at most 10 statements
//	querytracetest.Exactly(1).Inserts()              // exactly one INSERT
//	querytracetest.AtMost(2).Selects().Table("items") // at most 2 SELECTs on items
//	querytracetest.Exactly(0).CallSite("audit.go")    // nothing from audit.go
//
// Filters of different kinds must all match; verb filters add up, so that
// Inserts().Updates() selects inserts and updates. A statement counts as
// many times as it is a statement: a pgx batch of 10 counts 10.
type Limit struct {
	n       int
	exact   bool
	verbs   []string
	shapes  []string
	tables  []string
	sites   []string
	noPause bool // Forbid: statements under querytrace.Pause do not count
}

// AtMost returns a limit of at most n statements.
func AtMost(n int) Limit { return Limit{n: n} }

// Exactly returns a limit of exactly n statements: for code whose count is
// known and should not change unnoticed, up or down.
func Exactly(n int) Limit { return Limit{n: n, exact: true} }

// Selects narrows l to SELECT statements (WITH ... SELECT included).
func (l Limit) Selects() Limit { return l.verb("select") }

// Inserts narrows l to INSERT statements (and REPLACE).
func (l Limit) Inserts() Limit { return l.verb("insert") }

// Updates narrows l to UPDATE statements.
func (l Limit) Updates() Limit { return l.verb("update") }

// Deletes narrows l to DELETE statements.
func (l Limit) Deletes() Limit { return l.verb("delete") }

// Others narrows l to statements that are not SELECT, INSERT, UPDATE or
// DELETE: DDL, SET, explicit BEGIN and COMMIT statements, ...
func (l Limit) Others() Limit { return l.verb("other") }

func (l Limit) verb(v string) Limit {
	l.verbs = append(l.verbs[:len(l.verbs):len(l.verbs)], v)
	return l
}

// Shape narrows l to statements whose normalized shape contains substr.
// Shapes are lower case with "?" for literals and single spaces, and substr
// is lower-cased and its spaces collapsed to match: Shape("FROM items").
func (l Limit) Shape(substr string) Limit {
	substr = strings.ToLower(strings.Join(strings.Fields(substr), " "))
	l.shapes = append(l.shapes[:len(l.shapes):len(l.shapes)], substr)
	return l
}

// Table narrows l to statements that read or write table (after FROM,
// JOIN, INTO or UPDATE), with or without its schema.
func (l Limit) Table(table string) Limit {
	l.tables = append(l.tables[:len(l.tables):len(l.tables)], table)
	return l
}

// CallSite narrows l to statements whose short call stack has a frame that
// contains substr, as shown in failures: "store.go:42", "store.go" or a
// function name such as "store.(*Items).List".
func (l Limit) CallSite(substr string) Limit {
	l.sites = append(l.sites[:len(l.sites):len(l.sites)], substr)
	return l
}

// matches reports whether g's statements count towards l.
func (l Limit) matches(g *querytrace.Group) bool {
	if l.noPause && g.Paused != "" {
		return false
	}
	if len(l.verbs) > 0 {
		v := g.Verb
		switch v {
		case "select", "insert", "update", "delete":
		default:
			v = "other"
		}
		found := false
		for _, w := range l.verbs {
			found = found || w == v
		}
		if !found {
			return false
		}
	}
	for _, s := range l.shapes {
		if !strings.Contains(g.Shape, s) {
			return false
		}
	}
	for _, t := range l.tables {
		if !hasTable(g.Shape, t) {
			return false
		}
	}
	for _, s := range l.sites {
		found := false
		for _, f := range g.Stack {
			found = found || strings.Contains(f.String(), s)
		}
		if !found {
			return false
		}
	}
	return true
}

// filtered reports whether l counts only some statements.
func (l Limit) filtered() bool {
	return len(l.verbs)+len(l.shapes)+len(l.tables)+len(l.sites) > 0 || l.noPause
}

// count returns how many statements of r count towards l.
func (l Limit) count(r *querytrace.Report) int {
	if !l.filtered() {
		return r.Statements
	}
	n := 0
	for _, g := range r.Groups {
		if l.matches(g) {
			n += g.Statements
		}
	}
	return n
}

// what describes the statements l counts: "select or insert statements on
// table items".
func (l Limit) what() string {
	var b strings.Builder
	if len(l.verbs) > 0 {
		b.WriteString(strings.Join(l.verbs, " or "))
		b.WriteString(" ")
	}
	b.WriteString("statements")
	for _, s := range l.shapes {
		fmt.Fprintf(&b, " with shape %q", s)
	}
	for _, t := range l.tables {
		fmt.Fprintf(&b, " on table %s", t)
	}
	for _, s := range l.sites {
		fmt.Fprintf(&b, " from %q", s)
	}
	return b.String()
}

// String describes l as a budget: "at most 3 select statements".
func (l Limit) String() string {
	if l.exact {
		return fmt.Sprintf("exactly %d %s", l.n, l.what())
	}
	return fmt.Sprintf("at most %d %s", l.n, l.what())
}

// check returns the headline of l's failure on r, or "".
func (l Limit) check(r *querytrace.Report) string {
	got := l.count(r)
	if got <= l.n && (!l.exact || got == l.n) {
		return ""
	}
	budget := "at most"
	if l.exact {
		budget = "exactly"
	}
	return fmt.Sprintf("querytrace: %d %s, budget %s %d", got, l.what(), budget, l.n)
}

// Budget starts a trace on ctx, named after the test, and returns the
// traced context. When the test ends, it fails the test with every limit
// the statements run with that context broke; with no limit, it fails at
// once.
//
// Only what runs with the returned context is measured: do the setup with
// ctx itself, before or after. ctx is typically t.Context(), or a request's
// context in an HTTP test. Statements under querytrace.Pause count like
// any other: a budget is about what the code costs, whatever the reason.
func Budget(t testing.TB, ctx context.Context, limits ...Limit) context.Context {
	t.Helper()
	if len(limits) == 0 {
		t.Fatalf("querytracetest.Budget: no limits; give one, such as querytracetest.AtMost(10), or use Forbid for none")
	}
	for _, l := range limits {
		if l.n < 0 {
			t.Fatalf("querytracetest.Budget: %s: a negative count", l)
		}
	}
	return watch(t, ctx, func(r *querytrace.Report) {
		t.Helper()
		var heads []string
		for _, l := range limits {
			if h := l.check(r); h != "" {
				heads = append(heads, h)
			}
		}
		if len(heads) == 0 {
			return
		}
		heads[0] += fmt.Sprintf(" (db time %s)", human.Duration(r.DBTime))
		t.Errorf("%s\n%s", strings.Join(heads, "\n"), details(r))
	})
}

// Forbid starts a trace on ctx and returns the traced context; the test
// fails if any statement runs with it, for code that must be served
// without the database (from a cache, from memory). Statements run under
// querytrace.Pause(ctx, reason) are let through: the escape hatch for the
// one intended exception, with its reason in the report.
func Forbid(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	l := Limit{noPause: true}
	return watch(t, ctx, func(r *querytrace.Report) {
		t.Helper()
		if n := l.count(r); n > 0 {
			t.Errorf("querytrace: %s where none are allowed (db time %s); run intended ones under querytrace.Pause(ctx, reason)\n%s",
				human.Plural(n, "statement", "statements"), human.Duration(r.DBTime), details(r))
		}
	})
}

// watch starts a trace on ctx for t and calls check with its report at
// cleanup. Tests the framework marked skipped are not checked.
func watch(t testing.TB, ctx context.Context, check func(*querytrace.Report)) context.Context {
	t.Helper()
	ctx, tr := querytrace.Start(ctx, t.Name())
	tr.SetDetector(&testDetector)
	t.Cleanup(func() {
		t.Helper()
		r := tr.Finish()
		if t.Skipped() {
			return
		}
		check(r)
	})
	return ctx
}

// testDetector is what the helpers classify with: 2 repeats, no time
// floor, whatever detector the application's own traces use.
var testDetector = querytrace.Detector{MinRepeats: 2}
