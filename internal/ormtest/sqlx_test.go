package ormtest

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/querytrace/querytrace"
)

func openSQLX(b backend, db *sql.DB) *sqlx.DB {
	switch {
	case b.pg:
		return sqlx.NewDb(db, "pgx")
	case b.mysql:
		return sqlx.NewDb(db, "mysql")
	}
	return sqlx.NewDb(db, "sqlite3")
}

// TestSQLXGetInLoop: a Get per member is an N+1 whose fix returns every
// member's row; in sqlx's words the fix is that query built with sqlx.In,
// which raises nothing and, run as written there, as many statements for
// 50 members as for 5.
func TestSQLXGetInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		file, at := line(t, "get")
		ids := []int{3, 1, 4, 1, 5, 2, 6}
		var execs [][]any
		w := want{}
		q := x.Rebind(`select id, name from users where id = ?`)
		r := trace("GET /team", func(ctx context.Context) {
			for _, id := range ids {
				var u User
				if err := x.GetContext(ctx, &u, q, id); err != nil { // loop: get
					t.Fatal(err)
				}
				execs = append(execs, []any{id})
				w[strconv.Itoa(id)] = []map[string]string{{"id": strconv.Itoa(u.ID), "name": u.Name}}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(ids), file, at)
		readsLike(t, db, f, execs, "id", w)

		r = trace("GET /team, at once", func(ctx context.Context) {
			in, args, err := sqlx.In(`select id, name from users where id in (?)`, ids)
			if err != nil {
				t.Fatal(err)
			}
			var us []User
			if err := x.SelectContext(ctx, &us, x.Rebind(in), args...); err != nil {
				t.Fatal(err)
			}
		})
		none(t, r)
		names(t, f, "sqlx: query, args, err := sqlx.In(", "), then db.Select(&rows, db.Rebind(query), args...)")
		selectIn(t, x, db, b, goString(t, f, "sqlx.In("))
	})
}

// selectIn runs the statement of a fix in sqlx's words with sqlx.In over
// the ids of every user, at 5 and 50 users.
func selectIn(t *testing.T, x *sqlx.DB, db *sql.DB, b backend, stmt string) {
	t.Helper()
	var ids []int
	constant(t, db, b, func(int) { ids = userIDs(t, db) }, func(t testing.TB, ctx context.Context) {
		query, args, err := sqlx.In(stmt, ids)
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		rs, err := x.QueryxContext(ctx, x.Rebind(query), args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rs.Close()
		for rs.Next() {
			m := map[string]any{}
			if err := rs.MapScan(m); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, m)
		}
		if len(rows) < len(ids) {
			t.Fatalf("%d rows for %d keys", len(rows), len(ids))
		}
	})
}

// TestSQLXSelectInLoop: a Select of each user's posts is an N+1 whose fix
// returns each user's posts, none for the user without.
func TestSQLXSelectInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		file, at := line(t, "select")
		var execs [][]any
		w := want{}
		r := trace("GET /feed", func(ctx context.Context) {
			var users []User
			if err := x.SelectContext(ctx, &users, `select id, name from users order by id`); err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				var posts []Post
				err := x.SelectContext(ctx, &posts, x.Rebind(`select id, user_id, title, score, created_at from posts where user_id = ? order by id`), u.ID) // loop: select
				if err != nil {
					t.Fatal(err)
				}
				execs = append(execs, []any{u.ID})
				rows := []map[string]string{}
				for _, p := range posts {
					rows = append(rows, map[string]string{"id": strconv.Itoa(p.ID), "title": p.Title})
				}
				w[strconv.Itoa(u.ID)] = rows
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, 8, file, at)
		if f.Source == nil || f.PerRow != 1 {
			t.Errorf("source %v per row %d, want the users query once per row", f.Source, f.PerRow)
		}
		readsLike(t, db, f, execs, "user_id", w)
		names(t, f, "sqlx: query, args, err := sqlx.In(")
		selectIn(t, x, db, b, goString(t, f, "sqlx.In("))
	})
}

// TestSQLXInsertInLoop: a NamedExec per tag is an N+1 whose fix in sqlx's
// words is one NamedExec of the slice, with the statement it gives: as
// many statements for 50 tags as for 5. (sqlx's Exec is database/sql's,
// promoted: a loop of it shows no frame of sqlx's.)
func TestSQLXInsertInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		file, at := line(t, "insert")
		slugs := []string{"go", "sql", "orm", "web"}
		r := trace("POST /tags", func(ctx context.Context) {
			for _, s := range slugs {
				if _, err := x.NamedExecContext(ctx, `insert into tags (slug) values (:slug)`, Tag{Slug: s}); err != nil { // loop: insert
					t.Fatal(err)
				}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(slugs), file, at)
		names(t, f, "sqlx: NamedExec(`insert into tags(slug) values (:slug)`, rows) with a slice of every row")

		stmt := goString(t, f, "NamedExec(")
		var tags []Tag
		ready := func(n int) { tags = newTags(n) }
		constant(t, db, b, ready, func(t testing.TB, ctx context.Context) {
			if _, err := x.NamedExecContext(ctx, stmt, tags); err != nil {
				t.Fatal(err)
			}
		})
		var n int
		if err := db.QueryRow(`select count(*) from tags`).Scan(&n); err != nil || n != 50 {
			t.Errorf("%d tags after the insert of 50 (%v)", n, err)
		}
	})
}

