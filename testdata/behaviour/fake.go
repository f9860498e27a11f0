package main

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// A recorder is the fake driver's memory: the calls it answered, the
// errors it is to answer next and the context to cancel during a call.
type recorder struct {
	calls  []string
	fail   map[string][]error // by operation (method without "Context"/"Tx")
	cancel map[string]func()  // by exact method name, once
	conns  int

	connMask, stmtMask, rowsMask uint32
}

// call records a call and returns the error planned for it, if any; it
// cancels the context planned to be canceled during it.
func (r *recorder) call(method string, detail ...any) error {
	r.calls = append(r.calls, strings.TrimSpace(method+" "+fmt.Sprintln(detail...)))
	if c := r.cancel[method]; c != nil {
		delete(r.cancel, method)
		c()
	}
	op := strings.TrimSuffix(strings.TrimSuffix(method, "Context"), "Tx")
	if q := r.fail[op]; len(q) > 0 {
		r.fail[op] = q[1:]
		return q[0]
	}
	return nil
}

// failNext makes the next calls of op answer errs, one each.
func (r *recorder) failNext(op string, errs ...error) {
	r.fail[op] = append(r.fail[op], errs...)
}

func args(nv []driver.NamedValue) string {
	var b strings.Builder
	for _, a := range nv {
		fmt.Fprintf(&b, "[%d %s %T %v]", a.Ordinal, a.Name, a.Value, a.Value)
	}
	return b.String()
}

func values(vs []driver.Value) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "[%T %v]", v, v)
	}
	return b.String()
}

// connector opens fake connections with the recorder's interfaces.
type connector struct{ r *recorder }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	c.r.conns++
	id := fmt.Sprint("c", c.r.conns)
	if err := c.r.call("Connect", id); err != nil {
		return nil, err
	}
	return newConn(c.r.connMask, &fconn{r: c.r, id: id}), nil
}

func (c connector) Driver() driver.Driver { return fdriver{} }

type fdriver struct{}

