package querytrace

import (
	"context"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/querytrace/querytrace/internal/clock"
	"github.com/querytrace/querytrace/internal/sqlnorm"
	"github.com/querytrace/querytrace/internal/wrapmark"
)

// conn wraps a driver.Conn. database/sql acts on the mere presence of only
// three of a connection's optional interfaces: ExecerContext or Execer and
// QueryerContext or Queryer (absent, it prepares and runs the statement
// instead), and SessionResetter with Validator (with both, a transaction
// canceled by its context keeps its connection). wrapConn gives the wrapper
// exactly those the wrapped connection has. Every other optional interface
// conn has always, and where the driver lacks it conn does what
// database/sql does then (see ctxutil.go in database/sql).
type conn struct {
	c   driver.Conn
	drv *tdriver

	// checker is c's driver.NamedValueChecker, or nil: asked once, as
	// database/sql asks for every argument; resetter is its
	// driver.SessionResetter, asked at every checkout.
	checker  driver.NamedValueChecker
	resetter driver.SessionResetter

	// spare is the wrapper of this connection's last closed rows, which
	// its next query reuses: see rowsState.
	spare *rowsState
}

// The optional parts of a connection wrapper, one type each.
type (
	connExec  struct{ c *conn } // driver.ExecerContext, for Execer too
	connQuery struct{ c *conn } // driver.QueryerContext, for Queryer too
	connReset struct{ c *conn } // driver.SessionResetter
	connValid struct{ c *conn } // driver.Validator
)

func (d *tdriver) wrapConn(dc driver.Conn) driver.Conn {
	c := &conn{c: dc, drv: d}
	c.checker, _ = dc.(driver.NamedValueChecker)
	c.resetter, _ = dc.(driver.SessionResetter)
	shape := 0
	if _, ok := dc.(driver.ExecerContext); ok {
		shape |= 1
	} else if _, ok := dc.(driver.Execer); ok {
		shape |= 1
	}
	if _, ok := dc.(driver.QueryerContext); ok {
		shape |= 2
	} else if _, ok := dc.(driver.Queryer); ok {
		shape |= 2
	}
	// A connection with neither SessionResetter nor Validator gets a
	// ResetSession that does nothing, as database/sql does without one.
	_, reset := dc.(driver.SessionResetter)
	if _, valid := dc.(driver.Validator); valid {
		shape |= 4
		if reset {
			shape |= 8
		}
	}
	x, q, r, v := connExec{c}, connQuery{c}, connReset{c}, connValid{c}
	switch shape {
	case 0:
		return struct {
			*conn
			connReset
		}{c, r}
	case 1:
		return struct {
			*conn
			connExec
			connReset
		}{c, x, r}
	case 2:
		return struct {
			*conn
			connQuery
			connReset
		}{c, q, r}
	case 3:
		return struct {
			*conn
			connExec
			connQuery
			connReset
		}{c, x, q, r}
	case 4:
		return struct {
			*conn
			connValid
		}{c, v}
	case 5:
		return struct {
			*conn
			connExec
			connValid
		}{c, x, v}
	case 6:
		return struct {
			*conn
			connQuery
			connValid
		}{c, q, v}
	case 7:
		return struct {
			*conn
			connExec
			connQuery
			connValid
		}{c, x, q, v}
	case 12:
		return struct {
			*conn
			connReset
			connValid
		}{c, r, v}
	case 13:
		return struct {
			*conn
			connExec
			connReset
			connValid
		}{c, x, r, v}
	case 14:
		return struct {
			*conn
			connQuery
			connReset
			connValid
		}{c, q, r, v}
	default: // 15
		return struct {
			*conn
			connExec
			connQuery
			connReset
			connValid
		}{c, x, q, r, v}
	}
}

func (c *conn) state() *tdriver { return c.drv }
func (c *conn) unwrap() any     { return c.c }

// trace returns the trace a statement run with ctx goes to.
func (c *conn) trace(ctx context.Context) *Trace { return c.drv.traceOf(ctx) }

// traceOf returns the trace a call with ctx goes to: the one on ctx or,
// with none there, the database-wide fallback.
func (d *tdriver) traceOf(ctx context.Context) *Trace {
	if t, ok := ctx.Value(traceKey{}).(*Trace); ok {
		return t
	}
	return d.untraced
}

