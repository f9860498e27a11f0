package querytrace

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var dialects = []Dialect{DialectGeneric, DialectPostgres, DialectSQLite, DialectMySQL}

func TestNormalize(t *testing.T) {
	tests := []struct {
		d     Dialect
		query string
		want  string
	}{
		// Literals of every kind.
		{DialectGeneric, "SELECT * FROM t WHERE a = 'it''s' AND b = 'x\\'y'", "select * from t where a = ? and b = ?"},
		{DialectGeneric, "select 1, 1.5, .5, 1e10, 1.5E-3, 0x1F, 0b101, 1_000, -2, +3", "select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"},
		{DialectGeneric, "select x'ABCD', X'00', b'0101', N'name', TRUE, false, NULL", "select ?, ?, ?, ?, ?, ?, ?"},
		{DialectPostgres, "select E'a\\'b', $$it's$$, $fn$ body $x$ $fn$, U&'d\\0061t'", "select ?, ?, ?, ?"},
		{DialectPostgres, "select 'C:\\'", "select ?"},
		{DialectSQLite, "select 'C:\\' from t", "select ? from t"},
		{DialectMySQL, `select "a \" b", 'c\'d' from t`, "select ?, ? from t"},
		// Placeholders.
		{DialectGeneric, "select ? , ?1, $1, :name, @p1, $name, %s, %(key)s", "select ?, ?, ?, ?, ?, ?, ?, ?"},
		// Signs: unary folds into the number, binary stays.
		{DialectGeneric, "select a - 1, a-1, price-10, price+10, -1, (-1), a = -1, a*-1", "select a - ?, a - ?, price - ?, price + ?, ?, (?), a = ?, a * ?"},
		{DialectGeneric, "select f(x) - 1, t.a - 1, \"q\" - 1, ? - 1, 2 - 1, a - -1", "select f(x) - ?, t.a - ?, \"q\" - ?, ? - ?, ? - ?, a - ?"},
		{DialectGeneric, "select * from t limit -1 offset - 5", "select * from t limit ? offset ?"},
		// Keyword case folds for every word; identifiers keep their digits.
		{DialectGeneric, "SELECT COUNT(*) OVER (PARTITION BY x) FROM Events_2023 T1", "select count(*) over (partition by x) from events_2023 t1"},
		{DialectPostgres, `SELECT "CamelCase"."Col1" FROM "Schema"."T"`, `select "CamelCase"."Col1" from "Schema"."T"`},
		// Comments, including sqlcommenter and marginalia tags.
		{DialectGeneric, "select /* hint */ a -- trailing\nfrom t /*controller='users',action='show'*/", "select a from t"},
		{DialectPostgres, "select a /* outer /* nested */ still comment */ from t", "select a from t"},
		{DialectMySQL, "select a # mysql comment\nfrom t", "select a from t"},
		{DialectPostgres, "select a # b from t", "select a # b from t"},
		// IN lists and VALUES rows collapse.
		{DialectGeneric, "select * from t where id in (1, 2, 3) and x not in ('a')", "select * from t where id in (?) and x not in (?)"},
		{DialectGeneric, "select * from t where (a, b) in ((1, 2), (3, 4))", "select * from t where (a, b) in ((?, ?))"},
		{DialectGeneric, "select * from t where id in (select id from u where x in (1,2))", "select * from t where id in (select id from u where x in (?))"},
		{DialectGeneric, "select * from t where a in (b, c)", "select * from t where a in (b, c)"},
		{DialectGeneric, "insert into t (a, b) values (1, 'x'), (2, NULL), (-3, 'z')", "insert into t(a, b) values (?, ?)"},
		{DialectGeneric, "insert into t values (1, default), (2, 3)", "insert into t values (?, default), (?, ?)"},
		{DialectPostgres, "select * from (values (1, 'a'), (2, 'b')) as v(n, s)", "select * from (values (?, ?)) as v(n, s)"},
		{DialectPostgres, "select ARRAY[1, 2, 3], ARRAY[[1,2],[3,4]]", "select array[?], array[[?, ?]]"},
		// NULL and booleans as values versus IS NULL.
		{DialectGeneric, "update t set a = NULL, b = TRUE where c IS NULL and d IS NOT NULL and e IS NOT FALSE and not true", "update t set a = ?, b = ? where c is null and d is not null and e is not false and not ?"},
		{DialectGeneric, "create table t (a int not null default 0, b text null default null)", "create table t(a int not null default ?, b text null default ?)"},
		// PostgreSQL casts, arrays, ANY, JSON operators.
		{DialectPostgres, "select $1::int, '{1,2}'::int[], a[1], data->>'k', data ?| array['a'] from t where id = ANY($2)", "select ?::int, ?::int[], a[?], data ->> ?, data ?| array[?] from t where id = any(?)"},
		{DialectPostgres, "select a from t where b @> '{}' and c <-> d < 5", "select a from t where b @> ? and c <-> d < ?"},
		// Double quotes by dialect.
		{DialectGeneric, `select "a" from t`, `select "a" from t`},
		{DialectSQLite, "select \"a\", `b`, [c d] from t", "select \"a\", `b`, [c d] from t"},
		{DialectMySQL, "select `a` from t where b = \"x\"", "select `a` from t where b = ?"},
		// Savepoints.
		{DialectGeneric, "SAVEPOINT sp_17", "savepoint ?"},
		{DialectGeneric, "RELEASE SAVEPOINT \"sp_17\"", "release savepoint ?"},
		{DialectMySQL, "RELEASE sp_17", "release ?"},
		{DialectGeneric, "ROLLBACK TO SAVEPOINT sp_17", "rollback to savepoint ?"},
		{DialectGeneric, "rollback to sp_17", "rollback to ?"},
		// Statements and semicolons.
		{DialectGeneric, "BEGIN; SELECT 1;; COMMIT;", "begin; select ?; commit"},
		{DialectGeneric, "  \n\t ", ""},
		{DialectGeneric, "/* only a comment */", ""},
		// Bad input stays bounded and well-formed.
		{DialectGeneric, "select 'unterminated", "select ?"},
		{DialectGeneric, "select a /* unterminated", "select a"},
		{DialectPostgres, "select $x$ unterminated", "select ?"},
		{DialectGeneric, `select "unterminated`, "select ?"},
		{DialectGeneric, "select ((a)", "select ((a)"},
		{DialectGeneric, "select a))", "select a))"},
		{DialectMySQL, "select 1st_col, 2 from 3rd_table", "select 1st_col, ? from 3rd_table"},
	}
	for _, tt := range tests {
		if got := NormalizeDialect(tt.query, tt.d); got != tt.want {
			t.Errorf("NormalizeDialect(%q, %v)\n got  %q\n want %q", tt.query, tt.d, got, tt.want)
		}
	}
}

