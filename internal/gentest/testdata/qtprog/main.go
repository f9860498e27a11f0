// Command qtprog runs two pages through querytrace, each with an N+1, and
// prints their findings as JSON with the lines they should name. Its
// statements run through qtlib, a module of the module cache whose method
// the compiler inlines here, literal and all. gentest's TestInlinedLibrary
// builds it, runs it, then runs it again with its source gone.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"

	"example.com/qtlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/querytrace/querytrace"
)

var db *sql.DB

// marks are the lines the findings should name, by what is on them.
var (
	marksMu sync.Mutex
	marks   = map[string]int{}
)

// mark notes the line after its caller's as key's.
func mark(key string) {
	_, _, l, _ := runtime.Caller(1)
	marksMu.Lock()
	marks[key] = l + 1
	marksMu.Unlock()
}

// queryOne issues the statement through qtlib's One, inlined here.
func queryOne(ctx context.Context, id int) (string, error) {
	var name string
	q := &qtlib.Query{DB: db, SQL: "SELECT name FROM users WHERE id = ?"}
	mark("queryOne")
	err := q.One(ctx, &name, id)
	return name, err
}

// names loops: the page that calls it runs a statement outside the loop.
func names(ctx context.Context, ids []int) error {
	for _, id := range ids {
		mark("names loop")
		if _, err := queryOne(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func listPage(ctx context.Context) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return err
	}
	mark("listPage call")
	return names(ctx, []int{1, 2, 3, 4, 5})
}

// middleware wraps a handler, as an application's authentication does.
func middleware(key string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mark(key)
		next.ServeHTTP(w, r)
	})
}

// usersHandler runs no statement outside its loop.
func usersHandler(w http.ResponseWriter, r *http.Request) {
	for _, id := range []int{5, 4, 3, 2, 1} {
		mark("handler loop")
		if _, err := queryOne(r.Context(), id); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
	}
}

type result struct {
	Page     string               `json:"page"`
	Findings []querytrace.Finding `json:"findings"`
	Full     [][]querytrace.Frame `json:"full"`
}

func resultOf(page string, rep *querytrace.Report) result {
	res := result{Page: page, Findings: rep.NPlusOne}
	for _, f := range rep.NPlusOne {
		res.Full = append(res.Full, f.Group.FullStack())
	}
	return res
}

func run() ([]result, error) {
	var err error
	db, err = querytrace.Open("sqlite3", "file:qtprog?mode=memory&cache=shared")
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return nil, err
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.Exec(`INSERT INTO users (id, name) VALUES (?, ?)`, i, fmt.Sprint("user ", i)); err != nil {
			return nil, err
		}
	}

	ctx, tr := querytrace.Start(context.Background(), "list")
	if err := listPage(ctx); err != nil {
		return nil, err
	}
	results := []result{resultOf("list", tr.Finish())}

	reports := make(chan *querytrace.Report, 1)
	srv := httptest.NewServer(&querytrace.Handler{
		Next:     middleware("outer middleware", middleware("inner middleware", http.HandlerFunc(usersHandler))),
		Logger:   slog.New(slog.DiscardHandler),
		OnFinish: func(_ *http.Request, rep *querytrace.Report) { reports <- rep },
	})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/users")
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return append(results, resultOf("users", <-reports)), nil
}

func main() {
	results, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"marks": marks, "results": results})
}
