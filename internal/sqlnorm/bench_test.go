package sqlnorm

import "testing"

// benchQueries is a small set of realistic statements; bench/normalize runs
// the same set against another normalizer.
var benchQueries = []struct {
	name  string
	d     Dialect
	query string
}{
	{"gorm-select", MySQL, "SELECT * FROM `users` WHERE `users`.`id` = 42 AND `users`.`deleted_at` IS NULL ORDER BY `users`.`id` LIMIT 1"},
	{"rails-select", Postgres, `SELECT "posts".* FROM "posts" WHERE "posts"."author_id" = $1 AND "posts"."state" IN ('draft', 'published', 'archived') ORDER BY "posts"."created_at" DESC LIMIT $2 /*application:Blog,controller:posts,action:index*/`},
	{"pg-casts", Postgres, `SELECT id, payload::jsonb ->> 'kind' AS kind FROM events WHERE created_at > $1::timestamptz AND tags && ARRAY['a','b']::text[] AND id = ANY($2)`},
	{"pg-dollar", Postgres, "SELECT $body$ SELECT 1; -- not a comment $body$, $$it's$$, E'\\n' FROM t"},
	{"insert-50-rows", Postgres, insertRows(50)},
}

func insertRows(n int) string {
	b := []byte("INSERT INTO line_items (order_id, sku, qty, price, note) VALUES ")
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "(1234, 'SKU-00042', 3, 19.99, NULL)"...)
	}
	return string(b)
}

func BenchmarkNormalizeCold(b *testing.B) {
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.SetBytes(int64(len(q.query)))
			b.ReportAllocs()
			for b.Loop() {
				Normalize(q.query, q.d)
			}
		})
	}
}

func BenchmarkShapeOfHit(b *testing.B) {
	for _, q := range benchQueries {
		Shape(q.query, q.d)
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Shape(q.query, q.d)
			}
		})
	}
}
