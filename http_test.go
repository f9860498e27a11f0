package querytrace

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// logRecorder is a slog.Handler that keeps what it is given.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// at returns the messages logged at level, and for each its attributes as
// "key=value" text.
func (l *logRecorder) at(level slog.Level) (msgs []string, attrs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.Level != level {
			continue
		}
		msgs = append(msgs, r.Message)
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(a.Key + "=" + a.Value.Resolve().String() + " ")
			return true
		})
		attrs = append(attrs, b.String())
	}
	return msgs, attrs
}

// inventoryMux serves the demo's inventory pages (examples/inventory/store).
func inventoryMux(db *sql.DB) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /inventory/{page}", func(w http.ResponseWriter, r *http.Request) {
		page := store.SlowInventory
		if r.PathValue("page") == "fast" {
			page = store.FastInventory
		}
		free, err := page(r.Context(), db)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(free)
	})
	mux.HandleFunc("GET /quiet", func(w http.ResponseWriter, r *http.Request) {
		db.QueryRowContext(r.Context(), `SELECT count(*) FROM entries`).Scan(new(int))
	})
	return mux
}

// reports returns an OnReport that passes reports on, and the channel.
func reports() (func(*http.Request, *Report), chan *Report) {
	ch := make(chan *Report, 16)
	return func(_ *http.Request, r *Report) { ch <- r }, ch
}

func wait(t *testing.T, ch chan *Report) *Report {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no report within 5s")
		return nil
	}
}

