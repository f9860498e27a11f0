package querytrace

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// The tests of this file run the findings against code shaped like real
// applications' (issue 13), over SQLite, MariaDB and PostgreSQL through
// database/sql: the loop's line several calls above the statement, library
// frames between them, chunked batches, retries, duplicates across call
// sites, sources whose rows are still open, loops over loops and Pause.

// A detBackend is a database to run a scenario on.
type detBackend struct {
	name string
	db   *sql.DB
	pg   bool
}

// q rewrites a statement's "?" placeholders for the backend.
func (b *detBackend) q(s string) string {
	if !b.pg {
		return s
	}
	var out strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			fmt.Fprintf(&out, "$%d", n)
			continue
		}
		out.WriteRune(c)
	}
	return out.String()
}

// detSchema is the schema of the scenarios: 10 users, 6 members of a team,
// 3 posts with 2 comments each, articles with unique slugs, tags, 3
// products in stock and 20 orders by 3 users.
var detSchema = []string{
	`CREATE TABLE qd_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
	`CREATE TABLE qd_members (id INTEGER PRIMARY KEY, team INTEGER NOT NULL, user_id INTEGER NOT NULL)`,
	`CREATE TABLE qd_posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL)`,
	`CREATE TABLE qd_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, author_id INTEGER NOT NULL)`,
	`CREATE TABLE qd_articles (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE)`,
	`CREATE TABLE qd_tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
	`CREATE TABLE qd_article_tags (article_id INTEGER NOT NULL, tag_id INTEGER NOT NULL)`,
	`CREATE TABLE qd_products (id INTEGER PRIMARY KEY, stock INTEGER NOT NULL)`,
	`CREATE TABLE qd_orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL)`,
}

func detSeed(t testing.TB, b *detBackend) {
	t.Helper()
	exec := func(s string, args ...any) {
		if _, err := b.db.Exec(b.q(s), args...); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for _, s := range detSchema {
		if b.name == "mariadb" {
			// The tables of a database of its own, left by an earlier
			// run; MySQL keys no TEXT column.
			exec("DROP TABLE IF EXISTS " + strings.Fields(s)[2])
			s = strings.ReplaceAll(s, "TEXT", "VARCHAR(200)")
		}
		exec(s)
	}
	for i := 1; i <= 10; i++ {
		exec(`INSERT INTO qd_users (id, name) VALUES (?, ?)`, i, fmt.Sprintf("user %d", i))
	}
	for i := 1; i <= 6; i++ {
		exec(`INSERT INTO qd_members (id, team, user_id) VALUES (?, 1, ?)`, i, i)
	}
	for p := 1; p <= 3; p++ {
		exec(`INSERT INTO qd_posts (id, title) VALUES (?, ?)`, p, fmt.Sprintf("post %d", p))
		for c := 1; c <= 2; c++ {
			id := p*10 + c
			exec(`INSERT INTO qd_comments (id, post_id, author_id) VALUES (?, ?, ?)`, id, p, id%10+1)
		}
	}
	exec(`INSERT INTO qd_articles (id, slug) VALUES (1, 'hello')`)
	for i := 1; i <= 3; i++ {
		exec(`INSERT INTO qd_products (id, stock) VALUES (?, 10)`, i)
	}
	for i := 1; i <= 20; i++ {
		exec(`INSERT INTO qd_orders (id, user_id) VALUES (?, ?)`, i, i%3+1)
	}
}

// detBackends returns the backends to run a scenario on, seeded: SQLite
// always, PostgreSQL through database/sql (pgx's stdlib) when
// QUERYTRACE_POSTGRES_DSN is set, in a schema of its own, and MariaDB or
// MySQL through go-sql-driver/mysql when QUERYTRACE_MYSQL_DSN is set, in
// its database (tests of this package never run at once).
func detBackends(t *testing.T) []*detBackend {
	t.Helper()
	lite, err := Open("sqlite3", fmt.Sprintf("file:qtdet%d?mode=memory&cache=shared", seedDBs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	lite.SetMaxOpenConns(4) // a loop may run while a query's rows are open
	t.Cleanup(func() { lite.Close() })
	bs := []*detBackend{{name: "sqlite", db: lite}}
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Log("QUERYTRACE_POSTGRES_DSN is not set: PostgreSQL skipped (set it to a DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	} else {
		schema := fmt.Sprintf("qtdet_%d_%d", os.Getpid(), rand.Uint32())
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		})
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		pg, err := Open("pgx", dsn+sep+"search_path="+schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		bs = append(bs, &detBackend{name: "postgres", db: pg, pg: true})
	}
	if dsn := os.Getenv("QUERYTRACE_MYSQL_DSN"); dsn == "" {
		t.Log("QUERYTRACE_MYSQL_DSN is not set: MariaDB skipped (set it to a DSN such as root@tcp(127.0.0.1:3306)/test)")
	} else {
		my, err := Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, s := range detSchema {
				my.Exec("DROP TABLE IF EXISTS " + strings.Fields(s)[2])
			}
			my.Close()
		})
		bs = append(bs, &detBackend{name: "mariadb", db: my})
	}
	for _, b := range bs {
		detSeed(t, b)
	}
	return bs
}

