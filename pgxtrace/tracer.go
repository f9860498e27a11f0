// Package pgxtrace records the statements that an application sends through
// pgx v5's own interface (pgx.Conn, pgxpool.Pool, pgx.Tx) in the querytrace
// Trace on their context: the same counts, shapes, call sites, rows, errors
// and durations, the same N+1 findings and budgets as the database/sql
// wrapper gives.
//
// Set a Tracer as the tracer of a pool's connections, as any pgx tracer:
//
//	cfg, err := pgxpool.ParseConfig(dsn)
//	if err != nil { ... }
//	tracer := &pgxtrace.Tracer{}
//	cfg.ConnConfig.Tracer = tracer
//	pool, err := pgxpool.NewWithConfig(ctx, cfg)
//
// (for a single connection, pgx.ParseConfig and cfg.Tracer), and run each
// request under querytrace.Start. Statements with no trace on their
// context go to tracer.Untraced(). To keep a tracer already there, such
// as pgx's tracelog, compose the two with pgx's multitracer, the Tracer
// first so that its timings leave out the other's end hooks:
//
//	cfg.ConnConfig.Tracer = multitracer.New(tracer, cfg.ConnConfig.Tracer)
//
// One Tracer in a multitracer: a second would record each statement twice.
//
// What is recorded, and how:
//
//   - Query, QueryRow and Exec are one statement each, a query when the
//     server answered with a SELECT command tag and an exec otherwise; run
//     by the name of a statement prepared with Conn.Prepare they are
//     prepared queries and execs, shaped by the prepared text. The rows are
//     those of the command tag. pgx ends a query when its rows are closed,
//     so a query's time includes reading its rows.
//   - "begin", "commit" and "rollback", which pgx.Tx runs as Exec, are
//     transaction boundaries, counted as the wrapper counts them. A
//     commit that did not commit (the server answered ROLLBACK, which
//     Tx.Commit returns as pgx.ErrTxCommitRollback, or an error) is a
//     rollback with that error.
//   - Conn.Prepare is a prepare; a Prepare that pgx answers from its own
//     map without a round trip is not recorded, nor are the prepares pgx
//     makes on its own for its statement cache, which are part of the
//     statement that made them.
//   - SendBatch is one event of kind batch that stands for all its queued
//     statements: they are all counted in Report.Statements, but the batch
//     is one execution of one group, so a batch of 100 lookups, the cure
//     for an N+1, is never flagged as one. The event is recorded when the
//     batch's results are closed. A batch that failed stands for the
//     statements the server ran, up to and including the one that failed.
//   - CopyFrom is one statement of kind copy with the rows copied.
//   - Connecting is not a statement: a Tracer has no ConnectTracer hooks,
//     and the time a connection takes to open shows only as the wall time
//     of the trace around it.
//
// Statements that come through querytrace's database/sql wrapper over pgx's
// stdlib driver are left to the wrapper, so an application that uses both
// paths on the same connections counts each statement once.
package pgxtrace

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/arghash"
	"github.com/querytrace/querytrace/internal/wrapmark"
)

// A Tracer records pgx statements in the querytrace.Trace on their
// context. It implements pgx's QueryTracer, BatchTracer, CopyFromTracer
// and PrepareTracer; set it as pgx.ConnConfig.Tracer.
//
// The zero value is ready to use. A Tracer is safe for concurrent use by
// any number of connections.
type Tracer struct {
	once     sync.Once
	untraced *querytrace.Trace

	// prepared maps the names of statements prepared with Conn.Prepare to
	// their text, so that a statement run by name is shaped by its SQL. It
	// is copied on write: prepares are few, lookups many.
	prepMu   sync.Mutex
	prepared atomic.Pointer[map[string]string]

	// copies numbers CopyFrom calls, whose rows are never hashed.
	copies atomic.Uint64
}

// maxPrepared bounds the prepared statement names a Tracer remembers; the
// statements prepared past it are shaped by their name.
const maxPrepared = 4096

// Untraced returns the trace of the statements that ran with no trace on
// their context, such as those of background jobs or of a pool's
// AfterConnect hook. It lives as long as the Tracer; read it with
// Snapshot.
func (t *Tracer) Untraced() *querytrace.Trace {
	t.once.Do(func() { t.untraced = querytrace.NewTrace("untraced") })
	return t.untraced
}

// startKey finds a Tracer's call on a context that other tracers wrapped
// after it.
type startKey struct{ t *Tracer }

