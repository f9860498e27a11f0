package querytrace

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/querytrace/querytrace/internal/human"
)

// A Handler traces each request it serves: it starts a trace on the
// request's context, tells the client what the database cost in a
// Server-Timing header, and once the response is done hands the report to
// OnReport and logs it: each N+1 as a warning, the whole report at Debug.
//
// Run runs other units of work, such as gRPC calls, under the same
// configuration and hands their reports to the same sinks, so that one
// Handler serves both sides of a service that answers HTTP and gRPC.
//
// The zero value of every field but Next is a sensible default. A Handler
// must not be copied after first use, and its fields must not change
// while it serves.
type Handler struct {
	// Next serves the request, with the trace on its context. A Handler
	// used only through Run needs none.
	Next http.Handler

	// Name names a request's trace and report; it is what Allow.Route
	// matches and what warnings and logs carry. nil means "METHOD route":
	// the route set with SetRoute, else the ServeMux pattern that served
	// the request when Next is (or routes through) a ServeMux, else the
	// path with each segment that looks like an id or a token masked
	// ("/users/{id}", "/reset-password/{id}"), never the query string;
	// NoRoute for a request answered 404 or 405 with neither a route nor
	// a pattern. It is called at least twice per request on the request's
	// goroutine: before Next for the trace, and after it for the report,
	// since a router knows the route only once it has routed (with chi,
	// install the Handler with the router's Use and return
	// chi.RouteContext(r.Context()).RoutePattern(); routers that hand the
	// route to their own middleware, such as gorilla/mux, gin and echo,
	// call SetRoute from there instead). It must not return ids, tokens
	// or other values from the request, and should return one name, such
	// as NoRoute, for all the requests no route matched.
	Name func(*http.Request) string

	// Logger receives the warnings and reports; nil means slog.Default().
	Logger *slog.Logger

	// Detector classifies the reports; nil means the zero Detector. Use
	// StagingDetector(), with an allow-list added, in staging.
	Detector *Detector

	// OnReport, when set, receives the report of each request after the
	// response is written, on a goroutine other than the request's: it
	// may be slow, and reports of several requests may be handed over
	// concurrently (by up to 16 goroutines). Reports wait for it, and for
	// the log, in a queue of 256; when that is full, because the sinks
	// fall behind the requests, a report is dropped rather than holding
	// up the request: Dropped counts them, and a warning says how many,
	// at most once per WarnInterval. OnFinish sees every report. A panic
	// in OnReport is recovered; the first one is logged.
	OnReport func(*http.Request, *Report)

	// OnFinish, when set, receives the report of each request on the
	// request's goroutine, after Next has returned and before ServeHTTP
	// does: the request's context (and a tracing span on it) is still
	// live, so a tracing bridge can annotate the span before it ends. It
	// runs for every request and holds up the handler's return, so it
	// must be quick; it must not keep r past its return. A panic in it is
	// recovered; the first one is logged. It runs before OnReport and the
	// logs.
	OnFinish func(*http.Request, *Report)

	// OnHeader, when set, is called once per request on the request's
	// goroutine just before the response's headers are written: when
	// Next first writes, flushes or sets a final status, or once it has
	// returned without doing any of that. It gets the headers about to
	// go out, Server-Timing among them, and may add to them; r is the
	// request as Next got it, its trace on its context. It is not called
	// for a connection Next hijacked, nor by Run. debugpage.Handler's
	// Link is made for it. It must be quick. A panic in it is recovered
	// and logged once.
	OnHeader func(h http.Header, r *http.Request)

	// WarnInterval is how long warnings about one statement in one loop
	// (the same call site, the same loop's line) are held back after one
	// was logged; the next says how many were held back. It
	// also spaces the warnings about dropped reports and about requests
	// whose statements missed their context. Zero means a minute; a
	// negative value logs every one.
	WarnInterval time.Duration

	// The queue and the warnings' state: sinks.go.
	sinks
}

// Dropped returns how many reports the Handler dropped, since it started
// serving, because OnReport and the log fell behind the requests: they
// never reached OnReport nor the log.
func (h *Handler) Dropped() int64 {
	return h.dropped.Load()
}

