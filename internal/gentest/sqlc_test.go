package gentest

import (
	"context"
	"strings"
	"testing"

	"example.com/gentest/sqlcdb"
	"github.com/querytrace/querytrace"
)

var authorNameLine, authorsLine, authorNamesLoop int

func authorName(ctx context.Context, q *sqlcdb.Queries, id int64) (string, error) {
	authorNameLine = line() + 1
	a, err := q.GetAuthor(ctx, id)
	return a.Name, err
}

func authorNames(ctx context.Context, q *sqlcdb.Queries) ([]string, error) {
	authorsLine = line() + 1
	authors, err := q.ListAuthors(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range authors {
		authorNamesLoop = line() + 1
		n, err := authorName(ctx, q, a.ID)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, nil
}

// TestSQLCGenerated checks that sqlc's generated queries are skipped like
// a dependency: the N+1 and its source name the hand-written callers.
func TestSQLCGenerated(t *testing.T) {
	db := openDB(t, `CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`INSERT INTO authors (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')`)
	ctx, tr := querytrace.Start(context.Background(), "GET /authors")
	if _, err := authorNames(ctx, sqlcdb.New(db)); err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1 findings, want 1:\n%s", len(r.NPlusOne), r)
	}
	f := r.NPlusOne[0]
	if s := f.Group.Stack; len(s) == 0 || !strings.HasSuffix(s[0].Function, ".authorName") || s[0].Line != authorNameLine {
		t.Errorf("stack %v, want authorName:%d first", s, authorNameLine)
	}
	for _, g := range []*querytrace.Group{f.Group, f.Source} {
		if g == nil {
			t.Fatalf("no source, want the authors query")
		}
		for _, fr := range g.Stack {
			if inDir(fr, "sqlcdb") {
				t.Errorf("generated frame %s in the stack of %s", fr, g.Shape)
			}
		}
	}
	if s := f.Source.Stack; len(s) == 0 || !strings.HasSuffix(s[0].Function, ".authorNames") || s[0].Line != authorsLine {
		t.Errorf("source at %v, want authorNames:%d", s, authorsLine)
	}
	if f.Loop == nil || f.Loop.Line != authorNamesLoop {
		t.Errorf("loop %v, want authorNames:%d", f.Loop, authorNamesLoop)
	}
	if t.Failed() {
		t.Logf("report:\n%s", r)
	}
}
