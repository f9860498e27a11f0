package querytrace

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/querytrace/querytrace/internal/human"
)

// sinks is the state of a Handler's hand-over of reports to OnFinish,
// OnReport and the log, which do not depend on what the unit of work
// was: an HTTP request, or a gRPC call run with Handler.Run.
type sinks struct {
	mu     sync.Mutex
	warned map[string]*warnState

	// reportPanicked, finishPanicked and headerPanicked log the first
	// panic of OnReport, OnFinish and OnHeader: a broken sink logs once,
	// not once per request.
	reportPanicked, finishPanicked, headerPanicked sync.Once

	queueOnce sync.Once
	queue     chan sinkJob // reports waiting for the sinks
	workers   int          // goroutines draining queue; under mu

	dropped   atomic.Int64 // reports dropped for a full queue
	unwarned  int64        // dropped reports not yet warned about; under mu
	dropWarn  time.Time    // when they last were; under mu
	ctxWarned time.Time    // when a request that missed its context last was; under mu
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

// maxWarned bounds the statements and loops whose last warning a Handler
// remembers.
const maxWarned = 1024

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
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
			if h.OnReport != nil {
				h.callSink(j.ctx, "OnReport", j.rep.Name, &h.reportPanicked, func() { h.OnReport(j.r, j.rep) })
			}
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
			fmt.Sprintf("querytrace: %s dropped: OnReport and the log fell behind the requests", human.Plural(int(n), "report", "reports")),
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
				"(r.Context(); gin: engine.ContextWithFallback = true or c.Request.Context(); echo: c.Request().Context(); fiber: c.UserContext(); "+
				"gRPC: grpcquerytrace's interceptors, and the method's ctx or stream.Context())",
				rep.Name, human.Plural(rep.Unattributed, "statement", "statements")),
			slog.String("route", rep.Name), slog.Int("unattributed", rep.Unattributed))
	})
}

// callSink runs call, which calls the hook named hook with the report of
// the unit of work named route, containing a panic: the application must
// not see it. The first panic is logged, under once.
func (h *Handler) callSink(ctx context.Context, hook, route string, once *sync.Once, call func()) {
	defer func() {
		if p := recover(); p != nil {
			once.Do(func() {
				h.safely(func() {
					h.logger().LogAttrs(ctx, slog.LevelError, "querytrace: "+hook+" panicked; later panics are not logged",
						slog.String("panic", fmt.Sprint(p)), slog.String("route", route))
				})
			})
		}
	}()
	call()
}

// safely runs f, containing a panic: a broken log handler must not take
// the process down from a goroutine the application does not own.
func (h *Handler) safely(f func()) {
	defer func() { recover() }()
	f()
}

// log writes a warning per N+1 (at most one per statement and loop per
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
		msg := fmt.Sprintf("querytrace: N+1: %s at %s", human.Times(f.Count), f.CallSite())
		if s := f.LoopSite(); s != "" {
			msg += " in the loop at " + s
		}
		h.safely(func() { l.LogAttrs(ctx, slog.LevelWarn, msg, attrs...) })
	}
	if l.Enabled(ctx, slog.LevelDebug) {
		h.safely(func() {
			l.LogAttrs(ctx, slog.LevelDebug, "querytrace: "+rep.Summary(), slog.Any("report", rep))
		})
	}
}

// allowWarning decides whether a warning about f is logged now, and if so
// how many about its statement and loop were held back since the last
// one. Several loops that call one repository function are as many
// warnings: a key of the call site alone would let only the first ever
// warn.
func (h *Handler) allowWarning(f *Finding, now time.Time) (ok bool, suppressed int) {
	interval := h.interval()
	key := f.CallSite()
	if key == "" && f.Group != nil {
		key = f.Group.Shape // no call sites (WithoutStacks): one per shape
	}
	for _, l := range []*Frame{f.Loop, f.Below} {
		if l != nil {
			key += "\x00" + l.File + ":" + strconv.Itoa(l.Line)
		}
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
	if !h.due(&st.last, now) {
		st.suppressed++
		return false, 0
	}
	suppressed, st.suppressed = st.suppressed, 0
	return true, suppressed
}