func TestNormalizeSameShape(t *testing.T) {
	tests := []struct {
		d    Dialect
		a, b string
	}{
		{DialectGeneric, "select * from t where a = 1", "SELECT *\n  FROM t\n WHERE a = 2"},
		{DialectGeneric, "select * from t where a = 'x'", "select * from t where a = 42"},
		{DialectGeneric, "select * from t where a = ?", "select * from t where a = $7"},
		{DialectGeneric, "select * from t where a = :id", "select * from t where a = @id"},
		{DialectGeneric, "select * from t where a = -1", "select * from t where a = 1.5e3"},
		{DialectGeneric, "select * from t where a = 1 -- c", "select * from t where a = 1 /* traceparent='00-ab-cd-01' */"},
		{DialectGeneric, "select * from t where a in (1)", "select * from t where a in (1, 2, 3, 4, 5)"},
		{DialectGeneric, "select * from t where a in ($1, $2)", "select * from t where a in (?)"},
		{DialectGeneric, "insert into t (a) values (1)", "insert into t (a) values (1), (2), (3)"},
		{DialectGeneric, "insert into t (a, b) values (?, ?)", "insert into t(a,b) values ($1, $2), ($3, $4)"},
		{DialectGeneric, "update t set a = null", "update t set a = 5"},
		{DialectGeneric, "insert into t values (null, true)", "insert into t values (1, 'x')"},
		{DialectGeneric, "Select Count(*) Over ()", "SELECT COUNT(*) OVER ()"},
		{DialectGeneric, "savepoint a1", "savepoint b2"},
		{DialectGeneric, "select x'00ff'", "select 0xff"},
		{DialectPostgres, "select $$a$$", "select 'b'"},
		{DialectPostgres, "select E'\\n'", "select 'n'"},
		{DialectPostgres, "select $1::int", "select 5::int"},
		{DialectMySQL, `select * from t where a = "x"`, "select * from t where a = 'y'"},
		{DialectGeneric, "select 1;", "select 2"},
	}
	for _, tt := range tests {
		sa, sb := NormalizeDialect(tt.a, tt.d), NormalizeDialect(tt.b, tt.d)
		if sa != sb {
			t.Errorf("want same shape (%v):\n %q -> %q\n %q -> %q", tt.d, tt.a, sa, tt.b, sb)
		}
		if Fingerprint(sa) != Fingerprint(sb) {
			t.Errorf("same shape, different fingerprints: %q", sa)
		}
	}
}

