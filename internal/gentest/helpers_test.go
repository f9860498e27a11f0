package gentest

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/querytrace/querytrace"
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
