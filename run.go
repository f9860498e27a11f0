package querytrace

import (
	"context"
	"net/http"
)

// Run runs work as one of h's units of work, named name, for a server that
// does not serve through ServeHTTP, such as the gRPC interceptors of
// package github.com/querytrace/querytrace/grpcquerytrace. It puts a trace
// named name, classified by h's Detector, on r's context, calls work with
// r on that context, and hands the report on as ServeHTTP hands on a
// request's: to OnFinish on the caller's goroutine before Run returns,
// then to OnReport and the log through the same queue, its N+1 warnings
// held back with the requests' for WarnInterval. Next and Name are not
// used.
//
// r is the unit of work as OnFinish and OnReport receive it, so that
// sinks written for requests (debugpage's Recorder, otelquerytrace's
// Bridge) take it unchanged: a server that speaks another protocol over
// HTTP hands over its call as the request it is on the wire, with the
// call's context, whose span, if any, is still open when OnFinish runs.
// The gRPC interceptors hand over POST /package.Service/Method.
//
// Run returns the report once OnFinish has returned; it is shared with
// the sinks, to read and not to change. If work panics, the report is
// still handed on and the panic goes on up. Run is safe for concurrent
// use, and with ServeHTTP.
func (h *Handler) Run(r *http.Request, name string, work func(*http.Request)) (rep *Report) {
	ctx, tr := h.start(r.Context(), name)
	r = r.WithContext(ctx)
	defer func() {
		// Deferred so that the trace of work that panicked is still
		// finished and handed on.
		rep = tr.Finish()
		h.deliver(r, rep)
	}()
	work(r)
	return // rep, set by the deferred call
}

// start puts a trace named name, classified by h's Detector, on ctx.
func (h *Handler) start(ctx context.Context, name string) (context.Context, *Trace) {
	ctx, tr := Start(ctx, name)
	tr.SetDetector(h.Detector)
	return ctx, tr
}

// deliver hands rep, the report of the unit of work r stands for, to
// OnFinish now, and to OnReport and the log through the queue.
func (h *Handler) deliver(r *http.Request, rep *Report) {
	if h.OnFinish != nil {
		h.callSink(r.Context(), "OnFinish", h.OnFinish, &h.finishPanicked, r, rep)
	}
	h.emit(r, rep)
}

// ServerTiming returns the report's totals as a Handler's Server-Timing
// header carries them, for a server that tells its client some other way,
// as the gRPC interceptors do in a trailer:
//
//	db;dur=9.1;desc="601 statements, 2 N+1"
//
// It holds counts and a duration, never SQL or argument values.
func (r *Report) ServerTiming() string { return serverTiming(r) }
