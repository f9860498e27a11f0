package sqlnorm

import "strings"

// Statements returns how many statements a shape holds: one more than the
// ";" tokens between them, as a shape never ends in one.
func Statements(shape string) int {
	if strings.IndexByte(shape, ';') < 0 {
		return 1
	}
	n := 1
	for i := 0; i < len(shape); {
		var tok string
		if tok, i = Token(shape, i); tok == ";" {
			n++
		}
	}
	return n
}

// Token returns the token of shape at i and the offset after it.
// Shapes are canonical, so a tiny scanner suffices. Each "?" token is a
// value of Info.Values, in order, but in a SQLite shape with a [name],
// which Token reads as punctuation.
func Token(s string, i int) (tok string, next int) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) {
		return "", i
	}
	start := i
	switch c := s[i]; {
	case c == '"' || c == '`':
		i++
		for i < len(s) {
			if s[i] == c {
				if i+1 < len(s) && s[i+1] == c {
					i += 2
					continue
				}
				i++
				break
			}
			i++
		}
	case isIdentChar(c) || c == '@':
		for i < len(s) && (isIdentChar(s[i]) || s[i] == '@') {
			i++
		}
	case c == '?' && i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '&'):
		i += 2 // PostgreSQL's ?| and ?&: a value is never written so
	default:
		i++
	}
	return s[start:i], i
}

// HasWord reports whether shape holds the word w (a keyword, in lower
// case, or a name) as a token.
func HasWord(shape, w string) bool {
	for tok, i := Token(shape, 0); tok != ""; tok, i = Token(shape, i) {
		if tok == w {
			return true
		}
	}
	return false
}

// KeyLists returns a bit for each "?" of shape, among the first MaxValues
// (bit i for Info.Values[i]), that stands for a list of keys: the one item
// of "in (?)", or the array of "any(?)".
func KeyLists(shape string) uint32 {
	var bits uint32
	var before [2]string // the two tokens before the current one
	n := 0
	for i := 0; ; {
		var tok string
		if tok, i = Token(shape, i); tok == "" {
			return bits
		}
		if tok == "?" {
			if next, _ := Token(shape, i); next == ")" && before[1] == "(" &&
				(before[0] == "in" || before[0] == "any") && n < MaxValues {
				bits |= 1 << n
			}
			n++
		}
		before[0], before[1] = before[1], tok
	}
}

// Verb returns the kind of the main statement of a shape: "select",
// "insert", "update", "delete", "begin", "commit", "rollback", "savepoint",
// "release" or "set", or "other". For WITH it is the verb after the common
// table expressions.
func Verb(shape string) string {
	tok, i := Token(shape, 0)
	for tok == "(" {
		tok, i = Token(shape, i)
	}
	switch tok {
	case "select", "insert", "update", "delete", "begin", "commit", "rollback",
		"savepoint", "release", "set":
		return tok
	case "replace":
		return "insert"
	case "start":
		if t, _ := Token(shape, i); t == "transaction" {
			return "begin"
		}
	case "end":
		return "commit"
	case "abort":
		return "rollback"
	case "with":
		depth := 0
		for i < len(shape) {
			tok, i = Token(shape, i)
			switch tok {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
			case "select", "insert", "update", "delete":
				if depth == 0 {
					return tok
				}
			case ";":
				return "other"
			}
		}
	}
	return "other"
}

// Tables returns the names that follow FROM, JOIN, INTO and UPDATE in a
// shape, without quotes, deduplicated, in order of appearance.
func Tables(shape string) []string {
	type level struct {
		fn       bool // inside a function call's parentheses
		fromList bool // in a FROM list, where "," introduces another table
	}
	var (
		tables  []string
		stack   = []level{{}}
		expect  bool // the next name is a table
		isFrom  bool // ... and may be a function call, which is not
		prevTok string
	)
	for i := 0; i < len(shape); {
		var tok string
		tok, i = Token(shape, i)
		if tok == "" {
			break
		}
		start := i - len(tok)
		top := &stack[len(stack)-1]
		switch {
		case tok == "(" || tok == "[":
			fn := start > 0 && shape[start-1] != ' ' && shape[start-1] != '(' && (isIdentChar(shape[start-1]) || shape[start-1] == '"' || shape[start-1] == '`')
			stack = append(stack, level{fn: fn && !expect})
			expect = false
		case tok == ")" || tok == "]":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			expect = false
		case tok == ",":
			expect = top.fromList
			isFrom = true
		case expect && (isIdentStart(tok[0]) || tok[0] == '"' || tok[0] == '`' || isDigit(tok[0])):
			switch tok {
			case "only", "lateral", "ignore", "low_priority", "quick", "table", "delayed", "high_priority":
				continue
			}
			expect = false
			name, j := readName(shape, tok, i)
			if isFrom && j < len(shape) && shape[j] == '(' {
				i = j // a table function such as unnest(?)
				continue
			}
			i = j
			tables = appendUnique(tables, name)
		case tok == "from":
			if !top.fn && prevTok != "distinct" {
				expect, isFrom, top.fromList = true, true, true
			}
		case tok == "join" || tok == "straight_join":
			if !top.fn {
				expect, isFrom, top.fromList = true, true, false
			}
		case tok == "into":
			if !top.fn {
				expect, isFrom, top.fromList = true, false, false
			}
		case tok == "update":
			if !top.fn && prevTok != "for" && prevTok != "key" && prevTok != "do" {
				expect, isFrom, top.fromList = true, false, false
			}
		default:
			expect = false
			switch tok {
			case "where", "group", "order", "limit", "having", "union", "intersect",
				"except", "window", "on", "using", "set", "returning", "for", "offset",
				"fetch", "values", "select", "natural", "left", "right", "inner",
				"outer", "cross", "full", "as", ";":
				if tok != "as" {
					top.fromList = false
				}
			}
		}
		prevTok = tok
	}
	return tables
}

// readName reads a possibly qualified name whose first part is tok and
// returns it without quotes, and the offset after it.
func readName(shape, tok string, i int) (string, int) {
	start := i - len(tok)
	simple := tok[0] != '"' && tok[0] != '`'
	parts := []string{tok}
	for i < len(shape) && shape[i] == '.' && i+1 < len(shape) {
		t, j := Token(shape, i+1)
		if t == "" || !(isIdentChar(t[0]) || t[0] == '"' || t[0] == '`') {
			break
		}
		if t[0] == '"' || t[0] == '`' {
			simple = false
		}
		parts = append(parts, t)
		i = j
	}
	if simple {
		return shape[start:i], i
	}
	var b strings.Builder
	for k, p := range parts {
		if k > 0 {
			b.WriteByte('.')
		}
		if len(p) >= 2 && (p[0] == '"' || p[0] == '`') && p[len(p)-1] == p[0] {
			q := p[:1]
			b.WriteString(strings.ReplaceAll(p[1:len(p)-1], q+q, q))
		} else {
			b.WriteString(p)
		}
	}
	return b.String(), i
}

func appendUnique(list []string, s string) []string {
	for _, t := range list {
		if t == s {
			return list
		}
	}
	return append(list, s)
}

// MentionsTable reports whether shape names table, alone or
// schema-qualified, ignoring case: what allow-lists and test budgets
// filter by.
func MentionsTable(shape, table string) bool {
	for _, t := range Tables(shape) {
		if strings.EqualFold(t, table) || (len(t) > len(table) && t[len(t)-len(table)-1] == '.' && strings.EqualFold(t[len(t)-len(table):], table)) {
			return true
		}
	}
	return false
}
