package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/querytrace/querytrace"
)

// ormCorpus generates n statements as ORMs and query builders send them to
// the driver (GORM, ent, bun, sqlc, sqlx, Django, Rails, Hibernate,
// SQLAlchemy, Prisma, Laravel, Doctrine, knex), in their own spacing,
// quoting and placeholder styles, some with their values inlined (bun,
// log replays) and some with the comments tools add (sqlcommenter,
// marginalia). Every text is unique: the values vary, and so do list
// lengths, columns and the ids in comments, as they do in the statements
// a process sees for the first time. The generator is seeded, so every
// run measures the same statements. It is a second corpus beside corpus,
// written separately from the normalizer's tuning: neither normalizer
// was changed to suit it.
func ormCorpus(n int) []query {
	r := rand.New(rand.NewPCG(2026, 20))
	g := &gen{r: r}
	makers := []struct {
		name string
		make func(g *gen) (querytrace.Dialect, string)
	}{
		{"gorm-first", gormFirst},
		{"gorm-preload", gormPreload},
		{"gorm-create", gormCreate},
		{"gorm-update", gormUpdate},
		{"ent-query", entQuery},
		{"ent-edges", entEdges},
		{"bun-select", bunSelect},
		{"bun-insert", bunInsert},
		{"django", django},
		{"rails", rails},
		{"hibernate", hibernate},
		{"hibernate-join", hibernateJoin},
		{"sqlalchemy", sqlalchemy},
		{"prisma", prisma},
		{"laravel", laravel},
		{"doctrine", doctrine},
		{"knex", knex},
		{"sqlc", sqlc},
		{"sqlite-inline", sqliteInline},
		{"mysql-json", mysqlJSON},
		{"upsert", upsert},
		{"report", report},
	}
	seen := make(map[string]bool, n)
	out := make([]query, 0, n)
	for i := 0; len(out) < n; i++ {
		m := makers[r.IntN(len(makers))]
		d, text := m.make(g)
		if seen[text] {
			// A text seen before: the same statement sent again carries
			// another request's trace in its comment.
			text += fmt.Sprintf(" /*traceparent='00-%016x%016x-%016x-01'*/", r.Uint64(), r.Uint64(), r.Uint64())
		}
		seen[text] = true
		out = append(out, query{name: fmt.Sprintf("%s-%d", m.name, i), d: d, text: text})
	}
	return out
}

