package gentest

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"example.com/gentest/ent"
	"example.com/gentest/ent/tag"
	"example.com/gentest/ent/user"
	"github.com/querytrace/querytrace"
)

// The fixes in ent's words, applied: each N+1 of ent's generated client
// names the client's own way, and the code rewritten that way runs as
// many statements for 50 rows as for 5.

var petsLoop int

// petsByOwner reads each user's pets, one query per user.
func petsByOwner(ctx context.Context, client *ent.Client) (map[string][]string, error) {
	users, err := client.User.Query().Order(ent.Asc(user.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string)
	for _, u := range users {
		petsLoop = line() + 1
		pets, err := u.QueryPets().All(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range pets {
			out[u.Name] = append(out[u.Name], p.Name)
		}
	}
	return out, nil
}

// petsByOwnerEager is petsByOwner with the fix in ent's words: the pets
// loaded with the users, WithPets.
func petsByOwnerEager(ctx context.Context, client *ent.Client) (map[string][]string, error) {
	users, err := client.User.Query().WithPets().Order(ent.Asc(user.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string)
	for _, u := range users {
		for _, p := range u.Edges.Pets {
			out[u.Name] = append(out[u.Name], p.Name)
		}
	}
	return out, nil
}

// saveTagsBulk and tagNamesIn are saveTags and tagNames with the fixes in
// ent's words: CreateBulk, and one query with tag.IDIn.
func saveTagsBulk(ctx context.Context, client *ent.Client, names []string) ([]int, error) {
	builders := make([]*ent.TagCreate, len(names))
	for i, n := range names {
		builders[i] = client.Tag.Create().SetName(n)
	}
	tags, err := client.Tag.CreateBulk(builders...).Save(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(tags))
	for i, t := range tags {
		ids[i] = t.ID
	}
	return ids, nil
}

func tagNamesIn(ctx context.Context, client *ent.Client, ids []int) ([]string, error) {
	tags, err := client.Tag.Query().Where(tag.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return names, nil
}

// openEnt opens ent's client on a traced in-memory database with its
// tables.
func openEnt(t *testing.T) (*ent.Client, *sql.DB) {
	db := openDB(t,
		`CREATE TABLE tags (id integer PRIMARY KEY AUTOINCREMENT, name text NOT NULL UNIQUE)`,
		`CREATE TABLE users (id integer PRIMARY KEY AUTOINCREMENT, name text NOT NULL)`,
		`CREATE TABLE pets (id integer PRIMARY KEY AUTOINCREMENT, name text NOT NULL, user_pets integer NULL REFERENCES users (id))`)
	return ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, db))), db
}

// owners replaces the users and pets with n users of two pets each, and
// the tags with none, outside any trace.
func owners(t testing.TB, db *sql.DB, n int) {
	t.Helper()
	for _, q := range []string{`DELETE FROM pets`, `DELETE FROM users`, `DELETE FROM tags`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for u := 1; u <= n; u++ {
		if _, err := db.Exec(`INSERT INTO users (id, name) VALUES (?, ?)`, u, "user"+strconv.Itoa(u)); err != nil {
			t.Fatal(err)
		}
		for p := range 2 {
			if _, err := db.Exec(`INSERT INTO pets (name, user_pets) VALUES (?, ?)`, "pet"+strconv.Itoa(2*u+p), u); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestEntWithEdge: each user's pets read with QueryPets in a loop is an
// N+1 whose fix in ent's words is WithPets on the users' query, and the
// code rewritten so reads the same pets in as many statements for 50
// users as for 5.
func TestEntWithEdge(t *testing.T) {
	client, db := openEnt(t)
	owners(t, db, 4)
	ctx, tr := querytrace.Start(context.Background(), "GET /pets")
	loop, err := petsByOwner(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if len(r.NPlusOne) != 1 {
		t.Fatalf("%d N+1 findings, want 1:\n%s", len(r.NPlusOne), r)
	}
	f := r.NPlusOne[0]
	if f.Loop == nil || f.Loop.Line != petsLoop {
		t.Errorf("loop %v, want petsByOwner:%d", f.Loop, petsLoop)
	}
	if want := "ent: WithPets() on the query of users"; !strings.HasPrefix(f.ORMFix, want) {
		t.Errorf("the fix in ent's words is %q, want it to start %q\n%s", f.ORMFix, want, r)
	}
	eager, err := petsByOwnerEager(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	if len(eager) != 4 || !equalPets(loop, eager) {
		t.Errorf("WithPets read %v, the loop %v", eager, loop)
	}
	constant(t, func(t testing.TB, n int) { owners(t, db, n) }, func(t testing.TB, ctx context.Context) {
		pets, err := petsByOwnerEager(ctx, client)
		if err != nil || len(pets) == 0 {
			t.Fatalf("%d owners: %v", len(pets), err)
		}
	})
}

// TestEntWithOwner: each pet's owner read with QueryOwner in a loop is an
// N+1 whose statement, a join to a subquery, tells no edge by name; its
// fix in ent's words is still the eager loading of the edge to users on
// the pets' query, and WithOwner runs as many statements for 100 pets as
// for 10.
func TestEntWithOwner(t *testing.T) {
	client, db := openEnt(t)
	owners(t, db, 4)
	ctx, tr := querytrace.Start(context.Background(), "GET /pets/owners")
	pets, err := client.Pet.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pets {
		if _, err := p.QueryOwner().Only(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r := tr.Finish()
	const want = "ent: With…() of the edge to users on the query of pets"
	if len(r.NPlusOne) != 1 || !strings.HasPrefix(r.NPlusOne[0].ORMFix, want) {
		t.Fatalf("want one N+1 whose fix in ent's words starts %q:\n%s", want, r)
	}
	constant(t, func(t testing.TB, n int) { owners(t, db, n) }, func(t testing.TB, ctx context.Context) {
		pets, err := client.Pet.Query().WithOwner().All(ctx)
		if err != nil || len(pets) == 0 || pets[0].Edges.Owner == nil {
			t.Fatalf("%d pets, owner not loaded: %v", len(pets), err)
		}
	})
}

func equalPets(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestEntBulkAndIn: the fixes in ent's words of TestEntGenerated's N+1s,
// CreateBulk and a query with tag.IDIn, applied: saveTags and tagNames
// rewritten so run as many statements for 50 tags as for 5.
func TestEntBulkAndIn(t *testing.T) {
	client, db := openEnt(t)
	var names []string
	setup := func(t testing.TB, n int) {
		owners(t, db, n)
		names = make([]string, n)
		for i := range names {
			names[i] = "tag" + strconv.Itoa(i)
		}
	}
	constant(t, setup, func(t testing.TB, ctx context.Context) {
		ids, err := saveTagsBulk(ctx, client, names)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tagNamesIn(ctx, client, ids)
		if err != nil || len(got) != len(names) {
			t.Fatalf("%d names for %d tags: %v", len(got), len(names), err)
		}
	})
}
