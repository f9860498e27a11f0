package ormtest

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/fixcheck"
	"github.com/querytrace/querytrace/querytracetest"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
)

// A backend is a database the scenarios run on, through querytrace.
type backend struct {
	name  string
	pg    bool
	mysql bool
	open  func(t *testing.T) *sql.DB
}

var backends = []backend{
	{name: "sqlite", open: openSQLite},
	{name: "postgres", pg: true, open: openPostgres},
	{name: "mariadb", mysql: true, open: openMariaDB},
}

// each runs f once per backend, on a fresh database holding the schema,
// but on those named in skip.
func each(t *testing.T, f func(t *testing.T, b backend, db *sql.DB), skip ...string) {
	for _, b := range backends {
		if slices.Contains(skip, b.name) {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			setUp(t, db, b)
			f(t, b, db)
		})
	}
}

var dbs atomic.Int64

func openSQLite(t *testing.T) *sql.DB {
	db, err := querytrace.Open("sqlite3", fmt.Sprintf("file:orm%d?mode=memory&cache=shared", dbs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	// One connection keeps the in-memory database alive.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens the test server through querytrace in a schema of
// the test's own, dropped at the end.
func openPostgres(t *testing.T) *sql.DB {
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the ORM scenarios on PostgreSQL (.ci/run does)")
	}
	schema := fmt.Sprintf("qt_orm_%d_%d", os.Getpid(), dbs.Add(1))
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`create schema ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`drop schema ` + schema + ` cascade`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := querytrace.Open("pgx", dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openMariaDB opens the MariaDB (or MySQL) test server through querytrace,
// in the database its DSN names, where setUp replaces the tables of the
// test before (the tests of this package never run at once).
func openMariaDB(t *testing.T) *sql.DB {
	dsn := os.Getenv("QUERYTRACE_MYSQL_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_MYSQL_DSN is not set: set it to a MySQL or MariaDB DSN such as root@tcp(127.0.0.1:3306)/test to run the ORM scenarios on MariaDB (.ci/run does)")
	}
	db, err := querytrace.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("drop table if exists users, posts, tags")
		db.Close()
	})
	return db
}

// The schema: users, their posts, and tags with a unique slug.
var schema = []string{
	`create table users (id integer primary key, name text not null, team_id integer not null)`,
	`create table posts (id integer primary key, user_id integer not null, title text not null,
		score integer not null, created_at text not null)`,
	`create table tags (id serial primary key, slug text not null unique)`,
}

// setUp creates the schema and 8 users, each but the last with posts.
func setUp(t *testing.T, db *sql.DB, b backend) {
	t.Helper()
	pg := b.pg
	if b.mysql {
		if _, err := db.Exec("drop table if exists users, posts, tags"); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range schema {
		switch {
		case b.mysql:
			// MySQL keys no text column; its serial is a bigint.
			q = strings.Replace(q, "slug text", "slug varchar(200)", 1)
		case !pg:
			q = strings.Replace(q, "serial", "integer", 1)
		}
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	post := 0
	for u := 1; u <= 8; u++ {
		if _, err := db.Exec(rebind(pg, `insert into users values (?, ?, ?)`), u, fmt.Sprintf("user%d", u), u%3); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < (u-1)%4 && u < 8; i++ {
			post++
			if _, err := db.Exec(rebind(pg, `insert into posts values (?, ?, ?, ?, ?)`), post, u,
				fmt.Sprintf("post%d", post), post*7%10, fmt.Sprintf("2024-01-%02d", post*5%28+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// rebind numbers the ? placeholders of q for PostgreSQL.
func rebind(pg bool, q string) string {
	if !pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// trace runs f under a trace and returns its report.
func trace(name string, f func(ctx context.Context)) *querytrace.Report {
	ctx, tr := querytrace.Start(context.Background(), name)
	f(ctx)
	return tr.Finish()
}

// line returns the line of the caller's file that holds the comment
// "// loop: name", so that a test names the line it expects a finding at.
func line(t *testing.T, name string) (string, int) {
	t.Helper()
	_, file, _, _ := runtime.Caller(1)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if strings.HasSuffix(s.Text(), "// loop: "+name) {
			return file, n
		}
	}
	t.Fatalf("no line marked %q in %s", "// loop: "+name, file)
	return "", 0
}

// finding returns the only finding of the report at the marked line, of
// the given kind and count, or fails.
func finding(t *testing.T, r *querytrace.Report, kind querytrace.FindingKind, count int, file string, line int) *querytrace.Finding {
	t.Helper()
	var all []querytrace.Finding
	for _, l := range [][]querytrace.Finding{r.NPlusOne, r.Duplicates, r.Batched, r.Allowed} {
		all = append(all, l...)
	}
	for i, f := range all {
		if f.Kind != kind {
			continue
		}
		if len(f.Group.Stack) == 0 {
			t.Fatalf("%s finding without a call site:\n%s", kind, r)
		}
		site := f.Group.Stack[0]
		if filepath.Base(site.File) != filepath.Base(file) || site.Line != line {
			t.Fatalf("%s finding at %s, want %s:%d (the loop's line in the application):\n%s", kind, site, filepath.Base(file), line, r)
		}
		if f.Count != count {
			t.Errorf("%s finding ran %d times, want %d", kind, f.Count, count)
		}
		return &all[i]
	}
	t.Fatalf("no %s finding, want one at %s:%d:\n%s", kind, filepath.Base(file), line, r)
	return nil
}

// none fails if the report holds an N+1 or a duplicate.
func none(t *testing.T, r *querytrace.Report) {
	t.Helper()
	if len(r.NPlusOne)+len(r.Duplicates) > 0 {
		t.Errorf("want no N+1 and no duplicate:\n%s", r)
	}
}

// A want is what the loop read for one key: its rows, each as the
// columns the application used.
type want map[string][]map[string]string

// readsLike runs the fix of f, filled with the values of the loop's
// executions (each the values of its statement's placeholders, the ones
// written into the SQL text included) and the literals the fix writes as
// "…", and checks that it returns for each key exactly the rows the loop
// read, on the columns the loop used.
func readsLike(t *testing.T, db *sql.DB, f *querytrace.Finding, execs [][]any, key string, w want, consts ...string) {
	t.Helper()
	stmt := fixcheck.Statement(f.Fix)
	if stmt == "" {
		t.Fatalf("the fix is prose, want a statement: %s", f.Fix)
	}
	q, args, err := fixcheck.Fill(stmt, execs, consts...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fixcheck.Query(context.Background(), db, q, args...)
	if err != nil {
		t.Fatalf("the fix does not run: %v\n%s", err, q)
	}
	k := slices.Index(got.Cols, key)
	if k < 0 {
		t.Fatalf("the fix's result has no column %s: %q\n%s", key, got.Cols, q)
	}
	used := map[string]bool{}
	for _, rows := range w {
		for _, r := range rows {
			for c := range r {
				used[c] = true
			}
		}
	}
	byKey := map[string][]string{}
	for _, row := range got.Rows {
		m := map[string]string{}
		for i, c := range got.Cols {
			if used[c] {
				m[c] = row[i]
			}
		}
		byKey[row[k]] = append(byKey[row[k]], render(m))
	}
	for kv, rows := range w {
		var loop []string
		for _, r := range rows {
			loop = append(loop, render(r))
		}
		slices.Sort(loop)
		fix := byKey[kv]
		slices.Sort(fix)
		if !slices.Equal(loop, fix) {
			t.Errorf("key %s: the loop read %q, the fix returns %q\n%s", kv, loop, fix, q)
		}
		delete(byKey, kv)
	}
	for kv, rows := range byKey {
		t.Errorf("key %s: the fix returns %q, which the loop did not read\n%s", kv, rows, q)
	}
}

func render(m map[string]string) string {
	var parts []string
	for c, v := range m {
		parts = append(parts, c+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// snapshot returns the rows of q.
func snapshot(t *testing.T, db *sql.DB, q string) fixcheck.Table {
	t.Helper()
	tab, err := fixcheck.Query(context.Background(), db, q)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// writesLike checks that the fix of a writing loop, filled with the values
// of the loop's executions, leaves the rows of after as the loop left
// them: it takes the rows after the loop, undoes the loop with undo, runs
// the fix and compares. A fix with RETURNING must return a row per
// execution.
func writesLike(t *testing.T, db *sql.DB, f *querytrace.Finding, execs [][]any, after string, undo func()) {
	t.Helper()
	stmt := fixcheck.Statement(f.Fix)
	if stmt == "" {
		t.Fatalf("the fix is prose, want a statement: %s", f.Fix)
	}
	q, args, err := fixcheck.Fill(stmt, execs)
	if err != nil {
		t.Fatal(err)
	}
	loop := snapshot(t, db, after)
	undo()
	got, err := fixcheck.Query(context.Background(), db, q, args...)
	if err != nil {
		t.Fatalf("the fix does not run: %v\n%s", err, q)
	}
	if strings.Contains(stmt, "returning") && len(got.Rows) != len(execs) {
		t.Errorf("the fix returned %d rows, want one per execution, %d", len(got.Rows), len(execs))
	}
	if err := fixcheck.Same(loop, snapshot(t, db, after)); err != nil {
		t.Errorf("%s\n%s", q, err)
	}
}

// names fails unless the finding's fix in the words of the ORM that ran
// the loop holds each of ways.
func names(t *testing.T, f *querytrace.Finding, ways ...string) {
	t.Helper()
	for _, w := range ways {
		if !strings.Contains(f.ORMFix, w) {
			t.Errorf("the fix in the ORM's words does not name %s:\n%s", w, f.ORMFix)
		}
	}
}

// constant runs act, the fixed code, at 5 and at 50 users (each with two
// posts, and no tags), and fails when its statements grow with the rows
// (querytracetest.Scale), when it runs none (a context lost on the way)
// and when it runs an N+1. ready, when not nil, sees the size of each
// run's data first.
func constant(t *testing.T, db *sql.DB, b backend, ready func(n int), act func(t testing.TB, ctx context.Context)) {
	t.Helper()
	querytracetest.Scale(t, querytracetest.ScaleTest{
		Sizes: []int{5, 50},
		Setup: func(t testing.TB, n int) {
			grow(t, db, b, n)
			if ready != nil {
				ready(n)
			}
		},
		Act: func(t testing.TB, ctx context.Context) {
			ctx, tr := querytrace.Start(ctx, "fixed")
			act(t, ctx)
			r := tr.Finish()
			if r.Statements == 0 || len(r.NPlusOne) > 0 {
				t.Errorf("the fixed code ran %d statements, %d N+1:\n%s", r.Statements, len(r.NPlusOne), r)
			}
		},
	})
}

// grow replaces the rows with n users and two posts for each, and
// removes the tags, outside any trace.
func grow(t testing.TB, db *sql.DB, b backend, n int) {
	t.Helper()
	for _, q := range []string{`delete from posts`, `delete from users`, `delete from tags`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for u := 1; u <= n; u++ {
		if _, err := db.Exec(rebind(b.pg, `insert into users values (?, ?, ?)`), u, fmt.Sprintf("user%d", u), u%3); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			p := 2*u - i
			if _, err := db.Exec(rebind(b.pg, `insert into posts values (?, ?, ?, ?, ?)`), p, u,
				fmt.Sprintf("post%d", p), p*7%10, fmt.Sprintf("2024-01-%02d", p%28+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// userIDs returns the ids of every user, outside any trace.
func userIDs(t testing.TB, db *sql.DB) []int {
	t.Helper()
	rows, err := db.Query(`select id from users order by id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// inList rewrites the fix's statement with its list of keys as an ORM
// takes it: with "in ?" (GORM) or "in (?)" (bun, sqlx) for "in (...)"
// or PostgreSQL's "= any($1)", and "?" for PostgreSQL's other
// placeholders, which the ORM numbers itself.
func inList(t *testing.T, f *querytrace.Finding, list string) string {
	t.Helper()
	stmt := fixcheck.Statement(f.Fix)
	if stmt == "" {
		t.Fatalf("the fix is prose, want a statement: %s", f.Fix)
	}
	stmt = strings.NewReplacer(" in (...)", " in "+list, " = any($1)", " in "+list).Replace(stmt)
	return regexp.MustCompile(`\$[0-9]+`).ReplaceAllString(stmt, "?")
}

// goString returns the Go string literal that follows call in the fix in
// the ORM's words, unquoted: the statement it gives.
func goString(t *testing.T, f *querytrace.Finding, call string) string {
	t.Helper()
	_, rest, ok := strings.Cut(f.ORMFix, call)
	if !ok {
		t.Fatalf("no %s in the fix in the ORM's words:\n%s", call, f.ORMFix)
	}
	lit, err := strconv.QuotedPrefix(rest)
	if err != nil {
		t.Fatalf("no Go string after %s: %v\n%s", call, err, f.ORMFix)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTags returns n tags to insert, their slugs t0, t1, ...
func newTags(n int) []Tag {
	tags := make([]Tag, n)
	for i := range tags {
		tags[i].Slug = "t" + strconv.Itoa(i)
	}
	return tags
}
