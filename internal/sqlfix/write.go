package sqlfix

import (
	"strings"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

const allRowsWrite = "one statement for all rows"

// arrays returns the fix of a loop of a statement that already takes
// arrays, unnest($1) or = any($1), and nothing else that varied: the same
// statement, once, with every execution's arrays joined.
func (p *parsed) arrays() (Fix, bool) {
	inArray := make([]bool, len(p.toks))
	found := false
	for i := 0; i+1 < len(p.toks); i++ {
		switch p.toks[i].t {
		case "unnest", "any", "all":
		default:
			continue
		}
		c := p.closing(i + 1)
		if p.toks[i+1].t != "(" || c < 0 {
			continue
		}
		for j := i + 2; j < c; j++ {
			if p.toks[j].val >= 0 {
				inArray[j] = true
				found = found || p.value(j) != Constant
			}
		}
	}
	if !found {
		return Fix{}, false
	}
	for i, t := range p.toks {
		if t.val >= 0 && !inArray[i] && p.value(i) == Varied {
			return Fix{}, false
		}
	}
	do := allRowsWrite
	if p.toks[0].t == "select" {
		do = allRows
	}
	return Fix{Do: do, SQL: p.s, Notes: []string{"each array holding the arrays of every execution"}}, true
}

// deleteFix rewrites a per-key DELETE into one for every key.
func (p *parsed) deleteFix() (Fix, bool) {
	if f, ok := p.arrays(); ok {
		return f, true
	}
	if p.find("using", 0) >= 0 || p.find("limit", 0) >= 0 || p.find("order", 0) >= 0 {
		return Fix{}, false
	}
	pred, ok := p.key()
	if !ok {
		return Fix{}, false
	}
	return Fix{Do: allRowsWrite, SQL: p.replace(pred.start, pred.end, p.in(p.text(pred.col)))}, true
}

// insertFix rewrites a one-row INSERT into one for every row.
func (p *parsed) insertFix() (Fix, bool) {
	if f, ok := p.arrays(); ok {
		return f, true
	}
	if s := p.find("select", 0); s >= 0 && p.findAny(0, s, "values") < 0 {
		return p.insertSelect(s)
	}
	v := p.find("values", 0)
	if v < 0 || v+1 >= len(p.toks) || p.toks[v+1].t != "(" || p.findAny(0, v, "select") >= 0 {
		return Fix{}, false
	}
	c := p.closing(v + 1)
	// Placeholders after the row (ON CONFLICT ... SET x = ?) would come
	// after every row: such an insert has no one-statement form here.
	if c < 0 || p.findAny(c+1, len(p.toks), "?") >= 0 {
		return Fix{}, false
	}
	row := p.s[p.toks[v+1].start:p.toks[c].end]
	f := Fix{Do: allRowsWrite, SQL: p.s[:p.toks[c].end] + ", " + row + ", ..." + p.s[p.toks[c].end:]}
	if p.dialect == sqlnorm.Postgres && copyable(p.s) {
		f.Notes = append(f.Notes, "or COPY (pgx CopyFrom)")
	}
	return f, true
}

// insertSelect rewrites a per-key INSERT ... SELECT, whose SELECT starts
// at token s, into one that selects the rows of every key: where the
// SELECT returns each of its rows on its own, a list of keys returns the
// rows of every key.
func (p *parsed) insertSelect(s int) (Fix, bool) {
	from := p.find("from", s)
	if from < 0 || p.aggregate(span{s, from}) || p.findAny(s+1, from, "select") >= 0 {
		return Fix{}, false
	}
	for _, t := range []string{"distinct", "group", "having", "limit", "offset", "fetch", "union", "intersect", "except", "window"} {
		if p.find(t, s) >= 0 {
			return Fix{}, false
		}
	}
	pred, ok := p.key()
	if !ok {
		return Fix{}, false
	}
	return Fix{Do: allRowsWrite, SQL: p.replace(pred.start, pred.end, p.in(p.text(pred.col)))}, true
}

// updateFix rewrites a per-row "update t set ... where ..." into one
// UPDATE: with the SET values the same for every row, one whose WHERE
// takes every key; else one joined to the rows of every execution.
func (p *parsed) updateFix() (Fix, bool) {
	if f, ok := p.arrays(); ok {
		return f, true
	}
	if len(p.toks) < 4 || p.toks[2].t != "set" || !isName(p.toks[1].t) {
		return Fix{}, false // an alias, ONLY, OR REPLACE, a join: keep to the simple form
	}
	where := p.find("where", 0)
	if where < 0 || p.findAny(3, where, "select", "exists") >= 0 {
		// A value that reads other rows reads them as the loop left
		// them, one row at a time.
		return Fix{}, false
	}
	ret := p.clauseEnd(where + 1)
	switch {
	case ret == len(p.toks):
		ret = -1
	case p.toks[ret].t != "returning" || p.clauseEnd(ret+1) != len(p.toks):
		return Fix{}, false
	}
	set := span{3, where}
	if !p.mayVary(set) {
		if pred, ok := p.key(); ok && p.value(pred.val) == Varied {
			return Fix{Do: allRowsWrite, SQL: p.replace(pred.start, pred.end, p.in(p.text(pred.col)))}, true
		}
	}
	return p.updateRows(set, where, ret)
}

// An assignment of an UPDATE's SET: "col = expr".
type assignment struct {
	col  string
	expr span
}

// updateRows rewrites "update t set a = ?, b = ? where k = ? ..." into one
// UPDATE joined to the rows of every execution, each with the values that
// varied. On PostgreSQL and SQLite (3.33 on) that is UPDATE ... FROM the
// rows as a CTE, whose first branch selects the same columns from t and
// no row: it gives the placeholders the columns' types, without which
// PostgreSQL reads them as text and cannot compare them to the key. On
// MySQL, which has no UPDATE ... FROM, it is UPDATE ... JOIN the rows.
func (p *parsed) updateRows(set span, where, ret int) (Fix, bool) {
	table := p.toks[1].t
	var as []assignment
	for _, it := range p.split(set, ",") {
		if it.to-it.from < 3 || !isName(p.toks[it.from].t) || p.toks[it.from+1].t != "=" {
			return Fix{}, false
		}
		as = append(as, assignment{col: p.toks[it.from].t, expr: span{it.from + 2, it.to}})
	}
	mysql := p.dialect == sqlnorm.MySQL
	var cols, sets []string
	for _, a := range as {
		expr, n, reads, ok := p.setExpr(a.expr, table, "v."+a.col)
		if !ok || n > 1 {
			return Fix{}, false
		}
		if n == 1 {
			cols = append(cols, a.col)
		}
		// MySQL runs a multiple-table UPDATE's assignments in no given
		// order: a value may read no column another assignment sets.
		for _, r := range reads {
			for _, b := range as {
				if mysql && bare(r) == bare(b.col) && bare(b.col) != bare(a.col) {
					return Fix{}, false
				}
			}
		}
		target := a.col
		if mysql {
			target = table + "." + a.col
		}
		sets = append(sets, target+" = "+expr)
	}
	conj, ok := p.where()
	if !ok {
		return Fix{}, false
	}
	var on, others []string
	for _, c := range conj {
		k, ok := p.keyOf(c)
		switch {
		case ok && k.col.to-k.col.from == 1 && p.value(k.val) != Constant && p.value(k.val) != Same:
			name := p.text(k.col)
			cols = append(cols, name)
			on = append(on, table+"."+name+" = v."+name)
		case p.mayVary(c):
			return Fix{}, false
		default:
			// Qualified, so that a column of the rows of the same name
			// does not make it ambiguous.
			cond, _, _, ok := p.setExpr(c, table, "")
			if !ok {
				return Fix{}, false
			}
			others = append(others, cond)
		}
	}
	if len(on) == 0 {
		return Fix{}, false
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[bare(c)] {
			return Fix{}, false
		}
		seen[bare(c)] = true
	}
	returning := ""
	if ret >= 0 {
		if mysql {
			return Fix{}, false
		}
		var items []string
		for _, it := range p.split(span{ret + 1, len(p.toks)}, ",") {
			if p.text(it) == "*" {
				// What returns the table's columns alone: PostgreSQL's *
				// has the rows' too, SQLite has no t.*.
				switch p.dialect {
				case sqlnorm.Postgres:
					items = append(items, table+".*")
				case sqlnorm.SQLite:
					items = append(items, "*")
				default:
					return Fix{}, false
				}
				continue
			}
			item, n, _, ok := p.setExpr(it, table, "")
			if !ok || n > 0 {
				return Fix{}, false
			}
			items = append(items, item)
		}
		returning = " returning " + strings.Join(items, ", ")
	}
	qs := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	var b strings.Builder
	if mysql {
		first := make([]string, len(cols))
		for i, c := range cols {
			first[i] = "? as " + c
		}
		b.WriteString("update " + table + " join (select " + strings.Join(first, ", ") + " union all select " + qs +
			" union all ...) as v on " + strings.Join(on, " and ") + " set " + strings.Join(sets, ", "))
		if len(others) > 0 {
			b.WriteString(" where " + strings.Join(others, " and "))
		}
	} else {
		list := strings.Join(cols, ", ")
		b.WriteString("with v(" + list + ") as (select " + list + " from " + table + " where false union all select " + qs +
			" union all select " + qs + " union all ...) update " + table + " set " + strings.Join(sets, ", ") +
			" from v where " + strings.Join(append(on, others...), " and "))
	}
	b.WriteString(returning)
	return Fix{Do: allRowsWrite, SQL: b.String()}, true
}

// setExpr returns a simple expression (of a SET item, a condition or a
// RETURNING item) with each value that may vary written as row, its
// columns qualified with table, which keeps them apart from the rows'
// columns of the same names ("stock = stock - ?" becomes "stock =
// products.stock - v.stock"), how many values it wrote as row, and the
// columns it reads. Anything but columns, values, operators, a few
// keywords and a few plain functions is refused.
func (p *parsed) setExpr(e span, table, row string) (string, int, []string, bool) {
	var b strings.Builder
	var reads []string
	n := 0
	for i := e.from; i < e.to; i++ {
		t := p.toks[i].t
		if i > e.from && p.toks[i].start > p.toks[i-1].end {
			b.WriteByte(' ')
		}
		switch {
		case p.toks[i].val >= 0:
			if v := p.value(i); row != "" && (v == Varied || v == Unknown) {
				n++
				b.WriteString(row)
			} else {
				b.WriteString(t)
			}
		case t == "(" || t == ")" || t == "," || strings.Contains("+-*/|=<>!", t) || isKeyword(t):
			b.WriteString(t)
		case i+1 < e.to && p.toks[i+1].t == "(":
			switch t {
			case "coalesce", "greatest", "least", "abs", "lower", "upper", "max", "min", "now":
				b.WriteString(t)
			default:
				return "", 0, nil, false
			}
		case isName(t) && t != "select" && t != "exists" && (i+1 == e.to || p.toks[i+1].t != "."):
			b.WriteString(table + "." + t)
			reads = append(reads, t)
		default:
			return "", 0, nil, false
		}
	}
	return b.String(), n, reads, true
}

// isKeyword reports whether a word of a simple expression is SQL's, not a
// column's. Words that open a subquery are neither: their expression is
// refused.
func isKeyword(t string) bool {
	switch t {
	case "null", "true", "false", "case", "when", "then", "else", "end", "and", "or", "not", "is",
		"like", "between", "current_timestamp", "current_date", "default":
		return true
	}
	return false
}
