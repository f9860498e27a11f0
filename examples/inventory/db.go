package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/querytrace/querytrace"
)

// postgres is set when the demo runs on PostgreSQL, whose driver wants
// $1, $2, ... where the statements say "?".
var postgres bool

// openDB opens the demo's database through querytrace and creates and
// seeds the inventory in it: SQLite in memory when dsn is empty,
// PostgreSQL through pgx for a postgres:// URL, and MySQL or MariaDB
// through go-sql-driver/mysql for any other DSN, such as
// user:password@tcp(127.0.0.1:3306)/demo. On a server it first drops the
// tables a run before left.
func openDB(ctx context.Context, dsn string, entries int) (*sql.DB, error) {
	driver := "sqlite3"
	switch {
	case dsn == "":
		dsn = memoryDSN("inventory")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		driver, postgres = "pgx", true
	default:
		driver = "mysql"
	}
	db, err := querytrace.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	if driver != "sqlite3" {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS request_items, requests, items, entries"); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", driver, err)
		}
	}
	if err := openStore(ctx, db, entries); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// bind returns q with its "?" placeholders numbered for PostgreSQL when
// the demo runs there, and q itself otherwise.
func bind(q string) string {
	if !postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
