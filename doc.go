/*
Package querytrace makes an application's database work visible, one
request at a time.

It stands between [database/sql] and a driver. Every statement that reaches
the driver is counted, timed, normalized into its literal-free shape and
recorded in the [Trace] on the statement's context. When the trace finishes,
its [Report] groups the statements by shape and call site and names what
repeats: an N+1 (one query run once per row of another) with the loop's
file and line, the query it iterates and the statement that replaces it
(and, where GORM, bun, ent, sqlx or sqlc ran it, the same fix in that
library's API: [Finding].ORMFix); statements repeated with the same
arguments; slow statements.

A report holds shapes such as "select name from entries where id = ?" and
a hash of each statement's arguments, never the argument values or SQL
literals themselves, so it can go to logs.

There are three ways in: an application, a test, and staging.

# In an application

Open the database through querytrace, with the driver imported as usual,
and wrap the HTTP handler in [Middleware]:

	import (
		"github.com/querytrace/querytrace"
		_ "github.com/mattn/go-sqlite3" // or pgx/v5/stdlib, go-sql-driver/mysql
	)

	db, err := querytrace.Open("sqlite3", "file:app.db") // or ("pgx", dsn)
	...
	http.ListenAndServe(addr, querytrace.Middleware(mux))

Each request then runs in a trace of its own. The middleware sets a
Server-Timing header, which browsers' developer tools show beside the
request:

	Server-Timing: db;dur=9.1;desc="601 statements, 2 N+1"

and logs through [log/slog]: each N+1 as a warning, the whole report at
debug level. A [Handler] chooses the logger and the [Detector], and hands
each report to code of your own. Package
[github.com/querytrace/querytrace/grpcquerytrace] gives gRPC calls the
same through [Handler.Run].

Outside HTTP, [Start] puts a trace on a context. Every statement run with
that context, or one derived from it, from any goroutine, is recorded until
[Trace.Finish] returns the report:

	ctx, tr := querytrace.Start(ctx, "nightly export")
	defer func() { log.Print(tr.Finish()) }()

Traces nest: a trace started on a context that already carries one records
into both. Statements run with no trace on their context are tallied per
database by [Untraced]. [Open] has siblings for other set-ups: [OpenDB] and
[WrapConnector] for a [database/sql/driver.Connector], [Wrap] and
[Register] for a driver.

A statement's call site is the innermost frame of the application's own
code, that of its main module: frames of the standard library, of
querytrace, of other modules (drivers, ORMs) and of files generated into
the application's module (ent, sqlc) are skipped. [SkipFrames]
skips a data-access layer of the application's too, so that call sites
name its callers, and [ApplicationFrames] counts a module of its own
fetched from elsewhere. [WithoutStacks] turns call sites off.

# In tests

Package [github.com/querytrace/querytrace/querytracetest] turns reports into
test assertions. A test fails when the code under test goes over its query
budget, runs an N+1, or runs more statements as the data grows:

	ctx := querytracetest.Budget(t, t.Context(), querytracetest.AtMost(5))
	ctx = querytracetest.NoNPlusOne(t, ctx)
	inventoryPage(ctx, db)

	querytracetest.Scale(t, querytracetest.ScaleTest{
		Setup: func(t testing.TB, n int) { addEntries(t, db, n) },
		Act:   func(t testing.TB, ctx context.Context) { inventoryPage(ctx, db) },
	})

The failure message shows the groups of statements with their call stacks
and the fix. Work that is known and accepted runs under [Pause].

# In staging

The zero [Detector], which traces use unless told otherwise, flags a
statement that runs twice. Staging traffic wants less noise:
[StagingDetector] returns a detector that flags a group at 5 repeats and
50ms, and known repeats go on its allow-list with a reason that reports
show:

	d := querytrace.StagingDetector()
	d.Allow = []querytrace.Allow{{Table: "feature_flags", Reason: "cached for the request"}}
	h := &querytrace.Handler{Next: mux, Detector: d}

The handler logs each N+1 at most once per call site per
[Handler.WarnInterval], a minute by default, as a warning that carries the
finding's count, shape, call site and fix.

# Reports

A [Report] reads as a table in a terminal ([Report.String],
[Report.WriteText]), encodes to JSON with stable keys
([Report.MarshalJSON]) and logs as a group of attributes through
[log/slog], whose [log/slog.LogValuer] it implements. Its findings print
on one line each ([Finding.String]).

# PostgreSQL and pgx

Through database/sql, open the "pgx" driver of
github.com/jackc/pgx/v5/stdlib. Services that use pgx's own interface get
the same traces from package [github.com/querytrace/querytrace/pgxtrace],
which installs a pgx tracer on a pool's configuration. Other sources, such
as an ORM's hooks, hand their statements to a trace with [Record].

# MySQL and MariaDB

Through database/sql, open the "mysql" driver of
github.com/go-sql-driver/mysql; statements are read in [DialectMySQL], or
[DialectMySQLANSIQuotes] with [WithDialect] for a server whose sql_mode has
ANSI_QUOTES.

Other packages of this repository build on reports, such as a page of the
recent reports of a running service and a bridge to OpenTelemetry; the
README lists them.
*/
package querytrace
