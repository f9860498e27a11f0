package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Row is one line of the inventory page.
type Row struct {
	EntryID  int    `json:"entry_id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	// Free is the number of unclaimed items of the entry minus the
	// quantities already promised to approved requests. It goes negative
	// when more has been approved than is on the shelf.
	Free int `json:"free"`
}

// The statements of both pages. The slow page runs the two per-entry ones
// once per entry; the fast page runs their GROUP BY forms once in all.
const (
	entriesSQL = `SELECT id, name, category FROM entries ORDER BY id`

	unclaimedSQL = `SELECT count(*) FROM items WHERE entry_id = ? AND user_id IS NULL`
	approvedSQL  = `SELECT coalesce(sum(ri.quantity), 0) FROM request_items ri JOIN requests r ON r.id = ri.request_id WHERE ri.entry_id = ? AND r.status = 'approved'`

	unclaimedByEntrySQL = `SELECT entry_id, count(*) FROM items WHERE user_id IS NULL GROUP BY entry_id`
	approvedByEntrySQL  = `SELECT ri.entry_id, sum(ri.quantity) FROM request_items ri JOIN requests r ON r.id = ri.request_id WHERE r.status = 'approved' GROUP BY ri.entry_id`
)

// SlowInventory computes the page the way the original Flask view did: one
// query for the entries, then two queries per entry. With 300 entries that
// is 601 statements for what FastInventory does in three.
//
// Every query runs under ctx, the request's context, which is how a tracing
// driver attributes the statements to the request.
func SlowInventory(ctx context.Context, db *sql.DB) ([]Row, error) {
	// Read all entries before querying per entry: with a single-connection
	// pool a query issued while these rows are still open would wait for
	// the connection forever.
	rows, err := Entries(ctx, db)
	if err != nil {
		return nil, err
	}
	// The statements as db's driver wants them ($1 on PostgreSQL).
	unclaimedSQL, approvedSQL := bind(db, unclaimedSQL), bind(db, approvedSQL)
	for i := range rows {
		var unclaimed, approved int
		// The N+1: two statements per entry, issued from these two lines.
		if err := db.QueryRowContext(ctx, unclaimedSQL, rows[i].EntryID).Scan(&unclaimed); err != nil {
			return nil, fmt.Errorf("count unclaimed items of entry %d: %w", rows[i].EntryID, err)
		}
		if err := db.QueryRowContext(ctx, approvedSQL, rows[i].EntryID).Scan(&approved); err != nil {
			return nil, fmt.Errorf("sum approved requests of entry %d: %w", rows[i].EntryID, err)
		}
		rows[i].Free = unclaimed - approved
	}
	return rows, nil
}

// FastInventory computes the same page as SlowInventory with three
// statements whatever the number of entries: the entries, then each
// aggregate grouped by entry, merged in Go.
func FastInventory(ctx context.Context, db *sql.DB) ([]Row, error) {
	rows, err := Entries(ctx, db)
	if err != nil {
		return nil, err
	}
	unclaimed, err := countsByEntry(ctx, db, unclaimedByEntrySQL)
	if err != nil {
		return nil, fmt.Errorf("count unclaimed items: %w", err)
	}
	approved, err := countsByEntry(ctx, db, approvedByEntrySQL)
	if err != nil {
		return nil, fmt.Errorf("sum approved requests: %w", err)
	}
	// Entries missing from a grouped result have no matching rows, and the
	// zero value of the map lookup is exactly their count.
	for i := range rows {
		rows[i].Free = unclaimed[rows[i].EntryID] - approved[rows[i].EntryID]
	}
	return rows, nil
}

// Entries returns every entry in id order, with Free left at zero: the
// query both pages start with. The result is never nil, so an empty
// inventory encodes as [] rather than null.
func Entries(ctx context.Context, db *sql.DB) ([]Row, error) {
	rs, err := db.QueryContext(ctx, entriesSQL)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	defer rs.Close()
	rows := []Row{}
	for rs.Next() {
		var r Row
		if err := rs.Scan(&r.EntryID, &r.Name, &r.Category); err != nil {
			return nil, fmt.Errorf("list entries: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	return rows, nil
}

// countsByEntry runs a query returning (entry_id, number) pairs and
// collects them into a map.
func countsByEntry(ctx context.Context, db *sql.DB, query string) (map[int]int, error) {
	rs, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	counts := make(map[int]int)
	for rs.Next() {
		var entryID, n int
		if err := rs.Scan(&entryID, &n); err != nil {
			return nil, err
		}
		counts[entryID] = n
	}
	return counts, rs.Err()
}