// detRun runs page under a trace on each backend and checks its report.
func detRun(t *testing.T, page func(ctx context.Context, b *detBackend) error, check func(t *testing.T, b *detBackend, r *Report)) {
	for _, b := range detBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx, tr := Start(context.Background(), "GET /team")
			if err := page(ctx, b); err != nil {
				t.Fatal(err)
			}
			r := tr.Finish()
			check(t, b, r)
			if t.Failed() {
				t.Logf("report:\n%s", r)
			}
		})
	}
}

// The data-access layer of the scenarios: the statement is three calls
// below the loop, as in the dashboard application of issue 13.

func detAttach(ctx context.Context, b *detBackend, userID int) error {
	_, err := detFindUserByID(ctx, b, userID)
	return err
}

func detFindUserByID(ctx context.Context, b *detBackend, id int) (string, error) {
	names, err := detFindUsers(ctx, b, id)
	if err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}

var detFindUsersLine int

func detFindUsers(ctx context.Context, b *detBackend, id int) ([]string, error) {
	var name string
	detFindUsersLine = line() + 1
	err := b.db.QueryRowContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`), id).Scan(&name)
	return []string{name}, err
}

func detMembers(ctx context.Context, b *detBackend) ([]int, error) {
	return detIDs(ctx, b, `SELECT user_id FROM qd_members WHERE team = ? ORDER BY id`, 1)
}

// detIDs returns the first column of the rows of query.
func detIDs(ctx context.Context, b *detBackend, query string, args ...any) ([]int, error) {
	rows, err := b.db.QueryContext(ctx, b.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// wantLoop checks that the report has one N+1, at detFindUsers' line, in
// the loop at fn's line loop, with the members query as its source (when
// source is set).
func wantLoop(t *testing.T, r *Report, fn string, loop int, source bool) {
	t.Helper()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1 findings, want 1", len(r.NPlusOne))
	}
	f := r.NPlusOne[0]
	if s := f.Group.Stack; len(s) == 0 || !strings.HasSuffix(s[0].Function, ".detFindUsers") || s[0].Line != detFindUsersLine {
		t.Errorf("statement at %v, want detFindUsers:%d", s, detFindUsersLine)
	}
	if f.Loop == nil || !strings.HasSuffix(f.Loop.Function, fn) || f.Loop.Line != loop {
		t.Errorf("loop at %v, want %s:%d", f.Loop, fn, loop)
	}
	if !strings.Contains(f.String(), fmt.Sprintf("in the loop at %s", f.Loop)) {
		t.Errorf("the finding does not name the loop's line: %s", f.String())
	}
	if source && (f.Source == nil || !strings.Contains(f.Source.Shape, "qd_members")) {
		t.Errorf("source %v, want the members query", f.Source)
	}
}

// TestLoopLine checks that a finding names the loop's own line when the
// statement is three calls below it (issue 13, item 1), whether the loop
// iterates a slice read before it, rows still open, or the request's data
// with other statements around it.
func TestLoopLine(t *testing.T) {
	t.Run("slice", func(t *testing.T) {
		var loop int
		page := func(ctx context.Context, b *detBackend) error {
			members, err := detMembers(ctx, b)
			loop = line() + 2
			for _, m := range members {
				if err := detAttach(ctx, b, m); err != nil {
					return err
				}
			}
			return err
		}
		detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
			wantLoop(t, r, ".TestLoopLine.func1.1", loop, true)
		})
	})
	t.Run("open rows", func(t *testing.T) {
		var loop int
		page := func(ctx context.Context, b *detBackend) error {
			rows, err := b.db.QueryContext(ctx, b.q(`SELECT user_id FROM qd_members WHERE team = ? ORDER BY id`), 1)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					return err
				}
				loop = line() + 1
				if err := detAttach(ctx, b, id); err != nil {
					return err
				}
			}
			return rows.Err()
		}
		detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
			wantLoop(t, r, ".TestLoopLine.func2.1", loop, true)
		})
	})
	t.Run("no source", func(t *testing.T) {
		var loop int
		page := func(ctx context.Context, b *detBackend) error {
			var n int
			if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM qd_users`).Scan(&n); err != nil {
				return err
			}
			loop = line() + 2
			for _, id := range []int{3, 1, 4, 5, 9} { // from the request
				if err := detAttach(ctx, b, id); err != nil {
					return err
				}
			}
			_, err := b.db.ExecContext(ctx, b.q(`UPDATE qd_posts SET title = ? WHERE id = ?`), "seen", 1)
			return err
		}
		detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
			wantLoop(t, r, ".TestLoopLine.func3.1", loop, false)
		})
	})
}

