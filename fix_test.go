package querytrace

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/querytrace/querytrace/internal/callstack"
	"github.com/querytrace/querytrace/internal/fixcheck"
	"github.com/querytrace/querytrace/internal/sqlfix"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
)

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
	execs [][]any // each execution's arguments, in the order of the loop's shape
	// alt is the loop's statement as every other execution writes it,
	// with the same shape, taking its arguments in the order perm gives:
	// argument i is the execution's perm[i].
	alt  string
	perm []int
	// consts are the literals of the loop's text that the fix writes as
	// "…", in the fix's order.
	consts []string
	form   string             // what the fix must contain
	forms  map[Dialect]string // ... in a dialect, instead
	key    string             // for a read: the key column in the fix's result
	after  string             // for a write: what the loop and the fix must leave alike
	only   []Dialect          // the dialects the loop runs on; all when empty
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
	{name: "the key is the value that varied", loop: `select id from fx_posts where status = ? and user_id = ?`,
		execs: [][]any{{"published", 1}, {"published", 2}, {"published", 4}}, form: "where status = ? and user_id ",
		forms: map[Dialect]string{DialectPostgres: "where status = $1 and user_id = any($2)"}, key: "user_id"},
	{name: "bun's parentheses", loop: `select "p"."id", "p"."title" from "fx_posts" as "p" where ("p"."user_id" = ?)`,
		execs: [][]any{{1}, {4}}, form: `"p"."user_id",`, key: "user_id", only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "bun's count", loop: `select count(*) from "fx_posts" as "p" where (p.user_id = ?)`,
		execs: [][]any{{1}, {3}, {5}}, form: "group by p.user_id", key: "user_id", only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "in one key", loop: `select id from fx_posts where user_id in (?)`,
		execs: [][]any{{1}, {2}, {3}}, form: "select user_id, id from", key: "user_id"},
	{name: "count per row", loop: `select count(*) from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {2}, {4}, {5}}, form: "group by user_id", key: "user_id"},
	{name: "constants stay the loop's", loop: `select count(*) from fx_posts where 1 = 1 and user_id = ? and status <> 'draft'`,
		execs: [][]any{{1}, {2}, {4}}, consts: []string{"1", "1", "'draft'"},
		form: "where … = … and user_id ", key: "user_id"},
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
		execs: [][]any{{1, 1}, {2, 1}, {4, 1}, {5, 1}}, form: "row_number() over (partition by user_id order by created_at desc)",
		forms: map[Dialect]string{DialectPostgres: "cross join lateral (select title, created_at from fx_posts where user_id = k.user_id order by created_at desc limit $2)"},
		key:   "user_id"},
	{name: "latest per key, a literal limit", loop: `select title from fx_posts where user_id = ? order by score desc, id limit 2`,
		execs: [][]any{{1}, {3}, {4}}, consts: []string{"2"}, form: "as q where rn <= …",
		forms: map[Dialect]string{DialectPostgres: "order by score desc, id limit …) as q"}, key: "user_id"},
	{name: "two latest per key, star", loop: `select * from fx_posts where user_id = ? and deleted_at is null order by score desc, id limit ?`,
		execs: [][]any{{1, 2}, {3, 2}, {4, 2}}, form: "select * from fx_posts where id in (select id from (select id, row_number()",
		forms: map[Dialect]string{DialectPostgres: "select q.* from (select distinct user_id from fx_posts where user_id = any($1)) as k cross join lateral"},
		key:   "user_id"},
	{name: "latest per key, unnamed columns", loop: `select lower(title), score, score from fx_posts where user_id = ? order by id limit ?`,
		execs: [][]any{{3, 2}, {1, 2}, {4, 2}}, form: "select user_id, col_1, score, col_3 from (select user_id, lower(title) as col_1, score, score as col_3, row_number()",
		forms: map[Dialect]string{DialectPostgres: "select k.user_id, q.* from"}, key: "user_id"},
	{name: "distinct per row", loop: `select distinct status from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {4}, {5}}, form: "select distinct user_id, status", key: "user_id"},
	{name: "key in a joined table", loop: `select p.title from fx_posts p join fx_users u on u.id = p.user_id where u.team_id = ?`,
		execs: [][]any{{1}, {2}, {3}}, form: "select u.team_id, p.title", key: "team_id"},
	{name: "latest per key, joined", loop: `select p.title, u.name from fx_posts p join fx_users u on u.id = p.user_id where p.user_id = ? order by p.created_at limit ?`,
		execs: [][]any{{1, 1}, {2, 1}, {3, 1}}, form: "select user_id, title, name from (select p.user_id,",
		forms: map[Dialect]string{DialectPostgres: "select k.user_id, q.* from (select distinct p.user_id from fx_posts p join fx_users u on u.id = p.user_id where"},
		key:   "user_id"},
	{name: "latest per id of a joined table", loop: `select p.title from fx_posts p join fx_users u on u.id = p.user_id where u.id = ? order by p.created_at desc limit ?`,
		execs: [][]any{{1, 1}, {2, 1}, {4, 1}}, form: "row_number() over (partition by u.id order by p.created_at desc)",
		forms: map[Dialect]string{DialectPostgres: "cross join lateral"}, key: "id"},
	// GORM's many2many associations put the key in the join's ON (seen in
	// photoview: Association("Owners").Count()).
	{name: "count with the key in a join's on", loop: `select count(*) from fx_users join fx_posts on fx_posts.user_id = fx_users.id and fx_posts.user_id = ?`,
		execs: [][]any{{1}, {2}, {5}}, form: "group by fx_posts.user_id", key: "user_id"},
	{name: "rows with the key in a join's on", loop: `select fx_posts.id, fx_posts.title from fx_posts join fx_users on fx_users.id = fx_posts.user_id and fx_users.team_id = ? where fx_posts.deleted_at is null or fx_posts.score > ?`,
		execs: [][]any{{1, 4}, {2, 4}, {3, 4}}, form: "select fx_users.team_id, fx_posts.id, fx_posts.title", key: "team_id"},
	{name: "delete per row", loop: `delete from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {3}}, form: "delete from fx_posts where user_id ", after: `select * from fx_posts`},
	{name: "insert per row", loop: `insert into fx_posts (id, user_id, title, status, score, created_at) values (?, ?, ?, ?, ?, ?)`,
		execs: [][]any{{10, 5, "e1", "draft", 1, "2024-05-01"}, {11, 5, "e2", "draft", 2, "2024-05-02"}, {12, 3, "c2", "published", 3, "2024-05-03"}},
		form:  "values (", after: `select * from fx_posts`},
	{name: "insert with constants", loop: `insert into fx_posts (id, user_id, title, status, score, created_at) values (?, ?, ?, 'draft', 0, '2024-06-01')`,
		execs:  [][]any{{10, 5, "e1"}, {11, 5, "e2"}, {12, 3, "c2"}},
		consts: []string{"'draft'", "0", "'2024-06-01'", "'draft'", "0", "'2024-06-01'"},
		form:   "values (?, ?, ?, …, …, …), (?, ?, ?, …, …, …), ...", forms: map[Dialect]string{DialectPostgres: "values ($1, $2, $3, …, …, …), ($4, $5, $6, …, …, …), ..."},
		after: `select * from fx_posts`},
	{name: "delete returning", loop: `delete from fx_posts where user_id = ? returning id`,
		execs: [][]any{{2}, {4}}, form: "returning id", after: `select * from fx_posts`, only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "insert or nothing", loop: `insert into fx_tags (name) values (?) on conflict do nothing`,
		execs: [][]any{{"db"}, {"web"}}, form: "on conflict do nothing", after: `select * from fx_tags`, only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "insert ignore", loop: `insert ignore into fx_tags (name) values (?)`,
		execs: [][]any{{"db"}, {"web"}}, form: "insert ignore into fx_tags(name) values (?), (?), ...", after: `select * from fx_tags`, only: []Dialect{DialectMySQL}},
	{name: "insert returning id", loop: `insert into fx_tags (name) values (?) returning id`,
		execs: [][]any{{"db"}, {"web"}, {"ops"}}, form: "returning id", after: `select * from fx_tags`, only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "insert of arrays", loop: `insert into fx_tags (name) select unnest(?::text[])`,
		execs: [][]any{{"{db,web}"}, {"{ops}"}}, form: "select unnest($1::text[])", after: `select * from fx_tags`,
		only: []Dialect{DialectPostgres}},
	{name: "insert select per key", loop: `insert into fx_tags (name) select title from fx_posts where user_id = ?`,
		execs: [][]any{{1}, {4}}, form: "select title from fx_posts where user_id ", after: `select * from fx_tags`},
	{name: "update per row", loop: `update fx_posts set score = ?, title = ? where id = ?`,
		execs: [][]any{{30, "A1", 1}, {20, "B1", 4}, {80, "D3", 9}},
		form:  "update fx_posts set score = v.score, title = v.title from v where fx_posts.id = v.id",
		forms: map[Dialect]string{DialectMySQL: "update fx_posts join (select ? as score, ? as title, ? as id union all select ?, ?, ? union all ...) as v on fx_posts.id = v.id set fx_posts.score = v.score, fx_posts.title = v.title"},
		after: `select * from fx_posts`},
	{name: "update per row, set in either order", loop: `update fx_posts set score = ?, title = ? where id = ?`,
		alt: `update fx_posts set title = ?, score = ? where id = ?`, perm: []int{1, 0, 2},
		execs: [][]any{{30, "A1", 1}, {20, "B1", 4}, {80, "D3", 9}, {10, "D1", 7}},
		form:  "set score = v.score, title = v.title", forms: map[Dialect]string{DialectMySQL: "set fx_posts.score = v.score, fx_posts.title = v.title"},
		after: `select * from fx_posts`},
	{name: "update the same values, in either order", loop: `update fx_posts set deleted_at = ?, status = ? where id = ?`,
		alt: `update fx_posts set status = ?, deleted_at = ? where id = ?`, perm: []int{1, 0, 2},
		execs: [][]any{{"2024-06-01", "hidden", 1}, {"2024-06-01", "hidden", 4}, {"2024-06-01", "hidden", 6}},
		form:  "update fx_posts set deleted_at = ?, status = ? where id in (...)", forms: map[Dialect]string{DialectPostgres: "update fx_posts set deleted_at = $1, status = $2 where id = any($3)"},
		after: `select * from fx_posts`},
	{name: "update with a literal", loop: `update fx_posts set status = 'archived', score = score + ? where user_id = ?`,
		execs: [][]any{{1, 1}, {1, 3}}, consts: []string{"'archived'"},
		form: "update fx_posts set status = …, score = score + ? where user_id in (...)", forms: map[Dialect]string{DialectPostgres: "update fx_posts set status = …, score = score + $1 where user_id = any($2)"},
		after: `select * from fx_posts`},
	{name: "update returning, the same values", loop: `update fx_posts set status = ? where id = ? returning id, status`,
		execs: [][]any{{"hidden", 2}, {"hidden", 3}}, form: "returning id, status", after: `select * from fx_posts`,
		only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "update returning, values per row", loop: `update fx_posts set title = ? where id = ? returning id, title`,
		execs: [][]any{{"Xtitle", 2}, {"Ytitle", 3}}, form: "from v where fx_posts.id = v.id returning fx_posts.id, fx_posts.title", after: `select * from fx_posts`,
		only: []Dialect{DialectSQLite, DialectPostgres}},
	{name: "update a counter", loop: `update fx_posts set score = score - ?, title = lower(title), deleted_at = coalesce(deleted_at, created_at) where id = ?`,
		execs: [][]any{{1, 1}, {3, 4}, {2, 9}}, form: "score = fx_posts.score - v.score, title = lower(fx_posts.title)",
		forms: map[Dialect]string{DialectMySQL: "fx_posts.score = fx_posts.score - v.score, fx_posts.title = lower(fx_posts.title)"},
		after: `select * from fx_posts`},
	{name: "update the column of the condition", loop: `update fx_posts set deleted_at = ? where id = ? and deleted_at is null`,
		execs: [][]any{{"2024-06-01", 1}, {"2024-06-02", 5}, {"2024-06-03", 6}}, form: "fx_posts.deleted_at is null", after: `select * from fx_posts`},
	{name: "update with a condition", loop: `update fx_posts set status = ? where id = ? and deleted_at is null`,
		execs: [][]any{{"archived", 4}, {"archived", 5}, {"archived", 6}}, form: "where id in (...) and deleted_at is null",
		forms: map[Dialect]string{DialectPostgres: "where id = any($2) and deleted_at is null"}, after: `select * from fx_posts`},
}

// TestFixRuns runs each fix form for real: the loop through the traced
// driver, then the finding's fix, filled with the loop's values, on a
// fresh copy of the data; the fix must return the rows the loop read, or
// leave the tables as the loop did.
func TestFixRuns(t *testing.T) {
	run := func(t *testing.T, d Dialect, db *sql.DB) {
		for _, c := range fixCases {
			if len(c.only) > 0 && !slices.Contains(c.only, d) {
				continue
			}
			t.Run(c.name, func(t *testing.T) { checkFix(t, db, c, d) })
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		db, err := Open("sqlite3", fmt.Sprintf("file:fix%d?mode=memory&cache=shared", fixDBs.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		defer db.Close()
		run(t, DialectSQLite, db)
	})
	t.Run("postgres", func(t *testing.T) { run(t, DialectPostgres, fixPostgres(t)) })
	t.Run("mysql", func(t *testing.T) { run(t, DialectMySQL, fixMySQL(t)) })
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

// fixMySQL opens the MariaDB or MySQL test server through the traced
// driver, on one connection, with the fix tables of this process's own.
func fixMySQL(t *testing.T) *sql.DB {
	dsn := os.Getenv("QUERYTRACE_MYSQL_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_MYSQL_DSN is not set: set it to a MariaDB or MySQL DSN such as root@tcp(127.0.0.1:3306)/test to run the fixes on MySQL (.ci/run does)")
	}
	db, err := Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() {
		for _, table := range fixTables {
			db.Exec(`drop table if exists ` + table)
		}
		db.Close()
	})
	return db
}

var fixTables = []string{"fx_users", "fx_posts", "fx_tags"}

// setUp gives db a fresh copy of the fix schema and its rows.
func setUp(t *testing.T, db *sql.DB, d Dialect) {
	t.Helper()
	for _, table := range fixTables {
		if _, err := db.Exec(`drop table if exists ` + table); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range fixSchema {
		switch d {
		case DialectSQLite:
			q = strings.Replace(q, "serial", "integer", 1)
		case DialectMySQL:
			// MySQL keys no text column; names are what it must keep unique.
			q = strings.Replace(q, "name text not null)", "name varchar(50) not null unique)", 1)
		}
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func checkFix(t *testing.T, db *sql.DB, c fixCase, d Dialect) {
	setUp(t, db, d)
	pg := d == DialectPostgres
	loop, alt := c.loop, c.alt
	if pg {
		loop, alt = dollars(loop), dollars(alt)
	}
	ctx, tr := Start(context.Background(), c.name)
	perKey := map[string]fixcheck.Table{}
	var returned fixcheck.Table
	for i, args := range c.execs {
		q, a := loop, args
		if alt != "" && i%2 == 1 {
			q, a = alt, make([]any, len(args))
			for k, p := range c.perm {
				a[k] = args[p]
			}
		}
		res, err := fixcheck.Query(ctx, db, q, a...)
		if err != nil {
			t.Fatalf("loop: %s: %v", q, err)
		}
		if c.after == "" {
			perKey[fixcheck.Format(args[fixcheck.Key(c.execs)])] = res
		} else {
			returned.Cols = res.Cols
			returned.Rows = append(returned.Rows, res.Rows...)
		}
	}
	r := tr.Finish()
	groups := 0
	for _, g := range r.Groups {
		if g.Statements > 0 {
			groups++ // not the prepares of go-sql-driver/mysql
		}
	}
	if len(r.NPlusOne) != 1 || groups != 1 {
		t.Fatalf("%d N+1 findings in %d groups of statements, want 1 in 1:\n%s", len(r.NPlusOne), groups, r)
	}
	f := r.NPlusOne[0]
	for _, e := range c.execs {
		for _, v := range e {
			if s, ok := v.(string); ok && strings.Contains(f.Fix, s) {
				t.Errorf("the fix holds the loop's value %q: %s", s, f.Fix)
			}
		}
	}
	for _, lit := range c.consts {
		if len(lit) > 1 && strings.Contains(f.Fix, lit) {
			t.Errorf("the fix holds the loop's literal %s: %s", lit, f.Fix)
		}
	}
	form := c.form
	if c.forms[d] != "" {
		form = c.forms[d]
	}
	stmt := fixcheck.Statement(f.Fix)
	if stmt == "" || !strings.Contains(stmt, form) {
		t.Fatalf("fix %q: want a statement with %q", f.Fix, form)
	}
	if pg != strings.Contains(stmt, "$1") {
		t.Errorf("fix %q is not worded for its dialect", stmt)
	}
	q, args, err := fixcheck.Fill(stmt, c.execs, c.consts...)
	if err != nil {
		t.Fatal(err)
	}
	var loopAfter fixcheck.Table
	if c.after != "" {
		if loopAfter, err = fixcheck.Query(context.Background(), db, c.after); err != nil {
			t.Fatal(err)
		}
		setUp(t, db, d)
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

// dollars numbers the ? placeholders of q as PostgreSQL's $1, $2, ...
func dollars(q string) string {
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(q, "?") {
		if strings.HasSuffix(part, "?") {
			n++
			part = strings.TrimSuffix(part, "?") + "$" + strconv.Itoa(n)
		}
		b.WriteString(part)
	}
	return b.String()
}

// TestFixValues checks what a group learns of each "?" of its shape, the
// input of its fix: through the wrapped SQLite driver, which values
// varied, which stayed the same, which were literals.
func TestFixValues(t *testing.T) {
	db, err := Open("sqlite3", fmt.Sprintf("file:fixvalues%d?mode=memory&cache=shared", fixDBs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`create table t (a, b)`); err != nil {
		t.Fatal(err)
	}
	many := "select * from t where a in (" + strings.TrimSuffix(strings.Repeat("?, ", 18), ", ") + ") and b = ?"
	manyArgs := func(last int) []any {
		a := make([]any, 19)
		for i := range a {
			a[i] = i
		}
		a[18] = last
		return a
	}
	cases := []struct {
		name  string
		texts []string
		args  [][]any
		want  string
	}{
		{"bound", []string{`select * from t where a = ? and b = ?`}, [][]any{{1, "x"}, {2, "x"}, {3, "x"}}, "K S"},
		{"literals", []string{`select * from t where a = 1 and b = 'x'`, `select * from t where a = 2 and b = 'x'`}, [][]any{{}, {}}, "K C"},
		{"numbered", []string{`select * from t where b = ?2 and a = ?1`}, [][]any{{1, "x"}, {2, "x"}}, "S K"},
		{"literal or placeholder", []string{`select * from t where a = ? and b = 'x'`, `select * from t where a = ? and b = ?`},
			[][]any{{1}, {2, "x"}}, "K U"},
		{"named", []string{`select * from t where a = :a and b = ?`}, [][]any{{sql.Named("a", 1), "x"}, {sql.Named("a", 2), "x"}}, "U U"},
		{"past the arguments compared", []string{many}, [][]any{manyArgs(1), manyArgs(2)}, "U U"},
		{"set in either order", []string{`update t set a = ?, b = ? where a = ?`, `update t set b = ?, a = ? where a = ?`},
			[][]any{{1, "x", 7}, {"x", 1, 8}, {1, "x", 9}}, "S S K"},
	}
	names := map[sqlfix.Value]string{sqlfix.Varied: "K", sqlfix.Same: "S", sqlfix.Constant: "C", sqlfix.Unknown: "U"}
	for _, c := range cases {
		ctx, tr := Start(context.Background(), c.name)
		for i, args := range c.args {
			rows, err := db.QueryContext(ctx, c.texts[i%len(c.texts)], args...)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			rows.Close()
		}
		r := tr.Finish()
		if len(r.Groups) != 1 {
			t.Fatalf("%s: %d groups:\n%s", c.name, len(r.Groups), r)
		}
		var got []string
		for _, v := range r.Groups[0].values() {
			got = append(got, names[v])
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: values %v, want %s", c.name, got, c.want)
		}
	}
}

// TestFrameLibrary checks which frames tell the library that issued a
// statement: the ORMs' own modules by function name (not a module whose
// path merely starts alike), a file generated into the application's
// module by its header (ent's client here, read from this repository),
// and sqlc's methods by their shape where their file is absent to read.
func TestFrameLibrary(t *testing.T) {
	entFile, err := filepath.Abs("internal/gentest/ent/tag_query.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fn, file string
		want     sqlfix.Library
	}{
		{"gorm.io/gorm.(*DB).Find", "/m/gorm.io/gorm@v1.31.2/finisher_api.go", sqlfix.GORM},
		{"gorm.io/gorm/callbacks.Query", "/m/gorm.io/gorm@v1.31.2/callbacks/query.go", sqlfix.GORM},
		{"gorm.io/gormx.Find", "/m/gorm.io/gormx@v1.0.0/x.go", sqlfix.NoLibrary},
		{"github.com/uptrace/bun.(*SelectQuery).Scan", "/m/github.com/uptrace/bun@v1.3.0/query_select.go", sqlfix.Bun},
		{"entgo.io/ent/dialect/sql.(*Conn).Query", "/m/entgo.io/ent@v0.14.5/dialect/sql/driver.go", sqlfix.Ent},
		{"github.com/jmoiron/sqlx.(*DB).GetContext", "/m/github.com/jmoiron/sqlx@v1.4.0/sqlx_context.go", sqlfix.SQLX},
		{"database/sql.(*DB).QueryContext", "/usr/local/go/src/database/sql/sql.go", sqlfix.NoLibrary},
		{"example.com/gentest/ent.(*TagQuery).Only", entFile, sqlfix.Ent},
		{"example.com/app/db.(*Queries).GetAuthor", "/gone/app/db/query.sql.go", sqlfix.SQLC},
		{"example.com/app/db.(*Queries).GetAuthor", "/gone/app/db/authors.go", sqlfix.NoLibrary},
	} {
		if got := frameLibrary(callstack.Frame{Function: c.fn, File: c.file}); got != c.want {
			t.Errorf("frameLibrary(%s, %s) = %v, want %v", c.fn, c.file, got, c.want)
		}
	}
}
