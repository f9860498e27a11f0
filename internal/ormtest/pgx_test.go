package ormtest

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/fixcheck"
	"github.com/querytrace/querytrace/pgxtrace"
)

// TestPgxLatestInLoop: through pgx's own interface and pgxtrace, the
// latest post of each user in a loop is an N+1 whose fix, run through
// pgx with the keys as one array, returns each user's latest post.
func TestPgxLatestInLoop(t *testing.T) {
	db := openPostgres(t)
	setUp(t, db, backend{name: "postgres", pg: true})
	var schema string
	if err := db.QueryRow(`select current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(os.Getenv("QUERYTRACE_POSTGRES_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.Tracer = &pgxtrace.Tracer{}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	file, at := line(t, "pgx")
	var execs [][]any
	w := want{}
	r := trace("GET /users/latest", func(ctx context.Context) {
		rows, err := pool.Query(ctx, `select id from users order by id`)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for rows.Next() {
			var id int
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			var title string
			err := pool.QueryRow(ctx, `select title from posts where user_id = $1 order by created_at desc limit 1`, id).Scan(&title) // loop: pgx
			execs = append(execs, []any{id, 1})
			if err != nil {
				w[strconv.Itoa(id)] = nil
				continue
			}
			w[strconv.Itoa(id)] = []map[string]string{{"title": title}}
		}
	})
	f := finding(t, r, querytrace.FindingNPlusOne, len(execs), file, at)
	stmt := fixcheck.Statement(f.Fix)
	q, args, err := fixcheck.Fill(stmt, execs, "1") // the loop's LIMIT 1
	if err != nil {
		t.Fatalf("%v: %s", err, f.Fix)
	}
	rows, err := pool.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("the fix does not run: %v\n%s", err, q)
	}
	defer rows.Close()
	got := map[string][]string{}
	for rows.Next() {
		var key int
		var title string
		if err := rows.Scan(&key, &title); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		got[strconv.Itoa(key)] = append(got[strconv.Itoa(key)], "title="+title)
	}
	for k, rows := range w {
		var loop []string
		for _, r := range rows {
			loop = append(loop, render(r))
		}
		if !slices.Equal(loop, got[k]) {
			t.Errorf("key %s: the loop read %q, the fix returns %q\n%s", k, loop, got[k], q)
		}
	}
}
