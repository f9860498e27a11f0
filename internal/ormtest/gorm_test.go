package ormtest

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/fixcheck"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// The models carry db tags for sqlx, which does not map CamelCase to
// snake_case by itself.
type User struct {
	ID     int
	Name   string
	TeamID int `db:"team_id"`
	Posts  []Post
}

type Post struct {
	ID        int
	UserID    int `db:"user_id"`
	Title     string
	Score     int
	CreatedAt string `db:"created_at"`
	User      *User
}

type Tag struct {
	ID   int
	Slug string
}

// openGORM opens GORM on the traced database, as an application hands
// GORM a *sql.DB it opened itself.
func openGORM(t *testing.T, b backend, db *sql.DB) *gorm.DB {
	d := gorm.Dialector(sqlite.New(sqlite.Config{Conn: db}))
	switch {
	case b.pg:
		d = postgres.New(postgres.Config{Conn: db})
	case b.mysql:
		d = mysql.New(mysql.Config{Conn: db})
	}
	g, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGORMFirstInLoop: a First per post to load its author is an N+1 at
// the loop's line whose fix, run, returns every author, and whose fix in
// GORM's words is Preload("User") or Joins("User"): each raises nothing
// and runs as many statements for 50 posts as for 5.
func TestGORMFirstInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "first")
		var posts []Post
		var execs [][]any
		w := want{}
		r := trace("GET /posts", func(ctx context.Context) {
			g := g.WithContext(ctx)
			g.Order("id").Find(&posts)
			for i := range posts {
				var u User
				g.First(&u, posts[i].UserID) // loop: first
				execs = append(execs, []any{posts[i].UserID, 1})
				w[strconv.Itoa(u.ID)] = []map[string]string{{"id": strconv.Itoa(u.ID), "name": u.Name}}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(posts), file, at)
		if f.Source == nil || f.PerRow != 1 {
			t.Errorf("source %v per row %d, want the posts query once per row", f.Source, f.PerRow)
		}
		readsLike(t, db, f, execs, "id", w)
		names(t, f, `GORM: Preload("User") on the query of posts`, `Joins("User")`)

		r = trace("GET /posts, preloaded", func(ctx context.Context) {
			if err := g.WithContext(ctx).Preload("User").Order("id").Find(&posts).Error; err != nil {
				t.Fatal(err)
			}
		})
		none(t, r)
		if posts[0].User == nil {
			t.Fatal("Preload loaded no author")
		}
		for _, load := range []func(*gorm.DB) *gorm.DB{
			func(g *gorm.DB) *gorm.DB { return g.Preload("User") },
			func(g *gorm.DB) *gorm.DB { return g.Joins("User") },
		} {
			constant(t, db, b, nil, func(t testing.TB, ctx context.Context) {
				var posts []Post
				if err := load(g.WithContext(ctx)).Find(&posts).Error; err != nil {
					t.Fatal(err)
				}
				if len(posts) == 0 || posts[len(posts)-1].User == nil {
					t.Fatalf("no author loaded with %d posts", len(posts))
				}
			})
		}
	})
}

// TestGORMFindInLoop: a Find of each user's posts is an N+1 whose fix
// returns each user's posts and whose fix in GORM's words is
// Preload("Posts"), which raises nothing and runs as many statements for
// 50 users as for 5.
func TestGORMFindInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "find")
		var users []User
		var execs [][]any
		w := want{}
		r := trace("GET /users", func(ctx context.Context) {
			g := g.WithContext(ctx)
			g.Order("id").Find(&users)
			for _, u := range users {
				var posts []Post
				g.Where("user_id = ?", u.ID).Find(&posts) // loop: find
				execs = append(execs, []any{u.ID})
				rows := []map[string]string{}
				for _, p := range posts {
					rows = append(rows, map[string]string{"id": strconv.Itoa(p.ID), "title": p.Title})
				}
				w[strconv.Itoa(u.ID)] = rows
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(users), file, at)
		readsLike(t, db, f, execs, "user_id", w)
		names(t, f, `GORM: Preload("Posts") on the query of users`)

		r = trace("GET /users, preloaded", func(ctx context.Context) {
			g.WithContext(ctx).Preload("Posts").Find(&users)
		})
		none(t, r)
		constant(t, db, b, nil, func(t testing.TB, ctx context.Context) {
			var users []User
			if err := g.WithContext(ctx).Preload("Posts").Find(&users).Error; err != nil {
				t.Fatal(err)
			}
			if len(users) == 0 || len(users[0].Posts) != 2 {
				t.Fatalf("posts not loaded: %d users", len(users))
			}
		})
	})
}

