package querytracetest

import (
	"context"
	"database/sql"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
)

// goldenFake runs page under a golden check with g, as Golden does.
func goldenFake(t *testing.T, g goldenCheck, name string, n int, page func(context.Context, *sql.DB) ([]store.Row, error)) *fakeTB {
	return runFake(t, name, func(ft testing.TB) {
		db := openStore(ft, n)
		ctx := watch(ft, ft.Context(), func(r *querytrace.Report) { g.check(ft, r) })
		page(ctx, db)
	})
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	g := goldenCheck{dir: dir}
	path := filepath.Join(dir, "TestInventory", "slow.golden")

	// A missing file is created.
	f := goldenFake(t, g, "TestInventory/slow", 3, store.SlowInventory)
	f.Passes(t)
	contains(t, strings.Join(f.Logs, "\n"), "querytrace: wrote "+path+" (7 statements)")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# querytrace statements of TestInventory/slow: count, kind, shape. Order does not matter.\n" +
		"# Regenerate with: go test -run '^TestInventory$/^slow$' -querytrace.update\n" +
		"3\tquery\tselect coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id = ? and r.status = ?\n" +
		"3\tquery\tselect count(*) from items where entry_id = ? and user_id is null\n" +
		"1\tquery\tselect id, name, category from entries order by id\n"
	if string(data) != want {
		t.Errorf("golden file:\n%s\nwant:\n%s", data, want)
	}

	// The same statements pass, in whatever order the file lists them.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	lines[2], lines[4] = lines[4], lines[2]
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	goldenFake(t, g, "TestInventory/slow", 3, store.SlowInventory).Passes(t)

	// Other statements fail, with what changed.
	msg := goldenFake(t, g, "TestInventory/slow", 3, store.FastInventory).Fails(t)
	t.Logf("failure text:\n%s", msg)
	contains(t, msg,
		"querytrace: statements differ from "+path+" (if the change is intended, run go test -run '^TestInventory$/^slow$' -querytrace.update)\n",
		"  - 3         query          select coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id = ? and r.status = ? (no longer runs)\n",
		"  - 3         query          select count(*) from items where entry_id = ? and user_id is null (no longer runs)\n",
		"  + 1         query          select entry_id, count(*) from items where user_id is null group by entry_id (new)\n",
		"  + 1         query          select ri.entry_id, sum(ri.quantity)",
		"count     total  shape / call stack",
	)
	if strings.Contains(msg, "select id, name, category from entries order by id (") {
		t.Errorf("an unchanged line is listed:\n%s", msg)
	}

	msg = goldenFake(t, g, "TestInventory/slow", 4, store.SlowInventory).Fails(t)
	contains(t, msg, "  ~ 3 -> 4    query          select coalesce(sum(ri.quantity)", "  ~ 3 -> 4    query          select count(*) from items")

	// -update rewrites it.
	g.update = true
	f = goldenFake(t, g, "TestInventory/slow", 3, store.FastInventory)
	f.Passes(t)
	g.update = false
	goldenFake(t, g, "TestInventory/slow", 3, store.FastInventory).Passes(t)
}

func TestGoldenInCI(t *testing.T) {
	g := goldenCheck{dir: t.TempDir(), ci: true}
	msg := goldenFake(t, g, "TestNew", 1, store.FastInventory).Fails(t)
	contains(t, msg, "querytrace: golden file "+filepath.Join(g.dir, "TestNew.golden")+
		" is missing (CI is set, so it is not created); run go test -run '^TestNew$' -querytrace.update and commit the file")
	if _, err := os.Stat(filepath.Join(g.dir, "TestNew.golden")); err == nil {
		t.Error("the file was created in CI")
	}
	g.update = true
	goldenFake(t, g, "TestNew", 1, store.FastInventory).Passes(t)
}

func TestGoldenWritesNothingForAFailedTest(t *testing.T) {
	g := goldenCheck{dir: t.TempDir()}
	f := runFake(t, "TestBroken", func(ft testing.TB) {
		db := openStore(ft, 1)
		ctx := watch(ft, ft.Context(), func(r *querytrace.Report) { g.check(ft, r) })
		store.FastInventory(ctx, db)
		ft.Error("page is wrong")
	})
	contains(t, strings.Join(f.Logs, "\n"), "querytrace: the test failed; "+filepath.Join(g.dir, "TestBroken.golden")+" not written")
	if _, err := os.Stat(filepath.Join(g.dir, "TestBroken.golden")); err == nil {
		t.Error("the file was written")
	}
}