// gen draws the names and values of the statements.
type gen struct{ r *rand.Rand }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) id() string               { return fmt.Sprint(1 + g.r.IntN(5_000_000)) }
func (g *gen) small() string            { return fmt.Sprint(1 + g.r.IntN(100)) }
func (g *gen) price() string            { return fmt.Sprintf("%d.%02d", g.r.IntN(10000), g.r.IntN(100)) }
func (g *gen) uuid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.r.Uint32(), g.r.IntN(1<<16), g.r.IntN(1<<12), g.r.IntN(1<<12), g.r.Uint64()&(1<<48-1))
}
func (g *gen) time() string {
	return fmt.Sprintf("2025-%02d-%02d %02d:%02d:%02d", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
}
func (g *gen) email() string {
	return fmt.Sprintf("%s.%s%d@%s", g.pick("ana", "li", "omar", "jo", "mei", "sven"), g.pick("smith", "o'neil", "garcia", "kim"), g.r.IntN(1000), g.pick("example.com", "mail.test"))
}

// str quotes s as an SQL string, doubling its quotes.
func str(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// list returns k items made by f, joined by sep.
func (g *gen) list(k int, sep string, f func(i int) string) string {
	parts := make([]string, k)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, sep)
}

func (g *gen) cols(k int, all ...string) []string {
	idx := g.r.Perm(len(all))[:min(k, len(all))]
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}

var (
	userCols  = []string{"id", "created_at", "updated_at", "deleted_at", "name", "email", "age", "birthday", "member_number", "activated_at", "company_id", "manager_id", "role", "locale"}
	orderCols = []string{"id", "user_id", "status", "total", "currency", "placed_at", "shipped_at", "coupon_code", "notes", "warehouse_id"}
	tables    = []string{"users", "orders", "order_items", "products", "posts", "comments", "accounts", "invoices", "shipments", "tags", "post_tags", "audit_events", "subscriptions", "payments"}
)

func bt(s string) string { return "`" + s + "`" }
func dq(s string) string { return `"` + s + `"` }

func gormFirst(g *gen) (querytrace.Dialect, string) {
	t := g.pick(tables...)
	if g.r.IntN(3) == 0 { // a primary key inlined by First(&u, 42)
		return querytrace.DialectMySQL, fmt.Sprintf("SELECT * FROM `%s` WHERE `%s`.`id` = %s AND `%s`.`deleted_at` IS NULL ORDER BY `%s`.`id` LIMIT 1", t, t, g.id(), t, t)
	}
	c := g.pick(userCols...)
	return querytrace.DialectMySQL, fmt.Sprintf("SELECT * FROM `%s` WHERE %s = ? AND `%s`.`deleted_at` IS NULL ORDER BY `%s`.`id` LIMIT %s", t, bt(c), t, t, g.small())
}

func gormPreload(g *gen) (querytrace.Dialect, string) {
	t := g.pick("orders", "posts", "comments", "profiles", "credit_cards")
	k := 1 + g.r.IntN(60)
	if g.r.IntN(2) == 0 {
		return querytrace.DialectPostgres, fmt.Sprintf(`SELECT * FROM "%s" WHERE "%s"."user_id" IN (%s) AND "%s"."deleted_at" IS NULL`, t, t, g.list(k, ",", func(i int) string { return fmt.Sprintf("$%d", i+1) }), t)
	}
	return querytrace.DialectMySQL, fmt.Sprintf("SELECT * FROM `%s` WHERE `%s`.`user_id` IN (%s) AND `%s`.`deleted_at` IS NULL", t, t, g.list(k, ",", func(int) string { return g.id() }), t)
}

func gormCreate(g *gen) (querytrace.Dialect, string) {
	cols := append([]string{"created_at", "updated_at", "deleted_at"}, g.cols(2+g.r.IntN(5), "name", "email", "age", "birthday", "member_number", "role", "locale")...)
	rows := 1 + g.r.IntN(3)*g.r.IntN(8)
	row := "(" + strings.Repeat("?,", len(cols)-1) + "?)"
	return querytrace.DialectMySQL, fmt.Sprintf("INSERT INTO `users` (%s) VALUES %s", g.list(len(cols), ",", func(i int) string { return bt(cols[i]) }), g.list(rows, ",", func(int) string { return row }))
}

func gormUpdate(g *gen) (querytrace.Dialect, string) {
	cols := g.cols(1+g.r.IntN(4), "name", "email", "age", "role", "locale", "activated_at")
	set := g.list(len(cols), ",", func(i int) string { return bt(cols[i]) + "=?" })
	return querytrace.DialectMySQL, fmt.Sprintf("UPDATE `users` SET %s,`updated_at`='%s' WHERE `users`.`deleted_at` IS NULL AND `id` = %s", set, g.time(), g.id())
}

func entQuery(g *gen) (querytrace.Dialect, string) {
	cols := g.cols(3+g.r.IntN(6), userCols...)
	sel := g.list(len(cols), ", ", func(i int) string { return `"users".` + dq(cols[i]) })
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT DISTINCT %s FROM "users" WHERE "users"."age" > $1 AND "users"."role" = $2 ORDER BY "users"."id" LIMIT %s OFFSET %s`, sel, g.small(), fmt.Sprint(g.r.IntN(50)*20))
}

func entEdges(g *gen) (querytrace.Dialect, string) {
	k := 1 + g.r.IntN(30)
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT "groups"."id", "groups"."name", "t1"."user_id" FROM "groups" JOIN (SELECT "user_groups"."user_id" AS "user_id", "user_groups"."group_id" AS "group_id" FROM "user_groups" WHERE "user_groups"."user_id" IN (%s)) AS "t1" ON "groups"."id" = "t1"."group_id" WHERE "groups"."active" = $%d`,
		g.list(k, ", ", func(i int) string { return fmt.Sprintf("$%d", i+1) }), k+1)
}

