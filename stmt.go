package querytrace

import (
	"context"
	"database/sql/driver"

	"github.com/querytrace/querytrace/internal/clock"
	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// stmt wraps a prepared driver.Stmt. Of a statement's optional interfaces
// database/sql acts on the presence of driver.ColumnConverter alone, which
// stmtConverter adds when the wrapped statement has it; the others stmt
// has always, doing without the driver's what database/sql would.
type stmt struct {
	s     driver.Stmt
	conn  *conn
	query string
	info  *sqlnorm.Info // what the normalizer read of query, once

	checker driver.NamedValueChecker // s's, or nil
}

// stmtConverter adds driver.ColumnConverter to a stmt.
type stmtConverter struct{ *stmt }

func (c *conn) wrapStmt(s driver.Stmt, query string, in *sqlnorm.Info) driver.Stmt {
	w := &stmt{s: s, conn: c, query: query, info: in}
	w.checker, _ = s.(driver.NamedValueChecker)
	if _, ok := s.(driver.ColumnConverter); ok { //nolint:staticcheck // forwarded as the driver has it
		return stmtConverter{w}
	}
	return w
}

func (s *stmt) state() *tdriver { return s.conn.drv }
func (s *stmt) unwrap() any     { return s.s }

func (s *stmt) Close() error { return s.s.Close() }

func (s *stmt) NumInput() int { return s.s.NumInput() }

// Exec runs the statement through the context-less method, which
// database/sql never calls on the wrapper; it is recorded in the fallback.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	start := clock.Now()
	res, err := s.s.Exec(args) //nolint:staticcheck // forwarded as the driver has it
	a := sumValues(args)
	s.conn.event(s.conn.drv.untraced, KindStmtExec, s.query, s.info, start, &a, err)
	return res, err
}

// Query runs the statement through the context-less method; it is
// recorded in the fallback.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	start := clock.Now()
	rows, err := s.s.Query(args) //nolint:staticcheck // forwarded as the driver has it
	a := sumValues(args)
	return s.conn.queried(context.Background(), s.conn.drv.untraced, KindStmtQuery, s.query, s.info, start, &a, rows, err)
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.execCtx(ctx, s.conn.trace(ctx), args)
}

// QueryContext runs the prepared statement; it is recorded when its rows
// are closed.
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.queryCtx(ctx, s.conn.trace(ctx), args)
}

// execCtx is database/sql's ctxDriverStmtExec, recorded in t.
func (s *stmt) execCtx(ctx context.Context, t *Trace, args []driver.NamedValue) (driver.Result, error) {
	start := clock.Now()
	var res driver.Result
	var err error
	if ec, ok := s.s.(driver.StmtExecContext); ok {
		res, err = ec.ExecContext(s.conn.driverCtx(ctx), args)
	} else {
		var vals []driver.Value
		if vals, err = valuesCtx(ctx, args); err == nil {
			res, err = s.s.Exec(vals) //nolint:staticcheck // the driver has nothing newer
		}
	}
	a := sumArgs(args)
	s.conn.event(t, KindStmtExec, s.query, s.info, start, &a, err)
	return res, err
}

// queryCtx is database/sql's ctxDriverStmtQuery, recorded in t.
func (s *stmt) queryCtx(ctx context.Context, t *Trace, args []driver.NamedValue) (driver.Rows, error) {
	start := clock.Now()
	var rows driver.Rows
	var err error
	if qc, ok := s.s.(driver.StmtQueryContext); ok {
		rows, err = qc.QueryContext(s.conn.driverCtx(ctx), args)
	} else {
		var vals []driver.Value
		if vals, err = valuesCtx(ctx, args); err == nil {
			rows, err = s.s.Query(vals) //nolint:staticcheck // the driver has nothing newer
		}
	}
	a := sumArgs(args)
	return s.conn.queried(ctx, t, KindStmtQuery, s.query, s.info, start, &a, rows, err)
}

// CheckNamedValue asks the wrapped statement's driver.NamedValueChecker
// or, without one, its connection's, as database/sql does. With neither
// it answers driver.ErrSkip, on which database/sql goes on to the checker
// it would have used first.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if s.checker != nil {
		return s.checker.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}

func (s stmtConverter) ColumnConverter(idx int) driver.ValueConverter {
	return s.s.(driver.ColumnConverter).ColumnConverter(idx) //nolint:staticcheck // forwarded as the driver has it
}
