package querytrace

import "github.com/querytrace/querytrace/internal/sqlnorm"

// Dialect says how to read double quotes and a few dialect-specific tokens.
// The zero value is DialectGeneric.
type Dialect uint8

const (
	// DialectGeneric is for a database querytrace cannot recognise. It
	// reads double quotes as identifiers where a name must go, and wherever
	// the dialects below read a statement differently it drops more of the
	// text, never less, so no literal of any of them survives.
	DialectGeneric Dialect = iota
	// DialectPostgres reads double quotes as identifiers, $$...$$ and
	// $tag$...$tag$ as string bodies, # and ?| as operators, and honours
	// backslash escapes only inside E'...' strings.
	DialectPostgres
	// DialectSQLite reads backticks and [brackets] as identifiers, and
	// double quotes too except where a value goes (after an operator, in
	// VALUES, IN lists and function or PRAGMA arguments), where SQLite
	// reads them as a string when no column has that name. Backslashes in
	// strings are not escapes.
	DialectSQLite
	// DialectMySQL is MySQL's and MariaDB's default sql_mode: it reads
	// double quotes as strings, backslash escapes in strings, backticks as
	// identifiers, @name as a user variable, # and "-- " as line comments,
	// _charset'...' as one literal, and lets identifiers begin with
	// digits. It drops /*! ... */ and /*+ ... */ as comments, and where a
	// quote inside one of them could read differently, the rest of the
	// statement.
	DialectMySQL
	// DialectMySQLANSIQuotes is DialectMySQL for a server whose sql_mode
	// has ANSI_QUOTES (as the modes ANSI and ORACLE do): double quotes
	// delimit identifiers there. A driver guessed as MySQL is read as
	// DialectMySQL, which on such a server hides double-quoted names as
	// if they were values; say WithDialect(DialectMySQLANSIQuotes) to keep
	// them. Reports give its statements' groups DialectMySQL.
	DialectMySQLANSIQuotes
)

// family returns the database d reads: DialectMySQL for both readings of
// MySQL, which differ only in quoting, and d itself otherwise.
func (d Dialect) family() Dialect {
	if d == DialectMySQLANSIQuotes {
		return DialectMySQL
	}
	return d
}

// String returns the dialect's lower-case name.
func (d Dialect) String() string { return sqlnorm.Dialect(d).String() }

// Normalize returns the shape of a SQL statement read in the generic dialect:
// the statement with every literal value removed, so that two statements have
// the same shape exactly when they differ only in literal values, placeholder
// style or numbering, whitespace, keyword case, comments, the length of an
// IN list, the number of rows of a multi-row VALUES, or the order of an
// UPDATE's SET assignments where the order cannot matter.
//
// The shape is a sequence of tokens:
//
//   - Every string, number, blob, boolean, placeholder ($1, ?, ?3, :name,
//     @name but in MySQL, $name, %s), dollar-quoted body, and NULL used as a value is
//     written as "?". A sign directly in front of a number is part of it
//     where the number cannot be the right side of a subtraction, so
//     "a = -1" becomes "a = ?" while "a - 1" becomes "a - ?". NULL, TRUE and
//     FALSE after IS, IS NOT and NOT stay words.
//   - Unquoted words are lower-cased. Quoted identifiers ("x", `x`, [x]) keep
//     their quotes and case. Digits inside names are kept.
//   - Comments are removed. Tokens are separated by one space, except that
//     no space follows "(", "[", "." or "::", none precedes ")", "]", ",",
//     ".", "::" or ";", and none separates a function or table name from its
//     "(" or an expression from its "[" subscript.
//   - Runs of identical items in an IN list or ARRAY[...] collapse to one
//     ("in (?)"), and so do runs of identical rows in a VALUES list
//     ("values (?, ?)").
//   - The assignments of an UPDATE's SET ("set b = ?, a = ?") are sorted by
//     column ("set a = ?, b = ?") when each is "column = value" and no value
//     reads a column the list assigns, so that no order could matter: a
//     placeholder or literal, DEFAULT, another column, or a clock function
//     such as now().
//   - Savepoint names become "?". Empty statements and a trailing ";" are
//     dropped.
//   - A shape longer than about 4 KB is cut at a token boundary and ends
//     with " …", and so does a generic reading where the dialects would
//     read the rest differently.
//
// Normalize never panics, runs in time linear in the length of the query and
// is idempotent: Normalize(Normalize(q)) == Normalize(q).
func Normalize(query string) string {
	return NormalizeDialect(query, DialectGeneric)
}

// NormalizeDialect is like Normalize but reads the query in dialect d.
func NormalizeDialect(query string, d Dialect) string {
	return sqlnorm.Normalize(query, sqlnorm.Dialect(d))
}

// Fingerprint returns the 64-bit FNV-1a hash of a shape. It is stable across
// runs, processes and machines, so it can be stored and compared later.
func Fingerprint(shape string) uint64 { return sqlnorm.Fingerprint(shape) }

// Tables returns the tables a shape (as Normalize returns it) names after
// FROM, JOIN, INTO and UPDATE, without quotes, in order.
func Tables(shape string) []string { return sqlnorm.Tables(shape) }

// MentionsTable reports whether shape names table, alone or
// schema-qualified, ignoring case: what allow-lists and test budgets
// filter by.
func MentionsTable(shape, table string) bool { return sqlnorm.MentionsTable(shape, table) }

// shapeOf returns the shape of query in dialect d and what else the
// normalizer read of it, from the shape cache when it can.
func shapeOf(query string, d Dialect) *sqlnorm.Info {
	return sqlnorm.Shape(query, sqlnorm.Dialect(d))
}

func verbOf(shape string) string               { return sqlnorm.Verb(shape) }
func tablesOf(shape string) []string           { return sqlnorm.Tables(shape) }
func shapeToken(s string, i int) (string, int) { return sqlnorm.Token(s, i) }
