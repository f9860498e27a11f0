package querytrace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The tests of this file check which of the application's lines a finding
// names (issue 19, item 2): the loop in a callee, a goroutine per row, a
// loop behind middleware with no statement outside it, one statement
// reached along two paths, and one warning per loop in the log. Generated
// code and a library's literal inlined into the application's function
// are checked in internal/gentest, with ent's, sqlc's and a library
// module's real code.

// TestLoopInCallee checks that the loop is the callee's for statement,
// which the source shows, and not the page's call of the callee, where
// the loop's path parts from the members query's.
func TestLoopInCallee(t *testing.T) {
	page := func(ctx context.Context, b *detBackend) error {
		members, err := detMembers(ctx, b)
		if err != nil {
			return err
		}
		return detAuthors(ctx, b, members)
	}
	detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
		wantLoop(t, r, ".detAuthors", detAuthorsLoop, true)
	})
}

// detUserName runs the users statement without noting its line, as
// detFindUsers does: the goroutines of TestGoroutinePerRow run it at once.
func detUserName(ctx context.Context, b *detBackend, id int) error {
	return b.db.QueryRowContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`), id).Scan(new(string))
}

// detPreparedUserName prepares the users statement, waits until every
// goroutine of its loop has prepared, and runs it: all the prepares start
// before the first execution, as they may by chance on a busy machine.
func detPreparedUserName(ctx context.Context, b *detBackend, id int, ready *sync.WaitGroup) error {
	st, err := b.db.PrepareContext(ctx, b.q(`SELECT name FROM qd_users WHERE id = ?`))
	ready.Done()
	ready.Wait()
	if err != nil {
		return err
	}
	defer st.Close()
	return st.QueryRowContext(ctx, id).Scan(new(string))
}

// TestGoroutinePerRow checks that a goroutine started per row names the
// go statement inside the loop, not the "}(id)" that closes its literal,
// nor a line of the literal, for a go statement and for WaitGroup.Go; and
// that the prepares of the loop's own statement, all started before its
// first execution, are not taken for a statement outside the loop.
func TestGoroutinePerRow(t *testing.T) {
	var goLine int
	for _, c := range []struct {
		name string
		page func(ctx context.Context, b *detBackend) error
	}{
		{"go statement", func(ctx context.Context, b *detBackend) error {
			members, err := detMembers(ctx, b)
			errs := make([]error, len(members))
			var wg sync.WaitGroup
			for i, m := range members {
				wg.Add(1)
				goLine = line() + 1
				go func(i, id int) {
					defer wg.Done()
					errs[i] = detUserName(ctx, b, id)
				}(i, m)
			}
			wg.Wait()
			return errors.Join(err, errors.Join(errs...))
		}},
		{"WaitGroup.Go", func(ctx context.Context, b *detBackend) error {
			members, err := detMembers(ctx, b)
			errs := make([]error, len(members))
			var wg sync.WaitGroup
			for i, m := range members {
				goLine = line() + 1
				wg.Go(func() {
					errs[i] = detUserName(ctx, b, m)
				})
			}
			wg.Wait()
			return errors.Join(err, errors.Join(errs...))
		}},
		{"prepared in each goroutine", func(ctx context.Context, b *detBackend) error {
			members, err := detMembers(ctx, b)
			errs := make([]error, len(members))
			var wg, ready sync.WaitGroup
			ready.Add(len(members))
			for i, m := range members {
				goLine = line() + 1
				wg.Go(func() {
					errs[i] = detPreparedUserName(ctx, b, m, &ready)
				})
			}
			wg.Wait()
			return errors.Join(err, errors.Join(errs...))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			detRun(t, c.page, func(t *testing.T, b *detBackend, r *Report) {
				if len(r.NPlusOne) != 1 {
					t.Fatalf("%d N+1 findings, want 1", len(r.NPlusOne))
				}
				f := r.NPlusOne[0]
				if l := f.Loop; l == nil || l.Line != goLine || !strings.HasSuffix(l.File, "appline_test.go") ||
					strings.Contains(l.Function, "gowrap") {
					t.Errorf("loop at %v, want the go statement at appline_test.go:%d", l, goLine)
				}
				if f.Source == nil || !strings.Contains(f.Source.Shape, "qd_members") {
					t.Errorf("source %v, want the members query", f.Source)
				}
			})
		})
	}
}

// detLibEach stands for a library's loop that calls back into the
// application (pgx.ForEachRow, a GraphQL executor): TestLoopBehindMiddleware
// declares it a library's with SkipFrames.
func detLibEach(ids []int, f func(int) error) error {
	for _, id := range ids {
		if err := f(id); err != nil {
			return err
		}
	}
	return nil
}

// detMiddleware wraps next as an application's middleware does.
func detMiddleware(mark *int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*mark = line() + 1
		next.ServeHTTP(w, r)
	})
}

// TestLoopBehindMiddleware checks a handler behind a chain of middleware
// that runs no statement outside its loop, served over loopback: the loop
// is the handler's for statement, which the source shows. Where the loop
// is a library's and the path passes through more code that is not the
// application's (net/http's between the middleware), nothing shows which
// of it loops: the finding names no loop, and says that it all ran below
// the outermost middleware, never that the middleware is the loop.
func TestLoopBehindMiddleware(t *testing.T) {
	b := detBackends(t)[0]
	SkipFrames("github.com/querytrace/querytrace.detLibEach")
	var handlerLoop, outer, inner int
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		for _, id := range []int{3, 1, 4, 5, 9} {
			handlerLoop = line() + 1
			if err := detAttach(r.Context(), b, id); err != nil {
				http.Error(w, err.Error(), 500)
			}
		}
	})
	mux.HandleFunc("/library", func(w http.ResponseWriter, r *http.Request) {
		err := detLibEach([]int{3, 1, 4, 5, 9}, func(id int) error {
			return detAttach(r.Context(), b, id)
		})
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	onReport, ch := reports()
	srv := httptest.NewServer(&Handler{
		Next:     detMiddleware(&outer, detMiddleware(&inner, mux)),
		Logger:   slog.New(slog.DiscardHandler),
		OnReport: onReport,
	})
	defer srv.Close()
	get := func(path string) Finding {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		r := wait(t, ch)
		if len(r.NPlusOne) != 1 {
			t.Fatalf("%s: %d N+1 findings, want 1:\n%s", path, len(r.NPlusOne), r)
		}
		return r.NPlusOne[0]
	}

	f := get("/loop")
	if f.Loop == nil || f.Loop.Line != handlerLoop || f.Below != nil {
		t.Errorf("/loop: loop %v (below %v), want the handler's line %d", f.Loop, f.Below, handlerLoop)
	}

	f = get("/library")
	if f.Loop != nil {
		t.Errorf("/library: a loop named at %v, where nothing shows one", f.Loop)
	}
	if f.Below == nil || f.Below.Line != outer {
		t.Errorf("/library: repeated below %v, want the outer middleware's line %d", f.Below, outer)
	}
	text := f.String()
	if strings.Contains(text, "in the loop at") || !strings.Contains(text, fmt.Sprintf("repeated below %s", f.Below)) {
		t.Errorf("/library: %s; want it repeated below the middleware, no loop named", text)
	}
}

// detAuthors is a page's callee that holds the loop, as a template helper
// or a panel of the page does: the page calls it once.
var detAuthorsLoop int

func detAuthors(ctx context.Context, b *detBackend, ids []int) error {
	for _, id := range ids {
		detAuthorsLoop = line() + 1
		if err := detAttach(ctx, b, id); err != nil {
			return err
		}
	}
	return nil
}

func detPanelA(ctx context.Context, b *detBackend, ids []int) error { return detAuthors(ctx, b, ids) }
func detPanelB(ctx context.Context, b *detBackend, ids []int) error { return detAuthors(ctx, b, ids) }

// TestFindingsThatPrintAlike checks two N+1s of one statement in one loop,
// reached from two panels of a page: their stacks print the same frames
// and the same loop, so each names where its path parts from the other's.
func TestFindingsThatPrintAlike(t *testing.T) {
	var viaA, viaB int
	page := func(ctx context.Context, b *detBackend) error {
		members, err := detMembers(ctx, b)
		if err != nil {
			return err
		}
		viaA = line() + 1
		if err := detPanelA(ctx, b, members); err != nil {
			return err
		}
		viaB = line() + 1
		return detPanelB(ctx, b, members)
	}
	detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
		if len(r.NPlusOne) != 2 {
			t.Fatalf("%d N+1 findings, want 2", len(r.NPlusOne))
		}
		var vias []int
		for _, f := range r.NPlusOne {
			if f.Loop == nil || f.Loop.Line != detAuthorsLoop {
				t.Errorf("loop %v, want detAuthors:%d", f.Loop, detAuthorsLoop)
			}
			if f.Via == nil {
				t.Fatalf("%s: no via", f.String())
			}
			vias = append(vias, f.Via.Line)
			if !strings.Contains(f.String(), "via "+f.Via.String()) || !strings.Contains(r.String(), "  via "+f.Via.String()) {
				t.Errorf("the finding does not print its via: %s", f.String())
			}
		}
		if !(vias[0] == viaA && vias[1] == viaB || vias[0] == viaB && vias[1] == viaA) {
			t.Errorf("via lines %v, want %d and %d", vias, viaA, viaB)
		}
	})
}

// TestWarningPerLoop checks that two handlers whose loops call one
// repository function each log their N+1 (the statement's call site is
// the same, the loops are not), and that a repeat of either within
// WarnInterval is held back.
func TestWarningPerLoop(t *testing.T) {
	b := detBackends(t)[0]
	var loopA, loopB int
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		for _, id := range []int{1, 2, 3} {
			loopA = line() + 1
			detAttach(r.Context(), b, id)
		}
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		for _, id := range []int{4, 5, 6} {
			loopB = line() + 1
			detAttach(r.Context(), b, id)
		}
	})
	logs := &logRecorder{}
	onReport, ch := reports()
	h := &Handler{Next: mux, Logger: slog.New(logs), OnReport: onReport}
	for _, path := range []string{"/a", "/b", "/a", "/b"} {
		serve(h, path)
		wait(t, ch)
	}
	warns, _ := logs.at(slog.LevelWarn)
	if len(warns) != 2 {
		t.Fatalf("%d warnings, want 2 (one per loop, the repeats held back): %q", len(warns), warns)
	}
	for i, l := range []int{loopA, loopB} {
		if want := fmt.Sprintf("in the loop at %s:%d", shortFile(thisFile()), l); !strings.Contains(warns[i], want) {
			t.Errorf("warning %q, want %q", warns[i], want)
		}
	}
}

// thisFile returns the name of this file, as frames name it.
func thisFile() string {
	_, file, _, _ := runtime.Caller(0)
	return file
}

// detExec stands for a GraphQL executor (TestResolverPerGoroutine
// declares it a library): it resolves each element of a list in a
// goroutine of its own, through the application's directive, whose next
// is the executor's code that calls the resolver, as gqlgen's generated
// field code does.
func detExec(ctx context.Context, ids []int, directive func(context.Context, func(context.Context) error) error,
	resolve func(context.Context, int) error) error {
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = directive(ctx, func(ctx context.Context) error { return resolve(ctx, id) })
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// detAuthorize is the application's directive: it calls next once.
func detAuthorize(ctx context.Context, next func(context.Context) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return next(ctx)
}

// detDeep runs f n calls deeper, as a chain of middleware and a router
// do: the stack of a statement below it is cut off before its root.
//
//go:noinline
func detDeep(n int, f func() error) error {
	if n == 0 {
		return f()
	}
	return detDeep(n-1, f)
}

// TestResolverPerGoroutine checks a list resolved as gqlgen resolves it
// (issue 19, seen in photoview): the list's query runs through the
// application's directive deep below middleware, and each element's
// statement runs in a goroutine of the executor's, through the same
// directive. The two stacks share the directive's line, as two calls of
// one function do, but not its caller: their paths do not part there.
// Nothing of the application loops, and the executor's code between the
// directive and the resolver calls the resolver once: the finding names
// no loop, and says the statements repeated below the directive.
func TestResolverPerGoroutine(t *testing.T) {
	SkipFrames("github.com/querytrace/querytrace.detExec")
	page := func(ctx context.Context, b *detBackend) error {
		var members []int
		err := detDeep(48, func() error {
			return detAuthorize(ctx, func(ctx context.Context) (err error) {
				members, err = detMembers(ctx, b)
				return err
			})
		})
		if err != nil {
			return err
		}
		return detExec(ctx, members, detAuthorize, func(ctx context.Context, id int) error {
			return detUserName(ctx, b, id)
		})
	}
	detRun(t, page, func(t *testing.T, b *detBackend, r *Report) {
		if len(r.NPlusOne) != 1 {
			t.Fatalf("%d N+1 findings, want 1", len(r.NPlusOne))
		}
		f := r.NPlusOne[0]
		if f.Loop != nil {
			t.Errorf("a loop named at %v, where nothing of the application loops", f.Loop)
		}
		if f.Below == nil || !strings.HasSuffix(f.Below.Function, ".detAuthorize") {
			t.Errorf("repeated below %v, want the directive", f.Below)
		}
		if strings.Contains(f.String(), "in the loop at") {
			t.Errorf("%s; want no loop named", f.String())
		}
	})
}
