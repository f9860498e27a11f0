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
	dollar   = regexp.MustCompile(`\$[0-9]+`)
	valueRow = regexp.MustCompile(`\((\?(?:, \?)*)\), \((\?(?:, \?)*)\), \.\.\.`)
	unionRow = regexp.MustCompile(`select (\?(?:, \?)*) union all select (\?(?:, \?)*) union all \.\.\.`)
	marks    = regexp.MustCompile(`in \(\.\.\.\)|any\(\?\)|\?`)
)

// Fill returns stmt with its placeholders filled for the executions of a
// loop, each given by the values of its placeholders in order, and the
// arguments to run it with. A statement numbered $1, $2, ... stays so.
func Fill(stmt string, execs [][]any) (string, []any, error) {
	if len(execs) == 0 {
		return "", nil, fmt.Errorf("no executions")
	}
	pg := dollar.MatchString(stmt)
	s := dollar.ReplaceAllString(stmt, "?")
	var args []any
	if m := valueRow.FindStringSubmatchIndex(s); m != nil {
		s, args = rows(s, m, execs, func(row string) string { return "(" + row + ")" }, ", ")
	} else if m := unionRow.FindStringSubmatchIndex(s); m != nil {
		s, args = rows(s, m, execs, func(row string) string { return "select " + row }, " union all ")
	}
	if args != nil {
		if n := strings.Count(s, "?"); n != len(args) {
			return "", nil, fmt.Errorf("%d placeholders for %d values in %s", n, len(args), s)
		}
	} else {
		key := Key(execs)
		if key < 0 {
			return "", nil, fmt.Errorf("not exactly one argument varies across the executions")
		}
		var keys []any
		seen := map[string]bool{}
		for _, e := range execs {
			if k := Format(e[key]); !seen[k] {
				seen[k] = true
				keys = append(keys, e[key])
			}
		}
		consts := slices.Delete(slices.Clone(execs[0]), key, key+1)
		var err error
		s = marks.ReplaceAllStringFunc(s, func(m string) string {
			switch m {
			case "in (...)":
				args = append(args, keys...)
				return "in (" + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + ")"
			case "any(?)":
				args = append(args, array(keys))
				return m
			}
			if len(consts) == 0 {
				err = fmt.Errorf("more placeholders than the loop's values in %s", stmt)
				return m
			}
			args = append(args, consts[0])
			consts = consts[1:]
			return m
		})
		if err != nil {
			return "", nil, err
		}
	}
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

// rows expands the row template at match m to one row per execution.
func rows(s string, m []int, execs [][]any, row func(string) string, sep string) (string, []any) {
	if s[m[2]:m[3]] != s[m[4]:m[5]] {
		return s, nil
	}
	one := row(s[m[2]:m[3]])
	var args []any
	list := make([]string, len(execs))
	for i, e := range execs {
		list[i] = one
		args = append(args, e...)
	}
	return s[:m[0]] + strings.Join(list, sep) + s[m[1]:], args
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
// fix's result. The fix may add the key column and a last "rn" column,
// which do not count. A key without rows in the fix's result matches a
// loop that read no rows, or an aggregate of nothing: one row of zeros
// and NULLs.
func ByKey(loop map[string]Table, fix Table, key string) error {
	var width int
	for _, t := range loop {
		width = len(t.Cols)
		if slices.Contains(t.Cols, "rn") {
			width = -1
		}
	}
	cols := fix.Cols
	if width >= 0 && len(cols) > width && cols[len(cols)-1] == "rn" {
		cols = cols[:len(cols)-1]
	}
	k := slices.Index(cols, key)
	if k < 0 {
		return fmt.Errorf("no column %q in the fix's result %q", key, fix.Cols)
	}
	drop := -1
	switch len(cols) {
	case width:
	case width + 1:
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
