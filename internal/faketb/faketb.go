// Package faketb is a recording testing.TB for the tests of querytrace's
// test helpers (querytracetest, and pgxtrace's budget tests): a test runs a
// helper against it and asserts the helper's failure message without
// failing itself.
package faketb

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TB records what a test helper does with a test, so that tests can run
// a helper's failing path and assert its message without failing
// themselves.
type TB struct {
	testing.TB // nil: a method the fake lacks panics, which a test should see

	name string
	ctx  context.Context

	mu       sync.Mutex
	Errors   []string // what Error, Errorf, Fatal and Fatalf reported, in order
	Logs     []string // what Logf logged
	failed   bool
	Stopped  bool // FailNow (or Fatal) ended the test function
	cleanups []func()
}

// failNow is what a fake's FailNow panics with, to stop its test
// function the way runtime.Goexit stops a real one.
type failNow struct{}

// Helper does nothing: the fake has no lines to attribute.
func (f *TB) Helper() {}

// Name returns the fake test's name.
func (f *TB) Name() string { return f.name }

// Context returns the context of the real test that runs the fake.
func (f *TB) Context() context.Context { return f.ctx }

// Skipped reports false: a fake test is never skipped.
func (f *TB) Skipped() bool { return false }

// Failed reports whether the fake test failed.
func (f *TB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// Cleanup registers fn to run after the test function, as Run does.
func (f *TB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// Errorf records a failure.
func (f *TB) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }

// Error records a failure.
func (f *TB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Errors = append(f.Errors, fmt.Sprint(args...))
	f.failed = true
}

// Fatalf records a failure and stops the test function.
func (f *TB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// Fatal records a failure and stops the test function.
func (f *TB) Fatal(args ...any) {
	f.Error(args...)
	f.FailNow()
}

// FailNow marks the test failed and stops its function, with a panic
// that Run recovers.
func (f *TB) FailNow() {
	f.mu.Lock()
	f.failed, f.Stopped = true, true
	f.mu.Unlock()
	panic(failNow{})
}

// Logf records a log line.
func (f *TB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Logs = append(f.Logs, fmt.Sprintf(format, args...))
}

// Text is everything the fake test reported, for failure messages.
func (f *TB) Text() string {
	return strings.Join(append(append([]string(nil), f.Errors...), f.Logs...), "\n")
}

// Run runs fn as the body of a fake test named name, then its cleanups
// in reverse order as the testing package does, and returns the fake.
func Run(t *testing.T, name string, fn func(t testing.TB)) *TB {
	t.Helper()
	f := &TB{name: name, ctx: t.Context()}
	call := func(fn func()) {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(failNow); !ok {
					buf := make([]byte, 8<<10)
					t.Fatalf("fake test %s panicked: %v\n%s", name, p, buf[:runtime.Stack(buf, false)])
				}
			}
		}()
		fn()
	}
	call(func() { fn(f) })
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		call(f.cleanups[i])
	}
	return f
}

// Passes asserts that the fake test passed.
func (f *TB) Passes(t *testing.T) {
	t.Helper()
	if f.Failed() {
		t.Fatalf("fake test %s failed; want it to pass:\n%s", f.name, f.Text())
	}
}

// Fails asserts that the fake test failed with exactly one error and
// returns its text.
func (f *TB) Fails(t *testing.T) string {
	t.Helper()
	if !f.Failed() {
		t.Fatalf("fake test %s passed; want it to fail (logs: %q)", f.name, f.Logs)
	}
	if len(f.Errors) != 1 {
		t.Fatalf("fake test %s reported %d errors; want 1:\n%s", f.name, len(f.Errors), f.Text())
	}
	return f.Errors[0]
}

// Contains asserts that text contains each of want, in order.
func Contains(t *testing.T, text string, want ...string) {
	t.Helper()
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("missing %q (or out of order) in:\n%s", w, text)
			return
		}
		rest = rest[i+len(w):]
	}
}
