package querytrace

import (
	"context"
	"database/sql/driver"
	"reflect"
	"time"

	"github.com/querytrace/querytrace/internal/clock"
	"github.com/querytrace/querytrace/internal/wrapmark"
)

// conn wraps a driver.Conn. It has the methods every connection has; the
// optional ones live on the one-method types below, and wrapConn embeds
// exactly those the wrapped connection has (see ifaces.go).
type conn struct {
	c   driver.Conn
	drv *tdriver

	// spare is the wrapper of this connection's last closed rows, which
	// its next query reuses: see rowsState.
	spare *rowsState

	// rowsType and rowsMask remember the optional interfaces of the last
	// type of rows the driver returned: a driver returns one type, and six
	// type assertions a query add up.
	rowsType reflect.Type
	rowsMask uint32
}

func (d *tdriver) wrapConn(c driver.Conn) driver.Conn {
	return wrapConnIfaces(&conn{c: c, drv: d}, connMask(c))
}

func (c *conn) state() *tdriver { return c.drv }
func (c *conn) unwrap() any     { return c.c }

// trace returns the trace a statement run with ctx goes to: the one on ctx
// or, with none there, the database-wide fallback.
func (c *conn) trace(ctx context.Context) *Trace {
	if t, ok := ctx.Value(traceKey{}).(*Trace); ok {
		return t
	}
	return c.drv.untraced
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

// fill sets r to the record of a call that started at start and has just
// returned, with its call site: the interned stack, or for a driver wrapped
// WithoutStacks the empty one.
func (c *conn) fill(r *rec, kind Kind, query string, start time.Duration, args uint64, err error) {
	*r = rec{kind: kind, sql: query, start: start, dur: clock.Since(start), args: args, err: err, dialect: c.drv.cfg.dialect}
	if c.drv.cfg.noStacks {
		r.stack, r.site = &emptyStack, emptyStackHash
	} else {
		r.stack, r.site = siteOf()
	}
}

// event records a call that returned no rows.
func (c *conn) event(t *Trace, kind Kind, query string, start time.Duration, args uint64, err error) {
	var r rec
	c.fill(&r, kind, query, start, args, err)
	t.record(&r)
}

// Prepare prepares a statement on a connection that has no
// ConnPrepareContext. With no context it is recorded in the fallback.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	start := clock.Now()
	s, err := c.c.Prepare(query)
	c.event(c.drv.untraced, KindPrepare, query, start, 0, err)
	if err != nil {
		return s, err
	}
	return c.wrapStmt(s, query), nil
}

// Close closes the wrapped connection.
func (c *conn) Close() error { return c.c.Close() }

// Begin begins a transaction on a connection that has no ConnBeginTx.
func (c *conn) Begin() (driver.Tx, error) {
	start := clock.Now()
	tx, err := c.c.Begin() //nolint:staticcheck // the driver has nothing newer
	c.event(c.drv.untraced, KindBegin, "", start, 0, err)
	if err != nil {
		return tx, err
	}
	return &ttx{tx: tx, conn: c, t: c.drv.untraced}, nil
}

// The optional interfaces of a connection, one type each.
type (
	connExecerContext     struct{ c *conn }
	connExecer            struct{ c *conn }
	connQueryerContext    struct{ c *conn }
	connQueryer           struct{ c *conn }
	connPrepareContext    struct{ c *conn }
	connBeginTx           struct{ c *conn }
	connPinger            struct{ c *conn }
	connSessionResetter   struct{ c *conn }
	connValidator         struct{ c *conn }
	connNamedValueChecker struct{ c *conn }
)

// ExecContext runs an exec on the wrapped connection. driver.ErrSkip is
// no statement: database/sql prepares and runs it as one, which is
// recorded then.
func (x connExecerContext) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c := x.c
	start := clock.Now()
	res, err := c.c.(driver.ExecerContext).ExecContext(c.driverCtx(ctx), query, args)
	if err != driver.ErrSkip {
		c.event(c.trace(ctx), KindExec, query, start, HashArgs(args), err)
	}
	return res, err
}

