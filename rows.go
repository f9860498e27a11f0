package querytrace

import (
	"database/sql/driver"
	"io"
	"reflect"

	"github.com/querytrace/querytrace/internal/clock"
)

// rowsState is the wrapper of a driver.Rows. wrapRowsIfaces embeds it by
// value together with the optional interfaces the wrapped rows have.
//
// A connection keeps the wrapper of its last closed rows and its next
// query reuses it, so that a query allocates nothing in the common case.
// That is safe because database/sql runs a connection's queries and closes
// its rows under the connection's lock, and never touches rows again after
// closing them; the driver contract forbids using rows after Close, and so
// do we.
type rowsState struct {
	r      driver.Rows
	conn   *conn
	t      *Trace
	rec    rec
	n      int64
	outer  driver.Rows // the value wrapRowsIfaces made around this one
	mask   uint32      // the optional interfaces outer has
	closed bool
}

func (r *rowsState) state() *tdriver  { return r.conn.drv }
func (r *rowsState) unwrap() any      { return r.r }
func (r *rowsState) self() *rowsState { return r }

// Columns asks the wrapped rows.
func (r *rowsState) Columns() []string { return r.r.Columns() }

// Next reads a row, counting it.
func (r *rowsState) Next(dest []driver.Value) error {
	err := r.r.Next(dest)
	if err == nil {
		r.n++
	} else if err != io.EOF && r.rec.err == nil {
		r.rec.err = err
	}
	return err
}

// Close closes the wrapped rows and records the query, once.
func (r *rowsState) Close() error {
	err := r.r.Close()
	if !r.closed {
		r.closed = true
		r.rec.rows = r.n
		r.rec.rowsDur = clock.Since(r.rec.start)
		r.t.record(&r.rec)
		r.conn.spare = r
	}
	return err
}

// The optional interfaces of rows, one type each.
type (
	rowsNextResultSet    struct{ r *rowsState }
	rowsScanType         struct{ r *rowsState }
	rowsDatabaseTypeName struct{ r *rowsState }
	rowsLength           struct{ r *rowsState }
	rowsNullable         struct{ r *rowsState }
	rowsPrecisionScale   struct{ r *rowsState }
)

// HasNextResultSet asks the wrapped rows.
func (x rowsNextResultSet) HasNextResultSet() bool {
	return x.r.r.(driver.RowsNextResultSet).HasNextResultSet()
}

// NextResultSet moves the wrapped rows on; the rows of every result set
// count.
func (x rowsNextResultSet) NextResultSet() error {
	return x.r.r.(driver.RowsNextResultSet).NextResultSet()
}

// ColumnTypeScanType asks the wrapped rows.
func (x rowsScanType) ColumnTypeScanType(i int) reflect.Type {
	return x.r.r.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}

// ColumnTypeDatabaseTypeName asks the wrapped rows.
func (x rowsDatabaseTypeName) ColumnTypeDatabaseTypeName(i int) string {
	return x.r.r.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

// ColumnTypeLength asks the wrapped rows.
func (x rowsLength) ColumnTypeLength(i int) (int64, bool) {
	return x.r.r.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

// ColumnTypeNullable asks the wrapped rows.
func (x rowsNullable) ColumnTypeNullable(i int) (nullable, ok bool) {
	return x.r.r.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

// ColumnTypePrecisionScale asks the wrapped rows.
func (x rowsPrecisionScale) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	return x.r.r.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}