// Middleware returns a Handler with the defaults around next.
func Middleware(next http.Handler) http.Handler {
	return &Handler{Next: next}
}

// ServeHTTP serves r through Next with a trace on its context.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rn := &routeName{}
	ctx, tr := h.start(context.WithValue(r.Context(), routeKey{}, rn), h.name(r, rn, 0))
	r2 := r.WithContext(ctx)
	// The route is known once a router has routed the request, which
	// is after the trace was started: the trace takes its name before
	// each report, so that Allow entries by route apply.
	tw := &timingWriter{w: w}
	tw.snapshot = func() *Report {
		tr.rename(h.name(r2, rn, tw.status))
		// Read only here, before Finish: Finish may return this report.
		return tr.snapshot(true)
	}
	if h.OnHeader != nil {
		tw.onHeader = func(hdr http.Header, rep *Report) {
			h.callSink(r2.Context(), "OnHeader", rep.Name, &h.headerPanicked, func() { h.OnHeader(hdr, r2) })
		}
	}
	defer func() {
		// Deferred so that a panicking handler's trace is still finished
		// and logged.
		tr.rename(h.name(r2, rn, tw.status))
		rep := tr.Finish()
		// A handler that wrote nothing has its headers written by
		// net/http after this returns: they get the whole report's timing.
		tw.writeTiming(rep, http.StatusOK)
		h.deliver(r2, rep)
	}()
	h.Next.ServeHTTP(tw.wrap(), r2)
}

// name returns the name of r's trace, once answered with status (0
// before the response).
func (h *Handler) name(r *http.Request, rn *routeName, status int) string {
	if h.Name != nil {
		return h.Name(r)
	}
	return rn.route(r, status)
}

// timingWriter adds a Server-Timing header from the trace as it stands
// when the headers are written, and calls onHeader then.
type timingWriter struct {
	w        http.ResponseWriter
	snapshot func() *Report
	onHeader func(http.Header, *Report) // nil for none
	once     sync.Once
	status   int  // the response's, once known; 0 before
	hijacked bool // by Next: no headers go out
}

// writeTiming sets the header once, before the headers go out with the
// given status. rep is the report to read, or nil for a snapshot of the
// trace.
func (t *timingWriter) writeTiming(rep *Report, status int) {
	t.once.Do(func() {
		t.status = status
		if rep == nil {
			rep = t.snapshot()
		}
		hdr := t.w.Header()
		hdr.Add("Server-Timing", serverTiming(rep))
		if t.onHeader != nil && !t.hijacked {
			t.onHeader(hdr, rep)
		}
	})
}

// serverTiming renders rep as a Server-Timing metric:
// db;dur=12.3;desc="41 statements, 1 N+1, 1 error".
func serverTiming(rep *Report) string {
	ms := strconv.FormatFloat(float64(rep.DBTime)/float64(time.Millisecond), 'f', 1, 64)
	desc := human.Plural(rep.Statements, "statement", "statements")
	if n := len(rep.NPlusOne); n > 0 {
		desc += ", " + strconv.Itoa(n) + " N+1"
	}
	if n := rep.Errors; n > 0 {
		desc += ", " + human.Plural(n, "error", "errors")
	}
	if n := rep.ConnErrors; n > 0 {
		desc += ", " + human.Plural(n, "connection error", "connection errors")
	}
	if n := rep.Unattributed; n > 0 {
		desc += ", " + strconv.Itoa(n) + " unattributed"
	}
	return `db;dur=` + ms + `;desc="` + desc + `"`
}

func (t *timingWriter) Header() http.Header { return t.w.Header() }

func (t *timingWriter) Write(b []byte) (int, error) {
	t.writeTiming(nil, http.StatusOK)
	return t.w.Write(b)
}

func (t *timingWriter) WriteHeader(code int) {
	// Informational responses (103 Early Hints) go out before the final
	// headers, which are the ones to carry the timing.
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.writeTiming(nil, code)
	}
	t.w.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer's
// deadlines and other extensions.
func (t *timingWriter) Unwrap() http.ResponseWriter { return t.w }

