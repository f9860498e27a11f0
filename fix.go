package querytrace

import (
	"fmt"
	"strconv"
	"strings"
)

func slowFix(g *Group) string {
	tables := tablesOf(g.Shape)
	on := ""
	if len(tables) > 0 {
		on = " on " + strings.Join(tables, ", ")
	}
	return "one execution took " + fmtDur(g.Max) + ": look at its plan (EXPLAIN) and the indexes" + on
}

func duplicateFix(g *Group) string {
	if g.Verb == "select" {
		return "the same query with the same arguments ran " + strconv.Itoa(g.Count) +
			" times: run it once and reuse the result (hoist it out of the loop or memoize it for the request)"
	}
	return "the same " + g.Verb + " with the same arguments ran " + strconv.Itoa(g.Count) +
		" times: run it once (hoist it out of the loop)"
}

func batchedFix(g *Group) string {
	s := fmt.Sprintf("reads pages of %d rows: not an N+1", g.MaxRows)
	if hasWord(g.Shape, "offset") {
		s += "; on large tables keyset pagination (where key > last key order by key limit n) beats OFFSET"
	}
	return s
}

// loopFix suggests how to replace the loop of g with one statement, from
// its shape. The fixes are shapes too: "?" for values, never a literal.
func loopFix(g *Group, source *Group, pg bool) string {
	in := func(col string) string {
		if pg {
			return col + " = any($1)"
		}
		return col + " in (...)"
	}
	p := parseShape(g.Shape)
	switch g.Verb {
	case "select":
		pred, ok := p.keyPredicate()
		if !ok {
			break
		}
		col := p.text(pred.col)
		if p.aggregate() {
			s := "one query for all rows: " + p.groupBy(pred, in(col))
			if pg {
				s += " with the keys as an array"
			}
			return s
		}
		s := "one query for all rows: " + p.inList(pred, in(col))
		if source != nil {
			tables := tablesOf(g.Shape)
			if len(tables) > 0 {
				s += ", or a join to " + tables[0] + " in the source query"
				if site := source.CallSite(); site != "" {
					s += " at " + site
				}
			}
		}
		return s
	case "delete":
		if pred, ok := p.keyPredicate(); ok {
			return "one statement for all rows: " + p.replace(pred.start, pred.end, in(p.text(pred.col)))
		}
	case "insert":
		if s, ok := p.multiRowInsert(); ok {
			s = "one statement for all rows: " + s
			if pg {
				s += ", or COPY (pgx CopyFrom)"
			}
			return s
		}
		if pg {
			return "insert all rows at once: a multi-row VALUES or COPY (pgx CopyFrom)"
		}
		return "insert all rows at once with a multi-row VALUES"
	case "update":
		if s, ok := p.updateFromValues(); ok {
			return "one statement for all rows: " + s
		}
		return "update all rows in one statement: UPDATE ... FROM (VALUES ...) joined on the key"
	}
	if pg {
		return "fetch all rows in one statement: = any($1) over the keys, or a join to the source query"
	}
	return "fetch all rows in one statement: in (...) over the keys, or a join to the source query"
}

// A parsedShape is a shape cut into tokens, with each token's offsets and
// parenthesis depth, enough to rewrite a simple statement.
type parsedShape struct {
	s    string
	toks []shapeTok
}

type shapeTok struct {
	t          string
	start, end int
	depth      int
}

// span is a run of tokens [from, to).
type span struct{ from, to int }

func parseShape(s string) *parsedShape {
	p := &parsedShape{s: s}
	depth := 0
	for i := 0; i < len(s); {
		tok, next := shapeToken(s, i)
		if tok == "" {
			break
		}
		start := next - len(tok)
		if tok == ")" || tok == "]" {
			depth--
		}
		p.toks = append(p.toks, shapeTok{t: tok, start: start, end: next, depth: depth})
		if tok == "(" || tok == "[" {
			depth++
		}
		i = next
	}
	return p
}