func bunSelect(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT "u"."id", "u"."name", "u"."emails", "u"."created_at" FROM "users" AS "u" WHERE ("u"."id" = %s) AND ("u"."name" = %s) AND ("u"."created_at" > '%s') ORDER BY "u"."id" DESC LIMIT %s`,
		g.id(), str(g.pick("john's", "Zoë", "admin", "O'Hara", "Dr. Who")), g.time(), g.small())
}

func bunInsert(g *gen) (querytrace.Dialect, string) {
	rows := 1 + g.r.IntN(12)
	return querytrace.DialectSQLite, fmt.Sprintf(`INSERT INTO "stories" ("id", "title", "author_id", "tags", "published") VALUES %s RETURNING "id"`,
		g.list(rows, ", ", func(int) string {
			return fmt.Sprintf("(DEFAULT, %s, %s, '[\"%s\",\"%s\"]', %s)", str(g.pick("Cool story", "It's here", "Release notes", "Q&A")), g.id(), g.pick("go", "sql"), g.pick("db", "web"), g.pick("TRUE", "FALSE", "NULL"))
		}))
}

func django(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT "blog_entry"."id", "blog_entry"."blog_id", "blog_entry"."headline", "blog_entry"."body_text", "blog_entry"."pub_date", "blog_entry"."rating" FROM "blog_entry" INNER JOIN "blog_blog" ON ("blog_entry"."blog_id" = "blog_blog"."id") WHERE ("blog_blog"."name" = %%s AND "blog_entry"."pub_date" >= %%s AND "blog_entry"."rating" > %s) ORDER BY "blog_entry"."pub_date" DESC LIMIT %s`, g.small(), g.pick("21", "10", "100"))
}

func rails(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT "articles".* FROM "articles" WHERE "articles"."author_id" = $1 AND "articles"."status" IN ($2, $3) ORDER BY "articles"."created_at" DESC LIMIT $4 /*action='%s',application='Blog',controller='articles',request_id='%s'*/`,
		g.pick("index", "show", "feed"), g.uuid())
}

func hibernate(g *gen) (querytrace.Dialect, string) {
	a := fmt.Sprintf("%s1_0", g.pick("u", "c", "p"))
	cols := g.cols(3+g.r.IntN(6), userCols...)
	return querytrace.DialectPostgres, fmt.Sprintf("select %s from users %s where %s.email=? and %s.role in (?,?,?) fetch first ? rows only",
		g.list(len(cols), ",", func(i int) string { return a + "." + cols[i] }), a, a, a)
}

func hibernateJoin(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectMySQL, fmt.Sprintf("select o1_0.id,o1_0.customer_id,c1_0.id,c1_0.name,c1_0.email,o1_0.total,o1_0.status from orders o1_0 left join customers c1_0 on c1_0.id=o1_0.customer_id where o1_0.status=? and o1_0.placed_at between ? and ? and o1_0.total>=%s order by o1_0.placed_at desc limit ?,?", g.price())
}

func sqlalchemy(g *gen) (querytrace.Dialect, string) {
	if g.r.IntN(2) == 0 {
		return querytrace.DialectMySQL, fmt.Sprintf("SELECT users.id AS users_id, users.name AS users_name, users.fullname AS users_fullname, users.nickname AS users_nickname FROM users WHERE users.name = %%(name_1)s AND users.id > %s ORDER BY users.id LIMIT %%(param_1)s", g.id())
	}
	k := 1 + g.r.IntN(20)
	return querytrace.DialectPostgres, fmt.Sprintf("SELECT addresses.id, addresses.email_address, addresses.user_id FROM addresses WHERE addresses.user_id IN (%s) ORDER BY addresses.id", g.list(k, ", ", func(int) string { return "%s" }))
}

func prisma(g *gen) (querytrace.Dialect, string) {
	cols := g.cols(3+g.r.IntN(5), userCols...)
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT %s FROM "public"."User" WHERE ("public"."User"."email" = $1 AND "public"."User"."age" >= $2 AND 1=1) ORDER BY "public"."User"."id" ASC LIMIT $3 OFFSET $4`,
		g.list(len(cols), ", ", func(i int) string { return `"public"."User".` + dq(cols[i]) }))
}

func laravel(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectMySQL, fmt.Sprintf("select * from `posts` where `posts`.`user_id` = %s and `posts`.`user_id` is not null and `published_at` <= '%s' and `status` in ('published', 'featured') order by `created_at` desc limit %s offset %s",
		g.id(), g.time(), g.pick("15", "25", "50"), fmt.Sprint(15*g.r.IntN(40)))
}

func doctrine(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectMySQL, fmt.Sprintf("SELECT t0.id AS id_1, t0.title AS title_2, t0.slug AS slug_3, t0.user_id AS user_id_4, t0.created_at AS created_at_5 FROM article t0 WHERE t0.user_id = ? AND t0.slug LIKE '%s%%' ORDER BY t0.id ASC",
		g.pick("how-to", "release", "weekly", "intro"))
}

