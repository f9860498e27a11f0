package graph

import (
	"context"
	"database/sql"
)

// Resolver resolves the schema's fields over DB, one statement per field
// as a first version of an API does: the posts and the manager of each
// user of a page are N+1s, and its team goes through a dataloader.
type Resolver struct {
	DB *sql.DB
	PG bool // PostgreSQL: arrays for keys
}

// Users is the resolver for the users field.
func (r *queryResolver) Users(ctx context.Context, first int) (*UserPage, error) {
	// One row more than the page shows tells whether a next one exists.
	rows, err := r.DB.QueryContext(ctx, `select id, name, manager_id, team_id from users order by id limit $1`, first+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &UserPage{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		page.Nodes = append(page.Nodes, u)
	}
	if len(page.Nodes) > first {
		page.Nodes, page.HasNextPage = page.Nodes[:first], true
	}
	return page, rows.Err()
}

// Posts is the resolver for the posts field.
func (r *userResolver) Posts(ctx context.Context, obj *User) ([]*Post, error) {
	rows, err := r.DB.QueryContext(ctx, `select id, title from posts where user_id = $1 order by id`, obj.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var posts []*Post
	for rows.Next() {
		var p Post
		if err := rows.Scan(&p.ID, &p.Title); err != nil {
			return nil, err
		}
		posts = append(posts, &p)
	}
	return posts, rows.Err()
}

// Manager is the resolver for the manager field.
func (r *userResolver) Manager(ctx context.Context, obj *User) (*User, error) {
	if obj.ManagerID == nil {
		return nil, nil
	}
	return scanUser(r.DB.QueryRowContext(ctx, `select id, name, manager_id, team_id from users where id = $1`, *obj.ManagerID))
}

// Team is the resolver for the team field.
func (r *userResolver) Team(ctx context.Context, obj *User) (*Team, error) {
	return For(ctx).Teams.Load(ctx, obj.TeamID)
}

// Query returns QueryResolver implementation.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

// User returns UserResolver implementation.
func (r *Resolver) User() UserResolver { return &userResolver{r} }

type (
	queryResolver struct{ *Resolver }
	userResolver  struct{ *Resolver }
)