// TestLibraryFrames checks that a library's frames between the loop and
// the statement are not the call site (issue 13, item 2): pgx, a module
// on no list, calls back into the application for each row. Its frames
// are still in the full stack.
func TestLibraryFrames(t *testing.T) {
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	b := detBackends(t)[0] // the statements go to SQLite; pgx iterates
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	ctx, tr := Start(context.Background(), "GET /team")
	rows, err := conn.Query(ctx, "SELECT generate_series(1, 5)")
	if err != nil {
		t.Fatal(err)
	}
	var id int32
	loop := line() + 1
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		return detAttach(ctx, b, int(id))
	}); err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1 findings, want 1:\n%s", len(r.NPlusOne), r)
	}
	f := r.NPlusOne[0]
	for _, fr := range f.Group.Stack {
		if strings.Contains(fr.Function, "jackc/pgx") || strings.HasPrefix(fr.Function, "database/sql") {
			t.Errorf("library frame %s in the application's stack %v", fr, f.Group.Stack)
		}
	}
	// The loop is pgx's: its line in the application is the call of it.
	if f.Loop == nil || f.Loop.Line != loop || !strings.HasSuffix(f.Loop.Function, ".TestLibraryFrames") {
		t.Errorf("loop at %v, want the line that calls ForEachRow, %d", f.Loop, loop)
	}
	var full []string
	for _, fr := range f.Group.FullStack() {
		full = append(full, fr.Function)
	}
	all := strings.Join(full, " ")
	for _, want := range []string{"github.com/jackc/pgx/v5.ForEachRow", "database/sql.(*DB).QueryRowContext", ".detFindUsers"} {
		if !strings.Contains(all, want) {
			t.Errorf("full stack lacks %s: %s", want, all)
		}
	}
}

// TestFramesOverride checks SkipFrames and ApplicationFrames: a package
// of the application declared a library moves the call site to its
// caller, and inside it a prefix declared the application's wins again,
// being longer.
func TestFramesOverride(t *testing.T) {
	b := detBackends(t)[0]
	run := func() *Group {
		ctx, tr := Start(context.Background(), "override")
		detAttach(ctx, b, 1)
		r := tr.Finish()
		return r.Groups[0]
	}
	if g := run(); !strings.HasSuffix(g.Stack[0].Function, ".detFindUsers") {
		t.Fatalf("call site %v, want detFindUsers", g.Stack)
	}
	// Test files are always the application's: declare a name that
	// outranks that through an explicit rule on the function itself.
	SkipFrames("github.com/querytrace/querytrace.detFind")
	if g := run(); !strings.HasSuffix(g.Stack[0].Function, ".detAttach") {
		t.Errorf("with detFind* skipped, call site %v, want detAttach", g.Stack)
	}
	ApplicationFrames("github.com/querytrace/querytrace.detFindUserByID")
	if g := run(); !strings.HasSuffix(g.Stack[0].Function, ".detFindUserByID") {
		t.Errorf("with detFindUserByID the application's again, call site %v, want it", g.Stack)
	}
	ApplicationFrames("github.com/querytrace/querytrace.detFindUsers")
}