func serve(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

func TestHandler(t *testing.T) {
	db := openSeed(t, 20)
	logs := &logRecorder{}
	onReport, ch := reports()
	h := &Handler{Next: inventoryMux(db), Logger: slog.New(logs), OnReport: onReport}

	timing := regexp.MustCompile(`^db;dur=\d+\.\d;desc="(.*)"$`)
	cases := []struct {
		path, name, desc string
		nplus1           int
	}{
		{"/inventory/slow", "GET /inventory/{page}", "41 statements, 2 N+1", 2},
		{"/inventory/fast", "GET /inventory/{page}", "3 statements", 0},
		{"/quiet", "GET /quiet", "1 statement", 0}, // writes nothing: net/http sends the headers
		{"/nowhere", NoRoute, "0 statements", 0},   // 404: no route matched
	}
	for _, c := range cases {
		w := serve(h, c.path)
		r := wait(t, ch)
		m := timing.FindStringSubmatch(w.Header().Get("Server-Timing"))
		if m == nil || m[1] != c.desc {
			t.Errorf("%s: Server-Timing %q, want desc %q", c.path, w.Header().Get("Server-Timing"), c.desc)
		}
		if r.Name != c.name || len(r.NPlusOne) != c.nplus1 {
			t.Errorf("%s: report %q with %d N+1, want %q with %d", c.path, r.Name, len(r.NPlusOne), c.name, c.nplus1)
		}
	}
	warns, attrs := logs.at(slog.LevelWarn)
	if len(warns) != 2 {
		t.Fatalf("%d warnings, want 2 (one per call site): %q", len(warns), warns)
	}
	for i, m := range warns {
		if !strings.Contains(m, "N+1: 20 times at store/pages.go:") || !strings.Contains(attrs[i], "fix=") {
			t.Errorf("warning %q %s", m, attrs[i])
		}
	}
	if debug, _ := logs.at(slog.LevelDebug); len(debug) != len(cases) {
		t.Errorf("%d reports at Debug, want %d", len(debug), len(cases))
	}
}

// TestHandlerWarnDedup checks that warnings about one call site are held
// back for WarnInterval, and that the next one counts them.
func TestHandlerWarnDedup(t *testing.T) {
	db := openSeed(t, 5)
	logs := &logRecorder{}
	onReport, ch := reports()
	h := &Handler{Next: inventoryMux(db), Logger: slog.New(logs), OnReport: onReport, WarnInterval: 200 * time.Millisecond}
	for i := 0; i < 3; i++ {
		serve(h, "/inventory/slow")
		wait(t, ch)
	}
	if warns, _ := logs.at(slog.LevelWarn); len(warns) != 2 {
		t.Fatalf("after 3 requests in the interval: %d warnings, want 2", len(warns))
	}
	time.Sleep(250 * time.Millisecond)
	serve(h, "/inventory/slow")
	wait(t, ch)
	warns, attrs := logs.at(slog.LevelWarn)
	if len(warns) != 4 {
		t.Fatalf("after the interval: %d warnings, want 4", len(warns))
	}
	for _, a := range attrs[2:] {
		if !strings.Contains(a, "suppressed=2") {
			t.Errorf("warning after the interval: %s; want suppressed=2", a)
		}
	}

	// A negative interval logs every one.
	h = &Handler{Next: inventoryMux(db), Logger: slog.New(&logRecorder{}), OnReport: onReport, WarnInterval: -1}
	logs = h.Logger.Handler().(*logRecorder)
	for i := 0; i < 2; i++ {
		serve(h, "/inventory/slow")
		wait(t, ch)
	}
	if warns, _ := logs.at(slog.LevelWarn); len(warns) != 4 {
		t.Errorf("WarnInterval -1: %d warnings, want 4", len(warns))
	}
}

// TestHandlerSinkPanics checks that a panicking OnReport or OnFinish is
// contained, and that the first panic of each is logged, once.
func TestHandlerSinkPanics(t *testing.T) {
	db := openSeed(t, 3)
	broken := func(msg string) func(*http.Request, *Report) {
		return func(*http.Request, *Report) { panic(msg) }
	}
	for _, tc := range []struct {
		name               string
		onReport, onFinish func(*http.Request, *Report)
		want               []string
	}{
		{"OnReport", broken("report sink is broken"), nil, []string{"querytrace: OnReport panicked; later panics are not logged"}},
		{"OnFinish", nil, broken("finish sink is broken"), []string{"querytrace: OnFinish panicked; later panics are not logged"}},
		{"both", broken("report sink is broken"), broken("finish sink is broken"), []string{
			"querytrace: OnFinish panicked; later panics are not logged",
			"querytrace: OnReport panicked; later panics are not logged",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logRecorder{}
			h := &Handler{Next: inventoryMux(db), Logger: slog.New(logs), OnReport: tc.onReport, OnFinish: tc.onFinish}
			for range 3 {
				if w := serve(h, "/inventory/fast"); w.Code != 200 {
					t.Fatalf("status %d", w.Code)
				}
			}
			drain(t, h)
			errs, attrs := logs.at(slog.LevelError)
			slices.Sort(errs)
			if !slices.Equal(errs, tc.want) {
				t.Errorf("errors logged: %q, want %q", errs, tc.want)
			}
			for _, a := range attrs {
				if !strings.Contains(a, "sink is broken") || !strings.Contains(a, "route=GET /inventory/{page}") {
					t.Errorf("error attributes %q name neither the panic nor the route", a)
				}
			}
		})
	}
}

// drain waits until h's sinks have handled every queued report.
func drain(t *testing.T, h *Handler) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		h.mu.Lock()
		idle := h.workers == 0
		h.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the sinks still run after 10s")
		}
	}
}

// TestHandlerSlowSink checks that a slow OnReport holds up neither the
// response nor the handler's return.
func TestHandlerSlowSink(t *testing.T) {
	db := openSeed(t, 3)
	release := make(chan struct{})
	h := &Handler{Next: inventoryMux(db), Logger: slog.New(&logRecorder{}), OnReport: func(*http.Request, *Report) { <-release }}
	start := time.Now()
	for i := 0; i < 3; i++ {
		serve(h, "/inventory/fast")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("3 requests with a stalled sink took %v", d)
	}
	close(release)
}

