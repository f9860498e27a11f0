package routers

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
)

// logs keeps the messages logged at Warn.
type logs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logs) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelWarn }
func (l *logs) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *logs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logs) WithGroup(string) slog.Handler      { return l }

func (l *logs) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// server serves a gin engine behind querytrace's Handler: /users/:id runs
// three lookups with the *gin.Context as their context.
func server(t *testing.T, fallback bool) (*httptest.Server, chan *querytrace.Report, *logs) {
	gin.SetMode(gin.ReleaseMode)
	db, err := querytrace.Open("sqlite3", "file:routers_"+strings.ReplaceAll(t.Name(), "/", "_")+"?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	engine := gin.New()
	engine.ContextWithFallback = fallback
	engine.Use(func(c *gin.Context) {
		querytrace.SetRoute(c.Request.Context(), c.FullPath())
		c.Next()
	})
	engine.GET("/users/:id", func(c *gin.Context) {
		for range 3 {
			db.QueryRowContext(c, `SELECT name FROM users WHERE id = ?`, c.Param("id")).Scan(new(string))
		}
		c.String(http.StatusOK, "ok")
	})
	reports := make(chan *querytrace.Report, 4)
	l := &logs{}
	h := &querytrace.Handler{Next: engine, Logger: slog.New(l),
		OnReport: func(_ *http.Request, r *querytrace.Report) { reports <- r }}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, reports, l
}

func get(t *testing.T, url string) *http.Response {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestGinWithoutFallback: gin's context hides the request's trace, so the
// request sees no statement; the report counts them as not attributed,
// Server-Timing says so, and the Handler warns naming the fix.
func TestGinWithoutFallback(t *testing.T) {
	srv, reports, l := server(t, false)
	resp := get(t, srv.URL+"/users/42")
	r := <-reports
	if r.Name != "GET /users/:id" {
		t.Errorf("report named %q, want the route set from c.FullPath()", r.Name)
	}
	if r.Statements != 0 || r.Unattributed < 3 {
		t.Errorf("%d statements, %d unattributed; want 0 and at least 3", r.Statements, r.Unattributed)
	}
	if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, "unattributed") {
		t.Errorf("Server-Timing %q", st)
	}
	if msgs := l.all(); len(msgs) != 1 || !strings.Contains(msgs[0], "ContextWithFallback") {
		t.Errorf("warnings %q, want one naming ContextWithFallback", msgs)
	}
}

// TestGinWithFallback: with ContextWithFallback the statements are the
// request's.
func TestGinWithFallback(t *testing.T) {
	srv, reports, l := server(t, true)
	get(t, srv.URL+"/users/42")
	r := <-reports
	if r.Statements != 3 || r.Name != "GET /users/:id" {
		t.Errorf("report %q with %d statements, want %q with 3", r.Name, r.Statements, "GET /users/:id")
	}
	if msgs := l.all(); len(msgs) != 0 {
		t.Errorf("warnings %q, want none", msgs)
	}
}
