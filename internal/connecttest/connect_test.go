package connecttest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	_ "github.com/mattn/go-sqlite3"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/querytrace/querytrace"
)

const (
	freeProcedure    = "/inventory.v1.InventoryService/Free"
	entriesProcedure = "/inventory.v1.InventoryService/Entries"
)

// newInventoryServiceHandler returns the service's path and handler as
// protoc-gen-connect-go generates them: one handler for the whole
// service, mounted at its prefix, over protobuf's well-known types so
// that no .proto file needs compiling.
func newInventoryServiceHandler(s *inventory, opts ...connect.HandlerOption) (string, http.Handler) {
	free := connect.NewUnaryHandler(freeProcedure, s.free, opts...)
	entries := connect.NewServerStreamHandler(entriesProcedure, s.entries, opts...)
	return "/inventory.v1.InventoryService/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case freeProcedure:
			free.ServeHTTP(w, r)
		case entriesProcedure:
			entries.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// inventory serves the service from a database opened through querytrace.
type inventory struct{ db *sql.DB }

type entry struct {
	id   int64
	name string
}

func (s *inventory) list(ctx context.Context) ([]entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name FROM entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.id, &e.name); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

func (s *inventory) items(ctx context.Context, id int64) (n int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = ?`, id).Scan(&n)
	return n, err
}

func (s *inventory) free(ctx context.Context, _ *connect.Request[emptypb.Empty]) (*connect.Response[structpb.Struct], error) {
	es, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	free := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for _, e := range es {
		n, err := s.items(ctx, e.id) // the unary loop
		if err != nil {
			return nil, err
		}
		free.Fields[e.name] = structpb.NewNumberValue(float64(n))
	}
	return connect.NewResponse(free), nil
}

func (s *inventory) entries(ctx context.Context, _ *connect.Request[emptypb.Empty], stream *connect.ServerStream[wrapperspb.StringValue]) error {
	es, err := s.list(ctx)
	if err != nil {
		return err
	}
	for _, e := range es {
		n, err := s.items(ctx, e.id) // the streaming loop
		if err != nil {
			return err
		}
		if err := stream.Send(wrapperspb.String(fmt.Sprintf("%s: %d", e.name, n))); err != nil {
			return err
		}
	}
	return nil
}

// procedureRoute is the interceptor a service installs to have its
// reports named by procedure rather than by the service's prefix.
type procedureRoute struct{}

func (procedureRoute) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		querytrace.SetRoute(ctx, req.Spec().Procedure)
		return next(ctx, req)
	}
}

func (procedureRoute) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		querytrace.SetRoute(ctx, conn.Spec().Procedure)
		return next(ctx, conn)
	}
}

func (procedureRoute) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// TestConnect serves the service through a querytrace.Handler on a
// loopback port and calls it with Connect's client: each call has its
// report, with the N+1 at the loop's line and, for a unary call, the
// totals in the Server-Timing header; the report is named by the
// service's prefix, or by procedure with the interceptor above.
func TestConnect(t *testing.T) {
	const n = 8
	db := open(t, n)
	cases := []struct {
		name      string
		opts      []connect.HandlerOption
		procedure string
		want      string // the report's name
		loop      string
	}{
		{"default", nil, freeProcedure, "POST /inventory.v1.InventoryService/", "// the unary loop"},
		{"SetRoute", []connect.HandlerOption{connect.WithInterceptors(procedureRoute{})}, freeProcedure, "POST " + freeProcedure, "// the unary loop"},
		{"SetRoute", []connect.HandlerOption{connect.WithInterceptors(procedureRoute{})}, entriesProcedure, "POST " + entriesProcedure, "// the streaming loop"},
	}
	for _, c := range cases {
		reports := make(chan *querytrace.Report, 1)
		mux := http.NewServeMux()
		mux.Handle(newInventoryServiceHandler(&inventory{db}, c.opts...))
		srv := httptest.NewServer(&querytrace.Handler{Next: mux, Logger: slog.New(slog.DiscardHandler),
			OnReport: func(_ *http.Request, r *querytrace.Report) { reports <- r }})

		var timing string
		switch c.procedure {
		case freeProcedure:
			client := connect.NewClient[emptypb.Empty, structpb.Struct](srv.Client(), srv.URL+freeProcedure)
			res, err := client.CallUnary(t.Context(), connect.NewRequest(new(emptypb.Empty)))
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, c.procedure, err)
			}
			if len(res.Msg.Fields) != n {
				t.Errorf("%s %s: %d entries, want %d", c.name, c.procedure, len(res.Msg.Fields), n)
			}
			timing = res.Header().Get("Server-Timing")
		case entriesProcedure:
			client := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](srv.Client(), srv.URL+entriesProcedure)
			stream, err := client.CallServerStream(t.Context(), connect.NewRequest(new(emptypb.Empty)))
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, c.procedure, err)
			}
			got := 0
			for stream.Receive() {
				got++
			}
			if err := stream.Err(); err != nil || got != n {
				t.Errorf("%s %s: %d messages, %v; want %d", c.name, c.procedure, got, err, n)
			}
			stream.Close()
		}
		var rep *querytrace.Report
		select {
		case rep = <-reports:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: no report", c.name, c.procedure)
		}
		srv.Close()

		if rep.Name != c.want || rep.Statements != n+1 || len(rep.NPlusOne) != 1 {
			t.Fatalf("%s %s: report %q: %d statements, %d N+1; want %q, %d, 1", c.name, c.procedure, rep.Name, rep.Statements, len(rep.NPlusOne), c.want, n+1)
		}
		loop := lineOf(t, c.loop)
		if f := rep.NPlusOne[0]; f.Count != n || f.Loop == nil || fmt.Sprintf("%s:%d", filepath.Base(f.Loop.File), f.Loop.Line) != loop {
			t.Errorf("%s %s: N+1 %s, want %d× in the loop at %s", c.name, c.procedure, f, n, loop)
		}
		if c.procedure == freeProcedure && !regexp.MustCompile(`^db;dur=\d+\.\d;desc="9 statements, 1 N\+1"$`).MatchString(timing) {
			t.Errorf("%s %s: Server-Timing %q, want 9 statements, 1 N+1", c.name, c.procedure, timing)
		}
	}
}

// open returns an in-memory SQLite database, opened through querytrace,
// holding n entries with 1 to 3 items each.
func open(t *testing.T, n int) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("sqlite3", "file:connecttest?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE TABLE items (id INTEGER PRIMARY KEY, entry_id INTEGER NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		if _, err := db.Exec(`INSERT INTO entries (id, name) VALUES (?, ?)`, i, fmt.Sprintf("entry %d", i)); err != nil {
			t.Fatal(err)
		}
		for range i%3 + 1 {
			if _, err := db.Exec(`INSERT INTO items (entry_id) VALUES (?)`, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// lineOf returns "connect_test.go:N" of the line that holds marker.
func lineOf(t *testing.T, marker string) string {
	t.Helper()
	src, err := os.ReadFile("connect_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasSuffix(l, marker) {
			return fmt.Sprintf("connect_test.go:%d", i+1)
		}
	}
	t.Fatalf("no line ends with %q", marker)
	return ""
}