// counts are a report's findings by class.
type detCounts struct{ nplus1, dup, batched, allowed int }

func countsOf(r *Report) detCounts {
	return detCounts{len(r.NPlusOne), len(r.Duplicates), len(r.Batched), len(r.Allowed)}
}

// placeholders returns "?, ?, ..." for n values, and the values from..to.
func placeholders(from, to int) (string, []any) {
	var args []any
	for i := from; i <= to; i++ {
		args = append(args, i)
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", "), args
}

// TestRepeatsThatAreNot checks the repeats that are no N+1: chunked
// batches (issue 13, item 4) and retries after a failure (item 5), each
// beside the N+1 it must not hide.
func TestRepeatsThatAreNot(t *testing.T) {
	for _, c := range []struct {
		name string
		page func(ctx context.Context, b *detBackend) error
		want detCounts
	}{
		{"250 ids in IN chunks of 100", func(ctx context.Context, b *detBackend) error {
			for from := 1; from <= 250; from += 100 {
				ps, args := placeholders(from, min(from+99, 250))
				rows, err := b.db.QueryContext(ctx, b.q(`SELECT id, name FROM qd_users WHERE id IN (`+ps+`)`), args...)
				if err != nil {
					return err
				}
				rows.Close()
			}
			return nil
		}, detCounts{batched: 1}},
		{"250 rows inserted 100 at a time", func(ctx context.Context, b *detBackend) error {
			for from := 1; from <= 250; from += 100 {
				var rows []string
				var args []any
				for i := from; i <= min(from+99, 250); i++ {
					rows = append(rows, "(?, ?)")
					args = append(args, 1000+i, fmt.Sprintf("tag %d", i))
				}
				if _, err := b.db.ExecContext(ctx, b.q(`INSERT INTO qd_tags (id, name) VALUES `+strings.Join(rows, ", ")), args...); err != nil {
					return err
				}
			}
			return nil
		}, detCounts{batched: 1}},
		{"two keys per row is still an N+1", func(ctx context.Context, b *detBackend) error {
			members, err := detMembers(ctx, b)
			for _, m := range members {
				rows, err := b.db.QueryContext(ctx, b.q(`SELECT name FROM qd_users WHERE id IN (?, ?)`), m, m+1)
				if err != nil {
					return err
				}
				rows.Close()
			}
			return err
		}, detCounts{nplus1: 1}},
		{"an insert retried after a unique violation", func(ctx context.Context, b *detBackend) error {
			for _, slug := range []string{"hello", "hello-2"} {
				if _, err := b.db.ExecContext(ctx, b.q(`INSERT INTO qd_articles (id, slug) VALUES (?, ?)`), 2, slug); err == nil {
					return nil
				}
			}
			return fmt.Errorf("no insert succeeded")
		}, detCounts{}},
		{"an insert loop with one retry is still an N+1", func(ctx context.Context, b *detBackend) error {
			for i := 2; i <= 6; i++ {
				slug := fmt.Sprintf("post-%d", i)
				if i == 4 {
					slug = "hello" // taken: retried below
				}
				if _, err := b.db.ExecContext(ctx, b.q(`INSERT INTO qd_articles (id, slug) VALUES (?, ?)`), i, slug); err != nil {
					if _, err := b.db.ExecContext(ctx, b.q(`INSERT INTO qd_articles (id, slug) VALUES (?, ?)`), i, slug+"-2"); err != nil {
						return err
					}
				}
			}
			return nil
		}, detCounts{nplus1: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			detRun(t, c.page, func(t *testing.T, b *detBackend, r *Report) {
				if got := countsOf(r); got != c.want {
					t.Errorf("got %+v, want %+v", got, c.want)
				}
			})
		})
	}
}

