// Package store is the inventory of querytrace's demo (examples/inventory):
// its SQLite schema, its seed data, and its page computed two ways, with two
// queries per entry (the N+1 querytrace is there to find) and with three
// queries in all. The demo serves it, and the tests of querytrace and of its
// modules run it as the scenario every feature must handle, so that there
// is one such inventory to keep up to date.
//
// It needs only database/sql: open the database through querytrace or
// without it. Importing the package registers go-sqlite3 as "sqlite3"; a
// program that opens the inventory on a server registers that server's
// driver itself (see Open).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"

	_ "github.com/mattn/go-sqlite3" // the schema and MemoryDSN are SQLite's
)

// schema creates the four inventory tables. The indexes on entry_id are
// what a real deployment would have: with them each per-entry COUNT in the
// slow page is cheap on its own, so what makes the page slow is the number
// of statements, not any single one of them.
var schema = []string{
	`CREATE TABLE entries (
		id       INTEGER PRIMARY KEY,
		name     TEXT NOT NULL,
		category TEXT NOT NULL
	)`,
	`CREATE TABLE items (
		id       INTEGER PRIMARY KEY,
		entry_id INTEGER NOT NULL REFERENCES entries(id),
		serial   TEXT NOT NULL,
		user_id  INTEGER -- NULL while the item is unclaimed
	)`,
	`CREATE INDEX items_entry_id ON items(entry_id)`,
	`CREATE TABLE requests (
		id        INTEGER PRIMARY KEY,
		user_name TEXT NOT NULL,
		status    TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected'))
	)`,
	`CREATE TABLE request_items (
		id         INTEGER PRIMARY KEY,
		request_id INTEGER NOT NULL REFERENCES requests(id),
		entry_id   INTEGER NOT NULL REFERENCES entries(id),
		quantity   INTEGER NOT NULL
	)`,
	`CREATE INDEX request_items_entry_id ON request_items(entry_id)`,
}

// Seed vocabulary. Only the shape of the data matters to the demo; the
// names just make the JSON readable.
var (
	categories = []string{"laptop", "monitor", "keyboard", "mouse", "dock", "headset", "cable", "phone"}
	brands     = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"}
	statuses   = []string{"pending", "approved", "rejected"}
)

// seedRand seeds the data generator, with the entry's id, so that every
// database of a given size (every database of a load test, a test's
// database however it grew) holds exactly the same rows.
const seedRand = 6

// MemoryDSN returns the go-sqlite3 DSN of a named in-memory database.
//
// The database is shared-cache so that it is one database however many
// connections the pool opens, rather than one empty database per
// connection as with ":memory:". The name must be unique per *sql.DB:
// two pools opened on the same name see the same tables.
func MemoryDSN(name string) string {
	return "file:" + url.PathEscape(name) + "?mode=memory&cache=shared"
}

// Create creates the inventory's tables in db and seeds them with the
// given number of entries, about ten items per entry and one request per
// entry. db must be empty; it is typically opened on MemoryDSN.
//
// Create limits db to a single connection. An in-memory database lives
// only as long as one of its connections, and with a single connection
// SQLite never reports "database is locked" between concurrent requests:
// they queue in database/sql instead. The price is that a caller must not
// issue a query while it still holds an open *sql.Rows, which the pages
// take care of.
func Create(ctx context.Context, db *sql.DB, entries int) error {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0) // never close the connection: it holds the data
	db.SetConnMaxIdleTime(0)
	return create(ctx, db, schema, entries)
}

// create runs the statements of tables in db and grows the inventory.
func create(ctx context.Context, db *sql.DB, tables []string, entries int) error {
	for _, stmt := range tables {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	return Grow(ctx, db, entries)
}

// Grow adds entries to the inventory in db until it holds the given
// number, each with its items and its request, as Create would have made
// them: tests that measure how a page scales grow one database.
func Grow(ctx context.Context, db *sql.DB, entries int) error {
	var have int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM entries`).Scan(&have); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seed(ctx, db, have+1, entries); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// seed adds entries first to last, in one transaction with prepared
// statements, which is what keeps seeding thousands of rows fast.
func seed(ctx context.Context, db *sql.DB, first, last int) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()

	insEntry, err := tx.PrepareContext(ctx, bind(db, `INSERT INTO entries (id, name, category) VALUES (?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insEntry.Close()
	insItem, err := tx.PrepareContext(ctx, bind(db, `INSERT INTO items (entry_id, serial, user_id) VALUES (?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insItem.Close()
	insRequest, err := tx.PrepareContext(ctx, bind(db, `INSERT INTO requests (id, user_name, status) VALUES (?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insRequest.Close()
	insRequestItem, err := tx.PrepareContext(ctx, bind(db, `INSERT INTO request_items (request_id, entry_id, quantity) VALUES (?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insRequestItem.Close()

	for e := first; e <= last; e++ {
		rng := rand.New(rand.NewPCG(seedRand, uint64(e)))
		category := categories[rng.IntN(len(categories))]
		name := fmt.Sprintf("%s %s %d", brands[rng.IntN(len(brands))], category, e)
		if _, err := insEntry.ExecContext(ctx, e, name, category); err != nil {
			return err
		}
		// 0..20 items per entry, about ten on average; half of them are
		// claimed by one of 50 users.
		for i := range rng.IntN(21) {
			var userID sql.NullInt64
			if rng.IntN(2) == 0 {
				userID = sql.NullInt64{Int64: int64(1 + rng.IntN(50)), Valid: true}
			}
			if _, err := insItem.ExecContext(ctx, e, fmt.Sprintf("SN-%05d-%02d", e, i), userID); err != nil {
				return err
			}
		}
		// One request per entry, for one to three of the entries so far.
		user := fmt.Sprintf("user%02d", 1+rng.IntN(50))
		if _, err := insRequest.ExecContext(ctx, e, user, statuses[rng.IntN(len(statuses))]); err != nil {
			return err
		}
		for range 1 + rng.IntN(3) {
			if _, err := insRequestItem.ExecContext(ctx, e, 1+rng.IntN(e), 1+rng.IntN(3)); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}