func (fdriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

// fconn has every method of a connection; the generated types expose the
// optional ones their mask names.
type fconn struct {
	r  *recorder
	id string
}

// connBase is the part of every generated connection type. It holds the
// fconn in a named field: embedded, its optional methods would be promoted.
type connBase struct{ c *fconn }

func (b connBase) Prepare(query string) (driver.Stmt, error) {
	if err := b.c.r.call("Prepare", b.c.id, query); err != nil {
		return nil, err
	}
	return b.c.stmt(query), nil
}

func (b connBase) Close() error { return b.c.r.call("Close", b.c.id) }

func (b connBase) Begin() (driver.Tx, error) {
	if err := b.c.r.call("Begin", b.c.id); err != nil {
		return nil, err
	}
	return ftx{b.c}, nil
}

// ID names the fake connection, for sql.Conn.Raw.
func (b connBase) ID() string { return "fake " + b.c.id }

func (c *fconn) stmt(query string) driver.Stmt {
	n := -1
	if f := strings.Fields(query); len(f) == 2 && f[0] == "stmt" {
		if i, err := strconv.Atoi(f[1]); err == nil {
			n = i
		}
	}
	return newStmt(c.r.stmtMask, &fstmt{c: c, query: query, n: n})
}

func (c *fconn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.r.call("PrepareContext", c.id, query); err != nil {
		return nil, err
	}
	return c.stmt(query), nil
}

func (c *fconn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.r.call("BeginTx", c.id, opts.Isolation, opts.ReadOnly); err != nil {
		return nil, err
	}
	return ftx{c}, nil
}

func (c *fconn) Exec(query string, vs []driver.Value) (driver.Result, error) {
	if err := c.r.call("Exec", c.id, query, values(vs)); err != nil {
		return nil, err
	}
	return driver.RowsAffected(len(vs)), nil
}

func (c *fconn) ExecContext(ctx context.Context, query string, nv []driver.NamedValue) (driver.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.r.call("ExecContext", c.id, query, args(nv)); err != nil {
		return nil, err
	}
	return driver.RowsAffected(len(nv)), nil
}

func (c *fconn) Query(query string, vs []driver.Value) (driver.Rows, error) {
	if err := c.r.call("Query", c.id, query, values(vs)); err != nil {
		return nil, err
	}
	return c.rows(query), nil
}

func (c *fconn) QueryContext(ctx context.Context, query string, nv []driver.NamedValue) (driver.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.r.call("QueryContext", c.id, query, args(nv)); err != nil {
		return nil, err
	}
	return c.rows(query), nil
}

func (c *fconn) Ping(ctx context.Context) error { return c.r.call("Ping", c.id) }

func (c *fconn) ResetSession(ctx context.Context) error { return c.r.call("ResetSession", c.id) }

func (c *fconn) IsValid() bool { return c.r.call("IsValid", c.id) == nil }

func (c *fconn) CheckNamedValue(nv *driver.NamedValue) error {
	return check(c.r, "CheckNamedValue", nv)
}

// point is an argument type only a NamedValueChecker can take.
type point struct{ x, y int }

// check is what the fake's NamedValueCheckers do, by value.
func check(r *recorder, method string, nv *driver.NamedValue) error {
	if err := r.call(method, nv.Ordinal, nv.Name, fmt.Sprintf("%T", nv.Value)); err != nil {
		return err
	}
	switch v := nv.Value.(type) {
	case point:
		nv.Value = fmt.Sprint(v.x, ",", v.y)
		return nil
	case string:
		switch v {
		case "skip":
			return driver.ErrSkip
		case "remove":
			return driver.ErrRemoveArgument
		case "reject":
			return errors.New("rejected by the checker")
		case "keep":
			return nil
		}
	}
	return driver.ErrSkip
}

func (c *fconn) rows(query string) driver.Rows {
	sets := []int{2}
	if f := strings.Fields(query); len(f) > 1 {
		sets = sets[:0]
		for _, s := range f[1:] {
			n, _ := strconv.Atoi(s)
			sets = append(sets, n)
		}
	}
	return newRows(c.r.rowsMask, &frows{r: c.r, sets: sets})
}

type ftx struct{ c *fconn }

func (t ftx) Commit() error   { return t.c.r.call("Commit", t.c.id) }
func (t ftx) Rollback() error { return t.c.r.call("Rollback", t.c.id) }

// fstmt has every method of a statement.
type fstmt struct {
	c     *fconn
	query string
	n     int
}

type stmtBase struct{ s *fstmt }

func (b stmtBase) Close() error  { return b.s.c.r.call("stmt.Close", b.s.query) }
func (b stmtBase) NumInput() int { return b.s.n }

func (b stmtBase) Exec(vs []driver.Value) (driver.Result, error) {
	if err := b.s.c.r.call("stmt.Exec", b.s.query, values(vs)); err != nil {
		return nil, err
	}
	return driver.RowsAffected(len(vs)), nil
}

func (b stmtBase) Query(vs []driver.Value) (driver.Rows, error) {
	if err := b.s.c.r.call("stmt.Query", b.s.query, values(vs)); err != nil {
		return nil, err
	}
	return b.s.c.rows(b.s.query), nil
}

func (s *fstmt) ExecContext(ctx context.Context, nv []driver.NamedValue) (driver.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.c.r.call("stmt.ExecContext", s.query, args(nv)); err != nil {
		return nil, err
	}
	return driver.RowsAffected(len(nv)), nil
}

func (s *fstmt) QueryContext(ctx context.Context, nv []driver.NamedValue) (driver.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.c.r.call("stmt.QueryContext", s.query, args(nv)); err != nil {
		return nil, err
	}
	return s.c.rows(s.query), nil
}

func (s *fstmt) CheckNamedValue(nv *driver.NamedValue) error {
	return check(s.c.r, "stmt.CheckNamedValue", nv)
}

func (s *fstmt) ColumnConverter(i int) driver.ValueConverter {
	s.c.r.call("stmt.ColumnConverter", i)
	return converter{}
}

// converter refuses the text "bad" and otherwise converts as database/sql
// does by default.
type converter struct{}

func (converter) ConvertValue(v any) (driver.Value, error) {
	if v == "bad" {
		return nil, errors.New("bad value for the column")
	}
	return driver.DefaultParameterConverter.ConvertValue(v)
}

// frows has every method of rows: result sets of the sizes in sets, of
// two columns.
type frows struct {
	r    *recorder
	sets []int
	row  int
}

type rowsBase struct{ f *frows }

func (b rowsBase) Columns() []string { return []string{"id", "name"} }
func (b rowsBase) Close() error      { return b.f.r.call("rows.Close") }

func (b rowsBase) Next(dest []driver.Value) error {
	r := b.f
	if err := r.r.call("rows.Next"); err != nil {
		return err
	}
	if len(r.sets) == 0 || r.row >= r.sets[0] {
		return io.EOF
	}
	r.row++
	dest[0], dest[1] = int64(r.row), fmt.Sprint("name", r.row)
	return nil
}

func (r *frows) HasNextResultSet() bool {
	r.r.call("rows.HasNextResultSet")
	return len(r.sets) > 1
}

func (r *frows) NextResultSet() error {
	if err := r.r.call("rows.NextResultSet"); err != nil {
		return err
	}
	if len(r.sets) <= 1 {
		return io.EOF
	}
	r.sets, r.row = r.sets[1:], 0
	return nil
}

func (r *frows) ColumnTypeScanType(i int) reflect.Type {
	return [...]reflect.Type{reflect.TypeFor[int64](), reflect.TypeFor[string]()}[i]
}

func (r *frows) ColumnTypeDatabaseTypeName(i int) string { return [...]string{"INT", "TEXT"}[i] }

func (r *frows) ColumnTypeLength(i int) (int64, bool) { return int64(i * 255), i == 1 }

func (r *frows) ColumnTypeNullable(i int) (bool, bool) { return i == 1, true }

func (r *frows) ColumnTypePrecisionScale(i int) (int64, int64, bool) { return 10, 2, i == 0 }

// The optional interfaces of rows without the driver.Rows they embed, for
// the generated rows types to embed beside rowsBase.
type (
	RowsNextResultSet interface {
		HasNextResultSet() bool
		NextResultSet() error
	}
	RowsColumnTypeScanType         interface{ ColumnTypeScanType(int) reflect.Type }
	RowsColumnTypeDatabaseTypeName interface{ ColumnTypeDatabaseTypeName(int) string }
	RowsColumnTypeLength           interface{ ColumnTypeLength(int) (int64, bool) }
	RowsColumnTypeNullable         interface{ ColumnTypeNullable(int) (bool, bool) }
	RowsColumnTypePrecisionScale   interface {
		ColumnTypePrecisionScale(int) (int64, int64, bool)
	}
)