// text returns the shape's text of a span of tokens.
func (p *parsedShape) text(sp span) string {
	if sp.from >= sp.to {
		return ""
	}
	return p.s[p.toks[sp.from].start:p.toks[sp.to-1].end]
}

// find returns the first top-level token t at or after from, or -1.
func (p *parsedShape) find(t string, from int) int {
	for i := from; i < len(p.toks); i++ {
		if p.toks[i].depth == 0 && p.toks[i].t == t {
			return i
		}
	}
	return -1
}

// clauseEnd returns the index of the top-level token that ends the
// clause starting at from: the next clause keyword, or the end.
func (p *parsedShape) clauseEnd(from int) int {
	for i := from; i < len(p.toks); i++ {
		if p.toks[i].depth != 0 {
			continue
		}
		switch p.toks[i].t {
		case "group", "order", "limit", "having", "union", "intersect", "except",
			"window", "returning", "for", "offset", "fetch", ";":
			return i
		}
	}
	return len(p.toks)
}

// keyPred is a "col = ?" predicate of a WHERE clause.
type keyPred struct {
	col        span
	start, end int // byte offsets of the whole predicate in the shape
}

// keyPredicate finds the first top-level "name = ?" conjunct of the WHERE
// clause: the key the loop varied.
func (p *parsedShape) keyPredicate() (keyPred, bool) {
	w := p.find("where", 0)
	if w < 0 {
		return keyPred{}, false
	}
	end := p.clauseEnd(w + 1)
	i := w + 1
	for i < end {
		// A conjunct starts after WHERE or AND.
		j := i
		if j < end && isNameTok(p.toks[j].t) {
			j++
			for j+1 < end && p.toks[j].t == "." && isNameTok(p.toks[j+1].t) {
				j += 2
			}
		}
		if j > i && j+1 < end && p.toks[j].t == "=" && p.toks[j+1].t == "?" &&
			(j+2 == end || p.toks[j+2].t == "and") && p.toks[i].depth == 0 {
			return keyPred{col: span{i, j}, start: p.toks[i].start, end: p.toks[j+1].end}, true
		}
		for i < end && !(p.toks[i].depth == 0 && p.toks[i].t == "and") {
			i++
		}
		i++
	}
	return keyPred{}, false
}