// FlushError writes the headers, with the timing, and flushes through
// whatever the writer underneath offers. http.ResponseController looks
// for FlushError, then Flush, then Unwrap on each writer of a chain in
// turn, so it finds this one before it can unwrap past querytrace, even
// when the writer around it (a middleware's) has only Unwrap; and since
// it is not Flush, a handler that asks for http.Flusher still gets the
// answer of the writer underneath.
func (t *timingWriter) FlushError() error {
	t.writeTiming(nil, http.StatusOK)
	return http.NewResponseController(t.w).Flush()
}

// The optional interfaces of a ResponseWriter, each on its own type, so
// that wrap offers exactly those the underlying writer has: a handler that
// checks for http.Flusher must get the same answer with and without
// querytrace.
type (
	twFlusher    struct{ t *timingWriter }
	twHijacker   struct{ t *timingWriter }
	twPusher     struct{ t *timingWriter }
	twReaderFrom struct{ t *timingWriter }
)

// Flush writes the headers, with the timing, and flushes.
func (x twFlusher) Flush() {
	x.t.writeTiming(nil, http.StatusOK)
	x.t.w.(http.Flusher).Flush()
}

// Hijack hands the connection over; no headers are written after it.
func (x twHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := x.t.w.(http.Hijacker).Hijack()
	if err == nil {
		x.t.hijacked = true
	}
	return c, rw, err
}

// Push pushes as the underlying writer does.
func (x twPusher) Push(target string, opts *http.PushOptions) error {
	return x.t.w.(http.Pusher).Push(target, opts)
}

// ReadFrom writes the headers, with the timing, and lets the underlying
// writer copy (with sendfile, where it can).
func (x twReaderFrom) ReadFrom(src io.Reader) (int64, error) {
	x.t.writeTiming(nil, http.StatusOK)
	return x.t.w.(io.ReaderFrom).ReadFrom(src)
}

// wrap returns t as a ResponseWriter with exactly the optional interfaces
// of the writer it wraps.
func (t *timingWriter) wrap() http.ResponseWriter {
	_, f := t.w.(http.Flusher)
	_, h := t.w.(http.Hijacker)
	_, p := t.w.(http.Pusher)
	_, rf := t.w.(io.ReaderFrom)
	F, H, P, R := twFlusher{t}, twHijacker{t}, twPusher{t}, twReaderFrom{t}
	switch mask := b2i(f) | b2i(h)<<1 | b2i(p)<<2 | b2i(rf)<<3; mask {
	case 0b0000:
		return t
	case 0b0001:
		return struct {
			*timingWriter
			twFlusher
		}{t, F}
	case 0b0010:
		return struct {
			*timingWriter
			twHijacker
		}{t, H}
	case 0b0011:
		return struct {
			*timingWriter
			twFlusher
			twHijacker
		}{t, F, H}
	case 0b0100:
		return struct {
			*timingWriter
			twPusher
		}{t, P}
	case 0b0101:
		return struct {
			*timingWriter
			twFlusher
			twPusher
		}{t, F, P}
	case 0b0110:
		return struct {
			*timingWriter
			twHijacker
			twPusher
		}{t, H, P}
	case 0b0111:
		return struct {
			*timingWriter
			twFlusher
			twHijacker
			twPusher
		}{t, F, H, P}
	case 0b1000:
		return struct {
			*timingWriter
			twReaderFrom
		}{t, R}
	case 0b1001:
		return struct {
			*timingWriter
			twFlusher
			twReaderFrom
		}{t, F, R}
	case 0b1010:
		return struct {
			*timingWriter
			twHijacker
			twReaderFrom
		}{t, H, R}
	case 0b1011:
		return struct {
			*timingWriter
			twFlusher
			twHijacker
			twReaderFrom
		}{t, F, H, R}
	case 0b1100:
		return struct {
			*timingWriter
			twPusher
			twReaderFrom
		}{t, P, R}
	case 0b1101:
		return struct {
			*timingWriter
			twFlusher
			twPusher
			twReaderFrom
		}{t, F, P, R}
	case 0b1110:
		return struct {
			*timingWriter
			twHijacker
			twPusher
			twReaderFrom
		}{t, H, P, R}
	default:
		return struct {
			*timingWriter
			twFlusher
			twHijacker
			twPusher
			twReaderFrom
		}{t, F, H, P, R}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
