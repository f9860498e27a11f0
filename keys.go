package querytrace

import "strings"

// The normalizer collapses an IN list or a VALUES list to one item, so
// that a statement's chunks share a shape; how many keys a chunk carried
// is read from the text of a group's first execution. It is read once per
// group, never per statement.

// minBatchKeys is how many keys (IN-list items, VALUES rows) one
// execution must carry for a repeated statement to be a batch run in
// chunks rather than an N+1: loading 250 ids 100 at a time is the fix,
// not the problem.
const minBatchKeys = 10

// listShape reports whether a shape has a list whose length the shape
// does not tell.
func listShape(shape string) bool {
	return strings.Contains(shape, " in (") || strings.Contains(shape, "values (")
}

// countKeys returns the length of the longest IN list or VALUES list of
// the statement: the items of "in (?, ?, ?)", the rows of
// "values (?, ?), (?, ?)". Subqueries ("in (select ...)") are no list.
// Quoted text and comments are skipped.
func countKeys(sql string) int {
	best := 0
	for i := 0; i < len(sql); {
		w, next := nextWord(sql, i)
		if w == "" {
			break
		}
		i = next
		switch {
		case strings.EqualFold(w, "in"):
			j := skipSpace(sql, i)
			if j < len(sql) && sql[j] == '(' {
				if n, ok := listItems(sql, j); ok {
					best = max(best, n)
				}
			}
		case strings.EqualFold(w, "values"):
			best = max(best, valuesRows(sql, i))
		}
	}
	return best
}

// nextWord returns the next word of sql at or after i outside quotes and
// comments, and where it ends.
func nextWord(sql string, i int) (string, int) {
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i)
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(sql)
			}
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			return sql[i:j], j
		default:
			i++
		}
	}
	return "", len(sql)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

func skipSpace(sql string, i int) int {
	for i < len(sql) && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r') {
		i++
	}
	return i
}

// skipQuoted returns the index after the quoted text that starts at i,
// a doubled quote standing for itself.
func skipQuoted(sql string, i int) int {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// listItems counts the top-level items of the parenthesized list that
// opens at sql[open], and tells whether it is a list (not a subquery).
func listItems(sql string, open int) (int, bool) {
	if w, _ := nextWord(sql, open+1); strings.EqualFold(w, "select") || strings.EqualFold(w, "with") {
		return 0, false
	}
	n, _ := items(sql, open)
	return n, true
}

// items counts the top-level comma-separated items of the parenthesized
// list that opens at sql[open], and returns the index after its close.
func items(sql string, open int) (int, int) {
	depth, n, empty := 0, 1, true
	for i := open; i < len(sql); {
		switch c := sql[i]; c {
		case '\'', '"', '`':
			i = skipQuoted(sql, i)
			empty = false
			continue
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if empty {
					return 0, i + 1
				}
				return n, i + 1
			}
		case ',':
			if depth == 1 {
				n++
			}
		case ' ', '\t', '\n', '\r':
		default:
			empty = false
		}
		i++
	}
	return n, len(sql)
}

// valuesRows counts the rows of the VALUES list that follows sql[i].
func valuesRows(sql string, i int) int {
	rows := 0
	for {
		i = skipSpace(sql, i)
		if i >= len(sql) || sql[i] != '(' {
			return rows
		}
		_, i = items(sql, i)
		rows++
		i = skipSpace(sql, i)
		if i >= len(sql) || sql[i] != ',' {
			return rows
		}
		i++
	}
}
