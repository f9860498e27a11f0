package graph

// A User is a row of users; its posts, manager and team are resolved
// field by field, each with a statement of its own.
type User struct {
	ID        int
	Name      string
	ManagerID *int
	TeamID    int
}
