package ormtest

import (
	"context"
	"database/sql"
	"strconv"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

type BunUser struct {
	bun.BaseModel `bun:"table:users,alias:u"`
	ID            int `bun:",pk"`
	Name          string
	TeamID        int
	Posts         []*BunPost `bun:"rel:has-many,join:id=user_id"`
}

type BunPost struct {
	bun.BaseModel `bun:"table:posts,alias:p"`
	ID            int `bun:",pk"`
	UserID        int
	Title         string
	Score         int
	CreatedAt     string
	User          *BunUser `bun:"rel:belongs-to,join:user_id=id"`
}

// openBun opens bun on the traced database. bun writes every value into
// the statement's text.
func openBun(b backend, db *sql.DB) *bun.DB {
	if b.pg {
		return bun.NewDB(db, pgdialect.New())
	}
	return bun.NewDB(db, sqlitedialect.New())
}

// TestBunAuthorInLoop: loading each post's author in a loop is an N+1
// though bun sends no arguments, and its fix returns every author;
// Relation("User") raises nothing.
func TestBunAuthorInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		bd := openBun(b, db)
		file, at := line(t, "author")
		var posts []BunPost
		var execs [][]any
		w := want{}
		r := trace("GET /posts", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&posts).Order("p.id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for _, p := range posts {
				u := new(BunUser)
				bd.NewSelect().Model(u).Where("u.id = ?", p.UserID).Scan(ctx) // loop: author
				execs = append(execs, []any{p.UserID})
				w[strconv.Itoa(u.ID)] = []map[string]string{{"id": strconv.Itoa(u.ID), "name": u.Name}}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(posts), file, at)
		readsLike(t, db, f, execs, "id", w)

		r = trace("GET /posts, joined", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&posts).Relation("User").Scan(ctx); err != nil {
				t.Fatal(err)
			}
		})
		none(t, r)
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}

// TestBunPostsInLoop: each user's posts in a loop is an N+1 whose fix
// returns each user's posts; Relation("Posts") raises nothing.
func TestBunPostsInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		bd := openBun(b, db)
		file, at := line(t, "posts")
		var users []BunUser
		var execs [][]any
		w := want{}
		r := trace("GET /users", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&users).Order("u.id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				var posts []BunPost
				bd.NewSelect().Model(&posts).Where("p.user_id = ?", u.ID).Scan(ctx) // loop: posts
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

		r = trace("GET /users, related", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&users).Relation("Posts").Scan(ctx); err != nil {
				t.Fatal(err)
			}
		})
		none(t, r)
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}

// TestBunCountInLoop: bun's Count per user becomes one grouped query.
func TestBunCountInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		bd := openBun(b, db)
		file, at := line(t, "count")
		var users []BunUser
		var execs [][]any
		w := want{}
		count := "count(*)"
		if b.pg {
			count = "count"
		}
		r := trace("GET /users/stats", func(ctx context.Context) {
			bd.NewSelect().Model(&users).Scan(ctx)
			for _, u := range users {
				n, err := bd.NewSelect().Model((*BunPost)(nil)).Where("p.user_id = ?", u.ID).Count(ctx) // loop: count
				if err != nil {
					t.Fatal(err)
				}
				execs = append(execs, []any{u.ID})
				if n > 0 {
					w[strconv.Itoa(u.ID)] = []map[string]string{{count: strconv.FormatInt(int64(n), 10)}}
				}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(users), file, at)
		readsLike(t, db, f, execs, "user_id", w)
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}
