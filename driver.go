package querytrace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// An Option configures a wrapped driver.
type Option func(*config)

type config struct {
	dialect    Dialect
	dialectSet bool
	noStacks   bool
}

// WithDialect sets the SQL dialect the normalizer reads statements in. By
// default it is guessed from the wrapped driver's package (go-sqlite3 and
// modernc sqlite: SQLite; pgx and lib/pq: PostgreSQL; go-sql-driver: MySQL).
// A MySQL or MariaDB server with ANSI_QUOTES in its sql_mode wants
// DialectMySQLANSIQuotes.
func WithDialect(d Dialect) Option {
	return func(c *config) { c.dialect, c.dialectSet = d, true }
}

// WithoutStacks turns off call-site capture: statements are still counted,
// timed and grouped by shape, but no longer told apart by call site and
// reports show no file:line. It saves a few percent of the per-statement
// cost where the call sites are not wanted.
func WithoutStacks() Option {
	return func(c *config) { c.noStacks = true }
}

// tdriver is the state shared by everything one wrapped driver opens.
type tdriver struct {
	d        driver.Driver
	cfg      config
	untraced *Trace
	pgx      bool // pgx's stdlib driver: mark contexts for the pgx tracer
}

// baseDriver is the wrapped driver.Driver; driverContext adds
// driver.DriverContext when the wrapped driver has it.
type baseDriver struct{ *tdriver }

type driverContext struct{ t *tdriver }

// Open opens a connection with the wrapped driver.
func (d baseDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return d.wrapConn(c), nil
}

// OpenConnector returns the wrapped driver's connector, wrapped.
func (d driverContext) OpenConnector(name string) (driver.Connector, error) {
	c, err := d.t.d.(driver.DriverContext).OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return d.t.wrapConnector(c), nil
}

func (d *tdriver) state() *tdriver { return d }

// wrapped is what every wrapper of this package has, so that a wrapped
// driver is never wrapped twice and a wrapped value can be unwrapped.
type wrapped interface{ state() *tdriver }

// Wrap returns a driver that records every statement of d in the trace on
// the statement's context. Wrapping a driver Wrap returned returns it as it
// is: statements are never counted twice.
func Wrap(d driver.Driver, opts ...Option) driver.Driver {
	if _, ok := d.(wrapped); ok {
		return d
	}
	return newDriver(d, d, opts).driver()
}

// driver returns d as a driver.Driver with exactly the optional interfaces
// of the driver it wraps.
func (d *tdriver) driver() driver.Driver {
	if _, ok := d.d.(driver.DriverContext); ok {
		return struct {
			baseDriver
			driverContext
		}{baseDriver{d}, driverContext{d}}
	}
	return baseDriver{d}
}

// newDriver returns the state of a wrapper of d. from is what the driver
// was found through (d itself, or the connector Driver returned it): its
// package, or that of what it wraps, tells the dialect.
func newDriver(d driver.Driver, from any, opts []Option) *tdriver {
	td := &tdriver{d: d, untraced: NewTrace("untraced")}
	for _, o := range opts {
		o(&td.cfg)
	}
	if d != nil {
		dialect, pkg := guessDialect(from)
		if !td.cfg.dialectSet {
			td.cfg.dialect = dialect
		}
		td.pgx = strings.HasPrefix(pkg, "github.com/jackc/pgx/")
	}
	return td
}

// guessDialect tells the dialect from the package that defines v's type
// and returns that package's path. When the package is not a known
// driver's, it looks through v to what v says it wraps: the driver of a
// connector, or what an Unwrap method returns.
func guessDialect(v any) (Dialect, string) {
	first := ""
	for range 8 { // wrappers of wrappers, never a cycle
		if v == nil {
			break
		}
		p := pkgPath(v)
		if first == "" {
			first = p
		}
		switch {
		case strings.Contains(p, "sqlite"):
			return DialectSQLite, p
		case strings.Contains(p, "jackc/pgx"), strings.Contains(p, "lib/pq"), strings.Contains(p, "postgres"):
			return DialectPostgres, p
		case strings.Contains(p, "mysql"):
			return DialectMySQL, p
		}
		switch w := v.(type) {
		case interface{ Unwrap() driver.Driver }:
			v = w.Unwrap()
		case interface{ Unwrap() driver.Connector }:
			v = w.Unwrap()
		case interface{ Driver() driver.Driver }:
			v = w.Driver()
		default:
			return DialectGeneric, first
		}
	}
	return DialectGeneric, first
}

// pkgPath returns the import path of the package that defines v's type.
func pkgPath(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath()
}

// tconnector is the wrapped driver.Connector; connectorCloser adds
// io.Closer when the wrapped connector has it, which sql.DB.Close calls.
type tconnector struct {
	c   driver.Connector
	drv *tdriver
	d   driver.Driver
}

type connectorCloser struct{ c *tconnector }

// Connect opens a connection with the wrapped connector. database/sql
// connects with the context of the call that needs the connection, unless
// its pool opens one in the background: a failure is a connection error
// of that call's trace (or of the database-wide one).
func (c *tconnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.c.Connect(ctx)
	if err != nil {
		c.drv.traceOf(ctx).connError()
		return nil, err
	}
	return c.drv.wrapConn(conn), nil
}

// Driver returns the wrapped driver, itself wrapped, so that
// sql.DB.Driver leads back to querytrace.
func (c *tconnector) Driver() driver.Driver { return c.d }

