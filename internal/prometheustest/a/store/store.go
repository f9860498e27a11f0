// Package store is one of two packages whose files and functions print
// alike in a call site ("store/store.go:13 store.Names"): the metrics must
// keep their statements apart.
package store

import (
	"context"
	"database/sql"
)

// Names runs one query with ctx.
func Names(ctx context.Context, db *sql.DB) error {
	return db.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(new(int))
}
