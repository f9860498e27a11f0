package fixcheck

import (
	"fmt"
	"testing"
)

func TestStatement(t *testing.T) {
	for fix, want := range map[string]string{
		"one query for all rows: select id, name from users where id in (...); or a join to users in the source query": "select id, name from users where id in (...)",
		"one statement for all rows: insert into t(a) values ($1), ($2), ...; or COPY (pgx CopyFrom)":                  "insert into t(a) values ($1), ($2), ...",
		"fetch all rows in one statement: in (...) over the keys, or a join to the source query":                       "",
		"insert all rows at once with a multi-row VALUES":                                                              "",
	} {
		if got := Statement(fix); got != want {
			t.Errorf("Statement(%q) = %q, want %q", fix, got, want)
		}
	}
}

func TestFill(t *testing.T) {
	cases := []struct {
		stmt   string
		execs  [][]any
		consts []string
		want   string
		args   string
	}{
		{"select id, name from users where id in (...) and status = ?", [][]any{{1, "a"}, {2, "a"}, {1, "a"}}, nil,
			"select id, name from users where id in (?, ?) and status = ?", "[1 2 a]"},
		{"select title from (select title, row_number() over (partition by k) as rn from t where k = any($1) and s = $2) as q where rn <= $3",
			[][]any{{1, "a", 2}, {3, "a", 2}}, nil,
			"select title from (select title, row_number() over (partition by k) as rn from t where k = any($1) and s = $2) as q where rn <= $3", "[[1 3] a 2]"},
		// The dropped LIMIT of an id lookup leaves a value unused.
		{"select * from users where id = any($1)", [][]any{{1, 1}, {2, 1}}, nil, "select * from users where id = any($1)", "[[1 2]]"},
		{"insert into t(a, b) values ($1, $2), ($3, $4), ... returning id", [][]any{{1, "x"}, {2, "y"}, {3, "z"}}, nil,
			"insert into t(a, b) values ($1, $2), ($3, $4), ($5, $6) returning id", "[1 x 2 y 3 z]"},
		{"insert into t(a, b, c) values (?, …, now()), (?, …, now()), ...", [][]any{{1}, {2}}, []string{"'k'", "'k'"},
			"insert into t(a, b, c) values (?, 'k', now()), (?, 'k', now())", "[1 2]"},
		{"with v(a, id) as (select a, id from t where false union all select ?, ? union all select ?, ? union all ...) update t set a = v.a, b = ? from v where t.id = v.id and t.c = …",
			[][]any{{"x", 7, 1}, {"y", 7, 2}}, []string{"3"},
			"with v(a, id) as (select a, id from t where false union all select ?, ? union all select ?, ?) update t set a = v.a, b = ? from v where t.id = v.id and t.c = 3", "[x 1 y 2 7]"},
		{"update t join (select ? as a, ? as id union all select ?, ? union all ...) as v on t.id = v.id set t.a = v.a",
			[][]any{{"x", 1}, {"y", 2}, {"z", 3}}, nil,
			"update t join (select ? as a, ? as id union all select ?, ? union all select ?, ?) as v on t.id = v.id set t.a = v.a", "[x 1 y 2 z 3]"},
		{"select count(*) from m where … = … and id = any($1)", [][]any{{1}, {2}}, []string{"1", "1"},
			"select count(*) from m where 1 = 1 and id = any($1)", "[[1 2]]"},
		{"insert into t(a, b) select unnest($1::bigint[]), unnest($2::text[])", [][]any{{[]int64{1, 2}, []string{"a", "b"}}, {[]int64{3}, []string{"c"}}}, nil,
			"insert into t(a, b) select unnest($1::bigint[]), unnest($2::text[])", "[[1 2 3] [a b c]]"},
	}
	for _, c := range cases {
		got, args, err := Fill(c.stmt, c.execs, c.consts...)
		if err != nil || got != c.want || fmt.Sprint(args) != c.args {
			t.Errorf("Fill(%q)\n got %q %v %v\nwant %q %s", c.stmt, got, args, err, c.want, c.args)
		}
	}
	for _, c := range []struct {
		stmt   string
		execs  [][]any
		consts []string
	}{
		{"select * from t where a in (...) and b = ?", [][]any{{1, 2}, {2, 3}}, nil},
		{"select * from t where a in (...) and b = …", [][]any{{1}, {2}}, nil},
		{"insert into t(a, b) values (?), (?), ...", [][]any{{1, 2, 3}, {2, 3, 4}}, nil},
	} {
		if _, _, err := Fill(c.stmt, c.execs, c.consts...); err == nil {
			t.Errorf("Fill(%q): no error", c.stmt)
		}
	}
}
