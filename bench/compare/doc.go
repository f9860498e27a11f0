// Package compare measures querytrace's per-statement cost beside the raw
// driver and the wrappers users would pick instead, each recording every
// statement's text and duration per request:
//
//   - raw: the driver, no wrapper;
//   - querytrace: querytrace.Open, querytrace.Start per request and Finish
//     at its end (the report built), with call sites;
//   - querytrace-nostacks: the same with querytrace.WithoutStacks();
//   - sqlmw: github.com/ngrok/sqlmw with an interceptor that times the
//     driver call and appends {query, duration} to a per-request collector
//     found with ctx.Value;
//   - sqlhooks: github.com/qustavo/sqlhooks/v2, the same collector; the
//     start time goes from Before to After on the context, as sqlhooks has
//     no other way to pass it;
//   - otelsql: github.com/XSAM/otelsql with OpenTelemetry's no-op tracer
//     and meter providers, its defaults otherwise (a span per statement
//     with the query text as an attribute, and one for the rows of a
//     query), and a request span from the same provider.
//
// A request is stmtsPerRequest statements, so the per-request setup is
// spread the same way for all; ns/op and allocs/op are per statement.
// Every wrapper runs on a pool of one connection.
//
// SQLite is go-sqlite3 on an in-memory shared-cache database of its own
// per wrapper; PostgreSQL is pgx's stdlib driver on the database named by
// QUERYTRACE_POSTGRES_DSN (skipped when unset), table qt_compare_items,
// unlogged so that an UPDATE costs no WAL flush.
//
// Run it with run.sh, which prints benchstat's comparison and a table of
// ratios over raw (cmd/ratios).
package compare