func TestNormalizeDifferentShape(t *testing.T) {
	tests := []struct {
		d    Dialect
		a, b string
	}{
		{DialectGeneric, "select * from t1 where a = 1", "select * from t2 where a = 1"},
		{DialectGeneric, "select * from events_2023", "select * from events_2024"},
		{DialectGeneric, "select a from t", "select b from t"},
		{DialectGeneric, "select * from t where a = 1", "select * from t where a > 1"},
		{DialectGeneric, "select * from t where a = ?", "select * from t where a is null"},
		{DialectGeneric, "select * from t where a is null", "select * from t where a is not null"},
		{DialectGeneric, "select * from t where a in (?)", "select * from t where a = ?"},
		{DialectGeneric, "select * from t where a in (?)", "select * from t where a = any(?)"},
		{DialectGeneric, "select * from t where a in (b, c)", "select * from t where a in (b, d)"},
		{DialectGeneric, "select price-10 from t", "select price+10 from t"},
		{DialectGeneric, "select a - 1 from t", "select a from t"},
		{DialectGeneric, "select * from a join b on a.id = b.id", "select * from a left join b on a.id = b.id"},
		{DialectGeneric, "select * from t where a = 1 and b = 2", "select * from t where a = 1 or b = 2"},
		{DialectGeneric, "select * from t order by a", "select * from t order by a desc"},
		{DialectGeneric, "select * from t limit 1", "select * from t"},
		{DialectGeneric, `select "A" from t`, `select "a" from t`},
		{DialectGeneric, `select "a" from t`, `select a from t`},
		{DialectGeneric, "select * from t where a = true", "select * from t where a"},
		{DialectGeneric, "select 1; select 2", "select 1"},
		{DialectPostgres, "select $1::int", "select $1::bigint"},
		{DialectPostgres, "select a[1]", "select a"},
		{DialectGeneric, "insert into t (a) values (1)", "insert into t (a, b) values (1, 2)"},
		{DialectGeneric, "select count(*) from items where entry_id = 17 and user_id is null", "select entry_id, count(*) from items where entry_id in (17, 18) and user_id is null group by entry_id"},
	}
	for _, tt := range tests {
		sa, sb := NormalizeDialect(tt.a, tt.d), NormalizeDialect(tt.b, tt.d)
		if sa == sb {
			t.Errorf("want different shapes (%v): %q and %q both -> %q", tt.d, tt.a, tt.b, sa)
		}
		if Fingerprint(sa) == Fingerprint(sb) {
			t.Errorf("different shapes, same fingerprint: %q, %q", sa, sb)
		}
	}
}