func (c *tconnector) state() *tdriver { return c.drv }

func (c connectorCloser) Close() error { return c.c.c.(io.Closer).Close() }

func (d *tdriver) wrapConnector(c driver.Connector) driver.Connector {
	tc := &tconnector{c: c, drv: d, d: d.driver()}
	if _, ok := c.(io.Closer); ok {
		return struct {
			*tconnector
			connectorCloser
		}{tc, connectorCloser{tc}}
	}
	return tc
}

// WrapConnector returns a connector whose connections record every
// statement in the trace on the statement's context. Wrapping a connector
// WrapConnector returned returns it as it is.
func WrapConnector(c driver.Connector, opts ...Option) driver.Connector {
	if _, ok := c.(wrapped); ok {
		return c
	}
	return newDriver(c.Driver(), c, opts).wrapConnector(c)
}

// OpenDB is sql.OpenDB over WrapConnector(c, opts...).
func OpenDB(c driver.Connector, opts ...Option) *sql.DB {
	return sql.OpenDB(WrapConnector(c, opts...))
}

// importHints name the package that registers a well-known driver name.
var importHints = map[string]string{
	"sqlite3":  "github.com/mattn/go-sqlite3",
	"sqlite":   "modernc.org/sqlite",
	"pgx":      "github.com/jackc/pgx/v5/stdlib",
	"pgx/v5":   "github.com/jackc/pgx/v5/stdlib",
	"postgres": "github.com/lib/pq",
	"mysql":    "github.com/go-sql-driver/mysql",
	"sqlmock":  "github.com/DATA-DOG/go-sqlmock",
}

func registered(name string) (driver.Driver, error) {
	for _, n := range sql.Drivers() {
		if n == name {
			// sql.Open does not connect; it is the only way to reach a
			// registered driver by name.
			db, err := sql.Open(name, "")
			if err != nil {
				return nil, err
			}
			d := db.Driver()
			db.Close()
			return d, nil
		}
	}
	return nil, notRegistered(name, sql.Drivers())
}

// notRegistered is the error for a driver name that is not among those
// registered.
func notRegistered(name string, registered []string) error {
	if pkg, ok := importHints[name]; ok {
		return fmt.Errorf("querytrace: driver %q is not registered (forgot the import of %s?)", name, pkg)
	}
	if len(registered) == 0 {
		return fmt.Errorf("querytrace: driver %q is not registered, nor is any other (forgot to import the package of that driver?)", name)
	}
	return fmt.Errorf("querytrace: driver %q is not registered (forgot to import the package of that driver? registered: %s)", name, strings.Join(registered, ", "))
}

// Open opens a database with the driver registered under driverName
// ("sqlite3", "pgx", ...), wrapped: it is sql.Open with querytrace in
// between. Like sql.Open it does not connect.
func Open(driverName, dsn string, opts ...Option) (*sql.DB, error) {
	d, err := registered(driverName)
	if err != nil {
		return nil, err
	}
	w := Wrap(d, opts...)
	if dc, ok := w.(driver.DriverContext); ok {
		c, err := dc.OpenConnector(dsn)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(c), nil
	}
	return sql.OpenDB(dsnConnector{dsn: dsn, d: w}), nil
}

// dsnConnector is what sql.Open uses for drivers without a connector of
// their own.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

// Connect opens a connection with the driver, counting a failure as
// tconnector.Connect does.
func (c dsnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.d.Open(c.dsn)
	if err != nil {
		if w, ok := c.d.(wrapped); ok {
			w.state().traceOf(ctx).connError()
		}
	}
	return conn, err
}

func (c dsnConnector) Driver() driver.Driver { return c.d }

// Register registers d, wrapped, with database/sql under name, so that
// sql.Open(name, dsn) opens traced connections. Unlike sql.Register it
// returns an error, never panics, when name is taken or d is nil.
func Register(name string, d driver.Driver, opts ...Option) (err error) {
	if d == nil {
		return errors.New("querytrace: Register of a nil driver")
	}
	for _, n := range sql.Drivers() {
		if n == name {
			return fmt.Errorf("querytrace: a driver is already registered as %q; pick another name, such as %q", name, name+"-traced")
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("querytrace: registering %q: %v", name, p)
		}
	}()
	sql.Register(name, Wrap(d, opts...))
	return nil
}

// Untraced returns the database-wide trace of db: the statements that ran
// with no trace on their context, such as those of background jobs (run
// them under Start to give them their own reports). Read it with
// Snapshot. It returns nil when db was not opened through querytrace.
func Untraced(db *sql.DB) *Trace {
	if w, ok := db.Driver().(wrapped); ok {
		return w.state().untraced
	}
	return nil
}

// Unwrap returns the driver value that a querytrace wrapper stands for:
// the driver's own connection inside sql.Conn.Raw (pgx's *stdlib.Conn, for
// CopyFrom), its statement, rows, driver or connector. Any other value is
// returned as it is.
//
//	err := conn.Raw(func(dc any) error {
//		pc := querytrace.Unwrap(dc).(*stdlib.Conn).Conn()
//		_, err := pc.CopyFrom(ctx, ...)
//		return err
//	})
func Unwrap(v any) any {
	if u, ok := v.(interface{ unwrap() any }); ok {
		return u.unwrap()
	}
	return v
}

func (d baseDriver) unwrap() any  { return d.d }
func (c *tconnector) unwrap() any { return c.c }