func detHeader(ctx context.Context, b *detBackend, id int) error {
	return b.db.QueryRowContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`), id).Scan(new(string))
}

func detBody(ctx context.Context, b *detBackend, id int) error {
	return b.db.QueryRowContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`), id).Scan(new(string))
}

// TestDuplicateAcrossSites checks that one statement with the same
// arguments from two call stacks is a duplicate (issue 13, item 6), and
// that other arguments are not.
func TestDuplicateAcrossSites(t *testing.T) {
	for _, c := range []struct {
		name         string
		header, body int
		want         detCounts
	}{
		{"the current user in the header and the body", 1, 1, detCounts{dup: 1}},
		{"two users", 1, 2, detCounts{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := func(ctx context.Context, b *detBackend) error {
				if err := detHeader(ctx, b, c.header); err != nil {
					return err
				}
				return detBody(ctx, b, c.body)
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				if got := countsOf(r); got != c.want {
					t.Fatalf("got %+v, want %+v", got, c.want)
				}
				if c.want.dup == 0 {
					return
				}
				f := r.Duplicates[0]
				if f.Count != 2 || len(f.Others) != 1 || !strings.HasSuffix(f.Group.Stack[0].Function, ".detHeader") ||
					!strings.HasSuffix(f.Others[0].Stack[0].Function, ".detBody") {
					t.Errorf("duplicate %s, want 2 runs at detHeader and detBody", f.String())
				}
				if !strings.Contains(f.Fix, "2 call sites") || !strings.Contains(f.String(), fmt.Sprintf("and at %s", f.Others[0].Stack[0])) {
					t.Errorf("the finding does not name both sites: %s; fix %q", f.String(), f.Fix)
				}
			})
		})
	}
}

// TestSourceAttribution checks which query a loop is said to iterate
// (issue 13, item 7): in a loop over a loop, the inner query with one
// execution per row; never a statement of the loop's own iterations.
func TestSourceAttribution(t *testing.T) {
	t.Run("per post, per comment, the author", func(t *testing.T) {
		page := func(ctx context.Context, b *detBackend) error {
			posts, err := b.db.QueryContext(ctx, `SELECT id FROM qd_posts ORDER BY id`)
			if err != nil {
				return err
			}
			defer posts.Close()
			for posts.Next() {
				var post int
				posts.Scan(&post)
				comments, err := b.db.QueryContext(ctx, b.q(`SELECT author_id FROM qd_comments WHERE post_id = ? ORDER BY id`), post)
				if err != nil {
					return err
				}
				for comments.Next() {
					var author int
					comments.Scan(&author)
					if err := detAttach(ctx, b, author); err != nil {
						return err
					}
				}
				comments.Close()
			}
			return posts.Err()
		}
		detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
			if len(r.NPlusOne) != 2 {
				t.Fatalf("%d N+1 findings, want 2 (comments per post, authors per comment)", len(r.NPlusOne))
			}
			for _, f := range r.NPlusOne {
				want := "qd_posts"
				if strings.Contains(f.Group.Shape, "qd_users") {
					want = "qd_comments"
				}
				if f.Source == nil || !strings.Contains(f.Source.Shape, want) || f.PerRow != 1 {
					t.Errorf("%s: source %v per row %d, want the %s query, once per row", f.Group.Shape, f.Source, f.PerRow, want)
				}
			}
		})
	})
	t.Run("statements of one iteration", func(t *testing.T) {
		page := func(ctx context.Context, b *detBackend) error {
			for i, name := range []string{"go", "sql", "n+1"} {
				var id int
				if err := b.db.QueryRowContext(ctx, b.q(`INSERT INTO qd_tags (id, name) VALUES (?, ?) RETURNING id`), 100+i, name).Scan(&id); err != nil {
					return err
				}
				if _, err := b.db.ExecContext(ctx, b.q(`INSERT INTO qd_article_tags (article_id, tag_id) VALUES (?, ?)`), 1, id); err != nil {
					return err
				}
			}
			return nil
		}
		detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
			if len(r.NPlusOne) != 2 {
				t.Fatalf("%d N+1 findings, want 2", len(r.NPlusOne))
			}
			for _, f := range r.NPlusOne {
				if f.Source != nil {
					t.Errorf("%s: source %s, a statement of the same iterations", f.Group.Shape, f.Source.Shape)
				}
			}
		})
	})
}