// TestNormalizeORM checks statements as ORMs and query builders emit them.
func TestNormalizeORM(t *testing.T) {
	tests := []struct {
		name  string
		d     Dialect
		query string
		want  string
	}{
		{"gorm first", DialectMySQL, "SELECT * FROM `users` WHERE `users`.`id` = ? AND `users`.`deleted_at` IS NULL ORDER BY `users`.`id` LIMIT 1",
			"select * from `users` where `users`.`id` = ? and `users`.`deleted_at` is null order by `users`.`id` limit ?"},
		{"gorm preload", DialectPostgres, `SELECT * FROM "orders" WHERE "orders"."user_id" IN ($1,$2,$3) AND "orders"."deleted_at" IS NULL`,
			`select * from "orders" where "orders"."user_id" in (?) and "orders"."deleted_at" is null`},
		{"gorm batch insert", DialectPostgres, `INSERT INTO "users" ("created_at","name","age") VALUES ('2024-01-01 00:00:00',$1,$2),('2024-01-01 00:00:00',$3,$4) RETURNING "id"`,
			`insert into "users"("created_at", "name", "age") values (?, ?, ?) returning "id"`},
		{"sqlc", DialectPostgres, "-- name: GetAuthor :one\nSELECT id, name, bio FROM authors\nWHERE id = $1 LIMIT 1",
			"select id, name, bio from authors where id = ? limit ?"},
		{"sqlc slice", DialectMySQL, "/*name: ListByIDs :many*/ SELECT id FROM authors WHERE id IN (/*SLICE:ids*/?)",
			"select id from authors where id in (?)"},
		{"ent", DialectPostgres, `SELECT "users"."id", "users"."age" FROM "users" WHERE "users"."age" > $1 ORDER BY "users"."id" LIMIT 10 OFFSET 20`,
			`select "users"."id", "users"."age" from "users" where "users"."age" > ? order by "users"."id" limit ? offset ?`},
		{"bun", DialectPostgres, `SELECT "u"."id", "u"."name" FROM "users" AS "u" WHERE ("u"."id" IN (1, 2, 3))`,
			`select "u"."id", "u"."name" from "users" as "u" where ("u"."id" in (?))`},
		{"django", DialectPostgres, `SELECT "polls_question"."id", "polls_question"."question_text" FROM "polls_question" WHERE "polls_question"."pub_date" <= %s ORDER BY "polls_question"."pub_date" DESC LIMIT 5`,
			`select "polls_question"."id", "polls_question"."question_text" from "polls_question" where "polls_question"."pub_date" <= ? order by "polls_question"."pub_date" desc limit ?`},
		{"rails", DialectPostgres, `SELECT "posts".* FROM "posts" WHERE "posts"."author_id" = $1 LIMIT $2 /*application:Blog,controller:posts,action:index*/`,
			`select "posts".* from "posts" where "posts"."author_id" = ? limit ?`},
		{"rails mysql", DialectMySQL, "SELECT `comments`.* FROM `comments` WHERE `comments`.`post_id` IN (1, 2, 3, 4)",
			"select `comments`.* from `comments` where `comments`.`post_id` in (?)"},
		{"pgx upsert", DialectPostgres, `INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`,
			`insert into kv(k, v) values (?, ?) on conflict (k) do update set v = excluded.v`},
	}
	for _, tt := range tests {
		if got := NormalizeDialect(tt.query, tt.d); got != tt.want {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, tt.want)
		}
	}
}

// TestNormalizeNPlusOne checks the motivating case: the per-row count
// statements share one shape, and the GROUP BY fix has another.
func TestNormalizeNPlusOne(t *testing.T) {
	var fps []uint64
	for id := 1; id <= 3; id++ {
		q := fmt.Sprintf("SELECT count(*) FROM items WHERE entry_id = %d AND user_id IS NULL", id*17)
		shape, fp := shapeOf(q, DialectPostgres)
		if want := "select count(*) from items where entry_id = ? and user_id is null"; shape != want {
			t.Fatalf("shape = %q, want %q", shape, want)
		}
		fps = append(fps, fp)
	}
	if fps[0] != fps[1] || fps[1] != fps[2] {
		t.Errorf("per-row fingerprints differ: %x", fps)
	}
	fix := "SELECT entry_id, count(*) FROM items WHERE entry_id IN (17, 34, 51) AND user_id IS NULL GROUP BY entry_id"
	shape, fp := shapeOf(fix, DialectPostgres)
	if want := "select entry_id, count(*) from items where entry_id in (?) and user_id is null group by entry_id"; shape != want {
		t.Errorf("fix shape = %q, want %q", shape, want)
	}
	if fp == fps[0] {
		t.Error("fix has the per-row fingerprint")
	}
	if v := verbOf(shape); v != "select" {
		t.Errorf("verbOf = %q", v)
	}
	if tb := tablesOf(shape); !slices.Equal(tb, []string{"items"}) {
		t.Errorf("tablesOf = %q", tb)
	}
}