func TestGoldenMalformed(t *testing.T) {
	g := goldenCheck{dir: t.TempDir()}
	path := filepath.Join(g.dir, "TestBad.golden")
	os.WriteFile(path, []byte("# comment\nthree\tquery\tselect 1\n"), 0o644)
	contains(t, goldenFake(t, g, "TestBad", 1, store.FastInventory).Fails(t),
		"querytrace: "+path+":2: want count, kind and shape separated by tabs; delete the file to have it written again")
}

func TestGoldenPath(t *testing.T) {
	for name, want := range map[string]string{
		"TestA":                "d/TestA.golden",
		"TestA/sub_test#01":    "d/TestA/sub_test_01.golden",
		"TestA/..":             "d/TestA/_...golden",
		"TestA/a:b*c/GET_/x?y": "d/TestA/a_b_c/GET_/x_y.golden",
	} {
		if got := filepath.ToSlash(goldenPath("d", name)); got != want {
			t.Errorf("goldenPath(%q) = %q, want %q", name, got, want)
		}
	}
}

// userUpdate stands for the -update flag a test package defines itself.
var userUpdate = flag.Bool("update", false, "a test package's own -update flag")

func TestUpdateFlags(t *testing.T) {
	if updating() {
		t.Fatal("updating without a flag")
	}
	*userUpdate = true
	defer func() { *userUpdate = false }()
	if !updating() {
		t.Error("-update of the test package is not honoured")
	}
	*userUpdate = false
	*update = true
	defer func() { *update = false }()
	if !updating() {
		t.Error("-querytrace.update is not honoured")
	}
}

// TestGoldenRoundTrip checks that a golden file reads back what it was
// written from, whatever the shapes hold.
func TestGoldenRoundTrip(t *testing.T) {
	hostile := []string{
		"select \"a\tb\" from t",
		"select \"line\nbreak\" from t",
		"select \"cr\r\nlf\" from t\r",
		`select "back\slash", "\t", "\\n" from t`,
		`select 'it''s', "say ""hi""" from t`,
		"select \"ünïcødé ☃ 日本\" from t",
		"select \"\x00\x01\x1f\x7f\" from t",
		"# not a comment",
		"  leading and trailing spaces  ",
		`trailing backslash \`,
		`\x4`,
	}
	counts := make(map[goldenKey]int)
	for i, s := range hostile {
		counts[goldenKey{s, "query"}] = i + 1
	}
	counts[goldenKey{"exec\tkind", "exec\n"}] = 99
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := writeGolden(path, "TestRoundTrip", counts); err != nil {
		t.Fatal(err)
	}
	got, err := readGolden(path)
	if err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("%v\n%s", err, data)
	}
	if !maps.Equal(got, counts) {
		t.Errorf("read back %q\nwant %q", got, counts)
	}
	for _, s := range hostile {
		if u := unescapeField(escapeField(s)); u != s {
			t.Errorf("unescape(escape(%q)) = %q", s, u)
		}
	}
}

// TestGoldenQuotedIdentifiers runs statements whose shapes hold a tab and
// a line break (SQLite quoted identifiers) through Golden's check twice:
// the file it wrote must read back and pass.
func TestGoldenQuotedIdentifiers(t *testing.T) {
	g := goldenCheck{dir: t.TempDir()}
	page := func(ctx context.Context, db *sql.DB) ([]store.Row, error) {
		for _, q := range []string{
			"create table if not exists \"odd\ttable\" (\"line\nbreak\" integer, \"back\\slash\" text)",
			"insert into \"odd\ttable\" values (1, 'x')",
			"select \"line\nbreak\", \"back\\slash\" from \"odd\ttable\" where \"line\nbreak\" = 1",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	goldenFake(t, g, "TestOdd", 1, page).Passes(t)
	goldenFake(t, g, "TestOdd", 1, page).Passes(t)
	data, _ := os.ReadFile(filepath.Join(g.dir, "TestOdd.golden"))
	if lines := strings.Count(string(data), "\n"); lines != 2+3 {
		t.Errorf("golden file has %d lines, want 5:\n%s", lines, data)
	}
}