// Exec runs an exec on a connection that has only the context-less
// driver.Execer; it is recorded in the fallback.
func (x connExecer) Exec(query string, args []driver.Value) (driver.Result, error) {
	c := x.c
	start := clock.Now()
	res, err := c.c.(driver.Execer).Exec(query, args) //nolint:staticcheck // forwarded as the driver has it
	if err != driver.ErrSkip {
		c.event(c.drv.untraced, KindExec, query, start, hashValues(args), err)
	}
	return res, err
}

// QueryContext runs a query on the wrapped connection; it is recorded when
// its rows are closed.
func (x connQueryerContext) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c := x.c
	start := clock.Now()
	rows, err := c.c.(driver.QueryerContext).QueryContext(c.driverCtx(ctx), query, args)
	if err == driver.ErrSkip {
		return rows, err
	}
	return c.queried(c.trace(ctx), KindQuery, query, start, HashArgs(args), rows, err)
}

// Query runs a query on a connection that has only the context-less
// driver.Queryer; it is recorded in the fallback.
func (x connQueryer) Query(query string, args []driver.Value) (driver.Rows, error) {
	c := x.c
	start := clock.Now()
	rows, err := c.c.(driver.Queryer).Query(query, args) //nolint:staticcheck // forwarded as the driver has it
	if err == driver.ErrSkip {
		return rows, err
	}
	return c.queried(c.drv.untraced, KindQuery, query, start, hashValues(args), rows, err)
}

// queried records a failed query at once and wraps the rows of one that
// ran, to record it when they are closed.
func (c *conn) queried(t *Trace, kind Kind, query string, start time.Duration, args uint64, rows driver.Rows, err error) (driver.Rows, error) {
	if err != nil || rows == nil {
		c.event(t, kind, query, start, args, err)
		return rows, err
	}
	mask := c.rowsMask
	if t := reflect.TypeOf(rows); t != c.rowsType {
		mask = rowsMask(rows)
		c.rowsType, c.rowsMask = t, mask
	}
	var e rec
	c.fill(&e, kind, query, start, args, nil)
	r := c.spare
	if r != nil && r.mask == mask {
		c.spare = nil
		*r = rowsState{r: rows, conn: c, t: t, rec: e, outer: r.outer, mask: mask}
	} else {
		w := wrapRowsIfaces(rowsState{r: rows, conn: c, t: t, rec: e, mask: mask}, mask)
		r = w.(interface{ self() *rowsState }).self()
		r.outer = w
	}
	return r.outer, nil
}

// PrepareContext prepares a statement on the wrapped connection.
func (x connPrepareContext) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c := x.c
	start := clock.Now()
	s, err := c.c.(driver.ConnPrepareContext).PrepareContext(c.driverCtx(ctx), query)
	c.event(c.trace(ctx), KindPrepare, query, start, 0, err)
	if err != nil {
		return s, err
	}
	return c.wrapStmt(s, query), nil
}

// BeginTx begins a transaction on the wrapped connection.
func (x connBeginTx) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c := x.c
	t := c.trace(ctx)
	start := clock.Now()
	tx, err := c.c.(driver.ConnBeginTx).BeginTx(c.driverCtx(ctx), opts)
	c.event(t, KindBegin, "", start, 0, err)
	if err != nil {
		return tx, err
	}
	return &ttx{tx: tx, conn: c, t: t}, nil
}

// Ping pings the wrapped connection.
func (x connPinger) Ping(ctx context.Context) error {
	return x.c.c.(driver.Pinger).Ping(ctx)
}

// ResetSession resets the wrapped connection.
func (x connSessionResetter) ResetSession(ctx context.Context) error {
	return x.c.c.(driver.SessionResetter).ResetSession(ctx)
}

// IsValid asks the wrapped connection.
func (x connValidator) IsValid() bool {
	return x.c.c.(driver.Validator).IsValid()
}

// CheckNamedValue asks the wrapped connection.
func (x connNamedValueChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return x.c.c.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// hashValues hashes the arguments of a context-less call.
func hashValues(args []driver.Value) uint64 {
	if len(args) == 0 {
		return 0
	}
	h := uint64(fnvOffset)
	for i, v := range args {
		h = mix(h, uint64(i+1))
		h = HashValue(h, v)
	}
	if h == 0 {
		h = 1
	}
	return h
}