// TestHandlerPanic checks that a panicking handler's trace is still
// finished and reported, and the panic goes on to net/http.
func TestHandlerPanic(t *testing.T) {
	db := openSeed(t, 3)
	onReport, ch := reports()
	h := &Handler{Logger: slog.New(&logRecorder{}), OnReport: onReport, Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		db.QueryRowContext(r.Context(), `SELECT 1`).Scan(new(int))
		panic(http.ErrAbortHandler)
	})}
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		serve(h, "/boom")
	}()
	if r := wait(t, ch); r.Statements != 1 || r.Name != "GET /boom" {
		t.Errorf("report %q with %d statements", r.Name, r.Statements)
	}
}

// bareWriter is a ResponseWriter with none of the optional interfaces.
type bareWriter struct{ h http.Header }

func (b *bareWriter) Header() http.Header         { return b.h }
func (b *bareWriter) Write(p []byte) (int, error) { return len(p), nil }
func (b *bareWriter) WriteHeader(int)             {}

// TestHandlerWriterInterfaces checks that the wrapped writer has exactly
// the optional interfaces of the one it wraps, and that the timing is set
// before the headers go out through each of them.
func TestHandlerWriterInterfaces(t *testing.T) {
	type caps struct{ flusher, hijacker, pusher, readerFrom bool }
	capsOf := func(w http.ResponseWriter) caps {
		_, f := w.(http.Flusher)
		_, h := w.(http.Hijacker)
		_, p := w.(http.Pusher)
		_, r := w.(io.ReaderFrom)
		return caps{f, h, p, r}
	}
	var got caps
	h := &Handler{Logger: slog.New(&logRecorder{}), Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = capsOf(w)
		switch r.URL.Path {
		case "/flush":
			w.(http.Flusher).Flush()
		case "/copy":
			io.Copy(w, strings.NewReader("body")) // through ReadFrom where the writer has it
		case "/deadline":
			if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				http.Error(w, err.Error(), 500)
			}
		case "/hijack":
			c, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer c.Close()
			bw.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			bw.Flush()
		}
	})}

	bare := &bareWriter{h: http.Header{}}
	h.ServeHTTP(bare, httptest.NewRequest("GET", "/", nil))
	if got != (caps{}) {
		t.Errorf("a bare writer wrapped has %+v", got)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/flush", nil))
	if got != (caps{flusher: true}) || rec.Header().Get("Server-Timing") == "" || !rec.Flushed {
		t.Errorf("recorder wrapped: %+v, flushed %v, Server-Timing %q", got, rec.Flushed, rec.Header().Get("Server-Timing"))
	}

	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/copy", "/deadline", "/flush"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Server-Timing"), "db;dur=") {
			t.Errorf("%s: status %d, Server-Timing %q", path, resp.StatusCode, resp.Header.Get("Server-Timing"))
		}
	}
	if got != (caps{flusher: true, hijacker: true, readerFrom: true}) {
		t.Errorf("net/http's writer wrapped has %+v", got)
	}
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n"))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 204") {
		t.Errorf("hijacked response %q", line)
	}
}

