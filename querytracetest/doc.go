// Package querytracetest turns querytrace's reports into test assertions:
// the test that fails, with a message that shows the fix, the day someone
// adds a query in a loop.
//
// Each helper takes the test and a context, starts a querytrace trace on
// the context and returns the traced context. The test runs the code under
// test with it; the helper checks the trace when the test ends, at
// t.Cleanup. Whatever the test does with another context (creating tables,
// seeding rows) is not measured.
//
//	func TestInventory(t *testing.T) {
//		db := newStore(t, 30) // setup: not measured
//		ctx := querytracetest.Budget(t, t.Context(), querytracetest.AtMost(3))
//		inventory(ctx, db)    // measured
//	}
//
// The helpers:
//
//   - [Budget] bounds the statements: in all, per verb, per shape, table or
//     call site ([AtMost], [Exactly] and their filters).
//   - [Forbid] marks a region that must run no statement at all; intended
//     ones are let through with querytrace.Pause.
//   - [NoNPlusOne] fails on any N+1 pattern the report finds.
//   - [Scale] runs a step at several data sizes and fails when its
//     statement count grows with the data (or grows other than linearly,
//     for work that is meant to be per item).
//   - [Golden] compares the statements a test ran with a file under
//     testdata/querytrace, rewritten with -querytrace.update.
//
// Failure messages give the budget and the count, then the statement
// groups, the most frequent first, with their time, shape, call stack and
// N+1 or duplicate marks, and the fix the report suggests. With go test -v
// they also list the statements one by one. They never show argument
// values.
//
// # Where real tests run
//
// Traces live on contexts, so tests that call t.Parallel are isolated from
// each other as long as each runs its code with its own context. Traces
// nest: an httptest request built with the helper's context is counted even
// when the handler's middleware starts a trace of its own, and a budget of
// a test sees the statements of its subtests when they use its context.
// Goroutines the code under test starts with the context are counted, as
// long as they end before the test does: statements still running at
// cleanup are not part of the report.
package querytracetest
