package grpcquerytrace

import (
	"context"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/querytrace/querytrace"
)

// TimingKey is the request metadata key by which a client asks for the
// call's database totals: when the call's metadata has it, with any
// value, its trailer carries them under ServerTimingKey. A client that
// does not ask gets no trailer from querytrace.
const TimingKey = "querytrace-timing"

// ServerTimingKey is the trailer key of a call's database totals, written
// as the HTTP Server-Timing header writes them (Report.ServerTiming):
//
//	server-timing: db;dur=9.1;desc="601 statements, 2 N+1"
//
// It holds counts and a duration, never SQL or argument values.
const ServerTimingKey = "server-timing"

// UnaryServerInterceptor returns an interceptor that runs each unary call
// in a trace of its own, named by the call's full method
// ("/package.Service/Method"), under h's configuration (Logger, Detector,
// OnFinish, OnReport and WarnInterval; see querytrace.Handler.Run, which
// it calls). Its report goes to h's sinks as a request's would, its N+1
// warnings to h's log, and its totals to the call's trailer when the
// client asked for them with TimingKey. A nil h means a Handler with the
// defaults, of this interceptor's own.
//
// Share one Handler between the interceptors and the HTTP server of the
// same service, so that both feed one debug page and one log, with the
// warnings held back across both.
func UnaryServerInterceptor(h *querytrace.Handler) grpc.UnaryServerInterceptor {
	if h == nil {
		h = new(querytrace.Handler)
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		rep := h.Run(request(ctx, info.FullMethod), info.FullMethod, func(r *http.Request) {
			resp, err = handler(r.Context(), req)
		})
		if asked(ctx) {
			// The trailer goes out after the interceptor returns. It fails
			// only outside a server's call, with nothing to tell.
			grpc.SetTrailer(ctx, metadata.Pairs(ServerTimingKey, rep.ServerTiming()))
		}
		return resp, err
	}
}

// StreamServerInterceptor returns an interceptor that runs each streaming
// call in a trace of its own, as UnaryServerInterceptor does a unary one:
// the stream's Context carries the trace, from the call's start to the
// handler's return. A statement run once per message of a long-lived
// stream therefore repeats in one trace, and is reported as an N+1 or a
// duplicate; allow such a stream by its method with an Allow entry of
// the Detector's (querytrace.Allow{Route: "/package.Service/Method", Reason: ...}).
// On a server with grpc.UnknownServiceHandler (a proxy), it also runs
// for methods the server does not know, named as the client named them.
func StreamServerInterceptor(h *querytrace.Handler) grpc.StreamServerInterceptor {
	if h == nil {
		h = new(querytrace.Handler)
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		ctx := ss.Context()
		rep := h.Run(request(ctx, info.FullMethod), info.FullMethod, func(r *http.Request) {
			err = handler(srv, &tracedStream{ss, r.Context()})
		})
		if asked(ctx) {
			ss.SetTrailer(metadata.Pairs(ServerTimingKey, rep.ServerTiming()))
		}
		return err
	}
}

// tracedStream is a server stream whose context carries the call's trace.
type tracedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *tracedStream) Context() context.Context { return s.ctx }

// asked reports whether the client asked for the call's totals.
func asked(ctx context.Context) bool {
	return len(metadata.ValueFromIncomingContext(ctx, TimingKey)) > 0
}
