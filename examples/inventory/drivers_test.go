package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	// TestDemo runs the pages on the servers in this process, whatever
	// the tags: the test binary carries both drivers, the demo's only
	// those its tags ask for.
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// TestDriverTags builds the demo as a user does, with go run: without
// tags it carries no server driver, and a -db naming a server stops with
// the command that builds that server's driver in; with -tags pgx,mysql
// it runs its pages on PostgreSQL and MariaDB when QUERYTRACE_POSTGRES_DSN
// and QUERYTRACE_MYSQL_DSN are set.
func TestDriverTags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo twice")
	}
	deps := func(tags string) string {
		out, err := exec.Command("go", "list", "-tags", tags, "-deps", ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags %q: %v\n%s", tags, err, out)
		}
		return string(out)
	}
	drivers := []string{"github.com/jackc/pgx/v5/stdlib", "github.com/go-sql-driver/mysql"}
	untagged, tagged := deps(""), deps("pgx,mysql")
	for _, d := range drivers {
		if strings.Contains(untagged, d+"\n") {
			t.Errorf("the demo built without tags imports %s", d)
		}
		if !strings.Contains(tagged, d+"\n") {
			t.Errorf("the demo built with -tags pgx,mysql does not import %s", d)
		}
	}

	for _, c := range []struct{ dsn, want string }{
		{"postgres://demo@127.0.0.1:1/demo?sslmode=disable",
			"inventory: -db names a PostgreSQL database, and this build has no driver for it; run the demo with its driver built in:\n" +
				"\tgo run -tags pgx ./examples/inventory -entries 3 -db 'postgres://demo@127.0.0.1:1/demo?sslmode=disable'\n"},
		{"demo:it's@tcp(127.0.0.1:1)/demo",
			"inventory: -db names a MySQL or MariaDB database, and this build has no driver for it; run the demo with its driver built in:\n" +
				"\tgo run -tags mysql ./examples/inventory -entries 3 -db 'demo:it'\\''s@tcp(127.0.0.1:1)/demo'\n"},
	} {
		cmd := exec.Command("go", "run", ".", "-entries", "3", "-db", c.dsn)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		// go run prints "exit status 1" after the program's own words.
		got, _, _ := strings.Cut(stderr.String(), "exit status")
		if err == nil || got != c.want {
			t.Errorf("go run . -db %s: %v, stderr\n%s\nwant\n%s", c.dsn, err, stderr.String(), c.want)
		}
	}

	for _, env := range []string{"QUERYTRACE_POSTGRES_DSN", "QUERYTRACE_MYSQL_DSN"} {
		dsn := os.Getenv(env)
		if dsn == "" {
			t.Logf("%s is not set: the demo built with its driver is not run on it (.ci/run sets it)", env)
			continue
		}
		out, err := exec.Command("go", "run", "-tags", "pgx,mysql", ".", "-entries", "40", "-db", dsn).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "slow vs fast: 81 vs 3 statements") {
			t.Errorf("go run -tags pgx,mysql . -db $%s: %v\n%s", env, err, out)
		}
	}
}
