package querytrace

import (
	"context"
	"database/sql/driver"
	"errors"
	"math"
	"time"

	"github.com/querytrace/querytrace/internal/arghash"
	"github.com/querytrace/querytrace/internal/callstack"
	"github.com/querytrace/querytrace/internal/clock"
	"github.com/querytrace/querytrace/internal/sqlnorm"
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

	// ArgsKeys is how many keys the longest array argument carried, such
	// as the ids of "where id = any($1)"; zero for none. Executions that
	// carry many keys each are a batch (a dataloader's), not a loop.
	ArgsKeys int

	// Stack is the call stack that issued the statement. Record captures
	// it when it is empty.
	Stack Stack
}

// rec is one driver call as a trace folds it: an Event with its start on
// the package clock, its call site already hashed and its stack interned,
// so that the driver's hot path copies no return addresses. The driver
// wrapper fills one directly; Record turns an Event into one.
type rec struct {
	sql     string
	info    *sqlnorm.Info // what the normalizer read of sql; nil: not looked up yet
	err     error
	stack   *callstack.Stack // interned: shared and never written
	site    uint64           // stack.hash()
	args    argSum
	start   time.Duration // on the package clock (internal/clock)
	dur     time.Duration
	rowsDur time.Duration
	rows    int64
	stmts   int
	kind    Kind
	dialect Dialect
}

func (e *Event) rec() rec {
	site := e.Stack.s.Hash()
	return rec{
		sql:     e.SQL,
		err:     e.Err,
		stack:   callstack.Intern(&e.Stack.s, site),
		site:    site,
		args:    argSum{hash: e.ArgsHash, keys: int32(min(e.ArgsKeys, math.MaxInt32))},
		start:   clock.Of(e.Start),
		dur:     e.Duration,
		rowsDur: e.RowsDuration,
		rows:    e.Rows,
		stmts:   e.Statements,
		kind:    e.Kind,
		dialect: e.Dialect,
	}
}

// argSum is what a trace keeps of a statement's arguments: a hash of them
// all, and a hash of each of the first few on its own, which tells which
// of them differed between two executions. An Event has only the first.
type argSum struct {
	hash  uint64
	keys  int32 // the most keys an array argument carried: arghash.Sum.Keys
	count int32 // how many arguments there were
	n     uint8 // how many of each are set
	each  [arghash.MaxEach]uint32
}

// sumArgs returns the argSum of args.
func sumArgs(args []driver.NamedValue) argSum {
	var s argSum
	a, n := arghash.ArgsEach(args, &s.each)
	s.hash, s.keys, s.n = a.Hash, int32(min(a.Keys, math.MaxInt32)), uint8(n)
	s.count = int32(min(len(args), math.MaxInt32))
	return s
}

// sumValues returns the argSum of the arguments of a context-less call,
// without the hash of each.
func sumValues(args []driver.Value) argSum {
	a := arghash.Values(args)
	return argSum{hash: a.Hash, keys: int32(min(a.Keys, math.MaxInt32)), count: int32(min(len(args), math.MaxInt32))}
}

// dbTime is the time the call held the database: the call, and for
// queries the reading of the rows until they were closed.
func (r *rec) dbTime() time.Duration {
	if r.rowsDur > r.dur {
		return r.rowsDur
	}
	return r.dur
}

func (r *rec) statements() int {
	if !r.kind.IsStatement() {
		return 0
	}
	if r.stmts > 0 {
		return r.stmts
	}
	return 1
}

func (r *rec) canceled() bool {
	return r.err != nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded))
}
