package querytrace

import (
	"fmt"
	"slices"
	"testing"
)

// The normalizer is tested in internal/sqlnorm; these tests check that the
// exported wrappers reach it.

func TestNormalizeWrappers(t *testing.T) {
	q := `SELECT "a" FROM t JOIN u ON true WHERE b = 'x'`
	if got, want := Normalize(q), `select "a" from t join u on ? where b = ?`; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
	if got, want := NormalizeDialect(q, DialectMySQL), `select ? from t join u on ? where b = ?`; got != want {
		t.Errorf("NormalizeDialect(MySQL) = %q, want %q", got, want)
	}
	shape := NormalizeDialect(q, DialectPostgres)
	if got := Tables(shape); !slices.Equal(got, []string{"t", "u"}) {
		t.Errorf("Tables = %q", got)
	}
	if !MentionsTable(shape, "U") || MentionsTable(shape, "v") {
		t.Errorf("MentionsTable wrong on %q", shape)
	}
	if Fingerprint("a") != 0xaf63dc4c8601ec8c {
		t.Errorf("Fingerprint(a) = %#x", Fingerprint("a"))
	}
}

func TestDialectString(t *testing.T) {
	for d, want := range map[Dialect]string{DialectGeneric: "generic", DialectPostgres: "postgres", DialectSQLite: "sqlite", DialectMySQL: "mysql", 9: "Dialect(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
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