// A call is what a start hook knows of a statement, carried to the end hook
// on the context the start hook returns. It is that context itself, so a
// statement costs one allocation.
type call struct {
	context.Context
	t     *Tracer
	op    op
	start time.Time
	sql   string
	name  string // the name of a prepared statement
	args  uint64
	keys  int             // the longest array argument's length: arghash.Keys
	kind  querytrace.Kind // fixed at the start; zero: by the command tag
	stmt  bool            // run by the name of a prepared statement
	stack querytrace.Stack

	// A batch's tally, kept by TraceBatchQuery: ran counts the
	// statements the server ran, up to and including the first that
	// failed (it skips the rest).
	n          int
	ran        int
	rows       int64
	err        error
	boundaries []querytrace.Kind
	ended      bool
}

// op is the hook that made a call. pgx runs a Query's implicit prepare or
// a CopyFrom's describe with the Query's or CopyFrom's context, so an end
// hook takes only the calls of its own start hook.
type op uint8

const (
	opQuery op = iota + 1
	opBatch
	opCopy
	opPrepare
)

// Value returns the call itself for the key of its tracer and asks the
// context it wraps for anything else.
func (c *call) Value(key any) any {
	if k, ok := key.(startKey); ok && k.t == c.t {
		return c
	}
	return c.Context.Value(key)
}

// begin returns the call of a statement starting now, on ctx.
func (t *Tracer) begin(ctx context.Context, o op, sql string) *call {
	c := &call{Context: ctx, t: t, op: o, sql: sql}
	c.stack = querytrace.CaptureStack()
	c.start = time.Now()
	return c
}

// callOf returns the call that t's start hook for o put on ctx, or nil
// when the statement is not t's to record.
func (t *Tracer) callOf(ctx context.Context, o op) *call {
	c, ok := ctx.(*call)
	if !ok || c.t != t {
		c, _ = ctx.Value(startKey{t}).(*call)
	}
	if c == nil || c.op != o {
		return nil
	}
	return c
}

// record hands the event of c to the trace on its context or, with none
// there, to the fallback.
func (t *Tracer) record(c *call, e *querytrace.Event) {
	e.Dialect = querytrace.DialectPostgres
	e.Start = c.start
	e.ArgsHash = c.args
	e.ArgsKeys = c.keys
	e.Stack = c.stack
	if !querytrace.Record(c, e) {
		t.Untraced().Record(e)
	}
}

// TraceQueryStart is called by pgx when Query, QueryRow or Exec starts.
func (t *Tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if wrapmark.Marked(ctx) {
		return ctx
	}
	c := t.begin(ctx, opQuery, data.SQL)
	if k := boundary(data.SQL); k != 0 {
		c.kind, c.sql = k, ""
		return c
	}
	if ps := t.prepared.Load(); ps != nil {
		if text, ok := (*ps)[data.SQL]; ok {
			c.sql, c.stmt = text, true
		}
	}
	c.args = hashArgs(data.Args)
	for _, a := range data.Args {
		c.keys = max(c.keys, arghash.Keys(a))
	}
	return c
}

// TraceQueryEnd is called by pgx when an Exec returns or the rows of a
// Query are closed.
func (t *Tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	c := t.callOf(ctx, opQuery)
	if c == nil {
		return
	}
	d := time.Since(c.start)
	kind, err := c.kind, data.Err
	if kind == 0 {
		kind = statementKind(data.CommandTag, c.sql, c.stmt)
	}
	if kind == querytrace.KindCommit && (err != nil || data.CommandTag.String() == "ROLLBACK") {
		// A COMMIT of a failed transaction is answered ROLLBACK, which
		// pgx's Tx.Commit returns as ErrTxCommitRollback after this
		// hook: it rolled back, and the application sees the error.
		kind = querytrace.KindRollback
		if err == nil {
			err = pgx.ErrTxCommitRollback
		}
	}
	e := querytrace.Event{Kind: kind, SQL: c.sql, Duration: d, Rows: data.CommandTag.RowsAffected(), Err: err}
	if kind == querytrace.KindQuery || kind == querytrace.KindStmtQuery {
		e.RowsDuration = d
	}
	if !kind.IsStatement() {
		e.Rows = 0
	}
	t.record(c, &e)
}

// TraceBatchStart is called by pgx when SendBatch starts.
func (t *Tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if wrapmark.Marked(ctx) || data.Batch == nil {
		return ctx
	}
	c := t.begin(ctx, opBatch, "")
	c.kind = querytrace.KindBatch
	c.sql, c.n, c.boundaries, c.args = t.batchOf(data.Batch)
	return c
}

