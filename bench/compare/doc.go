// Package compare measures querytrace's per-statement cost beside the raw
// driver and the wrappers users would pick instead, each recording every
// statement's text and duration per request:
//
//   - raw: the driver, no wrapper (raw-control: the same again, on a
//     database of its own, in BenchmarkInterleaved);
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
//     query), and a request span from the same provider;
//   - otelsql-sdk: the same with the SDK's tracer, sampling every span.
//
// One more, querytrace-nofinish, runs in BenchmarkInterleaved only when
// COMPARE_WRAPPERS names it: querytrace with Start per request and no
// Finish, which records every statement and builds no report. Beside
// querytrace it tells what the report costs.
//
// The workloads: QueryRow (a row by primary key), Exec (an UPDATE by
// primary key), Prepared (QueryRow through a statement prepared once),
// Tx5 (a transaction of five UPDATEs; an op is the transaction) and
// Rows100 (a query that reads 100 rows). A request is stmtsPerRequest
// statements (two transactions for Tx5), so the per-request setup is
// spread the same way for all; times are per op. Every wrapper runs on a
// pool of one connection, warmed up with requests before it is measured.
//
// BenchmarkInterleaved runs every wrapper in turn, a request at a time,
// and reports each one's time over raw's in the same run: the figures to
// quote. BenchmarkQueryRow, Exec, Prepared, Tx5 and Rows100 run one
// wrapper after the other, for -benchmem's allocations per op.
//
// SQLite is go-sqlite3 on an in-memory shared-cache database of its own
// per wrapper; PostgreSQL is pgx's stdlib driver on the database named by
// QUERYTRACE_POSTGRES_DSN (skipped when unset), table qt_compare_items,
// unlogged so that an UPDATE costs no WAL flush.
//
// Run it with run.sh, which prints tables of ratios over raw
// (cmd/ratios); ../ab.sh runs it beside another commit's build.
package compare
