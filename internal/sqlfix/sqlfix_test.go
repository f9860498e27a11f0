package sqlfix

import (
	"strings"
	"testing"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

const (
	gen   = sqlnorm.Generic
	pg    = sqlnorm.Postgres
	lite  = sqlnorm.SQLite
	mysql = sqlnorm.MySQL
)

// values reads "K S C U" as Varied, Same, Constant and Unknown, one per
// "?" of a shape.
func values(s string) []Value {
	var out []Value
	for _, f := range strings.Fields(s) {
		out = append(out, map[string]Value{"K": Varied, "S": Same, "C": Constant, "U": Unknown}[f])
	}
	return out
}

func TestFor(t *testing.T) {
	cases := []struct {
		shape string
		d     sqlnorm.Dialect
		vals  string // "" for values not compared
		want  string
	}{
		// Reads, with values not compared: the key is the id column, else
		// the first "col = ?".
		{"select count(*) from items where entry_id = ? and user_id is null", gen, "",
			"one query for all rows: select entry_id, count(*) from items where entry_id in (...) and user_id is null group by entry_id"},
		{"select count(*) from items where entry_id = ? and user_id is null", pg, "",
			"one query for all rows: select entry_id, count(*) from items where entry_id = any($1) and user_id is null group by entry_id"},
		{"select coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id = ? and r.status = ?", gen, "",
			"one query for all rows: select ri.entry_id, coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id in (...) and r.status = ? group by ri.entry_id"},
		{"select count(*) from items where user_id is null and entry_id = ? order by ?", gen, "",
			"one query for all rows: select entry_id, count(*) from items where user_id is null and entry_id in (...) group by entry_id order by ?"},
		{"select status, count(*) from requests where entry_id = ? group by status", gen, "",
			"one query for all rows: select entry_id, status, count(*) from requests where entry_id in (...) group by entry_id, status"},
		{"select entry_id, count(*) from requests where entry_id = ? group by entry_id", gen, "",
			"one query for all rows: select entry_id, count(*) from requests where entry_id in (...) group by entry_id"},
		// A window function is no aggregate: no GROUP BY, and the window
		// is cut per key as the loop's was.
		{"select id, name, count(*) over () from users where team_id = ?", gen, "",
			"one query for all rows: select team_id, id, name, count(*) over (partition by team_id) from users where team_id in (...)"},
		{"select name from users where id = ?", gen, "", "one query for all rows: select id, name from users where id in (...)"},
		{"select id, name from users where id = ?", pg, "", "one query for all rows: select id, name from users where id = any($1)"},
		{"select * from users where id = ? limit ?", pg, "", "one query for all rows: select * from users where id = any($1); one row per id, so no LIMIT"},
		{`select * from "users" where "users"."id" = ? order by "users"."id" limit ?`, pg, "",
			`one query for all rows: select * from "users" where "users"."id" = any($1) order by "users"."id"; one row per id, so no LIMIT`},
		{"select u.id, u.name from users u where u.id = ?", gen, "", "one query for all rows: select u.id, u.name from users u where u.id in (...)"},
		{`select "p"."id", "p"."title" from "posts" as "p" where ("p"."user_id" = ?)`, pg, "",
			`one query for all rows: select "p"."user_id", "p"."id", "p"."title" from "posts" as "p" where ("p"."user_id" = any($1))`},

		// Rows per key cut by a LIMIT: the loop's columns, no more.
		{"select value from readings where dial_id = ? order by taken_at desc limit ?", gen, "",
			"one query for all rows: select dial_id, value from (select dial_id, value, row_number() over (partition by dial_id order by taken_at desc) as rn from readings where dial_id in (...)) as q where rn <= ?"},
		{"select lower(name), name from users where team_id = ? order by id limit ?", mysql, "K S",
			"one query for all rows: select team_id, col_1, name from (select team_id, lower(name) as col_1, name, row_number() over (partition by team_id order by id) as rn from users where team_id in (...)) as q where rn <= ?"},
		{"select * from posts where user_id = ? and status = ? order by created_at desc limit ?", pg, "",
			"one query for all rows: select q.* from (select distinct user_id from posts where user_id = any($1)) as k cross join lateral (select * from posts where user_id = k.user_id and status = $2 order by created_at desc limit $3) as q"},
		{"select p.title from posts p join users u on u.id = p.user_id where u.team_id = ? order by p.id limit ?", pg, "K S",
			"one query for all rows: select k.team_id, q.* from (select distinct u.team_id from posts p join users u on u.id = p.user_id where u.team_id = any($1)) as k cross join lateral (select p.title from posts p join users u on u.id = p.user_id where u.team_id = k.team_id order by p.id limit $2) as q"},
		{"select * from t where a = ? order by b limit ? offset ?", pg, "",
			"one query for all rows: select q.* from (select distinct a from t where a = any($1)) as k cross join lateral (select * from t where a = k.a order by b limit $2 offset $3) as q"},
		{"select * from posts where user_id = ? and status = ? order by created_at desc limit ?", lite, "K S C",
			"one query for all rows: select * from posts where id in (select id from (select id, row_number() over (partition by user_id order by created_at desc) as rn from posts where user_id in (...) and status = ?) as q where rn <= …); id is taken for the table's primary key"},

		// Values compared: the key is the one that varied; a literal is
		// "…", never a parameter.
		{"select count(*) from memos where ? = ? and memo_id = ?", pg, "C C K",
			"one query for all rows: select memo_id, count(*) from memos where … = … and memo_id = any($1) group by memo_id"},
		{"select * from posts where ? = ? and status = ? and user_id = ? limit ?", mysql, "C C S K C",
			"one query for all rows: select * from posts where id in (select id from (select id, row_number() over (partition by user_id) as rn from posts where … = … and status = ? and user_id in (...)) as q where rn <= …); id is taken for the table's primary key"},
		{"select * from posts where status = ? and user_id = ?", gen, "S K",
			"one query for all rows: select * from posts where status = ? and user_id in (...)"},
		{"select * from posts where status = ? and user_id = ?", gen, "K K",
			"fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from posts where score > ? and user_id = ?", gen, "K S",
			"fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from posts where id = any(?)", pg, "K",
			"one query for all rows: select * from posts where id = any($1); each array holding the arrays of every execution"},

		// Writes.
		{"insert into items(entry_id, user_id) values (?, ?) returning id", pg, "",
			"one statement for all rows: insert into items(entry_id, user_id) values ($1, $2), ($3, $4), ... returning id"},
		{"insert into items(entry_id, user_id) values (?, ?)", pg, "",
			"one statement for all rows: insert into items(entry_id, user_id) values ($1, $2), ($3, $4), ...; or COPY (pgx CopyFrom)"},
		{"insert into items(entry_id, kind, made) values (?, ?, now())", mysql, "K C",
			"one statement for all rows: insert into items(entry_id, kind, made) values (?, …, now()), (?, …, now()), ..."},
		{"insert into items(entry_id, user_id) values (?, ?) on conflict (entry_id) do update set user_id = ?", pg, "",
			"insert all rows at once with a multi-row VALUES"},
		{"insert into items(entry_id, user_id) values (?, ?) on conflict (entry_id) do update set flag = ?", pg, "K K C",
			"one statement for all rows: insert into items(entry_id, user_id) values ($1, $2), ($3, $4), ... on conflict (entry_id) do update set flag = …"},
		{"insert into tags(post_id, name) select unnest(?::bigint[]), unnest(?::text[])", pg, "K K",
			"one statement for all rows: insert into tags(post_id, name) select unnest($1::bigint[]), unnest($2::text[]); each array holding the arrays of every execution"},
		{"insert into audit(post_id, who) select id, ? from posts where id = ?", gen, "S K",
			"one statement for all rows: insert into audit(post_id, who) select id, ? from posts where id in (...)"},
		{"insert into audit(n) select count(*) from posts where user_id = ?", gen, "K",
			"insert all rows in one INSERT ... SELECT: in (...) over the keys"},
		{"delete from sessions where user_id = ?", pg, "", "one statement for all rows: delete from sessions where user_id = any($1)"},
		{"delete from sessions where user_id = ? returning id", lite, "K", "one statement for all rows: delete from sessions where user_id in (...) returning id"},
		{"delete from sessions where user_id = ? limit ?", mysql, "K C", "delete all rows in one statement: in (...) over the keys"},

		// An UPDATE whose SET values were the same for every row is one
		// UPDATE over every key.
		{"update items set n = n + ?, m = ? * ? where id = ?", gen, "S S C K",
			"one statement for all rows: update items set n = n + ?, m = ? * … where id in (...)"},
		{"update users set starred = ?, starred_at = ? where id = ? returning id, starred_at", pg, "S S K",
			"one statement for all rows: update users set starred = $1, starred_at = $2 where id = any($3) returning id, starred_at"},
		{"update users set starred = ?, starred_at = ? where id = ?", mysql, "C S K",
			"one statement for all rows: update users set starred = …, starred_at = ? where id in (...)"},
		// Else one UPDATE joined to the rows' values.
		{"update items set user_id = ?, updated_at = ? where id = ? and deleted_at is null", gen, "",
			"one statement for all rows: with v(user_id, updated_at, id) as (select user_id, updated_at, id from items where false union all select ?, ?, ? union all select ?, ?, ? union all ...) update items set user_id = v.user_id, updated_at = v.updated_at from v where items.id = v.id and items.deleted_at is null"},
		{"update items set n = n + ? where id = ?", gen, "",
			"one statement for all rows: with v(n, id) as (select n, id from items where false union all select ?, ? union all select ?, ? union all ...) update items set n = items.n + v.n from v where items.id = v.id"},
		{"update items set title = ?, status = ? where id = ? and kind = ? returning *", pg, "K S K C",
			"one statement for all rows: with v(title, id) as (select title, id from items where false union all select $1, $2 union all select $3, $4 union all ...) update items set title = v.title, status = $5 from v where items.id = v.id and items.kind = … returning items.*"},
		{"update items set title = ?, status = ? where id = ? and kind = ?", mysql, "K S K C",
			"one statement for all rows: update items join (select ? as title, ? as id union all select ?, ? union all ...) as v on items.id = v.id set items.title = v.title, items.status = ? where items.kind = …"},
		{"update items set a = a + ?, b = a where id = ?", mysql, "K K",
			"update all rows in one statement: join the table to the rows' values on the key (UPDATE ... JOIN)"},
		{"update items set a = a + ?, b = a where id = ?", pg, "K K",
			"one statement for all rows: with v(a, id) as (select a, id from items where false union all select $1, $2 union all select $3, $4 union all ...) update items set a = items.a + v.a, b = items.a from v where items.id = v.id"},
		{"update items set n = n + ?, m = ? * ? where id = ?", gen, "",
			"update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"},
		{"update items set n = case when n > ? then ? end where id = ?", gen, "",
			"update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"},
		{"update items set n = (select max(n) from items) where id = ?", gen, "K",
			"update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"},

		// A key in an inner join's ON filters as a WHERE conjunct does; in
		// an outer join's it filters nothing.
		{`select count(*) from "users" join "user_albums" on "user_albums"."user_id" = "users"."id" and "user_albums"."album_id" = ?`, pg, "K",
			`one query for all rows: select "user_albums"."album_id", count(*) from "users" join "user_albums" on "user_albums"."user_id" = "users"."id" and "user_albums"."album_id" = any($1) group by "user_albums"."album_id"`},
		{"select count(*) from users left join user_albums on user_albums.user_id = users.id and user_albums.album_id = ?", gen, "K",
			"fetch all rows in one statement: in (...) over the keys, or a join to the source query"},

		// Prose where no statement is certain.
		{"select name from users where id = ? and note = ? …", gen, "", "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from t where a > ?", gen, "", "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from t where a = ? or b = ?", gen, "", "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from t where a = ? order by b limit ? offset ?", gen, "", "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select count(*) from t where a = ? group by b limit ?", gen, "", "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select b as x from t where a = ? order by x limit ?", gen, "", "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"update t set a = ? where b > ?", pg, "S K", "update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"},
		{"call refresh(?)", gen, "K", "do the loop's work in one statement: in (...) over the keys"},
	}
	for _, c := range cases {
		got := For(Loop{Shape: c.shape, Dialect: c.d, Values: values(c.vals)}).String()
		if got != c.want {
			t.Errorf("For(%q, %v, %q)\n got %s\nwant %s", c.shape, c.d, c.vals, got, c.want)
		}
		if strings.HasPrefix(sqlnorm.Verb(c.shape), "update") && strings.HasPrefix(got, "fetch") {
			t.Errorf("an UPDATE told to fetch: %s", got)
		}
	}
}

// TestForJoin checks which fixes name a join in the source query as an
// alternative: lookups whose rows a join would return as they are.
func TestForJoin(t *testing.T) {
	for shape, want := range map[string]string{
		"select name from users where id = ?":                      "users",
		"select * from posts p where p.user_id = ?":                "posts",
		"select count(*) from posts where user_id = ?":             "",
		"select * from posts where user_id = ? order by a limit ?": "",
		"delete from posts where user_id = ?":                      "",
	} {
		if got := For(Loop{Shape: shape}).Join; got != want {
			t.Errorf("For(%q).Join = %q, want %q", shape, got, want)
		}
	}
}
