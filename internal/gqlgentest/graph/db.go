package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"database/sql"

	"github.com/vikstrous/dataloadgen"
)

// Loaders are a request's dataloaders: each batches the keys its fields
// ask for while the request resolves one level of the query.
type Loaders struct {
	Teams *dataloadgen.Loader[int, *Team]
}

type loadersKey struct{}

// WithLoaders serves next with new loaders on each request's context.
func WithLoaders(db *sql.DB, pg bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Four keys at most per batch: a page's teams take several.
		l := &Loaders{Teams: dataloadgen.NewLoader(teams(db, pg), dataloadgen.WithBatchCapacity(4), dataloadgen.WithWait(50*time.Millisecond))}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loadersKey{}, l)))
	})
}

// For returns the loaders on ctx.
func For(ctx context.Context) *Loaders { return ctx.Value(loadersKey{}).(*Loaders) }

// teams returns the batch function of the teams' loader: "= any($1)" over
// an array on PostgreSQL, an IN list elsewhere.
func teams(db *sql.DB, pg bool) func(ctx context.Context, ids []int) ([]*Team, []error) {
	return func(ctx context.Context, ids []int) ([]*Team, []error) {
		q, args := `select id, name from teams where id = any($1)`, []any{ids}
		if !pg {
			q = `select id, name from teams where id in (` + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `)`
			args = args[:0]
			for _, id := range ids {
				args = append(args, id)
			}
		}
		byID := make(map[int]*Team)
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, []error{err}
		}
		defer rows.Close()
		for rows.Next() {
			var t Team
			if err := rows.Scan(&t.ID, &t.Name); err != nil {
				return nil, []error{err}
			}
			byID[t.ID] = &t
		}
		if err := rows.Err(); err != nil {
			return nil, []error{err}
		}
		out := make([]*Team, len(ids))
		errs := make([]error, len(ids))
		for i, id := range ids {
			if out[i] = byID[id]; out[i] == nil {
				errs[i] = fmt.Errorf("no team %d", id)
			}
		}
		return out, errs
	}
}

// A scanner is a row or rows positioned on one.
type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (*User, error) {
	var u User
	var manager sql.NullInt64
	if err := s.Scan(&u.ID, &u.Name, &manager, &u.TeamID); err != nil {
		return nil, err
	}
	if manager.Valid {
		m := int(manager.Int64)
		u.ManagerID = &m
	}
	return &u, nil
}
