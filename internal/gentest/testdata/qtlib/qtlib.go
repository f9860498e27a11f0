// Package qtlib is a query builder's smallest part: a query whose method
// runs its statement in a function literal. Its method is small enough for
// the compiler to inline into its caller, and with it the literal, which
// then takes the caller's name while keeping this file.
package qtlib

import (
	"context"
	"database/sql"
)

// A Query is one statement and the database to run it on.
type Query struct {
	DB  *sql.DB
	SQL string
}

// One scans the first row of the query run with args into dest.
func (q *Query) One(ctx context.Context, dest any, args ...any) error {
	return q.do(func() error {
		return q.DB.QueryRowContext(ctx, q.SQL, args...).Scan(dest)
	})
}

//go:noinline
func (q *Query) do(f func() error) error { return f() }
