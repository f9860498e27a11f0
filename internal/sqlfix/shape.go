package sqlfix

import (
	"slices"
	"strings"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// A parsed shape is cut into tokens, each with its offsets and parenthesis
// depth, enough to rewrite a simple statement. Its text writes each
// Constant as "…", so that every rewrite carries constants as such.
type parsed struct {
	s       string
	toks    []token
	vals    []Value // of each value token, in order
	dialect sqlnorm.Dialect
}

type token struct {
	t          string
	start, end int
	depth      int
	val        int // for a "?" or "…", its index among the values; else -1
}

// span is a run of tokens [from, to).
type span struct{ from, to int }

// constant is how a fix writes a Constant.
const constant = "…"

// parse returns l's shape parsed, or nil for a shape that no rewrite
// takes: one cut short, or of several statements, or one whose "?" are
// not the values l describes.
func parse(l Loop) *parsed {
	if l.Dialect == sqlnorm.SQLite && strings.Contains(l.Shape, "[") {
		return nil // a [name], which sqlnorm.Token does not read
	}
	var b strings.Builder
	n, last := 0, 0
	for i := 0; i < len(l.Shape); {
		tok, next := sqlnorm.Token(l.Shape, i)
		switch tok {
		case "":
			i = len(l.Shape)
			continue
		case constant, ";":
			return nil
		case "?":
			if n < len(l.Values) && l.Values[n] == Constant {
				b.WriteString(l.Shape[last : next-1])
				b.WriteString(constant)
				last = next
			}
			n++
		}
		i = next
	}
	if l.Values != nil && n != len(l.Values) {
		return nil
	}
	b.WriteString(l.Shape[last:])
	vals := make([]Value, n)
	copy(vals, l.Values)
	p := tokenize(b.String(), vals, l.Dialect)
	if len(p.toks) < 2 {
		return nil
	}
	return p
}

// tokenize cuts the text s, whose value tokens have vals, into tokens.
func tokenize(s string, vals []Value, d sqlnorm.Dialect) *parsed {
	p := &parsed{s: s, dialect: d, vals: vals}
	depth, v := 0, 0
	for i := 0; i < len(s); {
		tok, next := sqlnorm.Token(s, i)
		if tok == "" {
			break
		}
		if tok == ")" || tok == "]" {
			depth--
		}
		t := token{t: tok, start: next - len(tok), end: next, depth: depth, val: -1}
		if tok == "?" || tok == constant {
			t.val = v
			v++
		}
		p.toks = append(p.toks, t)
		if tok == "(" || tok == "[" {
			depth++
		}
		i = next
	}
	return p
}

// value returns what the loop had at the value token i.
func (p *parsed) value(i int) Value {
	if v := p.toks[i].val; v < len(p.vals) {
		return p.vals[v]
	}
	return Unknown
}

// varied returns the value tokens in sp whose values varied.
func (p *parsed) varied(sp span) []int {
	var out []int
	for i := sp.from; i < sp.to; i++ {
		if p.toks[i].val >= 0 && p.value(i) == Varied {
			out = append(out, i)
		}
	}
	return out
}

// mayVary reports whether a value token in sp varied or may have.
func (p *parsed) mayVary(sp span) bool {
	for i := sp.from; i < sp.to; i++ {
		if p.toks[i].val >= 0 && (p.value(i) == Varied || p.value(i) == Unknown) {
			return true
		}
	}
	return false
}

// all is the span of every token.
func (p *parsed) all() span { return span{0, len(p.toks)} }

// text returns the shape's text of a span of tokens.
func (p *parsed) text(sp span) string {
	if sp.from >= sp.to {
		return ""
	}
	return p.s[p.toks[sp.from].start:p.toks[sp.to-1].end]
}

// find returns the first top-level token t at or after from, or -1.
func (p *parsed) find(t string, from int) int {
	for i := from; i < len(p.toks); i++ {
		if p.toks[i].depth == 0 && p.toks[i].t == t {
			return i
		}
	}
	return -1
}

// findAny returns the first token, at any depth, in [from, to) that is
// one of ts, or -1.
func (p *parsed) findAny(from, to int, ts ...string) int {
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
func (p *parsed) closing(i int) int {
	for j := i + 1; j < len(p.toks); j++ {
		if p.toks[j].depth == p.toks[i].depth && p.toks[j].t == ")" {
			return j
		}
	}
	return -1
}

// clauseEnd returns the index of the top-level token that ends the
// clause starting at from: the next clause keyword, or the end.
func (p *parsed) clauseEnd(from int) int {
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

// split cuts sp at the tokens sep at the depth of its first token.
func (p *parsed) split(sp span, sep string) []span {
	if sp.from >= sp.to {
		return nil
	}
	var out []span
	start, depth := sp.from, p.toks[sp.from].depth
	for i := sp.from; i < sp.to; i++ {
		if p.toks[i].depth == depth && p.toks[i].t == sep {
			out = append(out, span{start, i})
			start = i + 1
		}
	}
	return append(out, span{start, sp.to})
}

// replace returns the text with the bytes [start, end) replaced.
func (p *parsed) replace(start, end int, with string) string {
	return p.s[:start] + with + p.s[end:]
}

// keyPred is a "col = ?" or "col in (?)" conjunct of a WHERE clause.
type keyPred struct {
	c          span // the conjunct
	col        span
	val        int // the token of its "?"
	start, end int // byte offsets of the predicate in the text
}

// where returns the top-level WHERE clause's conjuncts; false when there
// is none or it has a top-level OR, whose precedence would change once a
// conjunct becomes a list.
func (p *parsed) where() ([]span, bool) {
	w := p.find("where", 0)
	if w < 0 {
		return nil, false
	}
	end := p.clauseEnd(w + 1)
	if i := p.find("or", w+1); i >= 0 && i < end {
		return nil, false
	}
	return p.split(span{w + 1, end}, "and"), true
}

// keyOf reads a conjunct as "name = ?" or "name in (?)", possibly in
// parentheses as bun writes them.
func (p *parsed) keyOf(c span) (keyPred, bool) {
	all := c
	if c.to-c.from >= 2 && p.toks[c.from].t == "(" && p.closing(c.from) == c.to-1 {
		c = span{c.from + 1, c.to - 1}
	}
	j := c.from
	if j < c.to && isName(p.toks[j].t) {
		j++
		for j+1 < c.to && p.toks[j].t == "." && isName(p.toks[j+1].t) {
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
	k := keyPred{c: all, col: span{c.from, j}, start: p.toks[c.from].start, end: p.toks[c.to-1].end}
	switch strings.Join(rest, " ") {
	case "= ?":
		k.val = j + 1
	case "in ( ? )":
		k.val = j + 2
	default:
		return keyPred{}, false
	}
	return k, true
}

// key finds the conjunct of the WHERE clause whose value the loop varied,
// "name = ?" or "name in (?)". Where the values were not compared, it
// takes the conjunct on a column named id, else the first. Every other
// value of the statement must have stayed the same.
func (p *parsed) key() (keyPred, bool) {
	conj, ok := p.where()
	if len(p.toks) > 0 && p.toks[0].t == "select" {
		on := p.joinOn()
		conj, ok = append(conj, on...), ok || len(on) > 0
	}
	if !ok {
		return keyPred{}, false
	}
	varied := p.varied(p.all())
	if len(varied) > 1 {
		return keyPred{}, false
	}
	var first *keyPred
	for _, c := range conj {
		k, ok := p.keyOf(c)
		if !ok {
			continue
		}
		switch v := p.value(k.val); {
		case len(varied) == 1 && k.val == varied[0]:
			return k, true
		case len(varied) == 0 && v == Unknown && isIDKey(p.text(k.col)):
			return k, true
		case len(varied) == 0 && v == Unknown && first == nil:
			first = &k
		}
	}
	if first == nil {
		return keyPred{}, false
	}
	return *first, true
}

// joinOn returns the conjuncts of the ON conditions of a query's
// top-level inner joins: a key there (GORM's many2many "join user_albums
// on user_albums.user_id = users.id and user_albums.album_id = ?")
// filters the rows as a WHERE conjunct does. An outer join's condition
// filters nothing: its rows stay, with NULLs. A condition with a
// top-level OR is left out, as the WHERE clause's is.
func (p *parsed) joinOn() []span {
	var out []span
	for i, t := range p.toks {
		if t.depth != 0 || t.t != "join" || i > 0 && slices.Contains(outerJoin, p.toks[i-1].t) {
			continue
		}
		on := -1
		for j := i + 1; j < len(p.toks) && on < 0; j++ {
			if p.toks[j].depth != 0 {
				continue
			}
			if p.toks[j].t == "on" {
				on = j
			} else if slices.Contains(joinEnds, p.toks[j].t) {
				break
			}
		}
		if on < 0 {
			continue
		}
		end := p.clauseEnd(on + 1)
		for j := on + 1; j < end; j++ {
			if p.toks[j].depth == 0 && slices.Contains(joinEnds, p.toks[j].t) {
				end = j
			}
		}
		if or := p.find("or", on+1); or >= 0 && or < end {
			continue
		}
		out = append(out, p.split(span{on + 1, end}, "and")...)
	}
	return out
}

// outerJoin holds the words before "join" that make it no inner join,
// and joinEnds those that end a join's condition.
var (
	outerJoin = []string{"left", "right", "full", "outer", "cross", "natural"}
	joinEnds  = []string{"join", "inner", "left", "right", "full", "cross", "natural", "where", "using"}
)

func isName(t string) bool {
	if t == "" || t == "and" || t == "or" || t == "not" || t == constant {
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

// qualifier returns the part of a column reference before its name: "u"
// of u.id, or "".
func qualifier(col string) string {
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		return col[:i]
	}
	return ""
}
