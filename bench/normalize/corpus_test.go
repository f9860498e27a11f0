package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/querytrace/querytrace"
)

// corpus generates n varied statements from templates in the styles of the
// common ORMs, query builders and hand-written SQL, in all four dialects,
// with literals, placeholders, comments and lists of every common kind.
// The generator is seeded, so every run measures the same statements.
func corpus(n int) []query {
	r := rand.New(rand.NewPCG(12, 1))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	tables := []string{"users", "orders", "order_items", "products", "posts", "comments", "sessions", "accounts", "invoices", "events", "tags", "article_tags", "audit_log", "inventory_levels"}
	cols := []string{"id", "user_id", "name", "email", "status", "created_at", "updated_at", "deleted_at", "title", "body", "amount", "price", "qty", "sku", "kind", "payload", "author_id", "post_id", "token", "slug"}
	table := func() string { return tables[r.IntN(len(tables))] }
	col := func() string { return cols[r.IntN(len(cols))] }
	str := func() string {
		return pick("'alice@example.com'", "'published'", "'2024-05-01 10:00:00'", "'O''Brien'", "'SKU-00042'",
			fmt.Sprintf("'user-%d'", r.IntN(100000)), "'a longer free-text value, with punctuation; and more words'", "''")
	}
	num := func() string {
		return pick(fmt.Sprint(r.IntN(1000)), fmt.Sprint(r.IntN(1<<30)), fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)), "-1", "0", "1e3")
	}
	lit := func() string {
		if r.IntN(2) == 0 {
			return str()
		}
		return num()
	}
	type style struct {
		d     querytrace.Dialect
		quote func(string) string
		ph    func(i int) string // placeholder number i, from 1
	}
	dq := func(s string) string { return `"` + s + `"` }
	bt := func(s string) string { return "`" + s + "`" }
	plain := func(s string) string { return s }
	styles := map[string]style{
		"gorm-mysql":  {querytrace.DialectMySQL, bt, func(int) string { return "?" }},
		"gorm-pg":     {querytrace.DialectPostgres, dq, func(i int) string { return fmt.Sprintf("$%d", i) }},
		"bun-sqlite":  {querytrace.DialectSQLite, dq, nil}, // values inlined
		"sqlx-sqlite": {querytrace.DialectSQLite, plain, func(int) string { return "?" }},
		"sqlc-pg":     {querytrace.DialectPostgres, plain, func(i int) string { return fmt.Sprintf("$%d", i) }},
		"django-pg":   {querytrace.DialectPostgres, dq, func(int) string { return "%s" }},
		"rails-pg":    {querytrace.DialectPostgres, dq, func(i int) string { return fmt.Sprintf("$%d", i) }},
		"hand-mysql":  {querytrace.DialectMySQL, plain, nil},
		"hand-pg":     {querytrace.DialectPostgres, plain, nil},
		"generic":     {querytrace.DialectGeneric, plain, func(int) string { return "?" }},
	}
	names := make([]string, 0, len(styles))
	for k := range styles {
		names = append(names, k)
	}
	// Map iteration order is random; sort for a stable corpus.
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}

	out := make([]query, 0, n)
	for i := 0; len(out) < n; i++ {
		name := names[i%len(names)]
		st := styles[name]
		q := st.quote
		arg := 0
		val := func() string {
			if st.ph == nil {
				return lit()
			}
			arg++
			return st.ph(arg)
		}
		list := func(k int) string {
			parts := make([]string, k)
			for j := range parts {
				parts[j] = val()
			}
			return strings.Join(parts, ", ")
		}
		t, t2 := table(), table()
		qc := func(c string) string { return q(t) + "." + q(c) }
		var text string
		switch r.IntN(16) {
		case 0: // find by primary key
			text = fmt.Sprintf("SELECT * FROM %s WHERE %s = %s AND %s IS NULL ORDER BY %s LIMIT 1", q(t), qc("id"), val(), qc("deleted_at"), qc("id"))
		case 1: // select columns with a filter
			text = fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s = %s AND %s > %s", qc("id"), qc(col()), qc(col()), q(t), qc(col()), val(), qc(col()), val())
		case 2: // preload with an IN list
			text = fmt.Sprintf("SELECT * FROM %s WHERE %s IN (%s)", q(t), qc(col()), list(1+r.IntN(40)))
		case 3: // join
			text = fmt.Sprintf("SELECT %s.%s, %s.%s FROM %s JOIN %s ON %s.%s = %s.%s WHERE %s.%s = %s ORDER BY %s.%s DESC LIMIT %s",
				q(t), q("id"), q(t2), q(col()), q(t), q(t2), q(t2), q("user_id"), q(t), q("id"), q(t), q(col()), val(), q(t), q("created_at"), num())
		case 4: // multi-row insert
			rows := make([]string, 1+r.IntN(20))
			for j := range rows {
				rows[j] = "(" + list(4) + ")"
			}
			text = fmt.Sprintf("INSERT INTO %s (%s, %s, %s, %s) VALUES %s", q(t), q("name"), q("email"), q("status"), q("created_at"), strings.Join(rows, ", "))
		case 5: // update
			text = fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s, %s = %s WHERE %s = %s", q(t), q(col()), val(), q(col()), val(), q("updated_at"), val(), q("id"), val())
		case 6: // delete
			text = fmt.Sprintf("DELETE FROM %s WHERE %s < %s AND %s = %s", q(t), q("created_at"), val(), q("status"), val())
		case 7: // count per parent, the N+1 shape
			text = fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = %s AND %s IS NULL", q(t), q("post_id"), val(), q("deleted_at"))
		case 8: // aggregate with GROUP BY and HAVING
			text = fmt.Sprintf("SELECT %s, count(*), sum(%s), avg(%s) FROM %s WHERE %s BETWEEN %s AND %s GROUP BY %s HAVING count(*) > %s",
				q("user_id"), q("amount"), q("price"), q(t), q("created_at"), val(), val(), q("user_id"), num())
		case 9: // common table expression
			text = fmt.Sprintf("WITH recent AS (SELECT %s, %s FROM %s WHERE %s > %s) SELECT r.%s, count(*) FROM recent r JOIN %s x ON x.%s = r.%s GROUP BY r.%s",
				q("id"), q("user_id"), q(t), q("created_at"), val(), q("user_id"), q(t2), q("user_id"), q("user_id"), q("user_id"))
		case 10: // window function
			text = fmt.Sprintf("SELECT %s, row_number() OVER (PARTITION BY %s ORDER BY %s DESC) AS rn FROM %s WHERE %s = %s",
				q("id"), q("user_id"), q("created_at"), q(t), q("kind"), val())
		case 11: // upsert
			if st.d == querytrace.DialectMySQL {
				text = fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (%s, %s) ON DUPLICATE KEY UPDATE %s = VALUES(%s)", q(t), q("id"), q("qty"), val(), val(), q("qty"), q("qty"))
			} else {
				text = fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (%s, %s) ON CONFLICT (%s) DO UPDATE SET %s = excluded.%s RETURNING %s", q(t), q("id"), q("qty"), val(), val(), q("id"), q("qty"), q("qty"), q("id"))
			}
		case 12: // search
			text = fmt.Sprintf("SELECT * FROM %s WHERE lower(%s) LIKE %s OR %s LIKE %s ORDER BY %s LIMIT %s OFFSET %s", q(t), q("name"), str(), q("email"), str(), q("id"), num(), num())
		case 13: // CASE and subquery
			text = fmt.Sprintf("SELECT %s, CASE WHEN %s > %s THEN 'high' WHEN %s > %s THEN 'mid' ELSE 'low' END FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s = %s)",
				q("id"), q("amount"), num(), q("amount"), num(), q(t), q("user_id"), q("id"), q(t2), q("status"), val())
		case 14: // transactions and savepoints
			text = pick("BEGIN", "COMMIT", "ROLLBACK", fmt.Sprintf("SAVEPOINT sp_%d", r.IntN(100)), fmt.Sprintf("RELEASE SAVEPOINT sp_%d", r.IntN(100)), "START TRANSACTION")
		case 15: // dialect specifics
			switch st.d {
			case querytrace.DialectPostgres:
				text = fmt.Sprintf("SELECT id, payload::jsonb ->> 'kind' AS kind FROM %s WHERE created_at > %s::timestamptz AND tags && ARRAY[%s, %s]::text[] AND id = ANY(%s)", t, val(), str(), str(), val())
			case querytrace.DialectMySQL:
				text = fmt.Sprintf("SELECT `id` FROM `%s` WHERE `email` = \"%s\" AND `name` LIKE 'O\\'Br%%' AND `balance` > %s", t, pick("a@b.c", "x"), num())
			case querytrace.DialectSQLite:
				text = fmt.Sprintf("INSERT INTO kv (k, v, updated) VALUES (%s, x'DEADBEEF', %s) ON CONFLICT (k) DO UPDATE SET v = excluded.v", str(), num())
			default:
				text = fmt.Sprintf("SELECT * FROM %s WHERE %s = %s", t, col(), val())
			}
		}
		// Comments as tools write them.
		switch r.IntN(6) {
		case 0:
			text += " /*application:Blog,controller:posts,action:index*/"
		case 1:
			text = "-- name: Query" + fmt.Sprint(i) + " :many\n" + text
		case 2:
			text += fmt.Sprintf(" /*traceparent='00-%016x%016x-%016x-01'*/", r.Uint64(), r.Uint64(), r.Uint64())
		}
		out = append(out, query{name: fmt.Sprintf("%s-%d", name, i), d: st.d, text: text})
	}
	return out
}