func knex(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectPostgres, fmt.Sprintf(`select "accounts".*, "plans"."name" as "plan_name" from "accounts" inner join "plans" on "plans"."id" = "accounts"."plan_id" where "accounts"."owner_id" = $1 and "accounts"."created_at" > $2 and "accounts"."balance" > %s order by "accounts"."id" asc limit $3`, g.price())
}

func sqlc(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectPostgres, fmt.Sprintf("-- name: %s :many\nWITH recent AS (\n    SELECT id, user_id, total, placed_at\n    FROM orders\n    WHERE placed_at > now() - interval '%d days'\n)\nSELECT u.id, u.email, count(r.id) AS orders, coalesce(sum(r.total), 0)::numeric(12,2) AS spent\nFROM users u\nLEFT JOIN recent r ON r.user_id = u.id\nWHERE u.company_id = $1 AND u.id = ANY($2::bigint[])\nGROUP BY u.id, u.email\nHAVING count(r.id) >= $3\nORDER BY spent DESC\nLIMIT %s",
		g.pick("TopSpenders", "ListRecentBuyers", "CompanyOrders"), 1+g.r.IntN(90), g.small())
}

func sqliteInline(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectSQLite, fmt.Sprintf("SELECT id, name, sku, price FROM products WHERE category_id = %s AND price BETWEEN %s AND %s AND name LIKE '%%%s%%' AND discontinued = 0 AND image_hash != x'%08x' ORDER BY price ASC, id LIMIT %s",
		g.small(), g.price(), g.price(), g.pick("widget", "bolt", "gear", "O''Ring"), g.r.Uint32(), g.small())
}

func mysqlJSON(g *gen) (querytrace.Dialect, string) {
	return querytrace.DialectMySQL, fmt.Sprintf("SELECT `id`, JSON_EXTRACT(`data`, '$.address.city') AS city, JSON_UNQUOTE(JSON_EXTRACT(`data`, \"$.name\")) FROM `profiles` WHERE `user_id` = %s AND JSON_CONTAINS(`data`->'$.tags', '\"%s\"') AND `updated_at` > NOW() - INTERVAL %d HOUR",
		g.id(), g.pick("vip", "beta", "eu"), 1+g.r.IntN(48))
}

func upsert(g *gen) (querytrace.Dialect, string) {
	rows := 1 + g.r.IntN(10)
	if g.r.IntN(2) == 0 {
		return querytrace.DialectMySQL, fmt.Sprintf("INSERT INTO `inventory_levels` (`sku`, `warehouse_id`, `qty`, `updated_at`) VALUES %s ON DUPLICATE KEY UPDATE `qty` = `qty` + VALUES(`qty`), `updated_at` = VALUES(`updated_at`)",
			g.list(rows, ", ", func(int) string {
				return fmt.Sprintf("('SKU-%05d', %s, %d, '%s')", g.r.IntN(100000), g.small(), g.r.IntN(500)-100, g.time())
			}))
	}
	return querytrace.DialectPostgres, fmt.Sprintf(`INSERT INTO "sessions" ("token", "user_id", "expires_at", "data") VALUES ('%s', %s, '%s'::timestamptz, '{"ip": "10.%d.%d.%d", "ua": "Mozilla/5.0"}'::jsonb) ON CONFLICT ("token") DO UPDATE SET "expires_at" = EXCLUDED."expires_at", "data" = "sessions"."data" || EXCLUDED."data" RETURNING "id"`,
		g.uuid(), g.id(), g.time(), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
}

func report(g *gen) (querytrace.Dialect, string) {
	t := g.pick(tables...)
	return querytrace.DialectPostgres, fmt.Sprintf(`SELECT date_trunc('%s', created_at) AS bucket, status, count(*) AS n, percentile_cont(0.95) WITHIN GROUP (ORDER BY amount) AS p95, sum(amount) FILTER (WHERE currency = 'EUR') AS eur FROM %s WHERE created_at >= '%s' AND created_at < '%s' AND tenant_id = %s GROUP BY 1, 2 ORDER BY 1 DESC, n DESC`,
		g.pick("day", "hour", "week"), t, g.time(), g.time(), g.id())
}
