// Package sqlfix writes the fix of an N+1: the one statement that does the
// work of a loop that ran a statement once per row, in the loop's dialect,
// or, where no one statement would, what to do in words.
//
// It reads shapes, the normalizer's literal-free text, with the
// normalizer's own tokenizer (package sqlnorm), and what the loop's
// executions had at each "?" of the shape: which values varied, which
// stayed the same, which were literals of the statement's text. So a fix
// holds no value of the application's, and asks for no parameter the
// application did not pass.
//
// # Placeholders
//
// A fix's statement runs as written once its placeholders are filled:
//
//   - "in (...)", or "= any($n)" on PostgreSQL, takes every key the loop
//     went over, once each; on PostgreSQL as one array.
//   - A row template followed by "...", as "(?, ?), (?, ?), ..." or
//     "select ?, ? union all select ?, ? union all ...", takes one row per
//     execution: for an INSERT, every value the execution passed, in
//     order; for an UPDATE, the values that differed between executions,
//     in order, under the names the statement gives them.
//   - "…" stands for a constant of the loop's statement text, which a fix
//     does not repeat: write there what the loop's statement has.
//   - A statement that takes arrays (unnest($1), on PostgreSQL) takes in
//     each array the arrays of every execution, joined.
//   - Any other placeholder takes the value the loop passed there, the
//     same in every execution; in the order of the loop's.
//
// On PostgreSQL placeholders are numbered $1, $2, ... in order of
// appearance.
//
// # In an ORM's words
//
// For a loop whose statements an ORM or a generator issued (Loop.Library),
// Fix.ORM tells the fix in that library's API: GORM's Preload or Joins,
// bun's Relation and ent's With<Edge> where the shapes name the
// association by the library's conventions (see orm.go), sqlx.In, a query
// for sqlc with sqlc.slice or "= any(@ids::bigint[])", and each one's
// batch forms of writes (GORM's Create of a slice and upsert, bun's Bulk,
// ent's CreateBulk, sqlx's NamedExec of a slice).
package sqlfix

import (
	"strconv"
	"strings"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// A Loop is what is known of a loop that ran one statement many times.
type Loop struct {
	Shape   string
	Dialect sqlnorm.Dialect
	// Values says what the executions had at each "?" of Shape, in order,
	// one for each; nil when none was compared, which is all Unknown.
	Values []Value
	// Library is the ORM or generator that issued the statements, whose
	// API Fix.ORM tells the fix in; NoLibrary for none.
	Library Library
	// Source is the shape of the query whose rows the loop went over, or
	// "": with the loop's shape it may name the association the loop
	// loads.
	Source string
}

// A Value says what a loop's executions had at one "?" of its shape.
type Value uint8

const (
	// Unknown is a placeholder whose values were not compared: a fix takes
	// it for the loop's key where the shape suggests so, else for the same
	// value in every execution.
	Unknown Value = iota
	// Varied took more than one value: the loop's key, or a row's own
	// value.
	Varied
	// Same is a placeholder bound to the same value in every execution.
	Same
	// Constant is a literal of the statement's text, the same in every
	// execution. A fix writes it as "…", never as a placeholder.
	Constant
)

// A Fix says how to replace a loop with one statement.
type Fix struct {
	// Do says what to do: what SQL does ("one query for all rows"), or,
	// when SQL is "", the whole advice in words.
	Do string
	// SQL is the statement, as the package documentation describes it.
	SQL string
	// Notes tell what to know about the statement or its result.
	Notes []string
	// Join names the table the statement reads, when a join to it in the
	// query whose rows the loop went over would do as well; else "".
	Join string
	// ORM is, for a loop of a Library, the fix in that library's API,
	// after its name: "GORM: Preload(\"Posts\") on the query of users...";
	// "" where it has no way of its own. String leaves it out.
	ORM string

	// text is String's answer, written once by For: a report asks for it
	// every time it finds the loop again.
	text string
}

// String returns the fix as one line: "do: statement; note; note", without
// ORM.
func (f Fix) String() string {
	if f.text != "" {
		return f.text
	}
	var b strings.Builder
	b.WriteString(f.Do)
	if f.SQL != "" {
		b.WriteString(": ")
		b.WriteString(f.SQL)
	}
	for _, n := range f.Notes {
		b.WriteString("; ")
		b.WriteString(n)
	}
	return b.String()
}

// For returns the fix of loop l: a statement where the shape tells one,
// else advice in words; and, for a loop of a Library, the library's way.
func For(l Loop) Fix {
	p := parse(l)
	f, ok := statement(p)
	if !ok {
		f = prose(l)
	}
	f.ORM = orm(l, p, f)
	if ok && l.Dialect == sqlnorm.Postgres {
		f.SQL = numbered(f.SQL)
	}
	f.text = f.String()
	return f
}

// statement returns the fix of the loop whose shape is p as one
// statement, with "?" placeholders, if the shape tells one.
func statement(p *parsed) (Fix, bool) {
	if p == nil {
		return Fix{}, false
	}
	switch p.toks[0].t {
	case "select":
		return p.selectFix()
	case "delete":
		return p.deleteFix()
	case "insert", "replace":
		return p.insertFix()
	case "update":
		return p.updateFix()
	}
	return Fix{}, false
}

// prose returns the fix in words of a loop whose shape tells no statement.
func prose(l Loop) Fix {
	pg := l.Dialect == sqlnorm.Postgres
	keys := "in (...) over the keys"
	if pg {
		keys = "= any($1) over the keys as an array"
	}
	switch sqlnorm.Verb(l.Shape) {
	case "select":
		return Fix{Do: "fetch all rows in one statement: " + keys + ", or a join to the source query"}
	case "insert":
		switch {
		case sqlnorm.HasWord(l.Shape, "select") && !sqlnorm.HasWord(l.Shape, "values"):
			return Fix{Do: "insert all rows in one INSERT ... SELECT: " + keys}
		case pg && copyable(l.Shape):
			return Fix{Do: "insert all rows at once: a multi-row VALUES or COPY (pgx CopyFrom)"}
		}
		return Fix{Do: "insert all rows at once with a multi-row VALUES"}
	case "update":
		if l.Dialect == sqlnorm.MySQL {
			return Fix{Do: "update all rows in one statement: join the table to the rows' values on the key (UPDATE ... JOIN)"}
		}
		return Fix{Do: "update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"}
	case "delete":
		return Fix{Do: "delete all rows in one statement: " + keys}
	}
	return Fix{Do: "do the loop's work in one statement: " + keys}
}

// copyable reports whether COPY can replace an insert: it returns nothing
// and resolves no conflict.
func copyable(shape string) bool {
	return !sqlnorm.HasWord(shape, "returning") && !sqlnorm.HasWord(shape, "conflict")
}

// numbered writes PostgreSQL's $1, $2, ... for the placeholders of s.
func numbered(s string) string {
	var b strings.Builder
	n, last := 0, 0
	for i := 0; i < len(s); {
		tok, next := sqlnorm.Token(s, i)
		if tok == "" {
			break
		}
		if tok == "?" {
			n++
			b.WriteString(s[last : next-1])
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			last = next
		}
		i = next
	}
	b.WriteString(s[last:])
	return b.String()
}
