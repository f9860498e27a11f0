package gqlgentest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/gqlgentest/graph"
)

var dbs atomic.Int64

// The resolvers are the application's code, though their import path is
// under querytrace's internal/, whose frames are querytrace's own.
func init() { querytrace.ApplicationFrames("github.com/querytrace/querytrace/internal/gqlgentest/") }

// open returns the database of a backend through querytrace, with the
// scenario's rows: 12 teams, 12 users each in a team of their own and
// managed by the next but users 3 and 7, and 2 posts per user.
func open(t *testing.T, pg bool) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if pg {
		dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable (.ci/run does)")
		}
		schema := fmt.Sprintf("qt_gql_%d_%d", os.Getpid(), dbs.Add(1))
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(`create schema ` + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec(`drop schema ` + schema + ` cascade`)
			admin.Close()
		})
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db, err = querytrace.Open("pgx", dsn+sep+"search_path="+schema)
	} else {
		db, err = querytrace.Open("sqlite3", fmt.Sprintf("file:gql%d?mode=memory&cache=shared", dbs.Add(1)))
	}
	if err != nil {
		t.Fatal(err)
	}
	// gqlgen resolves a list's fields at once: let them have connections.
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { db.Close() })
	exec := func(q string, args ...any) {
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`create table teams (id integer primary key, name text not null)`)
	exec(`create table users (id integer primary key, name text not null, manager_id integer, team_id integer not null)`)
	exec(`create table posts (id integer primary key, user_id integer not null, title text not null)`)
	for i := 1; i <= 12; i++ {
		exec(`insert into teams values ($1, $2)`, i, fmt.Sprintf("team %d", i))
		var manager any = i%12 + 1
		if i == 3 || i == 7 {
			manager = nil
		}
		exec(`insert into users values ($1, $2, $3, $4)`, i, fmt.Sprintf("user %d", i), manager, i)
		for p := 0; p < 2; p++ {
			exec(`insert into posts values ($1, $2, $3)`, i*10+p, i, fmt.Sprintf("post %d", i*10+p))
		}
	}
	return db
}

// serve starts the GraphQL server on loopback, traced per request by
// querytrace's Handler, and returns its URL and the last report.
func serve(t *testing.T, db *sql.DB, pg bool) (string, func() *querytrace.Report) {
	t.Helper()
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{DB: db, PG: pg}}))
	srv.AddTransport(transport.POST{})
	var mu sync.Mutex
	var last *querytrace.Report
	h := &querytrace.Handler{
		Next:   graph.WithLoaders(db, pg, srv),
		Logger: slog.New(slog.DiscardHandler),
		OnFinish: func(_ *http.Request, r *querytrace.Report) {
			mu.Lock()
			last = r
			mu.Unlock()
		},
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL, func() *querytrace.Report {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// query posts a GraphQL query and decodes its data.
func query(t *testing.T, url, q string, data any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, errors %v", resp.StatusCode, out.Errors)
	}
	if err := json.Unmarshal(out.Data, data); err != nil {
		t.Fatal(err)
	}
}

// TestListResolvedConcurrently runs a page of ten users, each with its
// posts, manager and team, through gqlgen (issue 19): gqlgen resolves
// each user's fields in goroutines of their own, so the ten posts lookups
// overlap, and so do the eight managers' (two users have none). Both are
// N+1s: the posts over the page's rows, read with one more to tell that a
// next page exists; the managers with no rows to name, eight being no
// fixed fan-out. The teams go through a dataloader, four keys a batch,
// whose "= any($1)" (an IN list on SQLite) is a batch, never an N+1 whose
// fix would be the statement itself.
func TestListResolvedConcurrently(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			db := open(t, pg)
			url, report := serve(t, db, pg)
			var data struct {
				Users struct {
					HasNextPage bool
					Nodes       []struct {
						Name    string
						Posts   []struct{ Title string }
						Manager *struct{ Name string }
						Team    struct{ Name string }
					}
				}
			}
			query(t, url, `{ users(first: 10) { hasNextPage nodes { name posts { title } manager { name } team { name } } } }`, &data)
			if len(data.Users.Nodes) != 10 || !data.Users.HasNextPage || data.Users.Nodes[9].Team.Name != "team 10" {
				t.Fatalf("page %+v, want 10 users with their teams and a next page", data.Users)
			}
			r := report()
			if r == nil {
				t.Fatal("no report")
			}
			byShape := map[string]querytrace.Finding{}
			for _, f := range r.NPlusOne {
				byShape[f.Group.Shape] = f
			}
			posts, ok := byShape["select id, title from posts where user_id = ? order by id"]
			if !ok || posts.Count != 10 {
				t.Errorf("no N+1 of 10 on the posts:\n%s", r)
			} else if posts.Source == nil || !strings.Contains(posts.Source.Shape, "limit ?") || posts.Source.Rows != 11 || posts.PerRow != 1 {
				t.Errorf("posts' source %v, want the page's query (11 rows), once per row", posts.Source)
			}
			if m, ok := byShape["select id, name, manager_id, team_id from users where id = ?"]; !ok || m.Count != 8 {
				t.Errorf("no N+1 of 8 on the managers:\n%s", r)
			}
			for _, f := range r.NPlusOne {
				if site := f.CallSite(); !strings.Contains(site, "graph/resolver.go:") {
					t.Errorf("N+1 at %q, want the resolver's line", site)
				}
			}
			teams := 0
			for _, l := range [][]querytrace.Finding{r.NPlusOne, r.Duplicates} {
				for _, f := range l {
					if strings.Contains(f.Group.Shape, "from teams") {
						t.Errorf("the dataloader's batches are a finding: %s", f.String())
					}
				}
			}
			for _, f := range r.Batched {
				if strings.Contains(f.Group.Shape, "from teams") {
					teams += f.Count
				}
			}
			// Ten teams, four a batch: two full batches from one place in
			// the loader, whatever the timer sends besides.
			if teams < 2 {
				t.Errorf("the loader's full batches are not reported as batches:\n%s", r)
			}
			if t.Failed() {
				t.Logf("report:\n%s", r)
			}
		})
	}
}
