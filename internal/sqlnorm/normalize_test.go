package sqlnorm

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

var dialects = []Dialect{Generic, Postgres, SQLite, MySQL, MySQLANSIQuotes}

func TestNormalize(t *testing.T) {
	tests := []struct {
		d     Dialect
		query string
		want  string
	}{
		// Literals of every kind.
		{MySQL, "SELECT * FROM t WHERE a = 'it''s' AND b = 'x\\'y'", "select * from t where a = ? and b = ?"},
		{Generic, "SELECT * FROM t WHERE a = 'it''s' AND b = 'x\\'y'", "select * from t where a = ? and b = …"},
		{Generic, "select 1, 1.5, .5, 1e10, 1.5E-3, 0x1F, 0b101, 1_000, -2, +3", "select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"},
		{Generic, "select x'ABCD', X'00', b'0101', N'name', TRUE, false, NULL", "select ?, ?, ?, ?, ?, ?, ?"},
		{Postgres, "select E'a\\'b', $$it's$$, $fn$ body $x$ $fn$, U&'d\\0061t'", "select ?, ?, ?, ?"},
		{Postgres, "select 'C:\\'", "select ?"},
		{SQLite, "select 'C:\\' from t", "select ? from t"},
		{MySQL, `select "a \" b", 'c\'d' from t`, "select ?, ? from t"},
		// Placeholders.
		{Generic, "select ? , ?1, $1, :name, @p1, $name, %s, %(key)s", "select ?, ?, ?, ?, ?, ?, ?, ?"},
		// Signs: unary folds into the number, binary stays.
		{Generic, "select a - 1, a-1, price-10, price+10, -1, (-1), a = -1, a*-1", "select a - ?, a - ?, price - ?, price + ?, ?, (?), a = ?, a * ?"},
		{Postgres, "select f(x) - 1, t.a - 1, \"q\" - 1, ? - 1, 2 - 1, a - -1", "select f(x) - ?, t.a - ?, \"q\" - ?, ? - ?, ? - ?, a - ?"},
		{Generic, "select * from t limit -1 offset - 5", "select * from t limit ? offset ?"},
		// Keyword case folds for every word; identifiers keep their digits.
		{Generic, "SELECT COUNT(*) OVER (PARTITION BY x) FROM Events_2023 T1", "select count(*) over (partition by x) from events_2023 t1"},
		{Postgres, `SELECT "CamelCase"."Col1" FROM "Schema"."T"`, `select "CamelCase"."Col1" from "Schema"."T"`},
		// Comments, including sqlcommenter and marginalia tags.
		{Generic, "select /* hint */ a -- trailing\nfrom t /*controller='users',action='show'*/", "select a from t"},
		{Postgres, "select a /* outer /* nested */ still comment */ from t", "select a from t"},
		{MySQL, "select a # mysql comment\nfrom t", "select a from t"},
		{Postgres, "select a # b from t", "select a # b from t"},
		// IN lists and VALUES rows collapse.
		{Generic, "select * from t where id in (1, 2, 3) and x not in ('a')", "select * from t where id in (?) and x not in (?)"},
		{Generic, "select * from t where (a, b) in ((1, 2), (3, 4))", "select * from t where (a, b) in ((?, ?))"},
		{Generic, "select * from t where id in (select id from u where x in (1,2))", "select * from t where id in (select id from u where x in (?))"},
		{Generic, "select * from t where a in (b, c)", "select * from t where a in (b, c)"},
		{Generic, "insert into t (a, b) values (1, 'x'), (2, NULL), (-3, 'z')", "insert into t(a, b) values (?, ?)"},
		{Generic, "insert into t values (1, default), (2, 3)", "insert into t values (?, default), (?, ?)"},
		{Postgres, "select * from (values (1, 'a'), (2, 'b')) as v(n, s)", "select * from (values (?, ?)) as v(n, s)"},
		{Postgres, "select ARRAY[1, 2, 3], ARRAY[[1,2],[3,4]]", "select array[?], array[[?, ?]]"},
		// NULL and booleans as values versus IS NULL.
		{Generic, "update t set a = NULL, b = TRUE where c IS NULL and d IS NOT NULL and e IS NOT FALSE and not true", "update t set a = ?, b = ? where c is null and d is not null and e is not false and not ?"},
		{Generic, "create table t (a int not null default 0, b text null default null)", "create table t(a int not null default ?, b text null default ?)"},
		// PostgreSQL casts, arrays, ANY, JSON operators.
		{Postgres, "select $1::int, '{1,2}'::int[], a[1], data->>'k', data ?| array['a'] from t where id = ANY($2)", "select ?::int, ?::int[], a[?], data ->> ?, data ?| array[?] from t where id = any(?)"},
		{Postgres, "select a from t where b @> '{}' and c <-> d < 5", "select a from t where b @> ? and c <-> d < ?"},
		// Double quotes by dialect.
		{Postgres, `select "a" from t`, `select "a" from t`},
		{Generic, `select "a", "t"."b" from "t"`, `select ?, "t"."b" from "t"`},
		{SQLite, "select \"a\", `b`, [c d] from t", "select \"a\", `b`, [c d] from t"},
		{MySQL, "select `a` from t where b = \"x\"", "select `a` from t where b = ?"},
		// Savepoints.
		{Generic, "SAVEPOINT sp_17", "savepoint ?"},
		{Generic, "RELEASE SAVEPOINT \"sp_17\"", "release savepoint ?"},
		{MySQL, "RELEASE sp_17", "release ?"},
		{Generic, "ROLLBACK TO SAVEPOINT sp_17", "rollback to savepoint ?"},
		{Generic, "rollback to sp_17", "rollback to ?"},
		// Statements and semicolons.
		{Generic, "BEGIN; SELECT 1;; COMMIT;", "begin; select ?; commit"},
		{Generic, "  \n\t ", ""},
		{Generic, "/* only a comment */", ""},
		// Bad input stays bounded and well-formed.
		{Generic, "select 'unterminated", "select ?"},
		{Generic, "select a /* unterminated", "select a"},
		{Postgres, "select $x$ unterminated", "select ?"},
		{Generic, `select "unterminated`, "select ?"},
		{Generic, "select ((a)", "select ((a)"},
		{Generic, "select a))", "select a))"},
		{MySQL, "select 1st_col, 2 from 3rd_table", "select 1st_col, ? from 3rd_table"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.query, tt.d); got != tt.want {
			t.Errorf("Normalize(%q, %v)\n got  %q\n want %q", tt.query, tt.d, got, tt.want)
		}
	}
}

