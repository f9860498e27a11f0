package querytrace

import (
	"database/sql/driver"
	"io"
	"reflect"
)

// rowsState is the wrapper of a driver.Rows. wrapRowsIfaces embeds it by
// value together with the optional interfaces the wrapped rows have, so
// that wrapping a query's rows costs one allocation.
type rowsState struct {
	r      driver.Rows
	conn   *conn
	t      *Trace
	rec    rec
	n      int64
	closed bool
}

func (r *rowsState) state() *tdriver { return r.conn.drv }
func (r *rowsState) unwrap() any     { return r.r }

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
		r.rec.rowsDur = now() - r.rec.start
		r.t.record(&r.rec)
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