// TestSQLXChunks: 250 ids read in chunks of 100 with sqlx.In is the fix
// already: batched, not an N+1.
func TestSQLXChunks(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		ids := make([]int, 250)
		for i := range ids {
			ids[i] = i + 1
		}
		r := trace("GET /export", func(ctx context.Context) {
			for chunk := range slices.Chunk(ids, 100) {
				in, args, err := sqlx.In(`select id, name from users where id in (?)`, chunk)
				if err != nil {
					t.Fatal(err)
				}
				var us []User
				if err := x.SelectContext(ctx, &us, x.Rebind(in), args...); err != nil {
					t.Fatal(err)
				}
			}
		})
		if len(r.NPlusOne)+len(r.Duplicates) != 0 || len(r.Batched) != 1 {
			t.Errorf("want one batched finding, no N+1 (issue 13 item 4):\n%s", r)
		}
	})
}

// currentUser loads the signed-in user; header and body both call it.
func currentUser(ctx context.Context, x *sqlx.DB) User {
	var u User
	x.GetContext(ctx, &u, x.Rebind(`select id, name from users where id = ?`), 1)
	return u
}

func header(ctx context.Context, x *sqlx.DB) User { return currentUser(ctx, x) }
func body(ctx context.Context, x *sqlx.DB) User   { return currentUser(ctx, x) }

// TestSQLXDuplicateAcrossSites: the same statement with the same
// arguments from two call paths is one duplicate.
func TestSQLXDuplicateAcrossSites(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		r := trace("GET /page", func(ctx context.Context) {
			header(ctx, x)
			body(ctx, x)
		})
		if len(r.Duplicates) != 1 || r.Duplicates[0].Count != 2 || len(r.NPlusOne) != 0 {
			t.Errorf("want one duplicate run twice (issue 13 item 6):\n%s", r)
		}
	})
}

// TestSQLXRetry: an insert that fails on the unique slug and is retried
// with another is neither an N+1 nor a duplicate.
func TestSQLXRetry(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		if _, err := db.Exec(`insert into tags (slug) values ('hello')`); err != nil {
			t.Fatal(err)
		}
		r := trace("POST /articles", func(ctx context.Context) {
			slug := "hello"
			for i := 1; ; i++ {
				_, err := x.ExecContext(ctx, x.Rebind(`insert into tags (slug) values (?)`), slug)
				if err == nil {
					break
				}
				if i == 3 {
					t.Fatal(errors.Join(errors.New("retries failed"), err))
				}
				slug = "hello-" + strconv.Itoa(i)
			}
		})
		if len(r.NPlusOne)+len(r.Duplicates) != 0 {
			t.Errorf("a retry is no repeat (issue 13 item 5):\n%s", r)
		}
	})
}

// attach, findUserByID and findUsers put the statement three calls below
// the loop, as application code does.
func attach(ctx context.Context, x *sqlx.DB, id int) User { return findUserByID(ctx, x, id) }

func findUserByID(ctx context.Context, x *sqlx.DB, id int) User {
	us := findUsers(ctx, x, `where id = ?`, id)
	if len(us) == 0 {
		return User{}
	}
	return us[0]
}

func findUsers(ctx context.Context, x *sqlx.DB, where string, args ...any) []User {
	var us []User
	x.SelectContext(ctx, &us, x.Rebind(`select id, name from users `+where), args...)
	return us
}

// TestSQLXLoopLine: the finding names the loop's line even when the
// statement runs three calls below it.
func TestSQLXLoopLine(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		x := openSQLX(b, db)
		file, at := line(t, "attach")
		r := trace("GET /members", func(ctx context.Context) {
			for _, id := range []int{1, 2, 3, 4} {
				attach(ctx, x, id) // loop: attach
			}
		})
		if len(r.NPlusOne) != 1 {
			t.Fatalf("want one N+1:\n%s", r)
		}
		for _, f := range r.NPlusOne[0].Group.Stack {
			if f.Line == at && f.File == file {
				return
			}
		}
		t.Errorf("the finding does not name the loop's line %d (issue 13 item 1):\n%s", at, r)
	})
}
