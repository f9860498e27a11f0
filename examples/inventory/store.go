package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
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

// seedRand is the fixed seed of the data generator, so that every run (and
// every database in a load test) holds exactly the same rows.
const seedRand = 6

// memoryDSN returns the go-sqlite3 DSN of a named in-memory database.
//
// The database is shared-cache so that it is one database however many
// connections the pool opens, rather than one empty database per
// connection as with ":memory:". The name must be unique per *sql.DB:
// two pools opened on the same name see the same tables.
func memoryDSN(name string) string {
	return "file:" + url.PathEscape(name) + "?mode=memory&cache=shared"
}

// openStore creates the inventory schema in db and seeds it with the given
// number of entries, about ten items per entry and as many requests as
// entries. db must be empty; it is typically opened on memoryDSN.
//
// openStore limits db to a single connection. An in-memory database lives
// only as long as one of its connections, and with a single connection
// SQLite never reports "database is locked" between concurrent requests:
// they queue in database/sql instead. The price is that a caller must not
// issue a query while it still holds an open *sql.Rows, which the pages
// take care of.
func openStore(ctx context.Context, db *sql.DB, entries int) error {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0) // never close the connection: it holds the data
	db.SetConnMaxIdleTime(0)

	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if err := seed(ctx, db, entries); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// seed fills the tables deterministically in one transaction with prepared
// statements, which is what keeps seeding thousands of rows fast.
func seed(ctx context.Context, db *sql.DB, entries int) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()

	insEntry, err := tx.PrepareContext(ctx, bind(`INSERT INTO entries (id, name, category) VALUES (?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insEntry.Close()
	insItem, err := tx.PrepareContext(ctx, bind(`INSERT INTO items (id, entry_id, serial, user_id) VALUES (?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insItem.Close()
	insRequest, err := tx.PrepareContext(ctx, bind(`INSERT INTO requests (id, user_name, status) VALUES (?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insRequest.Close()
	insRequestItem, err := tx.PrepareContext(ctx, bind(`INSERT INTO request_items (id, request_id, entry_id, quantity) VALUES (?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	defer insRequestItem.Close()

	rng := rand.New(rand.NewPCG(seedRand, seedRand))
	itemID := 0
	for e := 1; e <= entries; e++ {
		category := categories[rng.IntN(len(categories))]
		name := fmt.Sprintf("%s %s %d", brands[rng.IntN(len(brands))], category, e)
		if _, err := insEntry.ExecContext(ctx, e, name, category); err != nil {
			return err
		}
		// 0..20 items per entry, about ten on average; half of them are
		// claimed by one of 50 users.
		for range rng.IntN(21) {
			itemID++
			var userID sql.NullInt64
			if rng.IntN(2) == 0 {
				userID = sql.NullInt64{Int64: int64(1 + rng.IntN(50)), Valid: true}
			}
			serial := fmt.Sprintf("SN-%05d-%06d", e, itemID)
			if _, err := insItem.ExecContext(ctx, itemID, e, serial, userID); err != nil {
				return err
			}
		}
	}

	// As many requests as entries, each for one to three entries. With no
	// entries there is nothing to request.
	requestItemID := 0
	for r := 1; r <= entries; r++ {
		user := fmt.Sprintf("user%02d", 1+rng.IntN(50))
		if _, err := insRequest.ExecContext(ctx, r, user, statuses[rng.IntN(len(statuses))]); err != nil {
			return err
		}
		for range 1 + rng.IntN(3) {
			requestItemID++
			entry, qty := 1+rng.IntN(entries), 1+rng.IntN(3)
			if _, err := insRequestItem.ExecContext(ctx, requestItemID, r, entry, qty); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}
