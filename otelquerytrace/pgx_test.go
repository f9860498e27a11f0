package otelquerytrace_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/attribute"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
	"github.com/querytrace/querytrace/pgxtrace"
)

// TestPgxBothPaths serves a page that reads PostgreSQL both through pgx
// (traced by pgxtrace) and through database/sql over the same pool (traced
// by the driver wrapper, whose statements pgxtrace also sees): the span,
// the database spans and the metrics count each statement once.
func TestPgxBothPaths(t *testing.T) {
	dsn := os.Getenv("QUERYTRACE_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_POSTGRES_DSN is not set: set it to a PostgreSQL DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the pgx test")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = &pgxtrace.Tracer{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := querytrace.OpenDB(stdlib.GetPoolConnector(pool))
	defer db.Close()

	const n = 10
	table := fmt.Sprintf("otelquerytrace_both_%d", os.Getpid())
	if _, err := pool.Exec(ctx, "CREATE TABLE "+table+" (id bigint PRIMARY KEY, name text NOT NULL, owner bigint)"); err != nil {
		t.Fatal(err)
	}
	defer pool.Exec(context.Background(), "DROP TABLE "+table)
	if _, err := pool.Exec(ctx, "INSERT INTO "+table+" SELECT g, 'item ' || g, g % 3 FROM generate_series(1, $1::bigint) g", n); err != nil {
		t.Fatal(err)
	}

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := bothPaths(r.Context(), db, pool, table); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	s := newSDK(t)
	srv := serve(t, s, s.bridge(otelquerytrace.WithDBSpans(20)), page)
	get(t, srv, "/both")

	// 1 list (database/sql) + n names (pgx) + n owners (database/sql)
	// + 1 update in a transaction (database/sql).
	const statements = 1 + n + n + 1
	spans := s.spans.Ended()
	req := requestSpan(t, spans)
	a := attrs(req.Attributes())
	if a["querytrace.statements"].AsInt64() != statements || a["querytrace.transactions"].AsInt64() != 1 || a["querytrace.n_plus_one.count"].AsInt64() != 2 {
		t.Errorf("request span: statements %d, transactions %d, N+1 %d; want %d, 1 and 2",
			a["querytrace.statements"].AsInt64(), a["querytrace.transactions"].AsInt64(), a["querytrace.n_plus_one.count"].AsInt64(), statements)
	}
	for _, e := range req.Events() {
		if c := attrs(e.Attributes)["querytrace.count"].AsInt64(); c != n {
			t.Errorf("event %s: count %d, want %d (once per statement)", e.Name, c, n)
		}
	}
	var sum int64
	for _, d := range dbSpans(spans, req) {
		da := attrs(d.Attributes())
		sum += groupStatements(da)
		if da["db.system.name"].AsString() != "postgresql" {
			t.Errorf("span %q: db.system.name %q", d.Name(), da["db.system.name"].AsString())
		}
	}
	if sum != statements {
		t.Errorf("database spans hold %d statements, want %d", sum, statements)
	}
	ops := where(points(s.metrics(t), "db.client.operation.duration"), attribute.String("db.system.name", "postgresql"))
	if got := total(ops); got != statements {
		t.Errorf("db.client.operation.duration: %d operations, want %d", got, statements)
	}
}

// bothPaths lists the table through database/sql, then for each row reads
// its name through pgx and its owner through database/sql (two N+1
// loops), then updates a row in a database/sql transaction.
func bothPaths(ctx context.Context, db *sql.DB, pool *pgxpool.Pool, table string) error {
	rows, err := db.QueryContext(ctx, "SELECT id FROM "+table+" ORDER BY id")
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		var name string
		if err := pool.QueryRow(ctx, "SELECT name FROM "+table+" WHERE id = $1", id).Scan(&name); err != nil {
			return err
		}
		var owner int64
		if err := db.QueryRowContext(ctx, "SELECT owner FROM "+table+" WHERE id = $1", id).Scan(&owner); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET owner = $1 WHERE id = $2", 7, ids[0]); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