func TestNormalizeBadInput(t *testing.T) {
	var b strings.Builder
	b.WriteString("INSERT INTO t (a, b, c) VALUES ")
	for i := 0; b.Len() < 10<<20; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, 'name %d', %d.5)", i, i, -i)
	}
	huge := b.String()
	garbage := make([]byte, 1<<20)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>8)
	}
	tests := []struct {
		name, query, want string
	}{
		{"10MB insert", huge, "insert into t(a, b, c) values (?, ?, ?)"},
		{"deep parens", strings.Repeat("(", 1<<20), ""},
		{"many words", strings.Repeat("a ", 1<<20), ""},
		{"many strings", strings.Repeat("'x' ", 1<<20), ""},
		{"unterminated", "select '" + strings.Repeat("x", 1<<20), "select ?"},
		{"nested lists", strings.Repeat("a in (", 1<<16) + strings.Repeat("1, 2)", 1<<16), ""},
		{"garbage", string(garbage), ""},
	}
	for _, tt := range tests {
		for _, d := range dialects {
			start := time.Now()
			got := NormalizeDialect(tt.query, d)
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("%s (%v): took %v", tt.name, d, el)
			}
			if len(got) > maxShapeLen+len(truncMarker)+2 {
				t.Errorf("%s (%v): shape is %d bytes", tt.name, d, len(got))
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("%s (%v): got %.200q, want %q", tt.name, d, got, tt.want)
			}
			if again := NormalizeDialect(got, d); again != got {
				t.Errorf("%s (%v): not idempotent:\n %.300q\n %.300q", tt.name, d, got, again)
			}
		}
	}
	long := NormalizeDialect(strings.Repeat("a ", 1<<20), DialectGeneric)
	if !strings.HasSuffix(long, " "+truncMarker) {
		t.Errorf("truncated shape does not end with the marker: %.50q", long[len(long)-50:])
	}
}

func TestFingerprint(t *testing.T) {
	// Published FNV-1a 64 values.
	for s, want := range map[string]uint64{"": 0xcbf29ce484222325, "a": 0xaf63dc4c8601ec8c, "foobar": 0x85944171f73967e8} {
		if got := Fingerprint(s); got != want {
			t.Errorf("Fingerprint(%q) = %#x, want %#x", s, got, want)
		}
	}
}

