package sqlnorm

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"
)

// TestNoLeak checks statements whose literals only a careful reading of
// their dialect finds: the secret must be gone from the shape in the
// statement's own dialect and in the generic reading.
func TestNoLeak(t *testing.T) {
	const key = "2DD29CA851E7B56E4697B0E1F08507293D761A05CE4D1B628663F411A8086D99"
	tests := []struct {
		d      Dialect
		query  string
		secret string
	}{
		// SQLite reads "..." as a string where no column has that name.
		{SQLite, `select count(*) from users where password = "hunter2"`, "hunter2"},
		{SQLite, `PRAGMA key = "x'` + key + `'"`, key},
		{SQLite, `pragma key("hunter2")`, "hunter2"},
		{SQLite, `insert into "users" ("name", "pw") values ("bob", "hunter2"), ("al", "hunter2")`, "hunter2"},
		{SQLite, `update "users" set "pw" = "hunter2" where "id" in ("hunter2", "x")`, "hunter2"},
		{SQLite, `select * from t where a like "hunter2%" or b <> "hunter2" or c || "hunter2" = d`, "hunter2"},
		{SQLite, `select "hunter2" || a, lower("hunter2"), case when a then "hunter2" else "hunter2" end from t`, "hunter2"},
		{SQLite, `select * from t where a between "hunter2" and "hunter2" limit "hunter2"`, "hunter2"},
		{SQLite, `select * from t limit "5", "hunter2"`, "hunter2"},
		{SQLite, `select * from t limit 5, "hunter2"`, "hunter2"},
		{SQLite, `create table t (a text default "hunter2", b int check (b <> "hunter2"))`, "hunter2"},
		{SQLite, `select E'a\' , 'hunter2'`, "hunter2"},
		{SQLite, `select * from t where "u"."name" = "hunter2"`, "hunter2"},
		// PostgreSQL: nested comments, standard strings, dollar quotes.
		{Postgres, `select 1 /* a /* b */ token=hunter2 */ from t`, "hunter2"},
		{Postgres, `select 'C:\dir\', 'hunter2' from t`, "hunter2"},
		{Postgres, `select 'C:\dir\' || a, b from t where c = 'hunter2'`, "hunter2"},
		{Postgres, `select $t$ it's hunter2 $t$, $$hunter2$$ from t`, "hunter2"},
		{Postgres, `select E'it\'s hunter2', e'\\', 'hunter2' from t`, "hunter2"},
		{Postgres, `select U&'hunter2\0061' from t`, "hunter2"},
		{Postgres, "select a from t where b = 'x\nhunter2'", "hunter2"},
		// MySQL: backslash escapes, # comments, double-quoted strings, --
		// followed by a space only.
		{MySQL, `select 'it\'s hunter2' from t`, "hunter2"},
		{MySQL, `select "hunter2", "a\"hunter2" from t`, "hunter2"},
		{MySQL, "select a # hunter2\nfrom t", "hunter2"},
		{MySQL, "select 5--1, 'a\nhunter2' from t", "hunter2"},
		{MySQL, "select `a'b` from t where c = 'hunter2'", "hunter2"},
		{MySQL, "select _utf8mb4'hunter2', _binary'hunter2\\'', _latin1\"hunter2\" from t", "hunter2"},
		{MySQL, "select /*!40101 'hunter2', */ 1 /*+ qb_name(hunter2) */ from t", "hunter2"},
		{MySQL, "select /*! 'a*/ , 'hunter2' */ 1", "hunter2"},
		{MySQL, "select /*+ set_var(x = '*/') */ 'hunter2' from t", "hunter2"},
		{MySQL, "select /*M!100301 'hunter2', */ x'2DD29CA8', 0x2DD29CA8, b'0101' from t", "2DD29CA8"},
		{MySQLANSIQuotes, `select "a" from "t" where "b" = 'it\'s hunter2' or c = _utf8mb4'hunter2'`, "hunter2"},
		{MySQLANSIQuotes, "select /*!40101 'hunter2' */ 1 # hunter2\nfrom t", "hunter2"},
		// Where the generic reading must not follow one dialect alone.
		{SQLite, "select [a'b] from t where c = 'hunter2'", "hunter2"},
		{SQLite, `select "a\" from t where c = 'hunter2'`, "hunter2"},
		{Postgres, "select a #>> '{x}', 'y\nhunter2' from t", "hunter2"},
		{Postgres, `select $q$ ' $q$, 'hunter2' from t`, "hunter2"},
		{MySQL, `select $q$ 'x $q$ hunter2' from t`, "hunter2"},
		{MySQL, `select 1 /* /* */ 'x */ hunter2' from t`, "hunter2"},
		{MySQL, `select "x\"" from t where a = "hunter2"`, "hunter2"},
	}
	for _, tt := range tests {
		for _, d := range []Dialect{tt.d, Generic} {
			if got := Normalize(tt.query, d); strings.Contains(got, tt.secret) {
				t.Errorf("Normalize(%q, %v) = %q: the literal is left", tt.query, d, got)
			}
		}
	}
}