// driverCtx is the context handed to the driver: ctx itself, but for pgx's
// stdlib driver, whose connection may carry querytrace's pgx tracer too, a
// context marked so that the tracer leaves the statement to the wrapper.
func (c *conn) driverCtx(ctx context.Context) context.Context {
	if c.drv.pgx {
		return wrapmark.With(ctx)
	}
	return ctx
}

// fill sets r to the record of a call of query (which in describes, when
// not nil) that started at start and took dur, with its call site: the
// interned stack, or the empty one for a driver wrapped WithoutStacks and
// for a transaction's boundaries, which a trace counts but does not group.
//
// Every field of r is set, one by one: r is often the rows wrapper's,
// reused from the connection's last query, and a composite literal would
// build the whole record aside and copy it over, on every query
// (TestFillSetsEveryField keeps the list whole).
func (c *conn) fill(r *rec, kind Kind, query string, in *sqlnorm.Info, start, dur time.Duration, args *argSum, err error) {
	r.sql, r.info, r.err = query, in, err
	r.args = *args
	r.start, r.dur, r.rowsDur = start, dur, 0
	r.rows, r.stmts = 0, 0
	r.kind, r.dialect = kind, c.drv.cfg.dialect
	switch {
	case c.drv.cfg.noStacks, kind == KindBegin, kind == KindCommit, kind == KindRollback:
		r.stack, r.site = &emptyStack, emptyStackHash
	default:
		r.stack, r.site = siteOf()
	}
}

// event records a call that returned no rows. A statement, prepare or
// begin answered with driver.ErrBadConn is no event: by the driver
// contract nothing ran, and database/sql may try again. It is counted as
// a connection error, for the application may get it (see
// Report.ConnErrors).
func (c *conn) event(t *Trace, kind Kind, query string, in *sqlnorm.Info, start time.Duration, args *argSum, err error) {
	dur := clock.Since(start)
	if err != nil && kind != KindCommit && kind != KindRollback && errors.Is(err, driver.ErrBadConn) {
		t.connError()
		return
	}
	var r rec
	c.fill(&r, kind, query, in, start, dur, args, err)
	t.record(&r)
}

// Prepare prepares a statement through the context-less method, which
// database/sql never calls on the wrapper; it is recorded in the fallback.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	start := clock.Now()
	s, err := c.c.Prepare(query)
	return c.prepared(c.drv.untraced, query, start, s, err)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	start := clock.Now()
	s, err := c.driverPrepare(ctx, query)
	return c.prepared(c.trace(ctx), query, start, s, err)
}

// prepared records a prepare and wraps the statement it made.
func (c *conn) prepared(t *Trace, query string, start time.Duration, s driver.Stmt, err error) (driver.Stmt, error) {
	in := shapeOf(query, c.drv.cfg.dialect)
	c.event(t, KindPrepare, query, in, start, &argSum{}, err)
	if err != nil {
		return s, err
	}
	return c.wrapStmt(s, query, in), nil
}

// driverPrepare is database/sql's ctxDriverPrepare.
func (c *conn) driverPrepare(ctx context.Context, query string) (driver.Stmt, error) {
	if pc, ok := c.c.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(c.driverCtx(ctx), query)
	}
	s, err := c.c.Prepare(query)
	if err == nil {
		select {
		default:
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		}
	}
	return s, err
}

func (c *conn) Close() error { return c.c.Close() }

// Begin begins a transaction through the context-less method, which
// database/sql never calls on the wrapper; it is recorded in the fallback.
func (c *conn) Begin() (driver.Tx, error) {
	start := clock.Now()
	tx, err := c.c.Begin() //nolint:staticcheck // forwarded as the driver has it
	return c.begun(c.drv.untraced, start, tx, err)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t := c.trace(ctx)
	start := clock.Now()
	tx, err := c.driverBegin(ctx, opts)
	return c.begun(t, start, tx, err)
}

// begun records a begin and wraps the transaction it began.
func (c *conn) begun(t *Trace, start time.Duration, tx driver.Tx, err error) (driver.Tx, error) {
	c.event(t, KindBegin, "", nil, start, &argSum{}, err)
	if err != nil {
		return tx, err
	}
	return &ttx{tx: tx, conn: c, t: t}, nil
}

