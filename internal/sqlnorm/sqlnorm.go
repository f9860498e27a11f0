// Package sqlnorm reduces SQL statements to their shapes: the statement
// with every literal value removed, so that executions that differ only in
// their values group together, and no value reaches a report. It reads four
// dialects (MySQL in two sql_modes), caches shapes by statement text with
// what else the text had (Info: the lists it collapsed, what stood at each
// "?"), names a shape's verb and tables, and cuts a shape into tokens
// (Token) for the code that rewrites shapes into fixes.
package sqlnorm

import (
	"strconv"

	"github.com/querytrace/querytrace/internal/fnv1a"
)

// Dialect says how to read double quotes and a few dialect-specific tokens.
// The zero value is Generic. The root package's Dialect constants have
// the same values, in the same order, and document how each one reads a
// statement.
type Dialect uint8

const (
	Generic         Dialect = iota // querytrace.DialectGeneric
	Postgres                       // querytrace.DialectPostgres
	SQLite                         // querytrace.DialectSQLite
	MySQL                          // querytrace.DialectMySQL
	MySQLANSIQuotes                // querytrace.DialectMySQLANSIQuotes
)

// String returns the dialect's lower-case name.
func (d Dialect) String() string {
	switch d {
	case Generic:
		return "generic"
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	case MySQL:
		return "mysql"
	case MySQLANSIQuotes:
		return "mysql-ansi-quotes"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

const (
	// maxShapeLen bounds a shape. A shape is for grouping and for logs, and
	// the first few KB of a statement identify it well enough.
	maxShapeLen = 4096
	// truncMarker ends a truncated shape. It is a word to the tokenizer, so
	// normalizing a truncated shape again reproduces it unchanged.
	truncMarker = "…"
	// maxQuotedIdent bounds a quoted identifier. Databases cap identifiers
	// at 64 bytes or so; anything much longer in quotes is almost certainly a
	// string literal written in the wrong dialect, so it is hidden as one.
	maxQuotedIdent = 128
	// maxListNest bounds how deeply IN lists and VALUES rows nested in one
	// another are collapsed.
	maxListNest = 8
)

// Normalize returns the shape of query read in dialect d. The root
// package's Normalize documents what a shape is.
//
// Normalize never panics, runs in time linear in the length of the query and
// is idempotent: Normalize(Normalize(q, d), d) == Normalize(q, d).
func Normalize(query string, d Dialect) string {
	return normalize(query, d, nil)
}

// Fingerprint returns the 64-bit FNV-1a hash of a shape. It is stable across
// runs, processes and machines, so it can be stored and compared later.
func Fingerprint(shape string) uint64 {
	h := uint64(fnv1a.Offset)
	for i := 0; i < len(shape); i++ {
		h ^= uint64(shape[i])
		h *= fnv1a.Prime
	}
	return h
}