// TestQuotedNames checks that double-quoted identifiers, as bun writes
// every table and column on SQLite and as GORM and ent write them on
// PostgreSQL, keep statements apart in their dialect, and in the generic
// reading where the position admits no value.
func TestQuotedNames(t *testing.T) {
	tests := []struct {
		d    Dialect
		a, b string
	}{
		{SQLite, `SELECT "u"."id", "u"."name" FROM "users" AS "u" WHERE ("u"."id" = 1)`, `SELECT "u"."id", "u"."email" FROM "users" AS "u" WHERE ("u"."id" = 1)`},
		{SQLite, `SELECT "id" FROM "users" WHERE "id" = 1`, `SELECT "name" FROM "users" WHERE "id" = 1`},
		{SQLite, `SELECT "id" FROM "users" WHERE "id" = 1`, `SELECT "id" FROM "users" WHERE "name" = 1`},
		{SQLite, `INSERT INTO "users" ("id", "name") VALUES (1, 'x')`, `INSERT INTO "users" ("id", "email") VALUES (1, 'x')`},
		{SQLite, `UPDATE "users" AS "u" SET "name" = 'x', "age" = 1 WHERE ("u"."id" = 1)`, `UPDATE "users" AS "u" SET "name" = 'x', "size" = 1 WHERE ("u"."id" = 1)`},
		{SQLite, `SELECT count(*) FROM "users" ORDER BY "name"`, `SELECT count(*) FROM "users" ORDER BY "email"`},
		{SQLite, `SELECT * FROM "a" JOIN "b" ON "a"."id" = "b"."a_id"`, `SELECT * FROM "a" JOIN "b" ON "a"."id" = "b"."other_id"`},
		{Generic, `SELECT "users"."id" FROM "users" WHERE "users"."id" = $1`, `SELECT "users"."name" FROM "users" WHERE "users"."id" = $1`},
		{Generic, `INSERT INTO "users" ("id", "name") VALUES ($1, $2)`, `INSERT INTO "users" ("id", "email") VALUES ($1, $2)`},
		{Generic, `UPDATE "users" SET "name" = $1, "age" = $2`, `UPDATE "users" SET "name" = $1, "size" = $2`},
		{Generic, `SELECT * FROM "users"`, `SELECT * FROM "orders"`},
		{Postgres, `SELECT "id" FROM "users" WHERE "id" = $1`, `SELECT "id" FROM "users" WHERE "name" = $1`},
	}
	for _, tt := range tests {
		sa, sb := Normalize(tt.a, tt.d), Normalize(tt.b, tt.d)
		if sa == sb {
			t.Errorf("want different shapes (%v): %q and %q both -> %q", tt.d, tt.a, tt.b, sa)
		}
	}
}

