package querytrace

import (
	"context"
	"database/sql/driver"
	"errors"
	"math"
	"time"
)

// Kind tells what a driver call was.
type Kind uint8

// The kinds of driver calls a trace records. Queries and execs, direct or
// through a prepared statement, are the statements a report counts;
// prepares and transaction boundaries are counted on their own.
const (
	KindQuery     Kind = iota + 1 // a query sent directly on a connection
	KindExec                      // an exec sent directly on a connection
	KindStmtQuery                 // a query run through a prepared statement
	KindStmtExec                  // an exec run through a prepared statement
	KindPrepare                   // a statement prepared
	KindBegin                     // a transaction begun
	KindCommit                    // a transaction committed
	KindRollback                  // a transaction rolled back
	KindBatch                     // a batch of statements sent in one round trip (pgx)
	KindCopy                      // a bulk copy (pgx CopyFrom)
)

var kindNames = [...]string{
	KindQuery:     "query",
	KindExec:      "exec",
	KindStmtQuery: "prepared query",
	KindStmtExec:  "prepared exec",
	KindPrepare:   "prepare",
	KindBegin:     "begin",
	KindCommit:    "commit",
	KindRollback:  "rollback",
	KindBatch:     "batch",
	KindCopy:      "copy",
}

// String returns the kind's lower-case name, such as "prepared query".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// IsStatement reports whether k is a query or an exec: what
// Report.Statements counts.
func (k Kind) IsStatement() bool {
	switch k {
	case KindQuery, KindExec, KindStmtQuery, KindStmtExec, KindBatch, KindCopy:
		return true
	}
	return false
}

// An Event is one driver call as the wrapper saw it. The driver wrapper
// makes them; other sources (the pgx tracer, an ORM hook) hand theirs to
// Record. An Event never holds argument values, only a hash of them.
type Event struct {
	Kind Kind

	// SQL is the statement's text as the application wrote it. It is
	// normalized before it is stored: a report never holds it.
	SQL string

	// Dialect tells the normalizer how to read SQL.
	Dialect Dialect

	// Start is when the driver was called; Duration is how long the call
	// took. For queries, RowsDuration is the time from Start until the
	// rows were closed, which includes reading them.
	Start        time.Time
	Duration     time.Duration
	RowsDuration time.Duration

	// Rows is the number of rows read, for queries, or affected, where
	// the source knows it cheaply (pgx command tags, CopyFrom).
	Rows int64

	// Statements is how many statements the event stands for: 0 means 1.
	// A pgx batch of 100 queries is one Event with Statements 100.
	Statements int

	// Err is what the driver returned, unchanged.
	Err error

	// ArgsHash tells executions with the same arguments (a duplicate)
	// from executions with others (an N+1). Zero means "no arguments".
	ArgsHash uint64

	// Stack is the call stack that issued the statement. Record captures
	// it when it is empty.
	Stack Stack
}

// canceled reports whether the call failed because its context ended.
func (e *Event) canceled() bool {
	return e.Err != nil && (errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded))
}

// dbTime is the time an event held the database: the call, and for
// queries the reading of the rows until they were closed.
func (e *Event) dbTime() time.Duration {
	if e.RowsDuration > e.Duration {
		return e.RowsDuration
	}
	return e.Duration
}

// statements is how many statements e counts for.
func (e *Event) statements() int {
	if !e.Kind.IsStatement() {
		return 0
	}
	if e.Statements > 0 {
		return e.Statements
	}
	return 1
}

// FNV-1a, written out so that hashing arguments allocates nothing.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvUint64(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// HashArgs returns a 64-bit hash of a statement's arguments, the only trace
// of their values that querytrace keeps. It returns 0 for no arguments.
func HashArgs(args []driver.NamedValue) uint64 {
	if len(args) == 0 {
		return 0
	}
	h := uint64(fnvOffset)
	for i := range args {
		a := &args[i]
		h = fnvUint64(h, uint64(a.Ordinal))
		h = fnvString(h, a.Name)
		h = HashValue(h, a.Value)
	}
	if h == 0 {
		h = 1
	}
	return h
}

// HashValue folds one argument value into the hash h. Values of types other
// than driver.Value's own are hashed by their type alone: such arguments
// tell no N+1 from a duplicate, which errs towards reporting an N+1.
func HashValue(h uint64, v any) uint64 {
	switch v := v.(type) {
	case nil:
		h = fnvUint64(h, 1)
	case int64:
		h = fnvUint64(fnvUint64(h, 2), uint64(v))
	case float64:
		h = fnvUint64(fnvUint64(h, 3), math.Float64bits(v))
	case bool:
		b := uint64(4)
		if v {
			b = 5
		}
		h = fnvUint64(h, b)
	case []byte:
		h = fnvBytes(fnvUint64(h, 6), v)
	case string:
		h = fnvString(fnvUint64(h, 7), v)
	case time.Time:
		h = fnvUint64(fnvUint64(h, 8), uint64(v.UnixNano()))
	case int:
		h = fnvUint64(fnvUint64(h, 2), uint64(v))
	case int32:
		h = fnvUint64(fnvUint64(h, 2), uint64(v))
	case uint64:
		h = fnvUint64(fnvUint64(h, 2), v)
	default:
		h = fnvUint64(h, 9)
	}
	return h
}
