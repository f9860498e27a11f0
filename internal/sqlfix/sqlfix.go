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
}

// String returns the fix as one line: "do: statement; note; note".
func (f Fix) String() string {
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
// else advice in words.
func For(l Loop) Fix {
	if p := parse(l); p != nil {
		var f Fix
		ok := false
		switch p.toks[0].t {
		case "select":
			f, ok = p.selectFix()
		case "delete":
			f, ok = p.deleteFix()
		case "insert", "replace":
			f, ok = p.insertFix()
		case "update":
			f, ok = p.updateFix()
		}
		if ok {
			if l.Dialect == sqlnorm.Postgres {
				f.SQL = numbered(f.SQL)
			}
			return f
		}
	}
	return prose(l)
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
		case hasWord(l.Shape, "select") && !hasWord(l.Shape, "values"):
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
	return !hasWord(shape, "returning") && !hasWord(shape, "conflict")
}

// hasWord reports whether shape holds the word w as a token.
func hasWord(shape, w string) bool {
	for i := 0; i < len(shape); {
		tok, next := sqlnorm.Token(shape, i)
		if tok == "" {
			return false
		}
		if tok == w {
			return true
		}
		i = next
	}
	return false
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
