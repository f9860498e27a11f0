package querytrace

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/querytrace/querytrace/internal/human"
)

func slowFix(g *Group) string {
	tables := tablesOf(g.Shape)
	on := ""
	if len(tables) > 0 {
		on = " on " + strings.Join(tables, ", ")
	}
	return "one execution took " + human.Duration(g.Max) + ": look at its plan (EXPLAIN) and the indexes" + on
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

// loopFix suggests how to replace the loop of g with one statement. The
// suggestion reads "what to do: statement", maybe followed by "; note",
// and the statement, once its placeholders are filled, runs as written in
// the group's dialect and returns the rows the loop read (for a write:
// leaves the tables as the loop did). Where the shape does not tell such a
// statement, the fix is prose. A fix is built from the shape alone, so it
// holds no literal of the application's.
//
// The placeholders: "in (...)" or "= any($n)" takes every key the loop
// went over (on PostgreSQL as one array); a row template followed by "..."
// ("(?, ?), (?, ?), ..." or "select ?, ? union all ...") takes one row per
// execution, each holding the values that execution passed, in order; any
// other placeholder takes the value the loop passed at the same position,
// which was the same for every execution. On PostgreSQL placeholders are
// numbered $1, $2, ... in order of appearance.
func loopFix(g *Group, source *Group, pg bool) string {
	if b, ok := batchOf(g.Shape, pg, g.Dialect); ok {
		s := b.lead + ": " + b.stmt
		if b.note != "" {
			s += "; " + b.note
		}
		if b.join && source != nil {
			if tables := tablesOf(g.Shape); len(tables) > 0 {
				s += "; or a join to " + tables[0] + " in the source query"
				if site := source.CallSite(); site != "" {
					s += " at " + site
				}
			}
		}
		return s
	}
	keys := "in (...) over the keys"
	if pg {
		keys = "= any($1) over the keys as an array"
	}
	switch g.Verb {
	case "insert":
		if pg && copyable(g.Shape) {
			return "insert all rows at once: a multi-row VALUES or COPY (pgx CopyFrom)"
		}
		return "insert all rows at once with a multi-row VALUES"
	case "update":
		return "update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"
	case "delete":
		return "delete all rows in one statement: " + keys
	}
	return "fetch all rows in one statement: " + keys + ", or a join to the source query"
}

// A batch is a statement that does the work of a loop at once.
type batch struct {
	lead string // what the statement does: "one query for all rows"
	stmt string
	note string // what to know about its result, or ""
	join bool   // a join in the source query is an alternative
}

// batchOf returns the statement that replaces a loop of shape, in the
// conventions of loopFix, or false when the shape does not tell one.
func batchOf(shape string, pg bool, d Dialect) (batch, bool) {
	p := parseShape(shape)
	// A shape cut short ("…") or of several statements has no one rewrite.
	if len(p.toks) < 2 || p.findAny(0, len(p.toks), ";", "…") >= 0 {
		return batch{}, false
	}
	in := func(col string) string { return col + " in (...)" }
	if pg {
		in = func(col string) string { return col + " = any(?)" }
	}
	var b batch
	ok := false
	switch p.toks[0].t {
	case "select":
		b, ok = p.selectBatch(in)
	case "delete":
		if pred, found := p.keyPredicate(); found && p.find("using", 0) < 0 {
			b, ok = batch{lead: "one statement for all rows", stmt: p.replace(pred.start, pred.end, in(p.text(pred.col)))}, true
		}
	case "insert":
		if s, found := p.multiRowInsert(); found {
			b, ok = batch{lead: "one statement for all rows", stmt: s}, true
			if pg && copyable(shape) {
				b.note = "or COPY (pgx CopyFrom)"
			}
		}
	case "update":
		if d != DialectMySQL {
			if s, found := p.updateFromRows(); found {
				b, ok = batch{lead: "one statement for all rows", stmt: s}, true
			}
		}
	}
	if ok && pg {
		b.stmt = numbered(b.stmt)
	}
	return b, ok
}

// copyable reports whether COPY can replace an insert: it returns nothing
// and resolves no conflict.
func copyable(shape string) bool {
	return !hasWord(shape, "returning") && !hasWord(shape, "conflict")
}

// numbered writes PostgreSQL's $1, $2, ... for the placeholders of s.
func numbered(s string) string {
	var b strings.Builder
	n, last := 0, 0
	for i := 0; i < len(s); {
		tok, next := shapeToken(s, i)
		if tok == "" {
			break
		}
		if tok == "?" {
			n++
			b.WriteString(s[last : next-1])
			b.WriteString("$" + strconv.Itoa(n))
			last = next
		}
		i = next
	}
	b.WriteString(s[last:])
	return b.String()
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

// findAny returns the first token, at any depth, in [from, to) that is
// one of ts, or -1.
func (p *parsedShape) findAny(from, to int, ts ...string) int {
	for i := from; i < to && i < len(p.toks); i++ {
		for _, t := range ts {
			if p.toks[i].t == t {
				return i
			}
		}
	}
	return -1
}

// closing returns the index of the ")" that closes the "(" at i, or -1.
func (p *parsedShape) closing(i int) int {
	for j := i + 1; j < len(p.toks); j++ {
		if p.toks[j].depth == p.toks[i].depth && p.toks[j].t == ")" {
			return j
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

// split cuts [from, to) at the tokens sep at the depth of from.
func (p *parsedShape) split(from, to int, sep string) []span {
	if from >= to {
		return nil
	}
	var out []span
	start, depth := from, p.toks[from].depth
	for i := from; i < to; i++ {
		if p.toks[i].depth == depth && p.toks[i].t == sep {
			out = append(out, span{start, i})
			start = i + 1
		}
	}
	return append(out, span{start, to})
}

// keyPred is a "col = ?" or "col in (?)" predicate of a WHERE clause.
type keyPred struct {
	col        span
	start, end int // byte offsets of the whole predicate in the shape
}

// where returns the top-level WHERE clause's conjuncts; false when there
// is none or it has a top-level OR, whose precedence would change once a
// conjunct becomes a list.
func (p *parsedShape) where() ([]span, bool) {
	w := p.find("where", 0)
	if w < 0 {
		return nil, false
	}
	end := p.clauseEnd(w + 1)
	if i := p.find("or", w+1); i >= 0 && i < end {
		return nil, false
	}
	return p.split(w+1, end, "and"), true
}

// keyOf reads a conjunct as "name = ?" or "name in (?)", possibly in
// parentheses as bun writes them.
func (p *parsedShape) keyOf(c span) (keyPred, bool) {
	if c.to-c.from >= 2 && p.toks[c.from].t == "(" && p.closing(c.from) == c.to-1 {
		c = span{c.from + 1, c.to - 1}
	}
	j := c.from
	if j < c.to && isNameTok(p.toks[j].t) {
		j++
		for j+1 < c.to && p.toks[j].t == "." && isNameTok(p.toks[j+1].t) {
			j += 2
		}
	}
	if j == c.from {
		return keyPred{}, false
	}
	rest := make([]string, 0, 4)
	for _, t := range p.toks[j:c.to] {
		rest = append(rest, t.t)
	}
	switch strings.Join(rest, " ") {
	case "= ?", "in ( ? )":
		return keyPred{col: span{c.from, j}, start: p.toks[c.from].start, end: p.toks[c.to-1].end}, true
	}
	return keyPred{}, false
}

// keyPredicate finds the key the loop varied: the WHERE conjunct
// "name = ?" (or "name in (?)") on a column named id, else the first one.
func (p *parsedShape) keyPredicate() (keyPred, bool) {
	conj, ok := p.where()
	if !ok {
		return keyPred{}, false
	}
	var first *keyPred
	for _, c := range conj {
		if k, ok := p.keyOf(c); ok {
			if isIDKey(p.text(k.col)) {
				return k, true
			}
			if first == nil {
				first = &k
			}
		}
	}
	if first == nil {
		return keyPred{}, false
	}
	return *first, true
}

func isNameTok(t string) bool {
	if t == "" || t == "and" || t == "or" || t == "not" {
		return false
	}
	c := t[0]
	return c == '_' || c == '"' || c == '`' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// shortName returns a column reference's last part: "id" of "u"."id".
func shortName(col string) string {
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		return col[i+1:]
	}
	return col
}

// bare returns a name without quotes, lower-cased when it was not quoted,
// as the database compares it.
func bare(name string) string {
	if len(name) >= 2 && (name[0] == '"' || name[0] == '`') {
		return name[1 : len(name)-1]
	}
	return strings.ToLower(name)
}

// isIDKey reports whether a key column is named id, and so, by the near
// universal convention, is the table's primary key.
func isIDKey(col string) bool { return bare(shortName(col)) == "id" }

// aggregate reports whether the select list [from, to) calls an aggregate
// function; one with OVER is a window function and returns a row per row.
func (p *parsedShape) aggregate(from, to int) bool {
	for i := from; i+1 < to; i++ {
		switch p.toks[i].t {
		case "count", "sum", "avg", "min", "max", "total", "group_concat", "string_agg", "array_agg", "json_agg", "jsonb_agg", "bool_and", "bool_or", "every":
			if p.toks[i+1].t != "(" {
				continue
			}
			if c := p.closing(i + 1); c >= 0 && (c+1 >= len(p.toks) || p.toks[c+1].t != "over") {
				return true
			}
		}
	}
	return false
}

func (p *parsedShape) replace(start, end int, with string) string {
	return p.s[:start] + with + p.s[end:]
}

// selectList returns the select list's first token after SELECT [DISTINCT],
// its items and the index of FROM.
func (p *parsedShape) selectList() (first int, items []span, from int, ok bool) {
	from = p.find("from", 0)
	if len(p.toks) == 0 || p.toks[0].t != "select" || from < 2 {
		return 0, nil, 0, false
	}
	first = 1
	if t := p.toks[1].t; t == "distinct" || t == "all" {
		first = 2
	}
	if first >= from {
		return 0, nil, 0, false
	}
	return first, p.split(first, from, ","), from, true
}

// itemName returns the name a select item's column goes by, or "".
func (p *parsedShape) itemName(it span) string {
	n := it.to - it.from
	if n >= 3 && p.toks[it.to-2].t == "as" && isNameTok(p.toks[it.to-1].t) {
		return p.toks[it.to-1].t
	}
	for i := it.from; i < it.to; i++ {
		if (i-it.from)%2 == 0 && !isNameTok(p.toks[i].t) || (i-it.from)%2 == 1 && p.toks[i].t != "." {
			return ""
		}
	}
	if n%2 == 0 {
		return ""
	}
	return p.toks[it.to-1].t
}

// hasColumn reports whether the select items return the column col.
func (p *parsedShape) hasColumn(items []span, col string) bool {
	short, qual := bare(shortName(col)), ""
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		qual = col[:i]
	}
	for _, it := range items {
		t := p.text(it)
		if t == "*" || strings.HasSuffix(t, ".*") && (qual == "" || t == qual+".*") {
			return true
		}
		if name := p.itemName(it); name != "" && bare(name) == short {
			return true
		}
	}
	return false
}

// selectBatch rewrites a per-key query into one for every key, which
// returns each row with its key so that rows can be matched to keys.
func (p *parsedShape) selectBatch(in func(string) string) (batch, bool) {
	first, items, from, ok := p.selectList()
	if !ok || p.findAny(1, from, "select") >= 0 {
		return batch{}, false
	}
	for _, t := range []string{"union", "intersect", "except", "offset", "fetch"} {
		if p.find(t, 0) >= 0 {
			return batch{}, false
		}
	}
	pred, ok := p.keyPredicate()
	if !ok {
		return batch{}, false
	}
	col := p.text(pred.col)
	limit := p.find("limit", 0)
	grouped := p.find("group", 0) >= 0
	all := "one query for all rows"
	switch {
	case p.aggregate(first, from):
		if limit >= 0 {
			// One row per key, with or without the LIMIT; over every
			// key the LIMIT would cut groups.
			if grouped {
				return batch{}, false
			}
			return parseShape(p.withoutLimit(limit)).selectBatch(in)
		}
		return batch{lead: all, stmt: p.groupBy(pred, in(col), first, items)}, true
	case limit < 0:
		s, ok := p.inList(pred, in(col), first, from, items)
		return batch{lead: all, stmt: s, join: true}, ok
	case isIDKey(col) && p.oneTable(from):
		b, ok := parseShape(p.withoutLimit(limit)).selectBatch(in)
		b.note = "one row per id, so no LIMIT"
		return b, ok
	}
	s, ok := p.window(pred, in(col), first, items, from, limit)
	return batch{lead: all, stmt: s, note: "rn numbers each key's rows in the statement's order"}, ok
}

// selectText returns the text of the select list [first, from) with each
// window cut per key as each execution of the loop cut it: "over ()"
// becomes "over (partition by col)". A named window is not rewritten.
func (p *parsedShape) selectText(first, from int, col string) (string, bool) {
	var b strings.Builder
	last := p.toks[first].start
	for i := first; i < from; i++ {
		if p.toks[i].t != "over" {
			continue
		}
		if i+3 >= len(p.toks) || p.toks[i+1].t != "(" {
			return "", false
		}
		at, with := p.toks[i+1].end, "partition by "+col+" "
		switch {
		case p.toks[i+2].t == ")":
			with = "partition by " + col
		case p.toks[i+2].t == "partition" && p.toks[i+3].t == "by":
			at, with = p.toks[i+3].end, " "+col+","
		}
		b.WriteString(p.s[last:at])
		b.WriteString(with)
		last = at
	}
	b.WriteString(p.s[last:p.toks[from-1].end])
	return b.String(), true
}

// oneTable reports whether the FROM clause at from names one table: a
// join can return many rows per id.
func (p *parsedShape) oneTable(from int) bool {
	end := p.clauseEnd(from + 1)
	if w := p.find("where", from); w >= 0 && w < end {
		end = w
	}
	return p.findAny(from+1, end, "join", ",") < 0
}

// withoutLimit returns the shape without its LIMIT clause at index l.
func (p *parsedShape) withoutLimit(l int) string {
	s := strings.TrimRight(p.s[:p.toks[l].start], " ")
	if e := p.clauseEnd(l + 1); e < len(p.toks) {
		s += " " + p.s[p.toks[e].start:]
	}
	return s
}

// groupBy rewrites a per-key aggregate into one grouped by the key: the
// key joins the select list, the predicate takes every key, and the key is
// grouped by.
func (p *parsedShape) groupBy(pred keyPred, in string, first int, items []span) string {
	col := p.text(pred.col)
	ls := p.toks[first].start
	var b strings.Builder
	b.WriteString(p.s[:ls])
	if !p.hasColumn(items, col) {
		b.WriteString(col + ", ")
	}
	b.WriteString(p.s[ls:pred.start])
	b.WriteString(in)
	end := p.clauseEnd(p.find("where", 0) + 1)
	if end+1 < len(p.toks) && p.toks[end].t == "group" && p.toks[end+1].t == "by" {
		// Already grouped: add the key to the grouping.
		by := end + 1
		b.WriteString(p.s[pred.end:p.toks[by].end])
		if !slices.ContainsFunc(p.split(by+1, p.clauseEnd(by+1), ","), func(it span) bool { return p.text(it) == col }) {
			b.WriteString(" " + col + ",")
		}
		b.WriteString(p.s[p.toks[by].end:])
		return b.String()
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
// to the select list unless it is there.
func (p *parsedShape) inList(pred keyPred, in string, first, from int, items []span) (string, bool) {
	col := p.text(pred.col)
	list, ok := p.selectText(first, from, col)
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString(p.s[:p.toks[first].start])
	if !p.hasColumn(items, col) {
		b.WriteString(col + ", ")
	}
	b.WriteString(list)
	b.WriteString(p.s[p.toks[from-1].end:pred.start])
	b.WriteString(in)
	b.WriteString(p.s[pred.end:])
	return b.String(), true
}

// window rewrites a per-key "order by ... limit ?" into one query that
// numbers each key's rows in that order and keeps as many as the LIMIT
// did: row_number() runs on SQLite (3.25 on), PostgreSQL and MySQL 8.
func (p *parsedShape) window(pred keyPred, in string, first int, items []span, from, limit int) (string, bool) {
	if first != 1 || p.find("group", 0) >= 0 || p.find("having", 0) >= 0 || p.find("window", 0) >= 0 ||
		limit+2 != len(p.toks) || p.toks[limit+1].t != "?" {
		return "", false
	}
	col := p.text(pred.col)
	end := limit
	order := ""
	if o := p.find("order", 0); o >= 0 {
		if o+2 >= limit || p.toks[o+1].t != "by" || p.findAny(o+2, limit, "?") >= 0 {
			return "", false
		}
		// The select list's aliases do not reach into OVER.
		for _, it := range items {
			if name := p.itemName(it); name != "" && p.findAny(o+2, limit, name) >= 0 && p.text(it) != name &&
				!strings.HasSuffix(p.text(it), "."+name) {
				return "", false
			}
		}
		order = " order by " + p.text(span{o + 2, limit})
		end = o
	}
	var names []string
	addKey := !p.hasColumn(items, col)
	if addKey {
		names = append(names, shortName(col))
	}
	seen := map[string]bool{}
	star := false
	for _, it := range items {
		name := p.itemName(it)
		if name == "" || seen[bare(name)] {
			star = true
		}
		seen[bare(name)] = true
		names = append(names, name)
	}
	if addKey && seen[bare(shortName(col))] {
		star = true
	}
	list, ok := p.selectText(first, from, col)
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString("select ")
	if star {
		b.WriteString("*")
	} else {
		b.WriteString(strings.Join(names, ", "))
	}
	b.WriteString(" from (select ")
	if addKey {
		b.WriteString(col + ", ")
	}
	b.WriteString(list)
	b.WriteString(", row_number() over (partition by " + col + order + ") as rn")
	b.WriteString(p.s[p.toks[from-1].end:pred.start])
	b.WriteString(in)
	b.WriteString(strings.TrimRight(p.s[pred.end:p.toks[end].start], " "))
	b.WriteString(") as q where rn <= ?")
	return b.String(), true
}

// setExpr returns a simple expression (of a SET item, or a condition)
// with its placeholder written as value and its columns qualified with
// table, which keeps them apart from the rows' columns of the same names
// ("stock = stock - ?" becomes "stock = products.stock - v.stock"), and
// how many placeholders it had. Anything but columns, placeholders,
// operators, a few keywords and a few plain functions is refused.
func (p *parsedShape) setExpr(e span, table, value string) (string, int, bool) {
	var b strings.Builder
	n := 0
	for i := e.from; i < e.to; i++ {
		t := p.toks[i].t
		if i > e.from && p.toks[i].start > p.toks[i-1].end {
			b.WriteByte(' ')
		}
		switch {
		case t == "?":
			n++
			b.WriteString(value)
		case t == "(" || t == ")" || t == "," || strings.Contains("+-*/|=<>!", t) || isKeyword(t):
			b.WriteString(t)
		case i+1 < e.to && p.toks[i+1].t == "(":
			switch t {
			case "coalesce", "greatest", "least", "abs", "lower", "upper", "max", "min":
				b.WriteString(t)
			default:
				return "", 0, false
			}
		case isNameTok(t) && !isKeyword(t) && (i+1 == e.to || p.toks[i+1].t != "."):
			b.WriteString(table + "." + t)
		default:
			return "", 0, false
		}
	}
	return b.String(), n, true
}

// isKeyword reports whether a word of a simple expression is SQL's, not a
// column's. Words that open a subquery are neither: their expression is
// refused.
func isKeyword(t string) bool {
	switch t {
	case "null", "true", "false", "case", "when", "then", "else", "end", "and", "or", "not", "is",
		"like", "between", "current_timestamp", "current_date":
		return true
	}
	return false
}

// multiRowInsert rewrites a one-row INSERT ... VALUES into a multi-row one.
// Values after the row (ON CONFLICT ... SET x = ?) would differ per row, so
// such an insert has no one-statement form here.
func (p *parsedShape) multiRowInsert() (string, bool) {
	v := p.find("values", 0)
	if v < 0 || v+1 >= len(p.toks) || p.toks[v+1].t != "(" || p.findAny(0, v, "select") >= 0 {
		return "", false
	}
	c := p.closing(v + 1)
	if c < 0 || p.findAny(c+1, len(p.toks), "?") >= 0 {
		return "", false
	}
	row := p.s[p.toks[v+1].start:p.toks[c].end]
	return p.s[:p.toks[c].end] + ", " + row + ", ..." + p.s[p.toks[c].end:], true
}

// updateFromRows rewrites "update t set a = ?, b = ? where k = ? ..." into
// one UPDATE joined to the rows of every execution. The rows are a CTE
// whose first branch selects the same columns from t and no row: it gives
// the placeholders the columns' types, without which PostgreSQL reads
// them as text and cannot compare them to the key. UPDATE ... FROM runs
// on PostgreSQL and on SQLite from 3.33.
func (p *parsedShape) updateFromRows() (string, bool) {
	if p.toks[0].t != "update" || len(p.toks) < 3 || p.toks[2].t != "set" || !isNameTok(p.toks[1].t) {
		return "", false // an alias, ONLY or OR REPLACE: keep to the simple form
	}
	set, where := 2, p.find("where", 0)
	if where < 0 || p.clauseEnd(where+1) != len(p.toks) {
		return "", false
	}
	table := p.toks[1].t
	var cols, sets []string
	for _, it := range p.split(set+1, where, ",") {
		if it.to-it.from < 3 || !isNameTok(p.toks[it.from].t) || p.toks[it.from+1].t != "=" {
			return "", false
		}
		c := p.toks[it.from].t
		expr, n, ok := p.setExpr(span{it.from + 2, it.to}, table, "v."+c)
		if !ok || n > 1 {
			return "", false
		}
		if n == 1 {
			cols = append(cols, c)
		}
		sets = append(sets, c+" = "+expr)
	}
	conj, ok := p.where()
	if !ok {
		return "", false
	}
	var on []string
	for _, c := range conj {
		k, ok := p.keyOf(c)
		switch {
		case ok && k.col.to-k.col.from == 1 && p.s[k.end-1] == '?':
			name := p.text(k.col)
			cols = append(cols, name)
			on = append(on, table+"."+name+" = v."+name)
		case p.findAny(c.from, c.to, "?") >= 0:
			return "", false
		default:
			// Qualified, so that a column of the rows of the same name
			// does not make it ambiguous.
			cond, _, ok := p.setExpr(c, table, "")
			if !ok {
				return "", false
			}
			on = append(on, cond)
		}
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[bare(c)] {
			return "", false
		}
		seen[bare(c)] = true
	}
	list := strings.Join(cols, ", ")
	qs := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	return fmt.Sprintf("with v(%s) as (select %s from %s where false union all select %s union all select %s union all ...) update %s set %s from v where %s",
		list, list, table, qs, qs, table, strings.Join(sets, ", "), strings.Join(on, " and ")), len(on) > 0
}
