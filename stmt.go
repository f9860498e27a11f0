package querytrace

import (
	"context"
	"database/sql/driver"

	"github.com/querytrace/querytrace/internal/clock"
)

// stmt wraps a prepared driver.Stmt; its optional interfaces are embedded
// by wrapStmtIfaces as for connections.
type stmt struct {
	s     driver.Stmt
	conn  *conn
	query string
}

func (c *conn) wrapStmt(s driver.Stmt, query string) driver.Stmt {
	return wrapStmtIfaces(&stmt{s: s, conn: c, query: query}, stmtMask(s))
}

func (s *stmt) state() *tdriver { return s.conn.drv }
func (s *stmt) unwrap() any     { return s.s }

// Close closes the wrapped statement.
func (s *stmt) Close() error { return s.s.Close() }

// NumInput asks the wrapped statement.
func (s *stmt) NumInput() int { return s.s.NumInput() }

// Exec runs the statement through the context-less driver.Stmt method,
// which database/sql calls only when the driver has nothing newer; it is
// recorded in the fallback.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	start := clock.Now()
	res, err := s.s.Exec(args) //nolint:staticcheck // forwarded as the driver has it
	s.conn.event(s.conn.drv.untraced, KindStmtExec, s.query, start, hashValues(args), err)
	return res, err
}

// Query runs the statement through the context-less driver.Stmt method;
// it is recorded in the fallback.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	start := clock.Now()
	rows, err := s.s.Query(args) //nolint:staticcheck // forwarded as the driver has it
	return s.conn.queried(s.conn.drv.untraced, KindStmtQuery, s.query, start, hashValues(args), rows, err)
}

// The optional interfaces of a statement, one type each.
type (
	stmtExecContext       struct{ s *stmt }
	stmtQueryContext      struct{ s *stmt }
	stmtNamedValueChecker struct{ s *stmt }
	stmtColumnConverter   struct{ s *stmt }
)

// ExecContext runs the prepared statement.
func (x stmtExecContext) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s := x.s
	start := clock.Now()
	res, err := s.s.(driver.StmtExecContext).ExecContext(s.conn.driverCtx(ctx), args)
	s.conn.event(s.conn.trace(ctx), KindStmtExec, s.query, start, HashArgs(args), err)
	return res, err
}

// QueryContext runs the prepared statement; it is recorded when its rows
// are closed.
func (x stmtQueryContext) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s := x.s
	start := clock.Now()
	rows, err := s.s.(driver.StmtQueryContext).QueryContext(s.conn.driverCtx(ctx), args)
	return s.conn.queried(s.conn.trace(ctx), KindStmtQuery, s.query, start, HashArgs(args), rows, err)
}

// CheckNamedValue asks the wrapped statement.
func (x stmtNamedValueChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return x.s.s.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// ColumnConverter asks the wrapped statement.
func (x stmtColumnConverter) ColumnConverter(idx int) driver.ValueConverter {
	return x.s.s.(driver.ColumnConverter).ColumnConverter(idx) //nolint:staticcheck // forwarded as the driver has it
}
