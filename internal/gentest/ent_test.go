package gentest

import (
	"context"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"example.com/gentest/ent"
	"github.com/querytrace/querytrace"
)

// The application's hand-written code around ent's generated client: a
// repository function per statement, and the loops that call them.

var createTagLine, getTagLine, saveTagsLoop, tagNamesLoop int

func createTag(ctx context.Context, tx *ent.Tx, name string) (*ent.Tag, error) {
	createTagLine = line() + 1
	return tx.Tag.Create().SetName(name).Save(ctx)
}

func getTag(ctx context.Context, client *ent.Client, id int) (*ent.Tag, error) {
	getTagLine = line() + 1
	return client.Tag.Get(ctx, id)
}

// saveTags creates each tag in one transaction, through ent/tx.go.
func saveTags(ctx context.Context, client *ent.Client, names []string) ([]int, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, n := range names {
		saveTagsLoop = line() + 1
		tag, err := createTag(ctx, tx, n)
		if err != nil {
			tx.Rollback()
			return nil, err
		}
		ids = append(ids, tag.ID)
	}
	return ids, tx.Commit()
}

func tagNames(ctx context.Context, client *ent.Client, ids []int) ([]string, error) {
	var names []string
	for _, id := range ids {
		tagNamesLoop = line() + 1
		tag, err := getTag(ctx, client, id)
		if err != nil {
			return nil, err
		}
		names = append(names, tag.Name)
	}
	return names, nil
}

// TestEntGenerated checks that ent's generated client, in the
// application's own module, is skipped like a dependency: each N+1 names
// the hand-written repository function and the loop that calls it, while
// the generated frames (ent/tx.go, ent/tag_create.go, ...) stay in the
// full stack, which tell ent's ways: CreateBulk, and one query with
// tag.IDIn.
func TestEntGenerated(t *testing.T) {
	db := openDB(t, `CREATE TABLE tags (id integer PRIMARY KEY AUTOINCREMENT, name text NOT NULL UNIQUE)`)
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, db)))
	ctx, tr := querytrace.Start(context.Background(), "POST /tags")
	ids, err := saveTags(ctx, client, []string{"go", "sql", "n+1", "ent", "sqlite"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tagNames(ctx, client, ids); err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 2 {
		t.Fatalf("%d N+1 findings, want 2 (the inserts, the gets):\n%s", len(r.NPlusOne), r)
	}
	for _, f := range r.NPlusOne {
		site, loop := getTagLine, tagNamesLoop
		fn, loopFn := ".getTag", ".tagNames"
		way := "ent: one client.Tag.Query().Where(tag.IDIn(ids...)).All(ctx)"
		if strings.HasPrefix(f.Group.Shape, "insert") {
			site, loop = createTagLine, saveTagsLoop
			fn, loopFn = ".createTag", ".saveTags"
			way = "ent: client.Tag.CreateBulk(builders...).Save(ctx): one INSERT of every row"
		}
		if !strings.HasPrefix(f.ORMFix, way) {
			t.Errorf("%s: the fix in ent's words is %q, want it to start %q (see TestEntBulkAndIn)", f.Group.Shape, f.ORMFix, way)
		}
		s := f.Group.Stack
		if len(s) < 2 || !strings.HasSuffix(s[0].Function, fn) || s[0].Line != site {
			t.Errorf("%s: stack %v, want %s:%d first", f.Group.Shape, s, fn, site)
		}
		for _, fr := range s {
			if inDir(fr, "ent") {
				t.Errorf("%s: generated frame %s in the application's stack", f.Group.Shape, fr)
			}
		}
		if f.Loop == nil || !strings.HasSuffix(f.Loop.Function, loopFn) || f.Loop.Line != loop {
			t.Errorf("%s: loop %v, want %s:%d", f.Group.Shape, f.Loop, loopFn, loop)
		}
		generated := 0
		for _, fr := range f.Group.FullStack() {
			if inDir(fr, "ent") {
				generated++
			}
		}
		if generated == 0 {
			t.Errorf("%s: no generated frame in the full stack: the scenario no longer goes through ent's code", f.Group.Shape)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", r)
	}
}
