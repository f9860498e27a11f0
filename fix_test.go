package querytrace

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/querytrace/querytrace/internal/fixcheck"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
)

func TestLoopFix(t *testing.T) {
	cases := []struct {
		shape string
		pg    bool
		want  string
	}{
		{"select count(*) from items where entry_id = ? and user_id is null", false,
			"one query for all rows: select entry_id, count(*) from items where entry_id in (...) and user_id is null group by entry_id"},
		{"select count(*) from items where entry_id = ? and user_id is null", true,
			"one query for all rows: select entry_id, count(*) from items where entry_id = any($1) and user_id is null group by entry_id"},
		{"select coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id = ? and r.status = ?", false,
			"one query for all rows: select ri.entry_id, coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id in (...) and r.status = ? group by ri.entry_id"},
		{"select count(*) from items where user_id is null and entry_id = ? order by ?", false,
			"one query for all rows: select entry_id, count(*) from items where user_id is null and entry_id in (...) group by entry_id order by ?"},
		{"select status, count(*) from requests where entry_id = ? group by status", false,
			"one query for all rows: select entry_id, status, count(*) from requests where entry_id in (...) group by entry_id, status"},
		{"select entry_id, count(*) from requests where entry_id = ? group by entry_id", false,
			"one query for all rows: select entry_id, count(*) from requests where entry_id in (...) group by entry_id"},
		// A window function is no aggregate: no GROUP BY, and the window
		// is cut per key as the loop's was.
		{"select id, name, count(*) over () from users where team_id = ?", false,
			"one query for all rows: select team_id, id, name, count(*) over (partition by team_id) from users where team_id in (...)"},
		{"select name from users where id = ?", false, "one query for all rows: select id, name from users where id in (...)"},
		{"select id, name from users where id = ?", true, "one query for all rows: select id, name from users where id = any($1)"},
		{"select * from users where id = ? limit ?", true, "one query for all rows: select * from users where id = any($1); one row per id, so no LIMIT"},
		{`select * from "users" where "users"."id" = ? order by "users"."id" limit ?`, true,
			`one query for all rows: select * from "users" where "users"."id" = any($1) order by "users"."id"; one row per id, so no LIMIT`},
		{"select u.id, u.name from users u where u.id = ?", false, "one query for all rows: select u.id, u.name from users u where u.id in (...)"},
		{`select "p"."id", "p"."title" from "posts" as "p" where ("p"."user_id" = ?)`, true,
			`one query for all rows: select "p"."user_id", "p"."id", "p"."title" from "posts" as "p" where ("p"."user_id" = any($1))`},
		{"select value from readings where dial_id = ? order by taken_at desc limit ?", false,
			"one query for all rows: select dial_id, value from (select dial_id, value, row_number() over (partition by dial_id order by taken_at desc) as rn from readings where dial_id in (...)) as q where rn <= ?; rn numbers each key's rows in the statement's order"},
		{"select * from posts where user_id = ? and status = ? order by created_at desc limit ?", true,
			"one query for all rows: select * from (select *, row_number() over (partition by user_id order by created_at desc) as rn from posts where user_id = any($1) and status = $2) as q where rn <= $3; rn numbers each key's rows in the statement's order"},
		{"insert into items(entry_id, user_id) values (?, ?) returning id", true,
			"one statement for all rows: insert into items(entry_id, user_id) values ($1, $2), ($3, $4), ... returning id"},
		{"insert into items(entry_id, user_id) values (?, ?)", true,
			"one statement for all rows: insert into items(entry_id, user_id) values ($1, $2), ($3, $4), ...; or COPY (pgx CopyFrom)"},
		{"update items set user_id = ?, updated_at = ? where id = ? and deleted_at is null", false,
			"one statement for all rows: with v(user_id, updated_at, id) as (select user_id, updated_at, id from items where false union all select ?, ?, ? union all select ?, ?, ? union all ...) update items set user_id = v.user_id, updated_at = v.updated_at from v where items.id = v.id and items.deleted_at is null"},
		{"delete from sessions where user_id = ?", true, "one statement for all rows: delete from sessions where user_id = any($1)"},

		// Prose where no statement is certain.
		{"update items set n = n + ? where id = ?", false,
			"one statement for all rows: with v(n, id) as (select n, id from items where false union all select ?, ? union all select ?, ? union all ...) update items set n = items.n + v.n from v where items.id = v.id"},
		{"update items set n = n + ?, m = ? * ? where id = ?", false, "update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"},
		{"update items set n = case when n > ? then ? end where id = ?", false, "update all rows in one statement: join the table to the rows' values on the key (UPDATE ... FROM)"},
		{"insert into items(entry_id, user_id) values (?, ?) on conflict (entry_id) do update set user_id = ?", true,
			"insert all rows at once with a multi-row VALUES"},
		{"select name from users where id = ? and note = ? …", false, "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from t where a > ?", false, "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from t where a = ? or b = ?", false, "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select * from t where a = ? order by b limit ? offset ?", true, "fetch all rows in one statement: = any($1) over the keys as an array, or a join to the source query"},
		{"select count(*) from t where a = ? group by b limit ?", false, "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
		{"select b as x from t where a = ? order by x limit ?", false, "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
	}
	for _, c := range cases {
		g := &Group{Shape: c.shape, Verb: verbOf(c.shape)}
		if got := loopFix(g, nil, c.pg); got != c.want {
			t.Errorf("loopFix(%q, pg=%v)\n got %s\nwant %s", c.shape, c.pg, got, c.want)
		}
	}
}

// The schema every fix case starts from. "serial" becomes SQLite's
// autoincrementing key.
var fixSchema = []string{
	`create table fx_users (id integer primary key, name text not null, team_id integer not null)`,
	`create table fx_posts (id integer primary key, user_id integer not null, title text not null,
		status text not null, score integer not null, created_at text not null, deleted_at text)`,
	`create table fx_tags (id serial primary key, name text not null)`,
	`insert into fx_users values (1, 'ann', 1), (2, 'bob', 1), (3, 'cy', 2), (4, 'di', 2), (5, 'ed', 3)`,
	`insert into fx_posts values
		(1, 1, 'a1', 'published', 3, '2024-01-01', null),
		(2, 1, 'a2', 'draft', 5, '2024-01-03', null),
		(3, 1, 'a3', 'published', 1, '2024-01-02', null),
		(4, 2, 'b1', 'published', 2, '2024-02-01', null),
		(5, 2, 'b2', 'published', 2, '2024-02-02', '2024-03-01'),
		(6, 3, 'c1', 'draft', 7, '2024-01-05', null),
		(7, 4, 'd1', 'published', 4, '2024-01-04', null),
		(8, 4, 'd2', 'published', 6, '2024-01-06', null),
		(9, 4, 'd3', 'draft', 8, '2024-01-07', null)`,
	`insert into fx_tags (name) values ('go'), ('sql')`,
}

// A fixCase is a loop of one statement whose finding's fix must do the
// loop's work in one statement.
type fixCase struct {
	name  string
	loop  string  // with ? placeholders, numbered on PostgreSQL
	execs [][]any // each execution's arguments
	form  string  // what the fix must contain
	key   string  // for a read: the key column in the fix's result
	after string  // for a write: what the loop and the fix must leave alike
}

var fixCases = []fixCase{
	{name: "by id", loop: `select name from fx_users where id = ?`,
		execs: [][]any{{1}, {3}, {2}, {3}}, form: "fx_users where id ", key: "id"},
	{name: "by id, key selected", loop: `select id, name from fx_users where id = ?`,
		execs: [][]any{{4}, {2}}, form: "select id, name from", key: "id"},
	{name: "by a text key", loop: `select id, team_id from fx_users where name = ?`,
		execs: [][]any{{"ann"}, {"cy"}, {"nobody"}}, form: "select name, id, team_id from fx_users where name ", key: "name"},
	{name: "rows per key", loop: `select id, title from fx_posts where user_id = ? and deleted_at is null`,
		execs: [][]any{{1}, {2}, {3}, {5}}, form: "select user_id, id, title", key: "user_id"},
	{name: "star with a constant", loop: `select * from fx_posts where user_id = ? and status = ?`,
		execs: [][]any{{1, "published"}, {4, "published"}, {5, "published"}}, form: "select * from fx_posts", key: "user_id"},
	{name: "bun's parentheses", loop: `select "p"."id", "p"."title" from "fx_posts" as "p" where ("p"."user_id" = ?)`,
		execs: [][]any{{1}, {4}}, form: `"p"."user_id",`, key: "user_id"},
	{name: "bun's count", loop: `select count(*) from "fx_posts" as "p" where (p.user_id = ?)`,
		execs: [][]any{{1}, {3}, {5}}, form: "group by p.user_id", key: "user_id"},
	{name: "in one key", loop: `select id from fx_posts where user_id in (?)`,
		execs: [][]any{{1}, {2}, {3}}, form: "select user_id, id from", key: "user_id"},
	{name: "count per row", loop: `select count(*) from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {2}, {4}, {5}}, form: "group by user_id", key: "user_id"},
	{name: "sum with a constant and a join", loop: `select coalesce(sum(p.score), ?) from fx_posts p join fx_users u on u.id = p.user_id where p.user_id = ? and u.team_id = ?`,
		execs: [][]any{{0, 1, 1}, {0, 2, 1}, {0, 3, 1}}, form: "group by p.user_id", key: "user_id"},
	{name: "grouped per row", loop: `select status, count(*) from fx_posts where user_id = ? group by status`,
		execs: [][]any{{1}, {4}}, form: "group by user_id, status", key: "user_id"},
	{name: "grouped by the key", loop: `select user_id, count(*) from fx_posts where user_id = ? group by user_id`,
		execs: [][]any{{1}, {3}, {5}}, form: "select user_id, count(*) from fx_posts where user_id ", key: "user_id"},
	{name: "count over the rows is a window", loop: `select id, count(*) over () from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {4}}, form: "over (partition by user_id)", key: "user_id"},
	{name: "primary key with limit", loop: `select id, name from fx_users where id = ? limit ?`,
		execs: [][]any{{1, 1}, {4, 1}, {5, 1}}, form: "select id, name from fx_users where id ", key: "id"},
	{name: "latest per key", loop: `select title, created_at from fx_posts where user_id = ? order by created_at desc limit ?`,
		execs: [][]any{{1, 1}, {2, 1}, {4, 1}, {5, 1}}, form: "row_number() over (partition by user_id order by created_at desc)", key: "user_id"},
	{name: "two latest per key, star", loop: `select * from fx_posts where user_id = ? and deleted_at is null order by score desc, id limit ?`,
		execs: [][]any{{1, 2}, {3, 2}, {4, 2}}, form: "select *, row_number()", key: "user_id"},
	{name: "distinct per row", loop: `select distinct status from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {4}, {5}}, form: "select distinct user_id, status", key: "user_id"},
	{name: "key in a joined table", loop: `select p.title from fx_posts p join fx_users u on u.id = p.user_id where u.team_id = ?`,
		execs: [][]any{{1}, {2}, {3}}, form: "select u.team_id, p.title", key: "team_id"},
	{name: "latest per key, joined", loop: `select p.title, u.name from fx_posts p join fx_users u on u.id = p.user_id where p.user_id = ? order by p.created_at limit ?`,
		execs: [][]any{{1, 1}, {2, 1}, {3, 1}}, form: "select user_id, title, name from (select p.user_id,", key: "user_id"},
	{name: "latest per id of a joined table", loop: `select p.title from fx_posts p join fx_users u on u.id = p.user_id where u.id = ? order by p.created_at desc limit ?`,
		execs: [][]any{{1, 1}, {2, 1}, {4, 1}}, form: "row_number() over (partition by u.id order by p.created_at desc)", key: "id"},
	{name: "delete per row", loop: `delete from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {3}}, form: "delete from fx_posts where user_id ", after: `select * from fx_posts`},
	{name: "insert per row", loop: `insert into fx_posts (id, user_id, title, status, score, created_at) values (?, ?, ?, ?, ?, ?)`,
		execs: [][]any{{10, 5, "e1", "draft", 1, "2024-05-01"}, {11, 5, "e2", "draft", 2, "2024-05-02"}, {12, 3, "c2", "published", 3, "2024-05-03"}},
		form:  "values (", after: `select * from fx_posts`},
	{name: "delete returning", loop: `delete from fx_posts where user_id = ? returning id`,
		execs: [][]any{{2}, {4}}, form: "returning id", after: `select * from fx_posts`},
	{name: "insert or nothing", loop: `insert into fx_tags (name) values (?) on conflict do nothing`,
		execs: [][]any{{"db"}, {"web"}}, form: "on conflict do nothing", after: `select * from fx_tags`},
	{name: "insert returning id", loop: `insert into fx_tags (name) values (?) returning id`,
		execs: [][]any{{"db"}, {"web"}, {"ops"}}, form: "returning id", after: `select * from fx_tags`},
	{name: "update per row", loop: `update fx_posts set title = ?, score = ? where id = ?`,
		execs: [][]any{{"A1", 30, 1}, {"B1", 20, 4}, {"D3", 80, 9}}, form: "update fx_posts set title = v.title, score = v.score from v where fx_posts.id = v.id", after: `select * from fx_posts`},
	{name: "update a counter", loop: `update fx_posts set score = score - ?, title = lower(title), deleted_at = coalesce(deleted_at, created_at) where id = ?`,
		execs: [][]any{{1, 1}, {3, 4}, {2, 9}}, form: "score = fx_posts.score - v.score, title = lower(fx_posts.title)", after: `select * from fx_posts`},
	{name: "update the column of the condition", loop: `update fx_posts set deleted_at = ? where id = ? and deleted_at is null`,
		execs: [][]any{{"2024-06-01", 1}, {"2024-06-02", 5}, {"2024-06-03", 6}}, form: "and fx_posts.deleted_at is null", after: `select * from fx_posts`},
	{name: "update with a condition", loop: `update fx_posts set status = ? where id = ? and deleted_at is null`,
		execs: [][]any{{"archived", 4}, {"archived", 5}, {"archived", 6}}, form: "and fx_posts.deleted_at is null", after: `select * from fx_posts`},
}

