package ormtest

import (
	"context"
	"database/sql"
	"strconv"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/fixcheck"
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

type BunTag struct {
	bun.BaseModel `bun:"table:tags,alias:t"`
	ID            int `bun:",pk,autoincrement"`
	Slug          string
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
// though bun sends no arguments, and its fix returns every author; in
// bun's words it is Relation("User"), which raises nothing and runs as
// many statements for 100 posts as for 10.
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
		names(t, f, `bun: Relation("User") on the query of posts`)

		r = trace("GET /posts, joined", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&posts).Relation("User").Scan(ctx); err != nil {
				t.Fatal(err)
			}
		})
		none(t, r)
		constant(t, db, b, nil, func(t testing.TB, ctx context.Context) {
			var posts []BunPost
			if err := bd.NewSelect().Model(&posts).Relation("User").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if len(posts) == 0 || posts[0].User == nil {
				t.Fatalf("no author loaded with %d posts", len(posts))
			}
		})
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}

// TestBunPostsInLoop: each user's posts in a loop is an N+1 whose fix
// returns each user's posts; in bun's words it is Relation("Posts"),
// which raises nothing and runs as many statements for 50 users as for 5.
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

		names(t, f, `bun: Relation("Posts") on the query of users`)

		r = trace("GET /users, related", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&users).Relation("Posts").Scan(ctx); err != nil {
				t.Fatal(err)
			}
		})
		none(t, r)
		constant(t, db, b, nil, func(t testing.TB, ctx context.Context) {
			var users []BunUser
			if err := bd.NewSelect().Model(&users).Relation("Posts").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if len(users) == 0 || len(users[0].Posts) != 2 {
				t.Fatalf("posts not loaded: %d users", len(users))
			}
		})
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}

// TestBunCountInLoop: bun's Count per user becomes one grouped query,
// which in bun's words runs through NewRaw with its list of keys written
// "IN (?)" and given as bun.In: as many statements for 50 users as for 5.
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
		names(t, f, "bun: NewRaw(the statement written with IN (?) for its list, bun.In(user_ids)).Scan(ctx, &rows)")

		q := inList(t, f, "(?)")
		constant(t, db, b, nil, func(t testing.TB, ctx context.Context) {
			var userIDs []int
			if err := bd.NewSelect().Model((*BunUser)(nil)).Column("id").Scan(ctx, &userIDs); err != nil {
				t.Fatal(err)
			}
			var counts []map[string]any
			if err := bd.NewRaw(q, bun.In(userIDs)).Scan(ctx, &counts); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if len(counts) != len(userIDs) {
				t.Fatalf("%d counts for %d users", len(counts), len(userIDs))
			}
		})
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}

// TestBunInsertInLoop: an insert per tag is an N+1 whose fix in bun's
// words is one NewInsert of the slice: as many statements for 50 tags as
// for 5.
func TestBunInsertInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		bd := openBun(b, db)
		file, at := line(t, "insert")
		slugs := []string{"go", "sql", "orm", "web"}
		r := trace("POST /tags", func(ctx context.Context) {
			for _, s := range slugs {
				if _, err := bd.NewInsert().Model(&BunTag{Slug: s}).Exec(ctx); err != nil { // loop: insert
					t.Fatal(err)
				}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(slugs), file, at)
		names(t, f, "bun: NewInsert().Model(&rows) with a slice of every row: one INSERT")

		var tags []BunTag
		ready := func(n int) {
			tags = make([]BunTag, n)
			for i := range tags {
				tags[i].Slug = "t" + strconv.Itoa(i)
			}
		}
		constant(t, db, b, ready, func(t testing.TB, ctx context.Context) {
			if _, err := bd.NewInsert().Model(&tags).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if tags[49].ID == 0 {
			t.Error("the tags inserted at once have no ids")
		}
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}

// TestBunUpdateInLoop: an update of each post's score is an N+1 whose fix
// in bun's words is a Bulk update of the slice, which sets each score as
// the loop did in as many statements for 100 posts as for 10.
func TestBunUpdateInLoop(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		bd := openBun(b, db)
		file, at := line(t, "update")
		var posts []BunPost
		r := trace("POST /posts/rescore", func(ctx context.Context) {
			if err := bd.NewSelect().Model(&posts).Order("p.id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for _, p := range posts {
				p.Score += 10
				if _, err := bd.NewUpdate().Model(&p).Column("score").WherePK().Exec(ctx); err != nil { // loop: update
					t.Fatal(err)
				}
			}
		})
		f := finding(t, r, querytrace.FindingNPlusOne, len(posts), file, at)
		names(t, f, `bun: NewUpdate().Model(&rows).Column("score").Bulk()`)

		var want fixcheck.Table
		ready := func(int) {
			if err := bd.NewSelect().Model(&posts).Order("p.id").Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i := range posts {
				posts[i].Score += 10
			}
			want = snapshot(t, db, `select id, score + 10 from posts`)
		}
		constant(t, db, b, ready, func(t testing.TB, ctx context.Context) {
			if _, err := bd.NewUpdate().Model(&posts).Column("score").Bulk().Exec(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if err := fixcheck.Same(want, snapshot(t, db, `select id, score from posts`)); err != nil {
			t.Errorf("the bulk update did not set the scores as the loop would: %v", err)
		}
	}, "mariadb") // bun's MySQL dialect is not among the scenarios
}
