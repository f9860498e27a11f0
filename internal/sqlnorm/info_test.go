package sqlnorm

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestKeys checks the list length Info reports: the longest IN list or
// VALUES list as the text had it, before the shape collapsed it.
func TestKeys(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want int
	}{
		{"SELECT * FROM t WHERE id = ?", 0},
		{"SELECT * FROM t WHERE id IN (?, ?, ?)", 3},
		{"SELECT * FROM t WHERE id in($1,$2)", 2},
		{"SELECT * FROM t WHERE id IN (1, 2, 3, 4) AND k IN ('a,b', 'c')", 4},
		{"SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE a IN (1, 2))", 2},
		{"SELECT * FROM t WHERE id IN (SELECT 1 UNION SELECT 2)", 0},
		{"SELECT * FROM t WHERE f(a, b) IN ((1, 2), (3, 4), (5, 6))", 3},
		{"SELECT * FROM t WHERE id IN (1, 1, 1, 2)", 4},
		{"INSERT INTO t (a, b) VALUES (?, ?)", 1},
		{"INSERT INTO t (a, b) VALUES (?, ?), (?, ?),(?, ?) RETURNING id", 3},
		{"INSERT INTO t (a, b) VALUES (1, 'x'), (1, 'x'), (2, 'y')", 3},
		{"INSERT INTO t (a) VALUES ('in (1, 2, 3)') -- in (1, 2, 3, 4, 5)", 1},
		{"SELECT 'values (1), (2)' /* in (1,2,3) */ FROM t", 0},
		{"SELECT * FROM t WHERE id IN ()", 0},
		{"SELECT * FROM (VALUES (1), (2)) v(a) WHERE a IN (1, 2, 3)", 3},
		{"SELECT ARRAY[1, 2, 3, 4]", 0},
	} {
		for _, d := range dialects {
			if got := Shape(c.sql, d).Keys; got != c.want {
				t.Errorf("Shape(%q, %v).Keys = %d, want %d", c.sql, d, got, c.want)
			}
		}
	}
}

// TestValues checks what Info says each "?" of a shape was: which
// argument a placeholder takes, and that a literal is one, with a hash of
// its own.
func TestValues(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		sql  string
		want string // each value: its argument, or L for a literal
	}{
		{Postgres, "select * from t where a = $2 and b = $1 and c = 'x'", "2 1 L"},
		{MySQL, "select * from t where a = ? and b = 1 and c = ? limit 1", "1 L 2 L"},
		{SQLite, "select * from t where a = ?3 and b = ? and c = :name and d = ?", "3 4 ? ?"},
		{Generic, "select * from t where a = %s and b = %(x)s", "1 ?"},
		{Postgres, "select * from t where a in ($1, $2, $3) and b = $4", "? 4"},
		{Generic, "select * from t where a in (1, 2) and b = 3", "L L"},
		{Generic, "insert into t (a, b) values (?, 1), (?, 1)", "? L"},
		{Generic, "insert into t (a, b) values (?, 1)", "1 L"},
		{Generic, "select 1 where 1 = 1", "L L L"},
		{Postgres, "select a ?| b from t where c = $1", "1"},
	} {
		in := Shape(c.sql, c.d)
		got := ""
		for i, v := range in.Values {
			if i > 0 {
				got += " "
			}
			switch {
			case v.IsLiteral():
				got += "L"
			case v.Arg == ArgUnknown:
				got += "?"
			default:
				got += fmt.Sprint(v.Arg)
			}
		}
		if got != c.want || in.NValues != len(in.Values) {
			t.Errorf("Shape(%q, %v): values %q (%d), want %q", c.sql, c.d, got, in.NValues, c.want)
		}
	}
	a, b := Shape("select * from t where a = 1 and b = 'x'", MySQL), Shape("select * from t where a = 2 and b = 'x'", MySQL)
	if a.Values[0].Lit == b.Values[0].Lit || a.Values[1].Lit != b.Values[1].Lit {
		t.Errorf("literal hashes: %v and %v", a.Values, b.Values)
	}
	l1, l2 := Shape("select * from t where a in (1, 2)", MySQL), Shape("select * from t where a in (1, 3)", MySQL)
	if l1.Values[0].Lit == l2.Values[0].Lit {
		t.Error("a collapsed list hashes only its first literal")
	}
	many := Shape("select * from t where b = ?"+strings.Repeat(" and c = ?", 40), MySQL)
	if many.NValues != 41 || len(many.Values) != MaxValues || many.Values[MaxValues-1].Arg != MaxValues {
		t.Errorf("%d values, %d described", many.NValues, len(many.Values))
	}
}

// TestInfoVerbTables checks that an Info's verb and tables are those of
// its shape, the tables read once and then shared.
func TestInfoVerbTables(t *testing.T) {
	for _, q := range []string{
		"SELECT a FROM t JOIN u ON u.id = t.u WHERE x = 1",
		"with c as (select 1) update s.t set a = 2",
		"INSERT INTO items (id) VALUES (1), (2)",
		"BEGIN",
	} {
		in := Shape(q, Postgres)
		if want := Verb(in.Shape); in.Verb != want {
			t.Errorf("%q: Verb %q, want %q", q, in.Verb, want)
		}
		got, want := in.Tables(), Tables(in.Shape)
		if !slices.Equal(got, want) {
			t.Errorf("%q: Tables() %q, want %q", q, got, want)
		}
		if again := in.Tables(); len(got) > 0 && &again[0] != &got[0] {
			t.Errorf("%q: Tables() read the shape again", q)
		}
	}
}

// TestPostgresSyntax checks what tells a shape in PostgreSQL's syntax
// from one MySQL reads too, the same when asked again (the answer kept).
func TestPostgresSyntax(t *testing.T) {
	for _, c := range []struct {
		q    string
		want bool
	}{
		{"SELECT id::text FROM t", true},
		{"SELECT * FROM t WHERE name ILIKE $1", true},
		{"INSERT INTO t (a) VALUES ($1) RETURNING id", true},
		{"SELECT * FROM t WHERE id = ANY($1)", true},
		{"SELECT DISTINCT ON (a) a, b FROM t", true},
		{"SELECT ARRAY[1, 2]", true},
		{"SELECT * FROM t WHERE id = ?", false},
		{"SELECT a FROM t WHERE b LIKE 'x::y'", false}, // in a literal: gone from the shape
		{"UPDATE t SET a = ? WHERE id IN (?, ?)", false},
	} {
		in := Shape(c.q, Generic)
		for range 2 {
			if got := in.PostgresSyntax(); got != c.want {
				t.Errorf("%q: PostgresSyntax() = %v, want %v", c.q, got, c.want)
			}
		}
	}
}
