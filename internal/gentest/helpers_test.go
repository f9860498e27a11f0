package gentest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/querytracetest"
)

var dbs atomic.Int64

// openDB opens a traced in-memory SQLite database with the statements of
// schema run on it, outside any trace.
func openDB(t *testing.T, schema ...string) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("sqlite3", fmt.Sprintf("file:gentest%d?mode=memory&cache=shared", dbs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, s := range schema {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db
}

// line returns the line of its caller.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// inDir reports whether frame f's file is in the folder dir of this
// module.
func inDir(f querytrace.Frame, dir string) bool {
	_, me, _, _ := runtime.Caller(0)
	return strings.HasPrefix(f.File, filepath.Join(filepath.Dir(me), dir)+string(filepath.Separator))
}

// constant runs act, the fixed code, at 5 and at 50 rows of data that
// setup makes, and fails when its statements grow with them, when it runs
// none or when it runs an N+1.
func constant(t *testing.T, setup func(t testing.TB, n int), act func(t testing.TB, ctx context.Context)) {
	t.Helper()
	querytracetest.Scale(t, querytracetest.ScaleTest{
		Sizes: []int{5, 50},
		Setup: setup,
		Act: func(t testing.TB, ctx context.Context) {
			ctx, tr := querytrace.Start(ctx, "fixed")
			act(t, ctx)
			if r := tr.Finish(); r.Statements == 0 || len(r.NPlusOne) > 0 {
				t.Errorf("the fixed code ran %d statements, %d N+1:\n%s", r.Statements, len(r.NPlusOne), r)
			}
		},
	})
}
