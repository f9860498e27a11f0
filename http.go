package querytrace

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A Handler traces each request it serves: it starts a trace on the
// request's context, tells the client what the database cost in a
// Server-Timing header, and once the response is done hands the report to
// OnReport and logs it: each N+1 as a warning, the whole report at Debug.
//
// The zero value of every field but Next is a sensible default. A Handler
// must not be copied after first use, and its fields must not change
// while it serves.
type Handler struct {
	// Next serves the request, with the trace on its context.
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
	// in it is recovered and logged once.
	OnReport func(*http.Request, *Report)

	// OnFinish, when set, receives the report of each request on the
	// request's goroutine, after Next has returned and before ServeHTTP
	// does: the request's context (and a tracing span on it) is still
	// live, so a tracing bridge can annotate the span before it ends. It
	// runs for every request and holds up the handler's return, so it
	// must be quick; it must not keep r past its return. A panic in it is
	// recovered and logged once. It runs before OnReport and the logs.
	OnFinish func(*http.Request, *Report)

	// OnHeader, when set, is called once per request on the request's
	// goroutine just before the response's headers are written: when
	// Next first writes, flushes or sets a final status, or once it has
	// returned without doing any of that. It gets the headers about to
	// go out, Server-Timing among them, and may add to them; r is the
	// request as Next got it, its trace on its context. It is not called
	// for a connection Next hijacked. debugpage.Handler's Link is made
	// for it. It must be quick. A panic in it is recovered and logged
	// once.
	OnHeader func(h http.Header, r *http.Request)

	// WarnInterval is how long warnings about one call site are held back
	// after one was logged; the next says how many were held back. It
	// also spaces the warnings about dropped reports and about requests
	// whose statements missed their context. Zero means a minute; a
	// negative value logs every one.
	WarnInterval time.Duration

	mu        sync.Mutex
	warned    map[string]*warnState
	panicOnce sync.Once

	queueOnce sync.Once
	queue     chan sinkJob // reports waiting for the sinks
	workers   int          // goroutines draining queue; under mu

	dropped   atomic.Int64 // reports dropped for a full queue
	unwarned  int64        // dropped reports not yet warned about; under mu
	dropWarn  time.Time    // when they last were; under mu
	ctxWarned time.Time    // when a request that missed its context last was; under mu
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

type warnState struct {
	last       time.Time
	suppressed int
}

// maxQueued bounds the reports waiting for the sinks, and maxWorkers the
// goroutines handing them over: a sink that stalls must hold neither the
// requests nor an unbounded pile of reports and goroutines.
const (
	maxQueued  = 256
	maxWorkers = 16
)

// A sinkJob is a report waiting for the sinks.
type sinkJob struct {
	ctx context.Context
	r   *http.Request
	rep *Report
}

// maxWarned bounds the call sites whose last warning a Handler remembers.
const maxWarned = 1024

// ServeHTTP serves r through Next with a trace on its context.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rn := &routeName{}
	ctx, tr := Start(context.WithValue(r.Context(), routeKey{}, rn), h.name(r, rn, 0))
	tr.SetDetector(h.Detector)
	r2 := r.WithContext(ctx)
	// The route is known once a router has routed the request, which
	// is after the trace was started: the trace takes its name before
	// each report, so that Allow entries by route apply.
	tw := &timingWriter{w: w}
	tw.snapshot = func() *Report {
		tr.rename(h.name(r2, rn, tw.status))
		return tr.Snapshot()
	}
	if h.OnHeader != nil {
		tw.onHeader = func(hdr http.Header, rep *Report) {
			defer h.contain(r2.Context(), "OnHeader", rep.Name)
			h.OnHeader(hdr, r2)
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
		h.callOnFinish(r2, rep)
		h.emit(r2, rep)
	}()
	h.Next.ServeHTTP(tw.wrap(), r2)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// name returns the name of r's trace, once answered with status (0
// before the response).
func (h *Handler) name(r *http.Request, rn *routeName, status int) string {
	if h.Name != nil {
		return h.Name(r)
	}
	return rn.route(r, status)
}

// emit hands rep to the sinks through the queue, so that the response is
// complete before any of them runs and a slow one does not hold up the
// handler's return; when the queue is full, rep is dropped and counted.
func (h *Handler) emit(r *http.Request, rep *Report) {
	// Most requests have nothing for the sinks: no OnReport, nothing to
	// warn about, and a logger that drops Debug. They cost no hand-over.
	if h.OnReport == nil {
		l := h.logger()
		warn := len(rep.NPlusOne) > 0 || missedContext(rep)
		if !(warn && l.Enabled(r.Context(), slog.LevelWarn)) && !l.Enabled(r.Context(), slog.LevelDebug) {
			return
		}
	}
	h.queueOnce.Do(func() { h.queue = make(chan sinkJob, maxQueued) })
	if !h.enqueue(sinkJob{context.WithoutCancel(r.Context()), r, rep}) {
		h.dropped.Add(1)
		h.mu.Lock()
		h.unwarned++
		h.mu.Unlock()
		return
	}
	// A worker leaves only when it finds the queue empty under mu, so
	// after the send above there is one, or this starts one; more start
	// while the queue holds more reports than there are workers.
	h.mu.Lock()
	if h.workers == 0 || h.workers < maxWorkers && len(h.queue) > h.workers {
		h.workers++
		go h.work()
	}
	h.mu.Unlock()
}

// enqueue puts j in the queue, and reports whether there was room. A full
// queue gets one chance to drain: the request's goroutine yields once to
// let the workers run (on a busy machine they may not have been scheduled
// yet), and never waits longer.
func (h *Handler) enqueue(j sinkJob) bool {
	for try := 0; ; try++ {
		select {
		case h.queue <- j:
			return true
		default:
		}
		if try == 1 {
			return false
		}
		h.mu.Lock()
		if h.workers < maxWorkers {
			h.workers++
			go h.work()
		}
		h.mu.Unlock()
		runtime.Gosched()
	}
}

// work hands queued reports to the sinks until the queue is empty.
func (h *Handler) work() {
	for {
		select {
		case j := <-h.queue:
			h.warnDropped(j.ctx)
			h.log(j.ctx, j.rep)
			h.callOnReport(j.ctx, j.r, j.rep)
			continue
		default:
		}
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.workers--
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}

// interval returns WarnInterval with its default.
func (h *Handler) interval() time.Duration {
	if h.WarnInterval == 0 {
		return time.Minute
	}
	return h.WarnInterval
}

// due reports whether a warning last logged at *last may be logged again
// at now, and if so records now. The caller holds h.mu.
func (h *Handler) due(last *time.Time, now time.Time) bool {
	if iv := h.interval(); iv > 0 && !last.IsZero() && now.Sub(*last) < iv {
		return false
	}
	*last = now
	return true
}

// warnDropped logs how many reports were dropped since the last such
// warning, at most once per WarnInterval.
func (h *Handler) warnDropped(ctx context.Context) {
	h.mu.Lock()
	n := h.unwarned
	if n == 0 || !h.due(&h.dropWarn, time.Now()) {
		h.mu.Unlock()
		return
	}
	h.unwarned = 0
	h.mu.Unlock()
	h.safely(func() {
		h.logger().LogAttrs(ctx, slog.LevelWarn,
			fmt.Sprintf("querytrace: %s dropped: OnReport and the log fell behind the requests", plural(int(n), "report", "reports")),
			slog.Int64("reports_dropped", n), slog.Int64("reports_dropped_total", h.dropped.Load()))
	})
}

// missedContext reports whether rep is of a trace that saw no statement
// while statements ran outside any trace: most likely the request's own,
// run with a context that does not carry its trace.
func missedContext(rep *Report) bool {
	return rep.Statements == 0 && rep.Unattributed > 0
}

// warnMissedContext logs, at most once per WarnInterval, that a request
// saw none of the statements that ran while it was served, and how to
// pass its context.
func (h *Handler) warnMissedContext(ctx context.Context, rep *Report) {
	h.mu.Lock()
	ok := h.due(&h.ctxWarned, time.Now())
	h.mu.Unlock()
	if !ok {
		return
	}
	h.safely(func() {
		h.logger().LogAttrs(ctx, slog.LevelWarn,
			fmt.Sprintf("querytrace: %s saw no statements while %s ran outside any trace: run them with the request's context "+
				"(r.Context(); gin: engine.ContextWithFallback = true or c.Request.Context(); echo: c.Request().Context(); fiber: c.UserContext())",
				rep.Name, plural(rep.Unattributed, "statement", "statements")),
			slog.String("route", rep.Name), slog.Int("unattributed", rep.Unattributed))
	})
}

func (h *Handler) callOnReport(ctx context.Context, r *http.Request, rep *Report) {
	if h.OnReport == nil {
		return
	}
	defer h.contain(ctx, "OnReport", rep.Name)
	h.OnReport(r, rep)
}

// callOnFinish runs OnFinish on the request's goroutine, containing a
// panic: the response is written and the application must not see it.
func (h *Handler) callOnFinish(r *http.Request, rep *Report) {
	if h.OnFinish == nil {
		return
	}
	defer h.contain(r.Context(), "OnFinish", rep.Name)
	h.OnFinish(r, rep)
}

// contain, deferred, recovers a panic of the hook named hook and logs the
// first of the Handler's.
func (h *Handler) contain(ctx context.Context, hook, route string) {
	if p := recover(); p != nil {
		h.panicOnce.Do(func() {
			h.safely(func() {
				h.logger().LogAttrs(ctx, slog.LevelError, "querytrace: "+hook+" panicked; later panics are not logged",
					slog.String("panic", fmt.Sprint(p)), slog.String("route", route))
			})
		})
	}
}

// safely runs f, containing a panic: a broken log handler must not take
// the process down from a goroutine the application does not own.
func (h *Handler) safely(f func()) {
	defer func() { recover() }()
	f()
}

// log writes a warning per N+1 (at most one per call site per
// WarnInterval), one about a request that missed its context, and the
// report at Debug.
func (h *Handler) log(ctx context.Context, rep *Report) {
	l := h.logger()
	if missedContext(rep) {
		h.warnMissedContext(ctx, rep)
	}
	now := time.Now()
	for i := range rep.NPlusOne {
		f := &rep.NPlusOne[i]
		ok, suppressed := h.allowWarning(f, now)
		if !ok {
			continue
		}
		attrs := []slog.Attr{
			slog.String("route", rep.Name),
			slog.Any("n_plus_one", f),
		}
		if suppressed > 0 {
			attrs = append(attrs, slog.Int("suppressed", suppressed))
		}
		msg := fmt.Sprintf("querytrace: N+1: %s at %s", times(f.Count), f.CallSite())
		h.safely(func() { l.LogAttrs(ctx, slog.LevelWarn, msg, attrs...) })
	}
	if l.Enabled(ctx, slog.LevelDebug) {
		h.safely(func() {
			l.LogAttrs(ctx, slog.LevelDebug, "querytrace: "+rep.Summary(), slog.Any("report", rep))
		})
	}
}

// allowWarning decides whether a warning about f is logged now, and if so
// how many about its call site were held back since the last one.
func (h *Handler) allowWarning(f *Finding, now time.Time) (ok bool, suppressed int) {
	interval := h.interval()
	key := f.CallSite()
	if key == "" && f.Group != nil {
		key = f.Group.Shape // no call sites (WithoutStacks): one per shape
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if interval < 0 {
		return true, 0
	}
	if h.warned == nil {
		h.warned = make(map[string]*warnState)
	}
	st := h.warned[key]
	if st != nil && now.Sub(st.last) < interval {
		st.suppressed++
		return false, 0
	}
	if st == nil {
		if len(h.warned) >= maxWarned {
			for k, s := range h.warned {
				if now.Sub(s.last) >= interval {
					delete(h.warned, k)
				}
			}
		}
		st = &warnState{}
		if len(h.warned) < maxWarned {
			h.warned[key] = st
		}
	}
	suppressed, st.suppressed, st.last = st.suppressed, 0, now
	return true, suppressed
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
	desc := plural(rep.Statements, "statement", "statements")
	if n := len(rep.NPlusOne); n > 0 {
		desc += ", " + strconv.Itoa(n) + " N+1"
	}
	if n := rep.Errors; n > 0 {
		desc += ", " + plural(n, "error", "errors")
	}
	if n := rep.ConnErrors; n > 0 {
		desc += ", " + plural(n, "connection error", "connection errors")
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
