package querytracetest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fakeTB records what the helpers do with a test, so that tests can run a
// helper's failing path and assert its message without failing themselves.
type fakeTB struct {
	testing.TB // nil: a method the fake lacks panics, which a test should see

	name string
	ctx  context.Context

	mu       sync.Mutex
	errors   []string
	logs     []string
	failed   bool
	fatal    bool
	cleanups []func()
}

// fakeFailNow is what a fake's FailNow panics with, to stop its test
// function the way runtime.Goexit stops a real one.
type fakeFailNow struct{}

func (f *fakeTB) Helper()                  {}
func (f *fakeTB) Name() string             { return f.name }
func (f *fakeTB) Context() context.Context { return f.ctx }
func (f *fakeTB) Skipped() bool            { return false }

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }

func (f *fakeTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprint(args...))
	f.failed = true
}

func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

func (f *fakeTB) Fatal(args ...any) {
	f.Error(args...)
	f.FailNow()
}

func (f *fakeTB) FailNow() {
	f.mu.Lock()
	f.failed, f.fatal = true, true
	f.mu.Unlock()
	panic(fakeFailNow{})
}

func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

// output is everything the fake test reported, for failure messages.
func (f *fakeTB) output() string {
	return strings.Join(append(append([]string(nil), f.errors...), f.logs...), "\n")
}

// runFake runs fn as the body of a fake test named name, then its cleanups
// in reverse order as the testing package does, and returns the fake.
func runFake(t *testing.T, name string, fn func(t testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{name: name, ctx: t.Context()}
	call := func(fn func()) {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(fakeFailNow); !ok {
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

// passes asserts that the fake test passed.
func (f *fakeTB) passes(t *testing.T) {
	t.Helper()
	if f.Failed() {
		t.Fatalf("fake test %s failed; want it to pass:\n%s", f.name, f.output())
	}
}

// fails asserts that the fake test failed with exactly one error and
// returns its text.
func (f *fakeTB) fails(t *testing.T) string {
	t.Helper()
	if !f.Failed() {
		t.Fatalf("fake test %s passed; want it to fail (logs: %q)", f.name, f.logs)
	}
	if len(f.errors) != 1 {
		t.Fatalf("fake test %s reported %d errors; want 1:\n%s", f.name, len(f.errors), f.output())
	}
	return f.errors[0]
}

// contains asserts that text contains each of want, in order.
func contains(t *testing.T, text string, want ...string) {
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