// TestGORMCountInLoop: a Count per user becomes one grouped query that
// returns each user's count; users without posts get no row, and counted
// 0 in the loop. In GORM's words it is that statement through Raw, its
// list of keys written "IN ?": as many statements for 50 users as for 5.
func TestGORMCountInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "count")
		var users []User
		var execs [][]any
		w := want{}
		count := "count(*)" // the column's name
		if b.pg {
			count = "count"
		}
		r := trace("GET /users/stats", func(ctx context.Context) {
			g := g.WithContext(ctx)
			g.Find(&users)
			for _, u := range users {
				var n int64
				g.Model(&Post{}).Where("user_id = ?", u.ID).Count(&n) // loop: count
				execs = append(execs, []any{u.ID})
				if n > 0 {
					w[strconv.FormatInt(int64(u.ID), 10)] = []map[string]string{{count: strconv.FormatInt(n, 10)}}
				}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(users), file, at)
		readsLike(t, db, f, execs, "user_id", w)
		names(t, f, "GORM: Raw(the statement written with IN ? for its list, user_ids).Scan(&rows)")

		q := inList(t, f, "?")
		constant(t, db, b, nil, func(t testing.TB, ctx context.Context) {
			g := g.WithContext(ctx)
			var users []User
			g.Find(&users)
			userIDs := make([]int, len(users))
			for i, u := range users {
				userIDs[i] = u.ID
			}
			var counts []struct {
				UserID int
				N      int
			}
			if err := g.Raw(q, userIDs).Scan(&counts).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if len(counts) != len(users) {
				t.Fatalf("%d counts for %d users", len(counts), len(users))
			}
		})
	})
}

// TestGORMLatestInLoop: the latest post of each user by First with an
// order is a per-key LIMIT: the fix keeps one row per user, not one in
// all.
func TestGORMLatestInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "latest")
		var users []User
		var execs [][]any
		w := want{}
		r := trace("GET /users/latest", func(ctx context.Context) {
			g := g.WithContext(ctx)
			g.Find(&users)
			for _, u := range users {
				var p Post
				err := g.Where("user_id = ?", u.ID).Order("created_at desc").First(&p).Error // loop: latest
				execs = append(execs, []any{u.ID, 1})
				switch {
				case errors.Is(err, gorm.ErrRecordNotFound):
					w[strconv.Itoa(u.ID)] = nil
				case err != nil:
					t.Fatal(err)
				default:
					w[strconv.Itoa(u.ID)] = []map[string]string{{"id": strconv.Itoa(p.ID), "title": p.Title}}
				}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(users), file, at)
		var consts []string
		if !b.pg && !b.mysql {
			consts = []string{"1"} // First's LIMIT 1, which GORM binds on PostgreSQL and MySQL
		}
		readsLike(t, db, f, execs, "user_id", w, consts...)
	})
}

// TestGORMCreateInLoop: a Create per tag is an N+1 insert whose fix is one
// multi-row insert (with RETURNING, no COPY) that inserts the same rows;
// Create of the slice raises nothing, and CreateInBatches of 250 tags in
// chunks of 100 is batched, not an N+1. Both are the fix in GORM's words,
// and run as many statements for 50 tags as for 5.
func TestGORMCreateInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "create")
		slugs := []string{"go", "sql", "orm", "web"}
		var execs [][]any
		r := trace("POST /tags", func(ctx context.Context) {
			g := g.WithContext(ctx)
			for _, s := range slugs {
				g.Create(&Tag{Slug: s}) // loop: create
				execs = append(execs, []any{s})
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(slugs), file, at)
		writesLike(t, db, f, execs, `select slug from tags`, func() {
			// The loop's rows, removed again so the fix can insert them.
			if _, err := db.Exec(`delete from tags`); err != nil {
				t.Fatal(err)
			}
		})

		many := make([]Tag, 4)
		for i := range many {
			many[i].Slug = "s" + strconv.Itoa(i)
		}
		none(t, trace("POST /tags, at once", func(ctx context.Context) { g.WithContext(ctx).Create(&many) }))
		names(t, f, "GORM: Create(&rows) with a slice of every row", "CreateInBatches(&rows, n)")

		var tags []Tag
		ready := func(n int) { tags = newTags(n) }
		constant(t, db, b, ready, func(t testing.TB, ctx context.Context) {
			if err := g.WithContext(ctx).Create(&tags).Error; err != nil {
				t.Fatal(err)
			}
		})
		constant(t, db, b, ready, func(t testing.TB, ctx context.Context) {
			if err := g.WithContext(ctx).CreateInBatches(&tags, 100).Error; err != nil {
				t.Fatal(err)
			}
		})
		if tags[49].ID == 0 {
			t.Error("the tags created at once have no ids")
		}
	})
}

