package main

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// TestDemo runs the demo as the README's first command does, and with -db
// on PostgreSQL and MariaDB when QUERYTRACE_POSTGRES_DSN and
// QUERYTRACE_MYSQL_DSN are set, and requires what it is there to show: the
// N+1 of the slow page, with the loop's line, the query it iterates and
// the GROUP BY fix, and nothing on the fast page.
func TestDemo(t *testing.T) {
	for _, b := range []struct{ name, env string }{{"sqlite", ""}, {"postgres", "QUERYTRACE_POSTGRES_DSN"}, {"mariadb", "QUERYTRACE_MYSQL_DSN"}} {
		t.Run(b.name, func(t *testing.T) {
			dsn := ""
			if b.env != "" {
				if dsn = os.Getenv(b.env); dsn == "" {
					t.Skipf("%s is not set: the demo on %s is skipped (.ci/run sets it)", b.env, b.name)
				}
			}
			const entries = 40
			db, err := store.Open(context.Background(), openTraced, "demo-test", dsn, entries)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if dsn != "" {
					store.Drop(context.Background(), db)
				}
				db.Close()
			}()
			checkDemo(t, db, entries)
		})
	}
}

func checkDemo(t *testing.T, db *sql.DB, entries int) {
	var out strings.Builder
	slow, fast, err := demo(&out, db, entries)
	if err != nil {
		t.Fatal(err)
	}
	if slow.Statements != 1+2*entries || fast.Statements != 3 {
		t.Errorf("statements: slow %d, fast %d; want %d and 3", slow.Statements, fast.Statements, 1+2*entries)
	}
	if len(slow.NPlusOne) != 2 {
		t.Fatalf("slow page: %d N+1 findings, want 2:\n%s", len(slow.NPlusOne), out.String())
	}
	for _, f := range slow.NPlusOne {
		if f.Count != entries || !strings.HasPrefix(f.Group.CallSite(), "store/pages.go:") {
			t.Errorf("N+1 %q: count %d at %q; want %d at store/pages.go", f.Group.Shape, f.Count, f.Group.CallSite(), entries)
		}
		if f.Source == nil || !strings.Contains(f.Source.Shape, "from entries") || f.PerRow != 1 {
			t.Errorf("N+1 %q: source %+v, per row %d; want the entries query, 1 per row", f.Group.Shape, f.Source, f.PerRow)
		}
		if !strings.Contains(f.Fix, "group by") {
			t.Errorf("N+1 %q: fix %q has no GROUP BY", f.Group.Shape, f.Fix)
		}
	}
	if n := len(fast.NPlusOne) + len(fast.Duplicates) + len(fast.Slow); n != 0 {
		t.Errorf("fast page: %d findings, want none:\n%s", n, out.String())
	}
	for _, want := range []string{"Server-Timing: db;dur=", "2 N+1", "slow vs fast: 81 vs 3 statements"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "approved") {
		t.Errorf("a SQL literal reached the demo's reports")
	}
}
