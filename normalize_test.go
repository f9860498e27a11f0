package querytrace

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
	"weak"
)

// The normalizer is tested in internal/sqlnorm; these tests check that the
// exported wrappers reach it.

func TestNormalizeWrappers(t *testing.T) {
	q := `SELECT "t"."a" FROM t JOIN u ON true WHERE b = 'x'`
	if got, want := Normalize(q), `select "t"."a" from t join u on ? where b = ?`; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
	if got, want := NormalizeDialect(q, DialectMySQL), `select ?.? from t join u on ? where b = ?`; got != want {
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

// TestInlinedValues checks that values written into the SQL text count as
// arguments: a loop over ids built with fmt.Sprintf, as bun and hand-built
// SQL do, is an N+1 and not a duplicate, and the same text run again is a
// duplicate; and that no value reaches the report.
func TestInlinedValues(t *testing.T) {
	db := openSeed(t, 12)
	ctx, tr := Start(context.Background(), "GET /entries")
	rows, err := db.QueryContext(ctx, "SELECT id FROM entries")
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
		var name string
		q := fmt.Sprintf("SELECT name FROM entries WHERE id = %d AND name <> 'x%dsecret'", id, id)
		if err := db.QueryRowContext(ctx, q).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 1 || len(r.Duplicates) != 0 {
		t.Fatalf("%d N+1 and %d duplicates, want 1 and 0:\n%s", len(r.NPlusOne), len(r.Duplicates), r)
	}
	if f := r.NPlusOne[0]; f.Count != len(ids) {
		t.Errorf("N+1 of %d executions, want %d", f.Count, len(ids))
	}
	if s := r.String(); strings.Contains(s, "secret") {
		t.Errorf("a literal reached the report:\n%s", s)
	}

	ctx, tr = Start(context.Background(), "GET /entry")
	for range 5 {
		var name string
		q := fmt.Sprintf("SELECT name FROM entries WHERE id = %d", 3) // a new string each time
		if err := db.QueryRowContext(ctx, q).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	r = tr.Finish()
	if len(r.Duplicates) != 1 || len(r.NPlusOne) != 0 {
		t.Fatalf("%d duplicates and %d N+1, want 1 and 0:\n%s", len(r.Duplicates), len(r.NPlusOne), r)
	}

	// The same inlined values from two call sites are the same work; other
	// values are not.
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"SELECT name FROM entries WHERE id = 3", "SELECT name FROM entries WHERE id = 3", 1},
		{"SELECT name FROM entries WHERE id = 3", "SELECT name FROM entries WHERE id = 4", 0},
	} {
		ctx, tr := Start(context.Background(), "GET /page")
		db.QueryRowContext(ctx, c.a).Scan(new(string)) // the header
		db.QueryRowContext(ctx, c.b).Scan(new(string)) // the body
		if r := tr.Finish(); len(r.Duplicates) != c.want {
			t.Errorf("%q then %q from two lines: %d duplicates, want %d:\n%s", c.a, c.b, len(r.Duplicates), c.want, r)
		}
	}
}

// TestNothingPinned runs statements that are small pieces of large strings
// through the driver, traced, and checks that after a GC no large string
// is alive: nothing querytrace keeps refers to the caller's memory.
func TestNothingPinned(t *testing.T) {
	db := openSeed(t, 1)
	ctx, tr := Start(context.Background(), "GET /pinned")
	const n = 256
	var big [n]weak.Pointer[byte]
	for i := range n {
		b := make([]byte, 1<<20)
		q := fmt.Sprintf("SELECT count(*) FROM entries WHERE id > %d", i)
		copy(b[4096:], q)
		big[i] = weak.Make(&b[0])
		s := unsafe.String(&b[0], len(b))[4096 : 4096+len(q)]
		for range 2 { // the second run finds the text in the tables
			if err := db.QueryRowContext(ctx, s).Scan(new(int)); err != nil {
				t.Fatal(err)
			}
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
		t.Errorf("%d of %d large strings are alive after GC", alive, n)
	}
	if r := tr.Finish(); r.Statements != 2*n {
		t.Errorf("%d statements, want %d", r.Statements, 2*n)
	}
}

// TestDialectString also checks that the Dialect constants keep
// internal/sqlnorm's values, which String converts to.
func TestDialectString(t *testing.T) {
	for d, want := range map[Dialect]string{DialectGeneric: "generic", DialectPostgres: "postgres", DialectSQLite: "sqlite", DialectMySQL: "mysql", DialectMySQLANSIQuotes: "mysql-ansi-quotes", 9: "Dialect(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}