// TestHandlerRouteAllow checks that an allow entry by route sees the
// ServeMux pattern, which is known only after routing.
func TestHandlerRouteAllow(t *testing.T) {
	db := openSeed(t, 4)
	onReport, ch := reports()
	d := &Detector{Allow: []Allow{{Route: "GET /inventory/{page}", Reason: "demo page, N+1 on purpose"}}}
	var buf bytes.Buffer
	h := &Handler{Next: inventoryMux(db), Detector: d, OnReport: onReport,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	w := serve(h, "/inventory/slow")
	r := wait(t, ch)
	if len(r.NPlusOne) != 0 || len(r.Allowed) != 2 || r.Allowed[0].Reason != "demo page, N+1 on purpose" {
		t.Errorf("%d N+1, %d allowed; want 0 and 2:\n%s", len(r.NPlusOne), len(r.Allowed), r)
	}
	if st := w.Header().Get("Server-Timing"); strings.Contains(st, "N+1") {
		t.Errorf("Server-Timing %q counts allowed N+1", st)
	}
	if strings.Contains(buf.String(), "N+1") {
		t.Errorf("allowed N+1 logged as a warning: %s", buf.String())
	}
}

// TestHandlerOnFinish checks that OnFinish gets the final report on the
// request's goroutine before ServeHTTP returns, with the request's context
// still live, and that a panic in it reaches neither net/http nor the
// other sinks.
func TestHandlerOnFinish(t *testing.T) {
	db := openSeed(t, 3)
	onReport, ch := reports()
	var got *Report
	var ctxErr error = errors.New("OnFinish not called")
	h := &Handler{Logger: slog.New(&logRecorder{}), OnReport: onReport,
		OnFinish: func(r *http.Request, rep *Report) {
			got, ctxErr = rep, r.Context().Err()
			panic("boom")
		},
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			db.QueryRowContext(r.Context(), `SELECT 1`).Scan(new(int))
		})}
	serve(h, "/finish")
	if ctxErr != nil {
		t.Fatalf("OnFinish: request context: %v", ctxErr)
	}
	if got == nil || got.Statements != 1 || got.Name != "GET /finish" {
		t.Fatalf("OnFinish got %+v before ServeHTTP returned, want the final report of 1 statement", got)
	}
	if r := wait(t, ch); r != got {
		t.Errorf("OnReport got another report than OnFinish")
	}
}

// TestHandlerOnHeader: through a real server, OnHeader runs once per
// response, before its headers go out, with Server-Timing set and the
// request's trace on the request: whether the handler writes, flushes,
// sets a status or writes nothing. It is not called for a hijacked
// connection, and its panic reaches neither the response nor the
// application.
func TestHandlerOnHeader(t *testing.T) {
	db := openSeed(t, 3)
	for _, c := range []struct {
		path  string
		serve func(w http.ResponseWriter, r *http.Request)
		calls int
	}{
		{"/write", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) }, 1},
		{"/status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot); w.Write([]byte("x")) }, 1},
		{"/flush", func(w http.ResponseWriter, r *http.Request) {
			http.NewResponseController(w).Flush()
			db.QueryRowContext(r.Context(), `SELECT 1`).Scan(new(int)) // after the headers
			w.Write([]byte("x"))
		}, 1},
		{"/quiet", func(w http.ResponseWriter, r *http.Request) {}, 1},
		{"/hijack", func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				c.Close()
			}
		}, 0},
		{"/panic", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) }, 1},
	} {
		calls := 0
		logs := &logRecorder{}
		h := &Handler{
			Logger: slog.New(logs),
			Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				db.QueryRowContext(r.Context(), `SELECT 1`).Scan(new(int))
				c.serve(w, r)
			}),
			OnHeader: func(hdr http.Header, r *http.Request) {
				calls++
				if hdr.Get("Server-Timing") == "" || FromContext(r.Context()) == nil {
					t.Errorf("%s: OnHeader without Server-Timing (%q) or without the trace", c.path, hdr.Get("Server-Timing"))
				}
				hdr.Set("X-Page", "/requests/"+strconv.Itoa(calls))
				if r.URL.Path == "/panic" {
					panic("boom")
				}
			},
		}
		srv := httptest.NewServer(h)
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		resp.Body.Close()
		srv.Close()
		if calls != c.calls {
			t.Errorf("%s: OnHeader called %d times, want %d", c.path, calls, c.calls)
		}
		if want := map[bool]string{true: "/requests/1", false: ""}[c.calls == 1]; resp.Header.Get("X-Page") != want {
			t.Errorf("%s: X-Page %q, want %q", c.path, resp.Header.Get("X-Page"), want)
		}
		if errs, _ := logs.at(slog.LevelError); (c.path == "/panic") != (len(errs) == 1) {
			t.Errorf("%s: errors logged %q", c.path, errs)
		}
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Middleware shapes around a ResponseWriter, as found in the wild.
type (
	// unwrapOnly has only Unwrap: the shape Go recommends for a
	// middleware's writer since http.ResponseController.
	unwrapOnly struct{ http.ResponseWriter }
	// withFlush implements Flush itself, and Unwrap.
	withFlush struct{ http.ResponseWriter }
)

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }
func (f withFlush) Unwrap() http.ResponseWriter  { return f.ResponseWriter }
func (f withFlush) Flush()                       { http.NewResponseController(f.ResponseWriter).Flush() }

