// Package fixcheck runs the statement of a querytrace fix with the values
// the loop it replaces used, and compares what it returns with what the
// loop read, so that tests can hold every suggested fix to its promise:
// paste it, fill it in, run it, get the loop's rows.
//
// It knows the placeholder conventions of querytrace's fixes: "in (...)"
// or "= any($n)" takes every key of the loop, a row template followed by
// "..." takes one row per execution, and any other placeholder the value
// the loop passed at the same position.
package fixcheck

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Statement returns the SQL statement of a finding's fix ("what to do:
// statement; note"), or "" when the fix is prose.
func Statement(fix string) string {
	i := strings.Index(fix, ": ")
	if i < 0 {
		return ""
	}
	s := fix[i+2:]
	if j := strings.Index(s, "; "); j >= 0 {
		s = s[:j]
	}
	for _, verb := range []string{"select ", "insert ", "update ", "delete ", "with "} {
		if strings.HasPrefix(s, verb) {
			return s
		}
	}
	return ""
}

var (
	dollar = regexp.MustCompile(`\$[0-9]+`)
	marks  = regexp.MustCompile(`in \(\.\.\.\)|any\(\?\)|\?|\x00`)
)

// Fill returns stmt with its placeholders filled for the executions of a
// loop, each given by the values of its placeholders in order, and the
// arguments to run it with; consts are the literals of the loop's text
// that the fix writes as "…", in order. A statement numbered $1, $2, ...
// stays so.
func Fill(stmt string, execs [][]any, consts ...string) (string, []any, error) {
	if len(execs) == 0 {
		return "", nil, fmt.Errorf("no executions")
	}
	pg := dollar.MatchString(stmt)
	s := dollar.ReplaceAllString(stmt, "?")
	if n := strings.Count(s, "…"); n != len(consts) {
		return "", nil, fmt.Errorf("%d constants for %d … in %s", len(consts), n, stmt)
	}
	for _, c := range consts {
		s = strings.Replace(s, "…", c, 1)
	}
	varying := Varying(execs)
	var rowArgs []any
	rest := slices.Clone(execs[0])
	if m := template(s); m != nil {
		if s, rowArgs, rest = rows(s, m, execs, varying); s == "" {
			return "", nil, fmt.Errorf("the row template of %s takes neither the varying values nor all", stmt)
		}
	}
	var keys []any
	if rowArgs == nil && len(varying) == 1 {
		seen := map[string]bool{}
		for _, e := range execs {
			if k := Format(e[varying[0]]); !seen[k] {
				seen[k] = true
				keys = append(keys, e[varying[0]])
			}
		}
		rest = slices.Delete(rest, varying[0], varying[0]+1)
	}
	arrays := slices.ContainsFunc(execs[0], isSlice)
	var args []any
	var err error
	pos := 0
	s = marks.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case arrays && (m == "?" || m == "any(?)"):
			// A statement that takes arrays takes every execution's.
			if pos >= len(execs[0]) {
				err = fmt.Errorf("more placeholders than the loop's values in %s", stmt)
				return m
			}
			args = append(args, joined(execs, pos))
			pos++
			return m
		case m == "\x00":
			args = append(args, rowArgs...)
			return ""
		case m == "in (...)" || m == "any(?)":
			if keys == nil {
				err = fmt.Errorf("not exactly one argument varies across the executions")
				return m
			}
			if m == "any(?)" {
				args = append(args, array(keys))
				return m
			}
			args = append(args, keys...)
			return "in (" + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + ")"
		}
		if len(rest) == 0 {
			err = fmt.Errorf("more placeholders than the loop's values in %s", stmt)
			return m
		}
		args = append(args, rest[0])
		rest = rest[1:]
		return m
	})
	if err != nil {
		return "", nil, err
	}
	s = strings.ReplaceAll(s, "\x01", "?")
	if pg {
		n := 0
		s = marks.ReplaceAllStringFunc(s, func(m string) string {
			if m != "?" && m != "any(?)" {
				return m
			}
			n++
			return strings.Replace(m, "?", "$"+strconv.Itoa(n), 1)
		})
	}
	return s, args, nil
}