// TestPauseCoversOnlyPaused checks that Pause allows only the executions
// it paused (issue 12, item 13): ten runs from one line, the first under
// Pause, are an N+1 of nine and one allowed.
func TestPauseCoversOnlyPaused(t *testing.T) {
	page := func(ctx context.Context, b *detBackend) error {
		for i := 1; i <= 10; i++ {
			c := ctx
			if i == 1 {
				c = Pause(ctx, "warm-up")
			}
			if err := detAttach(c, b, i); err != nil {
				return err
			}
		}
		return nil
	}
	detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
		if got := countsOf(r); got != (detCounts{nplus1: 1, allowed: 1}) {
			t.Fatalf("got %+v, want one N+1 and one allowed", got)
		}
		if n, a := r.NPlusOne[0], r.Allowed[0]; n.Count != 9 || a.Count != 1 || a.Reason != "paused: warm-up" {
			t.Errorf("N+1 of %d and allowed %d (%q), want 9 and 1 (paused: warm-up)", n.Count, a.Count, a.Reason)
		}
	})
}

// TestDuplicateAcrossSitesNoArgs checks duplicates across call sites of
// statements without bound arguments: the same text from two sites is
// one, but values written into the text are never taken for the same
// (until their hash is folded into the arguments' hash).
func TestDuplicateAcrossSitesNoArgs(t *testing.T) {
	for _, c := range []struct {
		name         string
		header, body string
		want         int
	}{
		{"no placeholder, no literal", `SELECT count(*) FROM qd_users`, `SELECT count(*) FROM qd_users`, 1},
		{"inlined values", `SELECT name FROM qd_users WHERE id = 1`, `SELECT name FROM qd_users WHERE id = 2`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := func(ctx context.Context, b *detBackend) error {
				header, err := b.db.QueryContext(ctx, c.header)
				if err != nil {
					return err
				}
				header.Close()
				body, err := b.db.QueryContext(ctx, c.body)
				if err != nil {
					return err
				}
				return body.Close()
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				if len(r.Groups) != 2 || len(r.Duplicates) != c.want {
					t.Errorf("%d groups and %d duplicates, want 2 and %d", len(r.Groups), len(r.Duplicates), c.want)
				}
			})
		})
	}
}

// detUserID is a key type of the application's own, as a model's ID field
// often is.
type detUserID int64

// TestKeysHeldInValues checks a loop whose key reaches the driver in a
// value of the application's types (issue 19, seen in photoview): GORM
// passes a model's *int foreign key as it is, and pgx's stdlib driver
// takes every argument unconverted, so the wrapper sees the pointer, not
// the number. Each row's key is another key: an N+1, not a duplicate of
// one statement whose arguments all read alike.
func TestKeysHeldInValues(t *testing.T) {
	for _, c := range []struct {
		name string
		key  func(id int) any
	}{
		{"pointer", func(id int) any { return &id }},
		{"named integer", func(id int) any { return detUserID(id) }},
		{"pointer to a named integer", func(id int) any { v := detUserID(id); return &v }},
		{"sql.NullInt64", func(id int) any { return sql.NullInt64{Int64: int64(id), Valid: true} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := func(ctx context.Context, b *detBackend) error {
				members, err := detMembers(ctx, b)
				for _, m := range members {
					if err := b.db.QueryRowContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`), c.key(m)).Scan(new(string)); err != nil {
						return err
					}
				}
				return err
			}
			detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
				if got := countsOf(r); got != (detCounts{nplus1: 1}) {
					t.Fatalf("got %+v, want one N+1", got)
				}
				if f := r.NPlusOne[0]; f.Count != 6 || f.Source == nil || !strings.Contains(f.Source.Shape, "qd_members") {
					t.Errorf("%s; want 6 runs over the members query", f.String())
				}
			})
		})
	}
}