// TestFixRuns runs each fix form for real: the loop through the traced
// driver, then the finding's fix, filled with the loop's values, on a
// fresh copy of the data; the fix must return the rows the loop read, or
// leave the tables as the loop did.
func TestFixRuns(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		for _, c := range fixCases {
			t.Run(c.name, func(t *testing.T) {
				db, err := Open("sqlite3", fmt.Sprintf("file:fix%d?mode=memory&cache=shared", fixDBs.Add(1)))
				if err != nil {
					t.Fatal(err)
				}
				db.SetMaxOpenConns(1)
				defer db.Close()
				checkFix(t, db, c, false)
			})
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db := fixPostgres(t)
		for _, c := range fixCases {
			t.Run(c.name, func(t *testing.T) { checkFix(t, db, c, true) })
		}
	})
}

var fixDBs atomic.Int64

// fixPostgres opens the test server through the traced driver, in a
// schema of its own that is dropped at the end.
func fixPostgres(t *testing.T) *sql.DB {
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the fixes on PostgreSQL (.ci/run does)")
	}
	schema := fmt.Sprintf("qt_fix_%d_%d", os.Getpid(), fixDBs.Add(1))
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`create schema ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if admin, err := sql.Open("pgx", dsn); err == nil {
			admin.Exec(`drop schema ` + schema + ` cascade`)
			admin.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := Open("pgx", dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// setUp gives db a fresh copy of the fix schema and its rows.
func setUp(t *testing.T, db *sql.DB, pg bool) {
	t.Helper()
	for _, q := range []string{`drop table if exists fx_users`, `drop table if exists fx_posts`, `drop table if exists fx_tags`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range fixSchema {
		if !pg {
			q = strings.Replace(q, "serial", "integer", 1)
		}
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func checkFix(t *testing.T, db *sql.DB, c fixCase, pg bool) {
	setUp(t, db, pg)
	loop := c.loop
	if pg {
		loop = numbered(loop)
	}
	ctx, tr := Start(context.Background(), c.name)
	perKey := map[string]fixcheck.Table{}
	var returned fixcheck.Table
	for _, args := range c.execs {
		res, err := fixcheck.Query(ctx, db, loop, args...)
		if err != nil {
			t.Fatalf("loop: %s: %v", loop, err)
		}
		if c.after == "" {
			perKey[fixcheck.Format(args[fixcheck.Key(c.execs)])] = res
		} else {
			returned.Cols = res.Cols
			returned.Rows = append(returned.Rows, res.Rows...)
		}
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1 findings, want 1:\n%s", len(r.NPlusOne), r)
	}
	f := r.NPlusOne[0]
	for _, e := range c.execs {
		for _, v := range e {
			if s, ok := v.(string); ok && strings.Contains(f.Fix, s) {
				t.Errorf("the fix holds the loop's value %q: %s", s, f.Fix)
			}
		}
	}
	stmt := fixcheck.Statement(f.Fix)
	if stmt == "" || !strings.Contains(stmt, c.form) {
		t.Fatalf("fix %q: want a statement with %q", f.Fix, c.form)
	}
	if pg != strings.Contains(stmt, "$1") {
		t.Errorf("fix %q is not worded for its dialect", stmt)
	}
	q, args, err := fixcheck.Fill(stmt, c.execs)
	if err != nil {
		t.Fatal(err)
	}
	var loopAfter fixcheck.Table
	if c.after != "" {
		if loopAfter, err = fixcheck.Query(context.Background(), db, c.after); err != nil {
			t.Fatal(err)
		}
		setUp(t, db, pg)
	}
	got, err := fixcheck.Query(context.Background(), db, q, args...)
	if err != nil {
		t.Fatalf("the fix does not run: %v\n%s\nargs %v", err, q, args)
	}
	if c.after == "" {
		if err := fixcheck.ByKey(perKey, got, c.key); err != nil {
			t.Errorf("%s\n%s", q, err)
		}
		return
	}
	if err := fixcheck.Same(returned, got); err != nil {
		t.Errorf("returned: %s\n%s", q, err)
	}
	fixAfter, err := fixcheck.Query(context.Background(), db, c.after)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixcheck.Same(loopAfter, fixAfter); err != nil {
		t.Errorf("after: %s\n%s", q, err)
	}
}