// TestMySQLUserVariables checks that @name is a name in MySQL, where it is
// a user variable, and a placeholder elsewhere.
func TestMySQLUserVariables(t *testing.T) {
	a, b := "select * from t where id > @max_id", "select * from t where id > @min_id"
	if sa, sb := Normalize(a, MySQL), Normalize(b, MySQL); sa == sb {
		t.Errorf("MySQL user variables merge: %q", sa)
	}
	if got, want := Normalize("SET @Max_ID = 5; select @max_id, @@session.x", MySQL), "set @max_id = ?; select @max_id, @@session.x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := Normalize("select * from t where id = @p1", SQLite), "select * from t where id = ?"; got != want {
		t.Errorf("SQLite: got %q, want %q", got, want)
	}
}

// TestGenericGivesUp checks that where the dialects read a statement
// differently, the generic reading keeps the part before and drops the rest.
func TestGenericGivesUp(t *testing.T) {
	tests := []struct{ query, want string }{
		{`select a /* x /* y */ z */ from t`, "select a …"},
		{`select a, 'C:\dir\', b from t`, "select a, …"},
		{"select a # note\nfrom t", "select a from t"},
		{"select a #>> '{x}' from t", "select a …"},
		{`select $$x$$, 1`, "select ?, ?"},
		{`select $q$ it's $q$, 1`, "select …"},
		{"select `a` from t", "select `a` from t"},
		{"select `a'b` from t", "select …"},
		{"select x[1] from t", "select x[?] from t"},
		{"select x['a'] from t", "select x[?] from t"},
		{"select [a'b] from t where c = 'x'", "select[a …"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.query, Generic); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

// TestLiteralHash checks the hash of a text's literals: texts that differ
// only in their literals have one shape and different hashes, identical
// texts and texts that differ only in comments, spacing or placeholders
// the same hash, and a cached shape comes with its own text's hash.
func TestLiteralHash(t *testing.T) {
	for _, d := range []Dialect{Generic, Postgres, SQLite, MySQL, MySQLANSIQuotes} {
		base := "select name from users where id = 1 and kind = 'a'"
		l1 := Shape(base, d).Literals
		l1again := Shape(strings.Clone(base), d).Literals
		l2 := Shape("select name from users where id = 2 and kind = 'a'", d).Literals
		l3 := Shape("select name from users where id = 1 and kind = 'b'", d).Literals
		l4 := Shape("SELECT name  FROM users /* c */ WHERE id = 1 AND kind = 'a' -- x", d).Literals
		swap := Shape("select name from users where id = 'a' and kind = 1", d).Literals
		none := Shape("select name from users where id = ? and kind = ?", d).Literals
		if l1 == 0 || l1 != l1again || l1 != l4 {
			t.Errorf("%v: one set of literals, hashes %x %x %x", d, l1, l1again, l4)
		}
		if l1 == l2 || l1 == l3 || l2 == l3 || l1 == swap {
			t.Errorf("%v: different literals, hashes %x %x %x %x", d, l1, l2, l3, swap)
		}
		if none != 0 {
			t.Errorf("%v: placeholders only, hash %x", d, none)
		}
	}
}

// TestShapeKeepsNoCallerMemory checks that what the shape cache and the
// recent table keep refers to none of the caller's memory: statements that
// are small pieces of large strings must not keep the large strings alive.
func TestShapeKeepsNoCallerMemory(t *testing.T) {
	const n = 256
	var big [n]weak.Pointer[byte]
	for i := range n {
		b := make([]byte, 1<<20)
		q := "select * from t" + strings.Repeat(" ", i) + " where a = 1"
		copy(b[1000:], q)
		s := unsafe.String(&b[0], len(b))
		big[i] = weak.Make(&b[0])
		for _, d := range []Dialect{Generic, Postgres} {
			Shape(s[1000:1000+len(q)], d)
			Shape(s[1000:1000+len(q)], d) // a recent-table hit
		}
	}
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, p := range big {
		if p.Value() != nil {
			alive++
		}
	}
	if alive > 0 {
		t.Errorf("%d of %d large strings are still alive", alive, n)
	}
}

// TestGuarantees checks the normalizer's promise for each dialect: with
// the dialect's own quoting of names and values, statements that differ
// only in values have one shape (no split), statements that differ in
// anything else have different shapes (no merge), and no value is left.
func TestGuarantees(t *testing.T) {
	templates := []string{
		"select {a}, {b} from {t} where {c} = {V} and {d} in ({V}, {V})",
		"select {a}, {b} from {t} where {c} = {V} and {e} in ({V}, {V})",
		"select {a}, {e} from {t} where {c} = {V} and {d} in ({V}, {V})",
		"insert into {t} ({a}, {b}) values ({V}, {V}), ({V}, {V})",
		"insert into {t} ({a}, {c}) values ({V}, {V})",
		"update {t} set {a} = {V}, {b} = {V} where {c} = {V}",
		"update {t} set {a} = {V}, {d} = {V} where {c} = {V}",
		"select count(*) from {t} where {a} > {V} /* note */",
		"select count(*) from {t} where {a} >= {V}",
		"delete from {t} where {a} like {V} escape {V}",
		"delete from {u} where {a} like {V} escape {V}",
		"select lower({a}) from {t} where {b} between {V} and {V} limit {V}",
		"select upper({a}) from {t} where {b} between {V} and {V} limit {V}",
		"select /*!40101 sql_no_cache */ {a} from {t} where {b} = {V} limit {V}",
		"insert into {t} ({a}) values ({V}) on duplicate key update {a} = {V}",
	}
	values := []string{"hunter2", "it's", `back\slash\`, "", "a \"quoted\" word", "x'00'", "$q$ -- /* #"}
	forms := map[Dialect][]func(string) string{
		SQLite: {
			func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" },
			func(v string) string { return `"` + strings.ReplaceAll(v, `"`, `""`) + `"` },
			func(string) string { return "?" },
			func(string) string { return "42" },
		},
		Postgres: {
			func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" },
			func(v string) string { return "E'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v) + "'" },
			func(v string) string { return "$z$" + v + "$z$" },
			func(string) string { return "$1" },
			func(string) string { return "-1.5e3" },
		},
		MySQL: {
			func(v string) string { return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v) + "'" },
			func(v string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"` },
			func(string) string { return "?" },
			func(string) string { return "0x1F" },
			func(v string) string { return "_utf8mb4'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(v) + "'" },
			func(v string) string { return fmt.Sprintf("X'%x'", v) },
		},
		MySQLANSIQuotes: {
			func(v string) string { return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v) + "'" },
			func(v string) string { return "_binary'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v) + "'" },
			func(string) string { return "?" },
			func(string) string { return "b'0101'" },
		},
	}
	names := map[Dialect]func(string) string{
		SQLite:   func(s string) string { return `"` + s + `"` },
		Postgres: func(s string) string { return `"` + s + `"` },
		MySQL:    func(s string) string { return "`" + s + "`" },
		// With ANSI_QUOTES double quotes are names, as in PostgreSQL.
		MySQLANSIQuotes: func(s string) string { return `"` + s + `"` },
	}
	for d, fs := range forms {
		seen := map[string]string{}
		for _, tmpl := range templates {
			for _, quote := range []func(string) string{names[d], func(s string) string { return s }} {
				r := strings.NewReplacer("{a}", quote("a"), "{b}", quote("b"), "{c}", quote("c"), "{d}", quote("d"), "{e}", quote("e"), "{t}", quote("t"), "{u}", quote("u"))
				stmt := r.Replace(tmpl)
				want := ""
				for _, f := range fs {
					for _, v := range values {
						q := strings.ReplaceAll(stmt, "{V}", f(v))
						got := Normalize(q, d)
						if want == "" {
							want = got
						} else if got != want {
							t.Errorf("%v: split:\n %q -> %q\n first shape %q", d, q, got, want)
						}
						if v != "" && strings.Contains(got, v) {
							t.Errorf("%v: value %q left in %q", d, v, got)
						}
					}
				}
				if other, ok := seen[want]; ok && other != stmt {
					t.Errorf("%v: merge: %q and %q both -> %q", d, other, stmt, want)
				}
				seen[want] = stmt
			}
		}
	}
}