func isNameTok(t string) bool {
	if t == "" || t == "and" || t == "or" || t == "not" {
		return false
	}
	c := t[0]
	return c == '_' || c == '"' || c == '`' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// aggregate reports whether the select list calls an aggregate function.
func (p *parsedShape) aggregate() bool {
	from := p.find("from", 0)
	if from < 0 {
		return false
	}
	for i := 1; i+1 < from; i++ {
		switch p.toks[i].t {
		case "count", "sum", "avg", "min", "max", "total", "group_concat", "string_agg", "array_agg", "bool_and", "bool_or", "every":
			if p.toks[i+1].t == "(" {
				return true
			}
		}
	}
	return false
}

func (p *parsedShape) replace(start, end int, with string) string {
	return p.s[:start] + with + p.s[end:]
}

// selectList returns the byte offsets of the select list.
func (p *parsedShape) selectList() (start, end int, ok bool) {
	from := p.find("from", 0)
	if len(p.toks) == 0 || p.toks[0].t != "select" || from < 2 {
		return 0, 0, false
	}
	first := 1
	if t := p.toks[1].t; t == "distinct" || t == "all" {
		first = 2
	}
	return p.toks[first].start, p.toks[from-1].end, true
}

// groupBy rewrites a per-key aggregate into one grouped by the key: the
// key joins the select list, the predicate takes every key, and the key is
// grouped by.
func (p *parsedShape) groupBy(pred keyPred, in string) string {
	col := p.text(pred.col)
	ls, _, ok := p.selectList()
	if !ok {
		return p.replace(pred.start, pred.end, in) + " group by " + col
	}
	var b strings.Builder
	b.WriteString(p.s[:ls])
	b.WriteString(col + ", ")
	b.WriteString(p.s[ls:pred.start])
	b.WriteString(in)
	end := p.clauseEnd(p.find("where", 0) + 1)
	if end < len(p.toks) && p.toks[end].t == "group" {
		// Already grouped: add the key to the grouping.
		by := end + 1
		if by < len(p.toks) && p.toks[by].t == "by" {
			b.WriteString(p.s[pred.end:p.toks[by].end])
			b.WriteString(" " + col + ",")
			b.WriteString(p.s[p.toks[by].end:])
			return b.String()
		}
	}
	rest := len(p.s)
	if end < len(p.toks) {
		rest = p.toks[end].start - 1
	}
	b.WriteString(p.s[pred.end:rest])
	b.WriteString(" group by " + col)
	b.WriteString(p.s[rest:])
	return b.String()
}

// inList rewrites a per-key lookup into one for every key, adding the key
// to the select list so that the rows can be matched to their keys.
func (p *parsedShape) inList(pred keyPred, in string) string {
	col := p.text(pred.col)
	ls, le, ok := p.selectList()
	if !ok {
		return p.replace(pred.start, pred.end, in)
	}
	list := p.s[ls:le]
	short := col
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		short = col[i+1:]
	}
	need := list != "*" && !strings.HasSuffix(list, ".*")
	if need {
		for _, item := range strings.Split(list, ", ") {
			if item == col || item == short || strings.HasSuffix(item, "."+short) {
				need = false
			}
		}
	}
	var b strings.Builder
	b.WriteString(p.s[:ls])
	if need {
		b.WriteString(col + ", ")
	}
	b.WriteString(p.s[ls:pred.start])
	b.WriteString(in)
	b.WriteString(p.s[pred.end:])
	return b.String()
}

// multiRowInsert rewrites a one-row INSERT ... VALUES into a multi-row one.
func (p *parsedShape) multiRowInsert() (string, bool) {
	v := p.find("values", 0)
	if v < 0 || v+1 >= len(p.toks) || p.toks[v+1].t != "(" {
		return "", false
	}
	for i := v + 2; i < len(p.toks); i++ {
		if p.toks[i].t == ")" && p.toks[i].depth == 0 {
			row := p.s[p.toks[v+1].start:p.toks[i].end]
			return p.s[:p.toks[i].end] + ", " + row + ", ..." + p.s[p.toks[i].end:], true
		}
	}
	return "", false
}

// updateFromValues rewrites "update t set a = ?, b = ? where k = ? ..."
// into one UPDATE joined to a VALUES list of every row.
func (p *parsedShape) updateFromValues() (string, bool) {
	if len(p.toks) < 2 || p.toks[0].t != "update" {
		return "", false
	}
	set := p.find("set", 0)
	where := p.find("where", 0)
	if set != 2 || where < 0 {
		return "", false // an alias or ONLY: keep to the simple form
	}
	table := p.toks[1].t
	var cols []string
	for i := set + 1; i < where; {
		if i+2 >= where || !isNameTok(p.toks[i].t) || p.toks[i+1].t != "=" || p.toks[i+2].t != "?" {
			return "", false
		}
		cols = append(cols, p.toks[i].t)
		i += 3
		if i < where && p.toks[i].t == "," {
			i++
		}
	}
	pred, ok := p.keyPredicate()
	if !ok || len(cols) == 0 {
		return "", false
	}
	key := p.text(pred.col)
	if strings.Contains(key, ".") {
		return "", false
	}
	var b strings.Builder
	b.WriteString("update " + table + " set ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = v." + c)
	}
	qs := strings.TrimSuffix(strings.Repeat("?, ", len(cols)+1), ", ")
	fmt.Fprintf(&b, " from (values (%s), ...) as v(%s, %s) where %s.%s = v.%s",
		qs, key, strings.Join(cols, ", "), table, key, key)
	b.WriteString(p.s[pred.end:])
	return b.String(), true
}
