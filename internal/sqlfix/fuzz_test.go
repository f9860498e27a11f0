package sqlfix

import (
	"regexp"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// FuzzFor writes the fix of arbitrary statements, with arbitrary values,
// in the words of each library, over a source query of users, and checks
// that it never panics (it runs when a report is made) and that its
// statement holds no quote, the sign of a literal come through.
func FuzzFor(f *testing.F) {
	for _, s := range []string{
		"select count(*) from items where entry_id = 1 and user_id is null",
		"select * from posts where user_id = ? and status = 'x' order by created_at desc limit 5",
		"select lower(name), name from users where team_id = $1 order by id limit $2",
		"update items set title = ?, status = ? where id = ? and kind = 'a' returning *",
		"update t set a = a + ?, b = a where id = ?",
		"insert into t (a, b) values (?, 'x') on conflict (a) do update set b = excluded.b",
		"insert into tags (name) select unnest($1::text[])",
		"delete from s where user_id = ? returning id",
		"select * from (select 1) x where a = ? and (b = ? or c in (?, ?))",
		"with x as (select 1) select * from x where id = ?",
	} {
		for d := range 24 {
			f.Add(s, uint8(d), []byte{1, 2, 3, 0, 1})
		}
	}
	f.Fuzz(func(t *testing.T, q string, d uint8, vals []byte) {
		dialect := sqlnorm.Dialect(d % 4)
		in := sqlnorm.Shape(q, dialect)
		var values []Value
		if len(vals) > 0 {
			values = make([]Value, in.NValues)
			for i := range values {
				values[i] = Value(vals[i%len(vals)] % 4)
			}
		}
		lib := Library(d / 4 % 6)
		fix := For(Loop{Shape: in.Shape, Dialect: dialect, Values: values, Library: lib, Source: "select id, name from users"})
		if fix.Do == "" {
			t.Fatalf("no fix for %q", in.Shape)
		}
		if strings.ContainsAny(fix.SQL, "'") {
			t.Fatalf("a quote in the fix of %q: %s", in.Shape, fix.SQL)
		}
		// The words' own quotes: possessives and sqlc.slice('keys').
		if words := ownQuotes.ReplaceAllString(fix.ORM, ""); strings.ContainsAny(words, "'") {
			t.Fatalf("a quote in the %s words of the fix of %q: %s", lib, in.Shape, fix.ORM)
		}
	})
}

var ownQuotes = regexp.MustCompile(`[a-zA-Z]'s\b|sqlc\.slice\('[^']*'\)`)
