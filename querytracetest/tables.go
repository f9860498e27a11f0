package querytracetest

import (
	"slices"
	"strings"
)

// tablesOf returns the tables a shape names after FROM, JOIN, INTO and
// UPDATE, without quotes. querytrace computes the same internally; this is
// a reading of the normalized shape good enough to filter budgets by table.
func tablesOf(shape string) []string {
	toks := shapeTokens(shape)
	var tables []string
	add := func(name string) {
		if !slices.Contains(tables, name) {
			tables = append(tables, name)
		}
	}
	call := func(j int) bool { return j+1 < len(toks) && toks[j+1].text == "(" && !toks[j+1].spaced }
	var fn []bool // per open parenthesis: is it a function call's?
	for i := 0; i < len(toks); i++ {
		switch tok := toks[i].text; tok {
		case "(":
			fn = append(fn, i > 0 && !toks[i].spaced && isName(toks[i-1].text))
		case ")":
			if len(fn) > 0 {
				fn = fn[:len(fn)-1]
			}
		case "from", "join", "into", "update":
			if len(fn) > 0 && fn[len(fn)-1] {
				continue // extract(year from t), substring(s from ?)
			}
			if i > 0 {
				switch prev := toks[i-1].text; {
				case tok == "update" && (prev == "for" || prev == "key" || prev == "do"),
					tok == "from" && prev == "distinct":
					continue
				}
			}
			list := tok == "from"
			j := i + 1
			for j < len(toks) {
				for j < len(toks) && (toks[j].text == "only" || toks[j].text == "lateral") {
					j++
				}
				if j >= len(toks) || !isName(toks[j].text) {
					break // a subquery
				}
				if (tok == "from" || tok == "join") && call(j) {
					break // a table function such as unnest(?)
				}
				add(toks[j].text)
				j++
				if !list {
					break
				}
				// Skip an alias, then continue a comma-separated list.
				if j < len(toks) && toks[j].text == "as" {
					j++
				}
				if j < len(toks) && isName(toks[j].text) && !keyword[toks[j].text] {
					j++
				}
				if j >= len(toks) || toks[j].text != "," {
					break
				}
				j++
			}
			i = j - 1
		}
	}
	return tables
}

// keyword lists the words that end a FROM list where an alias could be.
var keyword = map[string]bool{
	"where": true, "group": true, "order": true, "limit": true, "having": true,
	"union": true, "join": true, "left": true, "right": true, "inner": true,
	"outer": true, "cross": true, "full": true, "natural": true, "on": true,
	"using": true, "offset": true, "for": true, "window": true, "returning": true,
	"set": true, "values": true, "select": true, "except": true, "intersect": true,
}

// A token is a name (qualified names stay whole, quotes removed) or a
// punctuation character of a shape, and whether a space preceded it.
type token struct {
	text   string
	spaced bool
}

func shapeTokens(shape string) []token {
	var toks []token
	spaced := false
	for i := 0; i < len(shape); {
		c := shape[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
			spaced = true
			continue
		case isNameByte(c) || c == '"' || c == '`':
			var b strings.Builder
			for i < len(shape) {
				c := shape[i]
				if c == '"' || c == '`' {
					end := strings.IndexByte(shape[i+1:], c)
					if end < 0 {
						end = len(shape) - i - 1
					}
					b.WriteString(shape[i+1 : i+1+end])
					i += end + 2
				} else if isNameByte(c) || c == '.' {
					b.WriteByte(c)
					i++
				} else {
					break
				}
			}
			toks = append(toks, token{b.String(), spaced})
		default:
			toks = append(toks, token{shape[i : i+1], spaced})
			i++
		}
		spaced = false
	}
	return toks
}

func isNameByte(c byte) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

func isName(tok string) bool {
	return tok != "" && isNameByte(tok[0]) && !('0' <= tok[0] && tok[0] <= '9')
}

// hasTable reports whether shape names table, alone or schema-qualified.
func hasTable(shape, table string) bool {
	table = strings.ToLower(table)
	for _, t := range tablesOf(shape) {
		t = strings.ToLower(t)
		if t == table || strings.HasSuffix(t, "."+table) {
			return true
		}
	}
	return false
}