func TestNormalizeSameShape(t *testing.T) {
	tests := []struct {
		d    Dialect
		a, b string
	}{
		{Generic, "select * from t where a = 1", "SELECT *\n  FROM t\n WHERE a = 2"},
		{Generic, "select * from t where a = 'x'", "select * from t where a = 42"},
		{Generic, "select * from t where a = ?", "select * from t where a = $7"},
		{Generic, "select * from t where a = :id", "select * from t where a = @id"},
		{Generic, "select * from t where a = -1", "select * from t where a = 1.5e3"},
		{Generic, "select * from t where a = 1 -- c", "select * from t where a = 1 /* traceparent='00-ab-cd-01' */"},
		{Generic, "select * from t where a in (1)", "select * from t where a in (1, 2, 3, 4, 5)"},
		{Generic, "select * from t where a in ($1, $2)", "select * from t where a in (?)"},
		{Generic, "insert into t (a) values (1)", "insert into t (a) values (1), (2), (3)"},
		{Generic, "insert into t (a, b) values (?, ?)", "insert into t(a,b) values ($1, $2), ($3, $4)"},
		{Generic, "update t set a = null", "update t set a = 5"},
		{Generic, "insert into t values (null, true)", "insert into t values (1, 'x')"},
		{Generic, "Select Count(*) Over ()", "SELECT COUNT(*) OVER ()"},
		{Generic, "savepoint a1", "savepoint b2"},
		{Generic, "select x'00ff'", "select 0xff"},
		{Postgres, "select $$a$$", "select 'b'"},
		{Postgres, "select E'\\n'", "select 'n'"},
		{Postgres, "select $1::int", "select 5::int"},
		{MySQL, `select * from t where a = "x"`, "select * from t where a = 'y'"},
		{Generic, "select 1;", "select 2"},
	}
	for _, tt := range tests {
		sa, sb := Normalize(tt.a, tt.d), Normalize(tt.b, tt.d)
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
		{Generic, "select * from t1 where a = 1", "select * from t2 where a = 1"},
		{Generic, "select * from events_2023", "select * from events_2024"},
		{Generic, "select a from t", "select b from t"},
		{Generic, "select * from t where a = 1", "select * from t where a > 1"},
		{Generic, "select * from t where a = ?", "select * from t where a is null"},
		{Generic, "select * from t where a is null", "select * from t where a is not null"},
		{Generic, "select * from t where a in (?)", "select * from t where a = ?"},
		{Generic, "select * from t where a in (?)", "select * from t where a = any(?)"},
		{Generic, "select * from t where a in (b, c)", "select * from t where a in (b, d)"},
		{Generic, "select price-10 from t", "select price+10 from t"},
		{Generic, "select a - 1 from t", "select a from t"},
		{Generic, "select * from a join b on a.id = b.id", "select * from a left join b on a.id = b.id"},
		{Generic, "select * from t where a = 1 and b = 2", "select * from t where a = 1 or b = 2"},
		{Generic, "select * from t order by a", "select * from t order by a desc"},
		{Generic, "select * from t limit 1", "select * from t"},
		{Postgres, `select "A" from t`, `select "a" from t`},
		{SQLite, `select "A" from t`, `select "a" from t`},
		{Generic, `select "t"."A" from t`, `select "t"."a" from t`},
		{Postgres, `select "a" from t`, `select a from t`},
		{Generic, "select * from t where a = true", "select * from t where a"},
		{Generic, "select 1; select 2", "select 1"},
		{Postgres, "select $1::int", "select $1::bigint"},
		{Postgres, "select a[1]", "select a"},
		{Generic, "insert into t (a) values (1)", "insert into t (a, b) values (1, 2)"},
		{Generic, "select count(*) from items where entry_id = 17 and user_id is null", "select entry_id, count(*) from items where entry_id in (17, 18) and user_id is null group by entry_id"},
	}
	for _, tt := range tests {
		sa, sb := Normalize(tt.a, tt.d), Normalize(tt.b, tt.d)
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
		{"gorm first", MySQL, "SELECT * FROM `users` WHERE `users`.`id` = ? AND `users`.`deleted_at` IS NULL ORDER BY `users`.`id` LIMIT 1",
			"select * from `users` where `users`.`id` = ? and `users`.`deleted_at` is null order by `users`.`id` limit ?"},
		{"gorm preload", Postgres, `SELECT * FROM "orders" WHERE "orders"."user_id" IN ($1,$2,$3) AND "orders"."deleted_at" IS NULL`,
			`select * from "orders" where "orders"."user_id" in (?) and "orders"."deleted_at" is null`},
		{"gorm batch insert", Postgres, `INSERT INTO "users" ("created_at","name","age") VALUES ('2024-01-01 00:00:00',$1,$2),('2024-01-01 00:00:00',$3,$4) RETURNING "id"`,
			`insert into "users"("created_at", "name", "age") values (?, ?, ?) returning "id"`},
		{"sqlc", Postgres, "-- name: GetAuthor :one\nSELECT id, name, bio FROM authors\nWHERE id = $1 LIMIT 1",
			"select id, name, bio from authors where id = ? limit ?"},
		{"sqlc slice", MySQL, "/*name: ListByIDs :many*/ SELECT id FROM authors WHERE id IN (/*SLICE:ids*/?)",
			"select id from authors where id in (?)"},
		{"ent", Postgres, `SELECT "users"."id", "users"."age" FROM "users" WHERE "users"."age" > $1 ORDER BY "users"."id" LIMIT 10 OFFSET 20`,
			`select "users"."id", "users"."age" from "users" where "users"."age" > ? order by "users"."id" limit ? offset ?`},
		{"bun", Postgres, `SELECT "u"."id", "u"."name" FROM "users" AS "u" WHERE ("u"."id" IN (1, 2, 3))`,
			`select "u"."id", "u"."name" from "users" as "u" where ("u"."id" in (?))`},
		{"django", Postgres, `SELECT "polls_question"."id", "polls_question"."question_text" FROM "polls_question" WHERE "polls_question"."pub_date" <= %s ORDER BY "polls_question"."pub_date" DESC LIMIT 5`,
			`select "polls_question"."id", "polls_question"."question_text" from "polls_question" where "polls_question"."pub_date" <= ? order by "polls_question"."pub_date" desc limit ?`},
		{"rails", Postgres, `SELECT "posts".* FROM "posts" WHERE "posts"."author_id" = $1 LIMIT $2 /*application:Blog,controller:posts,action:index*/`,
			`select "posts".* from "posts" where "posts"."author_id" = ? limit ?`},
		{"rails mysql", MySQL, "SELECT `comments`.* FROM `comments` WHERE `comments`.`post_id` IN (1, 2, 3, 4)",
			"select `comments`.* from `comments` where `comments`.`post_id` in (?)"},
		{"pgx upsert", Postgres, `INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`,
			`insert into kv(k, v) values (?, ?) on conflict (k) do update set v = excluded.v`},
	}
	for _, tt := range tests {
		if got := Normalize(tt.query, tt.d); got != tt.want {
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
		info := Shape(q, Postgres)
		shape, fp := info.Shape, info.Fingerprint
		if want := "select count(*) from items where entry_id = ? and user_id is null"; shape != want {
			t.Fatalf("shape = %q, want %q", shape, want)
		}
		fps = append(fps, fp)
	}
	if fps[0] != fps[1] || fps[1] != fps[2] {
		t.Errorf("per-row fingerprints differ: %x", fps)
	}
	fix := "SELECT entry_id, count(*) FROM items WHERE entry_id IN (17, 34, 51) AND user_id IS NULL GROUP BY entry_id"
	info := Shape(fix, Postgres)
	shape, fp := info.Shape, info.Fingerprint
	if want := "select entry_id, count(*) from items where entry_id in (?) and user_id is null group by entry_id"; shape != want {
		t.Errorf("fix shape = %q, want %q", shape, want)
	}
	if fp == fps[0] {
		t.Error("fix has the per-row fingerprint")
	}
	if v := Verb(shape); v != "select" {
		t.Errorf("Verb = %q", v)
	}
	if tb := Tables(shape); !slices.Equal(tb, []string{"items"}) {
		t.Errorf("Tables = %q", tb)
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
			// Linear time is BenchmarkNormalizeCold's to show; a quadratic
			// lexer would run into the test binary's timeout here.
			got := Normalize(tt.query, d)
			if len(got) > maxShapeLen+len(truncMarker)+2 {
				t.Errorf("%s (%v): shape is %d bytes", tt.name, d, len(got))
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("%s (%v): got %.200q, want %q", tt.name, d, got, tt.want)
			}
			if again := Normalize(got, d); again != got {
				t.Errorf("%s (%v): not idempotent:\n %.300q\n %.300q", tt.name, d, got, again)
			}
		}
	}
	long := Normalize(strings.Repeat("a ", 1<<20), Generic)
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
	for d, want := range map[Dialect]string{Generic: "generic", Postgres: "postgres", SQLite: "sqlite", MySQL: "mysql", MySQLANSIQuotes: "mysql-ansi-quotes", 9: "Dialect(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}

func TestShapeOf(t *testing.T) {
	q := `SELECT "a" FROM t WHERE b = "x"`
	for _, d := range dialects {
		info := Shape(q, d)
		shape, fp := info.Shape, info.Fingerprint
		if want := Normalize(q, d); shape != want {
			t.Errorf("Shape(%v) = %q, want %q", d, shape, want)
		}
		if fp != Fingerprint(shape) {
			t.Errorf("Shape(%v) fingerprint mismatch", d)
		}
		// A second call is a hit and must agree.
		if again := Shape(q, d); again.Shape != shape || again.Fingerprint != fp {
			t.Errorf("cached Shape(%v) = %q", d, again.Shape)
		}
	}
	big := "select " + strings.Repeat("a, ", cacheMaxQueryBytes) + "1"
	if s := Shape(big, Generic).Shape; s != Normalize(big, Generic) {
		t.Error("uncached big query differs")
	}
}

func TestShapeOfHitAllocs(t *testing.T) {
	q := "SELECT * FROM users WHERE id = $1 AND org_id = $2"
	Shape(q, Postgres)
	if n := testing.AllocsPerRun(100, func() { Shape(q, Postgres) }); n != 0 {
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
				info := Shape(q, Dialect(i%4))
				shape, fp := info.Shape, info.Fingerprint
				want := fmt.Sprintf("select * from t%d where a = ?", i%(2*cacheShards*cacheShardEntries))
				if shape != want || fp != Fingerprint(want) {
					t.Errorf("Shape(%q) = %q", q, shape)
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
		if got := Verb(Normalize(q, Generic)); got != want {
			t.Errorf("Verb(%q) = %q, want %q", Normalize(q, Generic), got, want)
		}
	}
}

func TestTablesOf(t *testing.T) {
	tests := []struct {
		d     Dialect
		query string
		want  []string
	}{
		{Generic, "select * from users u join orders o on o.uid = u.id left join items on true", []string{"users", "orders", "items"}},
		{Generic, "select * from a, b as bb, c where a.x = b.x", []string{"a", "b", "c"}},
		{Postgres, `SELECT * FROM "public"."Users" JOIN "users" ON true`, []string{"public.Users", "users"}},
		{MySQL, "select * from `db`.`t` where x in (select y from u)", []string{"db.t", "u"}},
		{Generic, "insert into t (a) select a from s", []string{"t", "s"}},
		{Generic, "update t set a = 1 from u where t.id = u.id", []string{"t", "u"}},
		{Generic, "delete from t where id in (select id from t)", []string{"t"}},
		{Postgres, "insert into t (a) values ($1) on conflict (a) do update set a = excluded.a", []string{"t"}},
		{MySQL, "insert into t (a) values (1) on duplicate key update a = 2", []string{"t"}},
		{Generic, "select * from t for update", []string{"t"}},
		{Generic, "select extract(year from d), substring(s from 2) from t", []string{"t"}},
		{Generic, "select * from t where a is distinct from b", []string{"t"}},
		{Postgres, "select * from unnest($1) as x(id) join t on t.id = x.id", []string{"t"}},
		{Generic, "select * from (select * from a) x, b", []string{"a", "b"}},
		{Generic, "select 1", nil},
	}
	for _, tt := range tests {
		shape := Normalize(tt.query, tt.d)
		if got := Tables(shape); !slices.Equal(got, tt.want) {
			t.Errorf("Tables(%q) = %q, want %q", shape, got, tt.want)
		}
	}
}

// TestRecentShapes checks the table of recent query strings: a string at a
// new address with the text of another gets that text's shape, and two
// texts never share one.
func TestRecentShapes(t *testing.T) {
	q1 := "SELECT a FROM t WHERE id = 1"
	i1, i2, i3 := Shape(q1, Generic), Shape(q1, Generic), Shape(strings.Clone(q1), Generic)
	i4 := Shape(strings.Replace(q1, "a", "b", 1), Generic)
	s1, fp1, again, fpAgain := i1.Shape, i1.Fingerprint, i2.Shape, i2.Fingerprint
	s2, fp2, other, fpOther := i3.Shape, i3.Fingerprint, i4.Shape, i4.Fingerprint
	if s1 != again || fp1 != fpAgain || s1 != s2 || fp1 != fp2 {
		t.Errorf("one text, two shapes: %q %q %q", s1, again, s2)
	}
	if other == s1 || fpOther == fp1 {
		t.Errorf("two texts, one shape %q", other)
	}
	pg := Shape(`SELECT "a" FROM t`, Postgres).Shape
	my := Shape(`SELECT "a" FROM t`, MySQL).Shape
	if pg == my {
		t.Errorf("the dialect is not part of the key: %q for both", pg)
	}
	// A slot whose string was freed and whose address now holds another
	// text of the same length must not answer for it.
	b := []byte("select a from t where x = 1")
	s := unsafe.String(&b[0], len(b))
	i5 := Shape(s, Postgres)
	first, l1 := i5.Shape, i5.Literals
	copy(b, "select b from u where y = 2")
	i6 := Shape(s, Postgres)
	second, l2 := i6.Shape, i6.Literals
	if first == second || l1 == l2 {
		t.Errorf("a reused address kept its old shape %q", second)
	}
}

func TestHasWordKeyLists(t *testing.T) {
	tests := []struct {
		d     Dialect
		query string
		limit bool   // HasWord(shape, "limit")
		lists uint32 // KeyLists(shape)
	}{
		{Generic, "select * from t where id in (1, 2, 3) and a = ?", false, 0b01},
		{Postgres, "select * from t where a = $1 and id = any($2) limit 10", true, 0b010},
		{Generic, "select * from t where a in (select b from u) limit ?", true, 0},
		{Generic, `select "limit" from t where x = 'limit'`, false, 0},
		{Generic, "select * from t where a in (?, ?) and b in (?)", false, 0b11},
		{Generic, "select * from t where f(?) in (?)", false, 0b10},
	}
	for _, tt := range tests {
		shape := Normalize(tt.query, tt.d)
		if got := HasWord(shape, "limit"); got != tt.limit {
			t.Errorf("HasWord(%q, limit) = %v, want %v", shape, got, tt.limit)
		}
		if got := KeyLists(shape); got != tt.lists {
			t.Errorf("KeyLists(%q) = %b, want %b", shape, got, tt.lists)
		}
	}
}
