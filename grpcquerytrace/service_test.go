package grpcquerytrace_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/grpcquerytrace"
)

// The service under test, inventory.Inventory, is described by hand, as
// protoc-gen-go-grpc would generate it, over protobuf's well-known types:
// the calls go over the wire in protobuf, as any gRPC service's do,
// without a .proto file to compile.
//
//	Free(Empty) returns (Struct)             per-row query loop: an N+1
//	FreeFast(Empty) returns (Struct)         the same in one statement
//	Entries(Empty) returns (stream String)   per-row query loop, streamed
//	Missing(Empty) returns (Empty)           a query, then NotFound
var inventoryDesc = grpc.ServiceDesc{
	ServiceName: "inventory.Inventory",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Free", Handler: unary("/inventory.Inventory/Free", (*inventory).free)},
		{MethodName: "FreeFast", Handler: unary("/inventory.Inventory/FreeFast", (*inventory).freeFast)},
		{MethodName: "Missing", Handler: unary("/inventory.Inventory/Missing", (*inventory).missing)},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Entries", ServerStreams: true, Handler: func(srv any, stream grpc.ServerStream) error {
			if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
				return err
			}
			return srv.(*inventory).entries(stream)
		}},
	},
}

// unary returns the handler of a method that takes Empty: it decodes the
// request and calls method through the server's interceptor, as
// generated code does.
func unary(fullMethod string, method func(*inventory, context.Context) (any, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := new(emptypb.Empty)
		if err := dec(in); err != nil {
			return nil, err
		}
		call := func(ctx context.Context, _ any) (any, error) { return method(srv.(*inventory), ctx) }
		if interceptor == nil {
			return call(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}, call)
	}
}

// inventory serves inventory.Inventory from a database opened through
// querytrace.
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
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE entry_id = $1`, id).Scan(&n)
	return n, err
}

func (s *inventory) free(ctx context.Context) (any, error) {
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
	return free, nil
}

func (s *inventory) freeFast(ctx context.Context) (any, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.name, count(i.id) FROM entries e LEFT JOIN items i ON i.entry_id = e.id GROUP BY e.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	free := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		free.Fields[name] = structpb.NewNumberValue(float64(n))
	}
	return free, rows.Err()
}

func (s *inventory) entries(stream grpc.ServerStream) error {
	ctx := stream.Context()
	es, err := s.list(ctx)
	if err != nil {
		return err
	}
	for _, e := range es {
		n, err := s.items(ctx, e.id) // the streaming loop
		if err != nil {
			return err
		}
		if err := stream.SendMsg(wrapperspb.String(fmt.Sprintf("%s: %d", e.name, n))); err != nil {
			return err
		}
	}
	return nil
}

func (s *inventory) missing(ctx context.Context) (any, error) {
	n, err := s.items(ctx, 0)
	if err != nil {
		return nil, err
	}
	return nil, status.Errorf(codes.NotFound, "entry 0: %d items", n)
}

// databases returns the databases to run against: SQLite, and PostgreSQL
// when QUERYTRACE_POSTGRES_DSN is set, each opened through querytrace and
// holding n entries with 1 to 3 items each.
func databases(t testing.TB, n int) map[string]*sql.DB {
	t.Helper()
	dbs := map[string]*sql.DB{"sqlite": sqlite(t, n)}
	if dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN"); dsn != "" {
		dbs["postgres"] = open(t, "pgx", dsn, n)
	} else {
		t.Log("QUERYTRACE_POSTGRES_DSN is not set: PostgreSQL skipped (set it to a DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return dbs
}

// sqlite returns a new in-memory SQLite database holding n entries.
func sqlite(t testing.TB, n int) *sql.DB {
	return open(t, "sqlite3", fmt.Sprintf("file:grpc%d?mode=memory&cache=shared", dbSeq.Add(1)), n)
}

var dbSeq atomic.Int64

// open opens dsn through querytrace and fills it, in a PostgreSQL schema
// of the test's own so that concurrent runs do not meet.
func open(t testing.TB, driver, dsn string, n int) *sql.DB {
	t.Helper()
	var schema string
	if driver == "pgx" {
		schema = fmt.Sprintf("grpcquerytrace_%d_%d", os.Getpid(), dbSeq.Add(1))
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if admin, err := sql.Open("pgx", dsn); err == nil {
				admin.Exec("DROP SCHEMA " + schema + " CASCADE")
				admin.Close()
			}
		})
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "search_path=" + schema
	}
	db, err := querytrace.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if driver == "sqlite3" {
		db.SetMaxOpenConns(1) // one in-memory database
	}
	// The set-up runs outside any trace.
	for _, q := range []string{
		`CREATE TABLE entries (id BIGINT PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE TABLE items (id BIGINT PRIMARY KEY, entry_id BIGINT NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	item := 0
	for i := 1; i <= n; i++ {
		if _, err := db.Exec(`INSERT INTO entries (id, name) VALUES ($1, $2)`, i, fmt.Sprintf("entry %d", i)); err != nil {
			t.Fatal(err)
		}
		for range i%3 + 1 {
			item++
			if _, err := db.Exec(`INSERT INTO items (id, entry_id) VALUES ($1, $2)`, item, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// serve serves inventory.Inventory from db on a loopback port, with opts
// (the interceptors), and returns a client connection to it.
func serve(t testing.TB, db *sql.DB, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&inventoryDesc, &inventory{db})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// interceptors returns the server options that install both of
// grpcquerytrace's interceptors with h.
func interceptors(h *querytrace.Handler) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(grpcquerytrace.UnaryServerInterceptor(h)),
		grpc.ChainStreamInterceptor(grpcquerytrace.StreamServerInterceptor(h)),
	}
}

// lineOf returns "file:line" of the line of file that holds marker.
func lineOf(t *testing.T, file, marker string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, marker) && !strings.Contains(l, "lineOf") {
			return fmt.Sprintf("%s:%d", file, i+1)
		}
	}
	t.Fatalf("%s has no line with %q", file, marker)
	return ""
}
