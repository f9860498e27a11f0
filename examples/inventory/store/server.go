package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Open opens the inventory on the database dsn names, with open (sql.Open,
// or a function calling querytrace.Open to trace it), and creates it there
// with the given number of entries: SQLite in memory, on MemoryDSN(name),
// when dsn is empty; PostgreSQL or MySQL and MariaDB on a server, through
// the driver Driver names, otherwise. On a server it first drops the
// inventory's tables that a run before left, as Drop does.
//
// The program registers the server's driver: this package imports only
// go-sqlite3, so that a program that runs on SQLite alone does not carry
// the server drivers' code.
func Open(ctx context.Context, open func(driver, dsn string) (*sql.DB, error), name, dsn string, entries int) (*sql.DB, error) {
	driver := Driver(dsn)
	if driver == "sqlite3" {
		db, err := open("sqlite3", MemoryDSN(name))
		if err != nil {
			return nil, err
		}
		if err := Create(ctx, db, entries); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	id, pg := "${1}INTEGER PRIMARY KEY AUTO_INCREMENT", driver == "pgx"
	if pg {
		id = "${1}SERIAL PRIMARY KEY"
	}
	db, err := open(driver, dsn)
	if err != nil {
		return nil, err
	}
	if pg {
		postgres.Store(db, true)
	}
	// SQLite numbers the rows of an INTEGER PRIMARY KEY by itself; the
	// servers are told to.
	tables := make([]string, len(schema))
	for i, s := range schema {
		tables[i] = autoID.ReplaceAllString(s, id)
	}
	err = Drop(ctx, db)
	if err == nil {
		err = create(ctx, db, tables, entries)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", driver, err)
	}
	return db, nil
}

// Driver returns the name of the database/sql driver Open uses for dsn:
// "sqlite3" (go-sqlite3) for none, "pgx" (github.com/jackc/pgx/v5/stdlib)
// for a postgres:// or postgresql:// URL, and "mysql"
// (github.com/go-sql-driver/mysql) for any other DSN, such as
// user:password@tcp(127.0.0.1:3306)/demo.
func Driver(dsn string) string {
	switch {
	case dsn == "":
		return "sqlite3"
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "pgx"
	}
	return "mysql"
}

// Drop drops the inventory's tables from db.
func Drop(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS request_items, requests, items, entries")
	return err
}

var autoID = regexp.MustCompile(`(?m)^(\s*id\s+)INTEGER PRIMARY KEY`)

// postgres holds the databases Open opened on PostgreSQL, whose driver
// wants $1, $2, ... where the statements say "?".
var postgres sync.Map // *sql.DB → true

// bind returns q with its "?" placeholders numbered when db is
// PostgreSQL's, and q itself otherwise.
func bind(db *sql.DB, q string) string {
	if _, ok := postgres.Load(db); !ok {
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