// A rowTemplate is where a statement has "(row), (row), ..." or "select
// row union all select row union all ...": the offsets of all of it, of
// its first row (which may name the columns) and of the row every other
// execution's copies.
type rowTemplate struct {
	start, end             int
	first, firstEnd        int
	row, rowEnd            int
	open, close, separator string
}

// template finds the row template of s, or returns nil.
func template(s string) *rowTemplate {
	if i := strings.Index(s, "), ..."); i >= 0 {
		t := &rowTemplate{end: i + len("), ..."), rowEnd: i, open: "(", close: ")", separator: ", "}
		t.row = opening(s, i) + 1
		if t.row <= 2 || s[t.row-4:t.row-1] != "), " {
			return nil
		}
		t.firstEnd = t.row - 4
		t.first = opening(s, t.firstEnd) + 1
		t.start = t.first - 1
		return t
	}
	if i := strings.Index(s, " union all ..."); i >= 0 {
		t := &rowTemplate{end: i + len(" union all ..."), rowEnd: i, open: "select ", separator: " union all "}
		t.row = strings.LastIndex(s[:i], "select ") + len("select ")
		t.firstEnd = t.row - len("select ") - len(" union all ")
		t.first = strings.LastIndex(s[:t.firstEnd], "select ") + len("select ")
		t.start = t.first - len("select ")
		return t
	}
	return nil
}

