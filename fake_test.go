package querytrace

import (
	"context"
	"database/sql/driver"
	"io"
	"reflect"
	"sync/atomic"
)

// fakeDriver is a driver whose connection has every optional interface.
// With skipExec its ExecContext answers driver.ErrSkip, as drivers do that
// cannot run a statement without preparing it.
type fakeDriver struct {
	skipExec bool
	prepared atomic.Int64
}

func (d *fakeDriver) Open(string) (driver.Conn, error) { return &fakeConn{d: d}, nil }

type fakeConn struct{ d *fakeDriver }

func (c *fakeConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}
func (c *fakeConn) PrepareContext(context.Context, string) (driver.Stmt, error) {
	if c.d != nil {
		c.d.prepared.Add(1)
	}
	return &fakeStmt{}, nil
}
func (c *fakeConn) Close() error              { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) { return fakeTx{}, nil }
func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return fakeTx{}, nil
}
func (c *fakeConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	if c.d != nil && c.d.skipExec {
		return nil, driver.ErrSkip
	}
	return driver.RowsAffected(1), nil
}
func (c *fakeConn) Exec(string, []driver.Value) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}
func (c *fakeConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &fakeRows{}, nil
}
func (c *fakeConn) Query(string, []driver.Value) (driver.Rows, error) { return &fakeRows{}, nil }
func (c *fakeConn) Ping(context.Context) error                        { return nil }
func (c *fakeConn) ResetSession(context.Context) error                { return nil }
func (c *fakeConn) IsValid() bool                                     { return true }
func (c *fakeConn) CheckNamedValue(*driver.NamedValue) error          { return nil }

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

type fakeStmt struct{}

func (*fakeStmt) Close() error                               { return nil }
func (*fakeStmt) NumInput() int                              { return -1 }
func (*fakeStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(1), nil }
func (*fakeStmt) Query([]driver.Value) (driver.Rows, error)  { return &fakeRows{}, nil }
func (*fakeStmt) CheckNamedValue(*driver.NamedValue) error   { return nil }
func (*fakeStmt) ColumnConverter(int) driver.ValueConverter  { return driver.DefaultParameterConverter }
func (s *fakeStmt) ExecContext(context.Context, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}
func (s *fakeStmt) QueryContext(context.Context, []driver.NamedValue) (driver.Rows, error) {
	return &fakeRows{}, nil
}

// fakeRows has one row and every optional Rows interface.
type fakeRows struct{ done bool }

func (r *fakeRows) Columns() []string { return []string{"a"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0] = int64(1)
	return nil
}
func (r *fakeRows) HasNextResultSet() bool                            { return false }
func (r *fakeRows) NextResultSet() error                              { return io.EOF }
func (r *fakeRows) ColumnTypeScanType(int) reflect.Type               { return reflect.TypeOf(int64(0)) }
func (r *fakeRows) ColumnTypeDatabaseTypeName(int) string             { return "INT" }
func (r *fakeRows) ColumnTypeLength(int) (int64, bool)                { return 0, false }
func (r *fakeRows) ColumnTypeNullable(int) (bool, bool)               { return false, true }
func (r *fakeRows) ColumnTypePrecisionScale(int) (int64, int64, bool) { return 0, 0, false }

type fakeConnector struct{}

func (fakeConnector) Connect(context.Context) (driver.Conn, error) { return &fakeConn{}, nil }
func (fakeConnector) Driver() driver.Driver                        { return &fakeDriver{} }

type fakeCloserConnector struct {
	fakeConnector
	closed bool
}

func (c *fakeCloserConnector) Close() error { c.closed = true; return nil }