// snoop wraps w as httpsnoop does: exactly w's optional interfaces (here
// Flusher, the one that matters), each hooked, plus Unwrap.
func snoop(w http.ResponseWriter) http.ResponseWriter {
	if _, ok := w.(http.Flusher); ok {
		return withFlush{w}
	}
	return unwrapOnly{w}
}

// TestHandlerFlushThroughMiddleware checks that a handler that flushes
// before its last statement, with http.ResponseController or
// http.Flusher, sends a Server-Timing header with the statements so far,
// whichever middleware sits around or inside querytrace.
func TestHandlerFlushThroughMiddleware(t *testing.T) {
	db := openSeed(t, 2)
	type mw func(http.Handler) http.Handler
	wrapWith := func(wrap func(http.ResponseWriter) http.ResponseWriter) mw {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(wrap(w), r) })
		}
	}
	qt := func(next http.Handler) http.Handler { return &Handler{Next: next, Logger: slog.New(&logRecorder{})} }
	unwrap := wrapWith(func(w http.ResponseWriter) http.ResponseWriter { return unwrapOnly{w} })
	flush := wrapWith(func(w http.ResponseWriter) http.ResponseWriter { return withFlush{w} })
	snooped := wrapWith(snoop)
	shapes := []struct {
		name  string
		chain []mw // outermost first
	}{
		{"querytrace alone", []mw{qt}},
		{"querytrace inside Unwrap-only", []mw{unwrap, qt}},
		{"querytrace outside Unwrap-only", []mw{qt, unwrap}},
		{"querytrace inside two Unwrap-only", []mw{unwrap, unwrap, qt}},
		{"querytrace inside Flusher", []mw{flush, qt}},
		{"querytrace outside Flusher", []mw{qt, flush}},
		{"querytrace inside httpsnoop-like", []mw{snooped, qt}},
		{"querytrace outside httpsnoop-like", []mw{qt, snooped}},
		{"querytrace between Unwrap-only and Flusher", []mw{unwrap, qt, flush}},
	}
	flushers := map[string]func(http.ResponseWriter) error{
		"ResponseController": func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() },
		"Flusher": func(w http.ResponseWriter) error {
			f, ok := w.(http.Flusher)
			if !ok {
				return http.ErrNotSupported
			}
			f.Flush()
			return nil
		},
	}
	for _, s := range shapes {
		for fname, flushIt := range flushers {
			var flushErr error
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				db.QueryRowContext(r.Context(), `SELECT count(*) FROM entries`).Scan(new(int))
				flushErr = flushIt(w)
				db.QueryRowContext(r.Context(), `SELECT count(*) FROM items`).Scan(new(int))
				w.Write([]byte("done"))
			})
			for i := len(s.chain) - 1; i >= 0; i-- {
				h = s.chain[i](h)
			}
			srv := httptest.NewServer(h)
			resp, err := http.Get(srv.URL + "/stream")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			srv.Close()
			if flushErr == http.ErrNotSupported {
				continue // no Flusher in reach of a type assertion: nothing was flushed
			}
			want := `desc="1 statement"` // the headers went out with the flush
			if got := resp.Header.Get("Server-Timing"); !strings.Contains(got, want) || string(body) != "done" || flushErr != nil {
				t.Errorf("%s, %s: Server-Timing %q (want %s), body %q, flush error %v", s.name, fname, got, want, body, flushErr)
			}
		}
	}
}

