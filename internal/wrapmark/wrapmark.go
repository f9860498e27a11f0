// Package wrapmark marks the contexts that the database/sql wrapper hands to
// a pgx stdlib connection, so that the pgx tracer of the same connection
// does not record the statement a second time.
package wrapmark

import "context"

type key struct{}

// With returns ctx marked as coming from the database/sql wrapper.
func With(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, true)
}

// Marked reports whether ctx came through the database/sql wrapper.
func Marked(ctx context.Context) bool {
	return ctx.Value(key{}) != nil
}
