package sqlfix

import (
	"slices"
	"strconv"
	"strings"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

const allRows = "one query for all rows"

// in returns the predicate that takes every key of col.
func (p *parsed) in(col string) string {
	if p.dialect == sqlnorm.Postgres {
		return col + " = any(?)"
	}
	return col + " in (...)"
}

// selectList returns the select list's first token after SELECT
// [DISTINCT], its items and the index of FROM.
func (p *parsed) selectList() (first int, items []span, from int, ok bool) {
	from = p.find("from", 0)
	if p.toks[0].t != "select" || from < 2 {
		return 0, nil, 0, false
	}
	first = 1
	if t := p.toks[1].t; t == "distinct" || t == "all" {
		first = 2
	}
	if first >= from {
		return 0, nil, 0, false
	}
	items = p.split(span{first, from}, ",")
	for _, it := range items {
		if it.from >= it.to {
			return 0, nil, 0, false // "select , from": no statement to rewrite
		}
	}
	return first, items, from, true
}

// itemName returns the name a select item's column goes by, or "".
func (p *parsed) itemName(it span) string {
	n := it.to - it.from
	if n >= 3 && p.toks[it.to-2].t == "as" && isName(p.toks[it.to-1].t) {
		return p.toks[it.to-1].t
	}
	for i := it.from; i < it.to; i++ {
		if (i-it.from)%2 == 0 && !isName(p.toks[i].t) || (i-it.from)%2 == 1 && p.toks[i].t != "." {
			return ""
		}
	}
	if n%2 == 0 {
		return ""
	}
	return p.toks[it.to-1].t
}

// isStar reports whether a select item is "*" or "t.*".
func (p *parsed) isStar(it span) bool {
	t := p.text(it)
	return t == "*" || strings.HasSuffix(t, ".*")
}

// hasColumn reports whether the select items return the column col.
func (p *parsed) hasColumn(items []span, col string) bool {
	short, qual := bare(shortName(col)), qualifier(col)
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

// aggregate reports whether the select list sp calls an aggregate
// function; one with OVER is a window function and returns a row per row.
func (p *parsed) aggregate(sp span) bool {
	for i := sp.from; i+1 < sp.to; i++ {
		switch p.toks[i].t {
		case "count", "sum", "avg", "min", "max", "total", "group_concat", "string_agg", "array_agg", "json_agg",
			"jsonb_agg", "bool_and", "bool_or", "every":
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

// selectFix rewrites a per-key query into one for every key, which
// returns each row with its key so that rows can be matched to keys.
func (p *parsed) selectFix() (Fix, bool) {
	if f, ok := p.arrays(); ok {
		return f, true
	}
	first, items, from, ok := p.selectList()
	if !ok || p.findAny(1, from, "select") >= 0 {
		return Fix{}, false
	}
	for _, t := range []string{"union", "intersect", "except"} {
		if p.find(t, 0) >= 0 {
			return Fix{}, false
		}
	}
	pred, ok := p.key()
	if !ok || pred.c.from < from {
		return Fix{}, false // a WHERE before FROM: no query to rewrite
	}
	col := p.text(pred.col)
	limit := p.find("limit", 0)
	paged := p.find("offset", 0) >= 0 || p.find("fetch", 0) >= 0
	grouped := p.find("group", 0) >= 0
	switch {
	case p.aggregate(span{first, from}):
		if limit >= 0 {
			// One row per key, with or without the LIMIT; over every
			// key the LIMIT would cut groups.
			if grouped || paged {
				return Fix{}, false
			}
			return p.withoutLimit(limit).selectFix()
		}
		return Fix{Do: allRows, SQL: p.groupBy(pred, first, items)}, true
	case limit < 0 && !paged:
		s, ok := p.inList(pred, first, from, items)
		f := Fix{Do: allRows, SQL: s}
		if tables := sqlnorm.Tables(p.s); len(tables) > 0 {
			f.Join = tables[0]
		}
		return f, ok
	case isIDKey(col) && p.oneTable(from) && limit >= 0 && !paged:
		f, ok := p.withoutLimit(limit).selectFix()
		f.Notes = append(f.Notes, "one row per id, so no LIMIT")
		return f, ok
	case p.dialect == sqlnorm.Postgres:
		return p.lateral(pred, first, from, items)
	case paged:
		return Fix{}, false
	case slices.ContainsFunc(items, p.isStar):
		return p.byID(pred, first, items, from, limit)
	}
	s, ok := p.window(pred, first, items, from, limit)
	return Fix{Do: allRows, SQL: s}, ok
}

// selectText returns the text of the select list [first, from) with each
// window cut per key as each execution of the loop cut it: "over ()"
// becomes "over (partition by col)". A named window is not rewritten.
func (p *parsed) selectText(first, from int, col string) (string, bool) {
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
func (p *parsed) oneTable(from int) bool {
	end := p.clauseEnd(from + 1)
	if w := p.find("where", from); w >= 0 && w < end {
		end = w
	}
	return p.findAny(from+1, end, "join", ",") < 0
}

// withoutLimit returns p without its LIMIT clause at token l, and
// without the LIMIT's values.
func (p *parsed) withoutLimit(l int) *parsed {
	s := strings.TrimRight(p.s[:p.toks[l].start], " ")
	e := p.clauseEnd(l + 1)
	if e < len(p.toks) {
		s += " " + p.s[p.toks[e].start:]
	}
	var vals []Value
	for i, t := range p.toks {
		if t.val >= 0 && (i < l || i >= e) {
			vals = append(vals, p.vals[t.val])
		}
	}
	return tokenize(s, vals, p.dialect)
}

// groupBy rewrites a per-key aggregate into one grouped by the key: the
// key joins the select list, the predicate takes every key, and the key is
// grouped by.
func (p *parsed) groupBy(pred keyPred, first int, items []span) string {
	col := p.text(pred.col)
	ls := p.toks[first].start
	var b strings.Builder
	b.WriteString(p.s[:ls])
	if !p.hasColumn(items, col) {
		b.WriteString(col + ", ")
	}
	b.WriteString(p.s[ls:pred.start])
	b.WriteString(p.in(col))
	end := p.clauseEnd(p.find("where", 0) + 1)
	if end+1 < len(p.toks) && p.toks[end].t == "group" && p.toks[end+1].t == "by" {
		// Already grouped: add the key to the grouping.
		by := end + 1
		b.WriteString(p.s[pred.end:p.toks[by].end])
		if !slices.ContainsFunc(p.split(span{by + 1, p.clauseEnd(by + 1)}, ","), func(it span) bool { return p.text(it) == col }) {
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
func (p *parsed) inList(pred keyPred, first, from int, items []span) (string, bool) {
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
	b.WriteString(p.in(col))
	b.WriteString(p.s[pred.end:])
	return b.String(), true
}

// lateral rewrites a per-key "... limit ?" on PostgreSQL into the loop's
// own query run per key, for every key at once: it returns the loop's
// columns, with the key in front when they lack it.
func (p *parsed) lateral(pred keyPred, first, from int, items []span) (Fix, bool) {
	col := p.text(pred.col)
	w := p.find("where", 0)
	if p.findAny(from, w, "?") >= 0 {
		return Fix{}, false // the keys' query would take its values again
	}
	short := shortName(col)
	var b strings.Builder
	b.WriteString("select ")
	if !p.hasColumn(items, col) {
		b.WriteString("k." + short + ", ")
	}
	b.WriteString("q.* from (select distinct ")
	b.WriteString(col)
	b.WriteString(" " + p.text(span{from, w}) + " where ")
	b.WriteString(p.in(col))
	b.WriteString(") as k cross join lateral (")
	b.WriteString(p.s[:pred.start])
	b.WriteString(col + " = k." + short)
	b.WriteString(p.s[pred.end:])
	b.WriteString(") as q")
	return Fix{Do: allRows, SQL: b.String()}, true
}

// window rewrites a per-key "order by ... limit ?" into one query that
// numbers each key's rows in that order and keeps as many as the LIMIT
// did: row_number() runs on SQLite (3.25 on), PostgreSQL, MySQL 8 and
// MariaDB 10.2. The outer query returns the loop's columns, by name,
// with the key in front when they lack it; the row numbers stay inside.
func (p *parsed) window(pred keyPred, first int, items []span, from, limit int) (string, bool) {
	col := p.text(pred.col)
	order, end, ok := p.orderForWindow(items, limit)
	if !ok || first != 1 {
		return "", false
	}
	// Each column gets a name the outer query can take it by: its own,
	// or one given here when it has none or shares one.
	var inner, outer []string
	seen := map[string]bool{}
	addKey := !p.hasColumn(items, col)
	if addKey {
		seen[bare(shortName(col))] = true
		outer = append(outer, shortName(col))
	}
	for k, it := range items {
		text, ok := p.selectText(it.from, it.to, col)
		if !ok {
			return "", false
		}
		name := p.itemName(it)
		if name == "" || seen[bare(name)] {
			name = "col_" + strconv.Itoa(k+1)
			text += " as " + name
		}
		seen[bare(name)] = true
		inner = append(inner, text)
		outer = append(outer, name)
	}
	if seen["rn"] {
		return "", false
	}
	var b strings.Builder
	b.WriteString("select ")
	b.WriteString(strings.Join(outer, ", "))
	b.WriteString(" from (select ")
	if addKey {
		b.WriteString(col + ", ")
	}
	b.WriteString(strings.Join(inner, ", "))
	b.WriteString(", row_number() over (partition by " + col + order + ") as rn")
	b.WriteString(p.s[p.toks[from-1].end:pred.start])
	b.WriteString(p.in(col))
	b.WriteString(strings.TrimRight(p.s[pred.end:p.toks[end].start], " "))
	b.WriteString(") as q where rn <= " + p.toks[limit+1].t)
	return b.String(), true
}

// orderForWindow returns the ORDER BY of a per-key "... order by ...
// limit ?" as the window's (" order by ..."), where the clauses that go
// into the window end, and false when the query is not of that form.
func (p *parsed) orderForWindow(items []span, limit int) (string, int, bool) {
	if p.find("group", 0) >= 0 || p.find("having", 0) >= 0 || p.find("window", 0) >= 0 ||
		limit+2 != len(p.toks) || p.toks[limit+1].val < 0 {
		return "", 0, false
	}
	o := p.find("order", 0)
	if o < 0 {
		return "", limit, true
	}
	if o+2 >= limit || p.toks[o+1].t != "by" || p.findAny(o+2, limit, "?", constant) >= 0 {
		return "", 0, false
	}
	// The select list's aliases do not reach into OVER.
	for _, it := range items {
		if name := p.itemName(it); name != "" && p.findAny(o+2, limit, name) >= 0 && p.text(it) != name &&
			!strings.HasSuffix(p.text(it), "."+name) {
			return "", 0, false
		}
	}
	return " order by " + p.text(span{o + 2, limit}), o, true
}

// byID rewrites a per-key "select * ... order by ... limit ?" of one
// table, whose columns the shape does not name, into a lookup of the ids
// that the window keeps: the outer query returns the table's columns.
func (p *parsed) byID(pred keyPred, first int, items []span, from, limit int) (Fix, bool) {
	col := p.text(pred.col)
	order, end, ok := p.orderForWindow(items, limit)
	if !ok || len(items) != 1 || !p.oneTable(from) || !p.hasColumn(items, col) {
		return Fix{}, false
	}
	id := "id"
	if q := strings.TrimSuffix(p.text(items[0]), "*"); q != "" {
		id = q + "id"
	}
	var b strings.Builder
	b.WriteString(p.s[:p.toks[from].start])
	b.WriteString(p.text(span{from, p.find("where", from)}))
	b.WriteString(" where " + id + " in (select id from (select " + id + ", row_number() over (partition by " + col + order + ") as rn")
	b.WriteString(p.s[p.toks[from-1].end:pred.start])
	b.WriteString(p.in(col))
	b.WriteString(strings.TrimRight(p.s[pred.end:p.toks[end].start], " "))
	b.WriteString(") as q where rn <= " + p.toks[limit+1].t + ")")
	return Fix{Do: allRows, SQL: b.String(), Notes: []string{"id is taken for the table's primary key"}}, true
}
