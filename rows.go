package querytrace

import (
	"context"
	"database/sql/driver"
	"io"
	"reflect"

	"github.com/querytrace/querytrace/internal/clock"
)

// rowsState is the wrapper of a driver.Rows. database/sql acts on the
// presence of none of the optional interfaces of rows, so rowsState has
// them all, and where the wrapped rows lack one it answers what
// database/sql assumes then: no next result set, and a column of unknown
// type, as sql.ColumnType has it.
//
// A connection keeps the wrapper of its last closed rows and its next
// query reuses it, so that a query allocates nothing in the common case.
// That is safe because database/sql runs a connection's queries and closes
// its rows under the connection's lock, and never touches rows again after
// closing them; the driver contract forbids using rows after Close, and so
// do we.
type rowsState struct {
	r    driver.Rows
	conn *conn
	t    *Trace
	ctx  context.Context // the query's
	rec  rec
	n    int64

	// eof is whether the wrapped rows said io.EOF at the end of their
	// last result set; closed, whether Close has recorded the query.
	eof, closed bool
}

// reset makes r the wrapper of rows, the rows of a query run on c with ctx
// and recorded into t, but for its record, which fill sets. Every other
// field is set, one by one: r may be a connection's spare, and a composite
// literal would clear the whole wrapper, record included, for fill to set
// again (TestFillSetsEveryField keeps the list whole).
func (r *rowsState) reset(rows driver.Rows, c *conn, t *Trace, ctx context.Context) {
	r.r, r.conn, r.t, r.ctx = rows, c, t, ctx
	r.n, r.eof, r.closed = 0, false, false
}

func (r *rowsState) state() *tdriver { return r.conn.drv }
func (r *rowsState) unwrap() any     { return r.r }

func (r *rowsState) Columns() []string { return r.r.Columns() }

// Next reads a row, counting it.
func (r *rowsState) Next(dest []driver.Value) error {
	err := r.r.Next(dest)
	switch {
	case err == nil:
		r.n++
	case err == io.EOF:
		r.eof = true
	case r.rec.err == nil:
		r.rec.err = err
	}
	return err
}

// Close closes the wrapped rows and records the query, once. Rows closed
// before their end while the query's context is done were closed by
// database/sql for that reason: the query's error is the context's, as
// rows.Err tells the caller, though the wrapped rows never said it. An
// error of Close itself (driver.ErrBadConn among them: the query ran) is
// what rows.Close, and Row.Scan, return to the caller: the query's error
// unless it had one.
func (r *rowsState) Close() error {
	err := r.r.Close()
	if !r.closed {
		r.closed = true
		if !r.eof {
			if err := r.ctx.Err(); err != nil {
				r.rec.err = err
			}
		}
		if err != nil && r.rec.err == nil {
			r.rec.err = err
		}
		r.rec.rows = r.n
		r.rec.rowsDur = clock.Since(r.rec.start)
		r.t.record(&r.rec)
		r.rec.sql = "" // the spare must not keep the caller's text alive
		r.conn.spare = r
	}
	return err
}

// HasNextResultSet asks the wrapped rows; without a
// driver.RowsNextResultSet there is none.
func (r *rowsState) HasNextResultSet() bool {
	if n, ok := r.r.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

// NextResultSet moves the wrapped rows on; the rows of every result set
// count. Without a driver.RowsNextResultSet it is io.EOF, on which
// database/sql closes the rows as it does without one.
func (r *rowsState) NextResultSet() error {
	if n, ok := r.r.(driver.RowsNextResultSet); ok {
		err := n.NextResultSet()
		if err == nil {
			r.eof = false
		}
		return err
	}
	return io.EOF
}

// anyType is the scan type database/sql gives a column whose rows cannot
// tell it.
var anyType = reflect.TypeFor[any]()

func (r *rowsState) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.r.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return anyType
}

func (r *rowsState) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *rowsState) ColumnTypeLength(i int) (length int64, ok bool) {
	if c, ok := r.r.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *rowsState) ColumnTypeNullable(i int) (nullable, ok bool) {
	if c, ok := r.r.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *rowsState) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if c, ok := r.r.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