// opening returns the index of the "(" that the ")" at i closes.
func opening(s string, i int) int {
	depth := 0
	for j := i; j >= 0; j-- {
		switch s[j] {
		case ')':
			depth++
		case '(':
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

// rows expands the row template m of s to one row per execution, each
// with the values that vary across the executions or, where the template
// has a place for each, all of them. It returns the statement with the
// rows marked by a NUL for Fill, their values, and the values of the first
// execution left for the other placeholders; "" when the template fits
// neither.
func rows(s string, m *rowTemplate, execs [][]any, varying []int) (string, []any, []any) {
	tmpl := s[m.row:m.rowEnd]
	n := strings.Count(tmpl, "?")
	take := varying
	if n != len(varying) {
		if n != len(execs[0]) {
			return "", nil, nil
		}
		take = nil
		for i := range execs[0] {
			take = append(take, i)
		}
	}
	var args []any
	list := make([]string, len(execs))
	for i, e := range execs {
		list[i] = m.open + tmpl + m.close
		if i == 0 {
			list[i] = m.open + s[m.first:m.firstEnd] + m.close
		}
		for _, k := range take {
			args = append(args, e[k])
		}
	}
	var rest []any
	for i, v := range execs[0] {
		if !slices.Contains(take, i) {
			rest = append(rest, v)
		}
	}
	// The placeholders of the rows are counted apart.
	body := strings.ReplaceAll(strings.Join(list, m.separator), "?", "\x01")
	return s[:m.start] + "\x00" + body + s[m.end:], args, rest
}

// Varying returns the positions of the arguments whose values differ
// across the executions of a loop.
func Varying(execs [][]any) []int {
	var out []int
	for i := range execs[0] {
		for _, e := range execs[1:] {
			if Format(e[i]) != Format(execs[0][i]) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// isSlice reports whether v is an array: a slice, or the text of a
// PostgreSQL array ("{a,b}").
func isSlice(v any) bool {
	switch v := v.(type) {
	case []int64, []string:
		return true
	case string:
		return strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}")
	}
	return false
}

// joined returns the arrays of every execution at position i joined into
// one, or the first execution's value when it is no array.
func joined(execs [][]any, i int) any {
	switch v := execs[0][i].(type) {
	case []int64:
		var out []int64
		for _, e := range execs {
			out = append(out, e[i].([]int64)...)
		}
		return out
	case []string:
		var out []string
		for _, e := range execs {
			out = append(out, e[i].([]string)...)
		}
		return out
	case string:
		if !isSlice(v) {
			return v
		}
		var items []string
		for _, e := range execs {
			if a := strings.Trim(e[i].(string), "{}"); a != "" {
				items = append(items, a)
			}
		}
		return "{" + strings.Join(items, ",") + "}"
	default:
		return v
	}
}

// Key returns the position of the one argument whose value differs across
// the executions of a loop, or -1.
func Key(execs [][]any) int {
	key := -1
	for i := range execs[0] {
		for _, e := range execs[1:] {
			if Format(e[i]) != Format(execs[0][i]) {
				if key >= 0 && key != i {
					return -1
				}
				key = i
			}
		}
	}
	return key
}

// array returns keys as one slice of their type, which pgx sends as a
// PostgreSQL array.
func array(keys []any) any {
	switch keys[0].(type) {
	case string:
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k.(string)
		}
		return out
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i], _ = strconv.ParseInt(Format(k), 10, 64)
	}
	return out
}

// Format renders a value the same way whichever driver returned it.
func Format(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// A Table is a result: its column names and rows, each value formatted.
type Table struct {
	Cols []string
	Rows [][]string
}

// Query runs a statement and returns its result.
func Query(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, args ...any) (Table, error) {
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return Table{}, err
	}
	return Collect(rs)
}

// Collect reads and closes rs.
func Collect(rs *sql.Rows) (Table, error) {
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return Table{}, err
	}
	t := Table{Cols: cols}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return Table{}, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = Format(v)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, rs.Err()
}

// Same reports, as an error, how two results differ as multisets of rows.
func Same(loop, fix Table) error {
	a, b := sorted(loop.Rows), sorted(fix.Rows)
	if !slices.Equal(a, b) {
		return fmt.Errorf("rows differ:\nloop %q\n fix %q", a, b)
	}
	return nil
}

func sorted(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	slices.Sort(out)
	return out
}

// ByKey checks that a fix returned, for each key the loop went over,
// exactly the rows the loop read for it. loop maps each key (formatted)
// to the rows of its execution; key is the name of the key column in the
// fix's result. The fix returns the loop's columns, and may add the key
// column in front, so that a Scan into the loop's fields needs only the
// key more. A key without rows in the fix's result matches a loop that
// read no rows, or an aggregate of nothing: one row of zeros and NULLs.
func ByKey(loop map[string]Table, fix Table, key string) error {
	var width int
	for _, t := range loop {
		width = len(t.Cols)
	}
	cols := fix.Cols
	k := slices.Index(cols, key)
	if k < 0 {
		return fmt.Errorf("no column %q in the fix's result %q", key, fix.Cols)
	}
	drop := -1
	switch len(cols) {
	case width:
	case width + 1:
		if k != 0 {
			return fmt.Errorf("the fix returns columns %q: the key %q is not first", fix.Cols, key)
		}
		drop = k
	default:
		return fmt.Errorf("the fix returns columns %q, the loop %d columns", fix.Cols, width)
	}
	got := map[string][][]string{}
	for _, r := range fix.Rows {
		r = r[:len(cols)]
		kv := r[k]
		if drop >= 0 {
			r = slices.Delete(slices.Clone(r), drop, drop+1)
		}
		got[kv] = append(got[kv], r)
	}
	for kv, t := range loop {
		rows, ok := got[kv]
		if !ok && empty(t.Rows) {
			continue
		}
		if a, b := sorted(t.Rows), sorted(rows); !slices.Equal(a, b) {
			return fmt.Errorf("key %s: loop read %q, the fix returned %q", kv, a, b)
		}
		delete(got, kv)
	}
	if len(got) > 0 {
		return fmt.Errorf("the fix returned rows for keys the loop did not read: %v", got)
	}
	return nil
}

// empty reports whether rows are what a loop reads for a key without rows.
func empty(rows [][]string) bool {
	if len(rows) == 0 {
		return true
	}
	if len(rows) > 1 {
		return false
	}
	for _, v := range rows[0] {
		if v != "0" && v != "NULL" {
			return false
		}
	}
	return true
}