// TraceBatchQuery is called by pgx as each result of a batch is read. It
// only tallies: the batch is one event.
func (t *Tracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	c := t.callOf(ctx, opBatch)
	if c == nil || c.ended {
		return
	}
	c.rows += data.CommandTag.RowsAffected()
	if boundary(data.SQL) == 0 && c.err == nil {
		c.ran++
	}
	if data.Err != nil && c.err == nil {
		c.err = data.Err
	}
}

// TraceBatchEnd is called by pgx when a batch's results are closed, or
// when the batch failed before it was sent.
func (t *Tracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	c := t.callOf(ctx, opBatch)
	if c == nil || c.ended {
		return
	}
	c.ended = true
	d := time.Since(c.start)
	err := data.Err
	if err == nil {
		err = c.err
	}
	// The transaction boundaries queued in the batch (Batch.BeginTx) are
	// counted as boundaries, with the batch's time.
	for _, k := range c.boundaries {
		t.record(c, &querytrace.Event{Kind: k, Err: err})
	}
	if c.n > 0 {
		// A failed batch counts the statements that ran: PostgreSQL
		// skips those after the first failure.
		n := c.n
		if err != nil {
			n = max(c.ran, 1)
		}
		e := querytrace.Event{Kind: querytrace.KindBatch, SQL: c.sql, Duration: d, RowsDuration: d, Rows: c.rows, Statements: n, Err: err}
		t.record(c, &e)
	}
}

// TraceCopyFromStart is called by pgx when CopyFrom starts.
func (t *Tracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	if wrapmark.Marked(ctx) {
		return ctx
	}
	c := t.begin(ctx, opCopy, copySQL(data.TableName, data.ColumnNames))
	c.kind = querytrace.KindCopy
	// The rows copied are never read, so each copy counts as one with
	// arguments of its own: a copy in a loop is an N+1 of copies, not a
	// duplicate.
	c.args = hashArgs([]any{int64(t.copies.Add(1))})
	return c
}

// TraceCopyFromEnd is called by pgx when CopyFrom returns.
func (t *Tracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromEndData) {
	c := t.callOf(ctx, opCopy)
	if c == nil {
		return
	}
	e := querytrace.Event{Kind: querytrace.KindCopy, SQL: c.sql, Duration: time.Since(c.start), Rows: data.CommandTag.RowsAffected(), Err: data.Err}
	t.record(c, &e)
}

// TracePrepareStart is called by pgx when Conn.Prepare starts.
func (t *Tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	if wrapmark.Marked(ctx) || implicit(data.Name) {
		return ctx
	}
	c := t.begin(ctx, opPrepare, data.SQL)
	c.kind = querytrace.KindPrepare
	c.name = data.Name
	return c
}

// implicit reports whether a prepare is one that pgx makes on its own: the
// statement cache's, named after a digest of the SQL, or an unnamed one to
// describe a statement (QueryExecModeCacheDescribe, CopyFrom). Such a
// prepare is part of the Query, Exec or CopyFrom that made it, and of its
// time; recording it as a prepare would make a report depend on whether the
// connection's cache was warm, so it is not.
func implicit(name string) bool {
	return name == "" || strings.HasPrefix(name, "stmtcache_")
}

// TracePrepareEnd is called by pgx when Conn.Prepare returns.
func (t *Tracer) TracePrepareEnd(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareEndData) {
	c := t.callOf(ctx, opPrepare)
	if c == nil {
		return
	}
	if data.Err == nil && c.name != "" {
		t.remember(c.name, c.sql)
	}
	if data.AlreadyPrepared {
		return // answered from pgx's map: no round trip
	}
	e := querytrace.Event{Kind: querytrace.KindPrepare, SQL: c.sql, Duration: time.Since(c.start), Err: data.Err}
	t.record(c, &e)
}

// remember notes that name stands for sql.
func (t *Tracer) remember(name, sql string) {
	if ps := t.prepared.Load(); ps != nil {
		if old, ok := (*ps)[name]; ok && old == sql {
			return
		}
	}
	t.prepMu.Lock()
	defer t.prepMu.Unlock()
	var next map[string]string
	if ps := t.prepared.Load(); ps != nil {
		if _, ok := (*ps)[name]; !ok && len(*ps) >= maxPrepared {
			return
		}
		next = make(map[string]string, len(*ps)+1)
		for k, v := range *ps {
			next[k] = v
		}
	} else {
		next = make(map[string]string, 1)
	}
	next[name] = sql
	t.prepared.Store(&next)
}

// The interfaces a Tracer implements.
var (
	_ pgx.QueryTracer    = (*Tracer)(nil)
	_ pgx.BatchTracer    = (*Tracer)(nil)
	_ pgx.CopyFromTracer = (*Tracer)(nil)
	_ pgx.PrepareTracer  = (*Tracer)(nil)
)