// driverBegin is database/sql's ctxDriverBegin, with its error texts.
func (c *conn) driverBegin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := c.c.(driver.ConnBeginTx); ok {
		return bt.BeginTx(c.driverCtx(ctx), opts)
	}
	if opts.Isolation != 0 {
		return nil, errors.New("sql: driver does not support non-default isolation level")
	}
	if opts.ReadOnly {
		return nil, errors.New("sql: driver does not support read-only transactions")
	}
	if ctx.Done() == nil {
		return c.c.Begin() //nolint:staticcheck // the driver has nothing newer
	}
	tx, err := c.c.Begin() //nolint:staticcheck // the driver has nothing newer
	if err == nil {
		select {
		default:
		case <-ctx.Done():
			tx.Rollback()
			return nil, ctx.Err()
		}
	}
	return tx, err
}

// Ping pings the wrapped connection; without a driver.Pinger it is nil, as
// database/sql has it.
func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.c.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// CheckNamedValue asks the wrapped connection. Without a
// driver.NamedValueChecker it answers driver.ErrSkip, on which database/sql
// goes on to the checker it would have used first.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if c.checker != nil {
		return c.checker.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// ResetSession resets the wrapped connection, if it can be. database/sql
// resets a connection as it hands it out, with the caller's context, and
// counts driver.ErrBadConn from it as one of the caller's tries: it is a
// connection error of the caller's trace.
func (x connReset) ResetSession(ctx context.Context) error {
	if r := x.c.resetter; r != nil {
		err := r.ResetSession(ctx)
		if err != nil && errors.Is(err, driver.ErrBadConn) {
			x.c.trace(ctx).connError()
		}
		return err
	}
	return nil
}

func (x connValid) IsValid() bool {
	return x.c.c.(driver.Validator).IsValid()
}

// ExecContext runs an exec on the wrapped connection. driver.ErrSkip is
// no statement: database/sql prepares and runs it as one, which is
// recorded then.
func (x connExec) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c := x.c
	start := clock.Now()
	var res driver.Result
	var err error
	if ec, ok := c.c.(driver.ExecerContext); ok {
		res, err = ec.ExecContext(c.driverCtx(ctx), query, args)
	} else {
		var vals []driver.Value
		if vals, err = valuesCtx(ctx, args); err == nil {
			res, err = c.c.(driver.Execer).Exec(query, vals) //nolint:staticcheck // the driver has nothing newer
		}
	}
	if err != driver.ErrSkip {
		a := sumArgs(args)
		c.event(c.trace(ctx), KindExec, query, nil, start, &a, err)
	}
	return res, err
}

// QueryContext runs a query on the wrapped connection; it is recorded when
// its rows are closed.
func (x connQuery) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c := x.c
	start := clock.Now()
	var rows driver.Rows
	var err error
	if qc, ok := c.c.(driver.QueryerContext); ok {
		rows, err = qc.QueryContext(c.driverCtx(ctx), query, args)
	} else {
		var vals []driver.Value
		if vals, err = valuesCtx(ctx, args); err == nil {
			rows, err = c.c.(driver.Queryer).Query(query, vals) //nolint:staticcheck // the driver has nothing newer
		}
	}
	if err == driver.ErrSkip {
		return rows, err
	}
	a := sumArgs(args)
	return c.queried(ctx, c.trace(ctx), KindQuery, query, nil, start, &a, rows, err)
}

// valuesCtx is what database/sql does before a context-less driver call:
// it turns args into values, refusing names, and gives up if ctx is done.
func valuesCtx(ctx context.Context, args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if len(a.Name) > 0 {
			return nil, errors.New("sql: driver does not support the use of Named Parameters")
		}
		vals[i] = a.Value
	}
	select {
	default:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return vals, nil
}

// queried records a failed query at once and wraps the rows of one that
// ran, to record it when they are closed. The clock is not read as the
// call returns: a query's time on the database runs until its rows close,
// and rowsState.Close reads it then.
func (c *conn) queried(ctx context.Context, t *Trace, kind Kind, query string, in *sqlnorm.Info, start time.Duration, args *argSum, rows driver.Rows, err error) (driver.Rows, error) {
	if err != nil || rows == nil {
		c.event(t, kind, query, in, start, args, err)
		return rows, err
	}
	r := c.spare
	if r == nil {
		r = new(rowsState)
	}
	c.spare = nil
	r.reset(rows, c, t, ctx)
	c.fill(&r.rec, kind, query, in, start, 0, args, nil)
	return r, nil
}