// TestGORMCreateInBatches: 250 rows in chunks of 100 is the fix already.
func TestGORMCreateInBatches(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		many := make([]Tag, 250)
		for i := range many {
			many[i].Slug = "b" + strconv.Itoa(i)
		}
		r := trace("POST /tags/import", func(ctx context.Context) {
			g.WithContext(ctx).CreateInBatches(&many, 100)
		})
		if len(r.NPlusOne) != 0 || len(r.Batched) != 1 {
			t.Errorf("want one batched finding and no N+1 (issue 13 item 4):\n%s", r)
		}
	})
}

// TestGORMUpdateInLoop: an Update per post is an N+1 whose fix, one
// UPDATE from the rows, leaves the table as the loop did. In GORM's words
// it is an upsert of the rows, which sets each post's score as the loop
// did, inserts nothing, and runs as many statements for 100 posts as for
// 10.
func TestGORMUpdateInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "update")
		var posts []Post
		g.Order("id").Find(&posts)
		before := snapshot(t, db, `select id, score from posts`)
		var execs [][]any
		r := trace("POST /posts/rescore", func(ctx context.Context) {
			g := g.WithContext(ctx)
			for _, p := range posts {
				score := p.Score + 10
				g.Model(&p).Update("score", score) // loop: update
				execs = append(execs, []any{score, p.ID})
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(posts), file, at)
		writesLike(t, db, f, execs, `select id, score from posts`, func() {
			for _, row := range before.Rows {
				if _, err := db.Exec(rebind(b.pg, `update posts set score = ? where id = ?`), row[1], row[0]); err != nil {
					t.Fatal(err)
				}
			}
		})
		names(t, f, `GORM: one upsert of every row, Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"score"})}).Create(&rows)`)

		var want fixcheck.Table
		ready := func(int) {
			g.Order("id").Find(&posts)
			for i := range posts {
				posts[i].Score += 10
			}
			want = snapshot(t, db, `select id, score + 10 from posts`)
		}
		constant(t, db, b, ready, func(t testing.TB, ctx context.Context) {
			err := g.WithContext(ctx).Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "id"}},
				DoUpdates: clause.AssignmentColumns([]string{"score"}),
			}).Create(&posts).Error
			if err != nil {
				t.Fatal(err)
			}
		})
		if err := fixcheck.Same(want, snapshot(t, db, `select id, score from posts`)); err != nil {
			t.Errorf("the upsert did not set the scores as the loop would: %v", err)
		}
	})
}

// TestGORMPreparedInTransaction: the same N+1 with GORM's prepared
// statements inside a transaction is found the same way, at the loop.
func TestGORMPreparedInTransaction(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db).Session(&gorm.Session{PrepareStmt: true})
		file, at := line(t, "prepared")
		var execs [][]any
		w := want{}
		r := trace("POST /teams/close", func(ctx context.Context) {
			err := g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				var users []User
				if err := tx.Order("id").Find(&users).Error; err != nil {
					return err
				}
				for _, u := range users {
					var posts []Post
					if err := tx.Where("user_id = ?", u.ID).Find(&posts).Error; err != nil { // loop: prepared
						return err
					}
					execs = append(execs, []any{u.ID})
					rows := []map[string]string{}
					for _, p := range posts {
						rows = append(rows, map[string]string{"id": strconv.Itoa(p.ID), "title": p.Title})
					}
					w[strconv.Itoa(u.ID)] = rows
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, 8, file, at)
		if f.Source == nil || f.PerRow != 1 {
			t.Errorf("source %v per row %d, want the users query once per row", f.Source, f.PerRow)
		}
		readsLike(t, db, f, execs, "user_id", w)
	})
}

// TestGORMDecrementInLoop: a counter decremented per row with gorm.Expr
// is an N+1 whose fix leaves the same counts.
func TestGORMDecrementInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		file, at := line(t, "decrement")
		var posts []Post
		g.Order("id").Find(&posts)
		before := snapshot(t, db, `select id, score from posts`)
		var execs [][]any
		r := trace("POST /orders", func(ctx context.Context) {
			g := g.WithContext(ctx)
			for _, p := range posts {
				g.Model(&Post{}).Where("id = ?", p.ID).UpdateColumn("score", gorm.Expr("score - ?", p.ID%3)) // loop: decrement
				execs = append(execs, []any{p.ID % 3, p.ID})
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(posts), file, at)
		writesLike(t, db, f, execs, `select id, score from posts`, func() {
			for _, row := range before.Rows {
				if _, err := db.Exec(rebind(b.pg, `update posts set score = ? where id = ?`), row[1], row[0]); err != nil {
					t.Fatal(err)
				}
			}
		})
		names(t, f, "GORM: Exec(the statement, its values): GORM has no batch form of it")
	})
}