func TestDialectString(t *testing.T) {
	for d, want := range map[Dialect]string{DialectGeneric: "generic", DialectPostgres: "postgres", DialectSQLite: "sqlite", DialectMySQL: "mysql", 9: "Dialect(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}

func TestShapeOf(t *testing.T) {
	q := `SELECT "a" FROM t WHERE b = "x"`
	for _, d := range dialects {
		shape, fp := shapeOf(q, d)
		if want := NormalizeDialect(q, d); shape != want {
			t.Errorf("shapeOf(%v) = %q, want %q", d, shape, want)
		}
		if fp != Fingerprint(shape) {
			t.Errorf("shapeOf(%v) fingerprint mismatch", d)
		}
		// A second call is a hit and must agree.
		if s2, fp2 := shapeOf(q, d); s2 != shape || fp2 != fp {
			t.Errorf("cached shapeOf(%v) = %q", d, s2)
		}
	}
	big := "select " + strings.Repeat("a, ", cacheMaxQueryBytes) + "1"
	if s, _ := shapeOf(big, DialectGeneric); s != NormalizeDialect(big, DialectGeneric) {
		t.Error("uncached big query differs")
	}
}

func TestShapeOfHitAllocs(t *testing.T) {
	q := "SELECT * FROM users WHERE id = $1 AND org_id = $2"
	shapeOf(q, DialectPostgres)
	if n := testing.AllocsPerRun(100, func() { shapeOf(q, DialectPostgres) }); n != 0 {
		t.Errorf("cache hit allocates %v times", n)
	}
}

func TestShapeOfConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// More distinct texts than the cache holds, to exercise eviction.
			for i := 0; i < 3*cacheShards*cacheShardEntries; i++ {
				q := fmt.Sprintf("select * from t%d where a = %d", i%(2*cacheShards*cacheShardEntries), g)
				shape, fp := shapeOf(q, Dialect(i%4))
				want := fmt.Sprintf("select * from t%d where a = ?", i%(2*cacheShards*cacheShardEntries))
				if shape != want || fp != Fingerprint(want) {
					t.Errorf("shapeOf(%q) = %q", q, shape)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range cache {
		s := &cache[i]
		s.mu.RLock()
		if len(s.m) > cacheShardEntries || s.bytes > cacheShardBytes {
			t.Errorf("shard %d holds %d entries, %d bytes", i, len(s.m), s.bytes)
		}
		s.mu.RUnlock()
	}
}

func TestVerbOf(t *testing.T) {
	tests := map[string]string{
		"SELECT 1":                             "select",
		"(select 1) union (select 2)":          "select",
		"insert into t values (1)":             "insert",
		"REPLACE INTO t VALUES (1)":            "insert",
		"update t set a = 1":                   "update",
		"delete from t":                        "delete",
		"BEGIN":                                "begin",
		"start transaction":                    "begin",
		"commit":                               "commit",
		"rollback":                             "rollback",
		"savepoint s1":                         "savepoint",
		"release savepoint s1":                 "release",
		"SET search_path TO public":            "set",
		"with a as (select 1) select * from a": "select",
		"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) DELETE FROM t USING r":       "delete",
		"with a as (select 1), b as (update t set x = 1 returning *) insert into u select * from b": "insert",
		"create table t (a int)": "other",
		"explain select 1":       "other",
		"":                       "other",
	}
	for q, want := range tests {
		if got := verbOf(Normalize(q)); got != want {
			t.Errorf("verbOf(%q) = %q, want %q", Normalize(q), got, want)
		}
	}
}

func TestTablesOf(t *testing.T) {
	tests := []struct {
		d     Dialect
		query string
		want  []string
	}{
		{DialectGeneric, "select * from users u join orders o on o.uid = u.id left join items on true", []string{"users", "orders", "items"}},
		{DialectGeneric, "select * from a, b as bb, c where a.x = b.x", []string{"a", "b", "c"}},
		{DialectPostgres, `SELECT * FROM "public"."Users" JOIN "users" ON true`, []string{"public.Users", "users"}},
		{DialectMySQL, "select * from `db`.`t` where x in (select y from u)", []string{"db.t", "u"}},
		{DialectGeneric, "insert into t (a) select a from s", []string{"t", "s"}},
		{DialectGeneric, "update t set a = 1 from u where t.id = u.id", []string{"t", "u"}},
		{DialectGeneric, "delete from t where id in (select id from t)", []string{"t"}},
		{DialectPostgres, "insert into t (a) values ($1) on conflict (a) do update set a = excluded.a", []string{"t"}},
		{DialectMySQL, "insert into t (a) values (1) on duplicate key update a = 2", []string{"t"}},
		{DialectGeneric, "select * from t for update", []string{"t"}},
		{DialectGeneric, "select extract(year from d), substring(s from 2) from t", []string{"t"}},
		{DialectGeneric, "select * from t where a is distinct from b", []string{"t"}},
		{DialectPostgres, "select * from unnest($1) as x(id) join t on t.id = x.id", []string{"t"}},
		{DialectGeneric, "select * from (select * from a) x, b", []string{"a", "b"}},
		{DialectGeneric, "select 1", nil},
	}
	for _, tt := range tests {
		shape := NormalizeDialect(tt.query, tt.d)
		if got := tablesOf(shape); !slices.Equal(got, tt.want) {
			t.Errorf("tablesOf(%q) = %q, want %q", shape, got, tt.want)
		}
	}
}

func ExampleNormalize() {
	fmt.Println(Normalize(`SELECT "posts".* FROM "posts" WHERE "posts"."id" IN (1, 2, 3) AND title = 'N+1' /*controller:posts*/`))
	fmt.Println(Normalize("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, NULL)"))
	fmt.Println(Normalize("select count(*) from items where entry_id = 17 and user_id is null"))
	// Output:
	// select "posts".* from "posts" where "posts"."id" in (?) and title = ?
	// insert into t(a, b) values (?, ?)
	// select count(*) from items where entry_id = ? and user_id is null
}