// TestHandlerDropped checks the contract of OnReport under load: every
// report reaches it or is counted by Dropped, exactly.
func TestHandlerDropped(t *testing.T) {
	var delivered atomic.Int64
	h := &Handler{
		Logger:   slog.New(slog.DiscardHandler),
		Next:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }),
		OnReport: func(*http.Request, *Report) { delivered.Add(1) },
	}
	const goroutines, requests = 16, 2000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range requests {
				serve(h, "/load")
			}
		}()
	}
	wg.Wait()
	const total = goroutines * requests
	deadline := time.Now().Add(30 * time.Second)
	for delivered.Load()+h.Dropped() < total && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // room for a report counted twice
	if d, n := delivered.Load(), h.Dropped(); d+n != total {
		t.Errorf("%d delivered + %d dropped = %d, want %d requests", d, n, d+n, total)
	} else {
		t.Logf("%d delivered, %d dropped", d, n)
	}
}

// TestHandlerDroppedWarning checks that dropped reports are warned about,
// with their count, at most once per WarnInterval, when a sink stalls.
func TestHandlerDroppedWarning(t *testing.T) {
	logs := &logRecorder{}
	release := make(chan struct{})
	var delivered atomic.Int64
	h := &Handler{
		Logger: slog.New(logs),
		Next:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		OnReport: func(*http.Request, *Report) {
			<-release
			delivered.Add(1)
		},
	}
	const total = maxQueued + maxWorkers + 100
	for range total {
		serve(h, "/stalled")
	}
	if n := h.Dropped(); n < 100 {
		t.Errorf("Dropped() = %d with a stalled sink after %d requests, want at least 100", n, total)
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); delivered.Load()+h.Dropped() < total && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	warns, attrs := logs.at(slog.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0], "dropped") || !strings.Contains(attrs[0], "reports_dropped=") {
		t.Errorf("warnings %q %q, want one about the dropped reports", warns, attrs)
	}
	if d, n := delivered.Load(), h.Dropped(); d+n != total {
		t.Errorf("%d delivered + %d dropped, want %d", d, n, total)
	}
}

// TestHandlerUnattributed checks that a request whose statements ran with
// a context that does not carry its trace (gin's *gin.Context without
// ContextWithFallback behaves so) is told about them, and that the
// Handler warns, once, naming the fix.
func TestHandlerUnattributed(t *testing.T) {
	db := openSeed(t, 3)
	logs := &logRecorder{}
	onReport, ch := reports()
	h := &Handler{Logger: slog.New(logs), OnReport: onReport,
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A framework's context that does not wrap the request's.
			ctx := context.Background()
			for range 3 {
				db.QueryRowContext(ctx, `SELECT count(*) FROM entries`).Scan(new(int))
			}
			w.Write([]byte("ok"))
		})}
	for i := range 2 {
		w := serve(h, "/gin-like")
		rep := wait(t, ch)
		if rep.Statements != 0 || rep.Unattributed < 3 {
			t.Errorf("request %d: %d statements, %d unattributed; want 0 and at least 3", i, rep.Statements, rep.Unattributed)
		}
		if st := w.Header().Get("Server-Timing"); !strings.Contains(st, "unattributed") {
			t.Errorf("Server-Timing %q does not say the statements were not attributed", st)
		}
		if !strings.Contains(rep.String(), "not attributed") || !strings.Contains(mustJSON(t, rep), `"unattributed":`) {
			t.Errorf("text or JSON report does not show the unattributed statements:\n%s", rep)
		}
	}
	warns, _ := logs.at(slog.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0], "ContextWithFallback") || !strings.Contains(warns[0], "GET /gin-like") {
		t.Errorf("warnings %q, want one naming the route and the fix", warns)
	}

	// With the request's context the statements are the request's.
	h.Next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		db.QueryRowContext(r.Context(), `SELECT count(*) FROM entries`).Scan(new(int))
	})
	serve(h, "/attributed")
	if rep := wait(t, ch); rep.Statements != 1 {
		t.Errorf("with r.Context(): %d statements, want 1", rep.Statements)
	}
}
