// Package grpcquerytrace traces gRPC calls with querytrace: each call a
// report of its own, as querytrace.Handler gives each HTTP request. It is
// a module of its own, so that querytrace keeps no gRPC dependency.
//
// # Installing
//
// The interceptors take a querytrace.Handler for their configuration and
// its sinks, the same one the service's HTTP side may use:
//
//	h := &querytrace.Handler{Next: mux, Detector: querytrace.StagingDetector(), OnFinish: rec.Observe}
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(grpcquerytrace.UnaryServerInterceptor(h)),
//		grpc.ChainStreamInterceptor(grpcquerytrace.StreamServerInterceptor(h)),
//	)
//	go http.ListenAndServe(httpAddr, h) // the HTTP side, if there is one
//
// Each call runs in a trace named by its full method,
// "/package.Service/Method", which is what warnings, logs, the debug page
// and Allow entries by Route carry. Statements are the call's when they
// run with the context the method receives (a stream's Context()), or
// one made from it.
//
// # What the Handler's sinks receive
//
// A call's report goes where a request's goes, through
// querytrace.Handler.Run: each N+1 as a warning in h's Logger (held back
// per WarnInterval), the report at Debug, to OnFinish on the call's
// goroutine before the interceptor returns, and to OnReport through the
// Handler's queue. The sinks take an *http.Request: they get the call as
// the HTTP/2 request it is on the wire, POST of the full method, with the
// call's context (so a span that otelgrpc's stats handler started around
// the call is still open for otelquerytrace's Bridge.OnFinish), its
// metadata as headers (binary values in base64, as sent), its :authority
// as Host and the client's address as RemoteAddr. debugpage's Recorder
// and Archive, and the OpenTelemetry bridge, take them unchanged.
//
// # Telling the client
//
// A client that sends TimingKey ("querytrace-timing", any value) in the
// call's metadata gets the call's totals in its trailer under
// ServerTimingKey, as the HTTP Handler's Server-Timing header carries them:
//
//	server-timing: db;dur=9.1;desc="601 statements, 2 N+1"
//
// A client that does not ask gets nothing. With grpcurl:
// grpcurl -v -H 'querytrace-timing: 1' ... shows it among the response
// trailers.
//
// # Streams
//
// A stream is one unit of work, from the call's start to the handler's
// return. A statement run once per message of a long-lived stream
// repeats within it, and is reported as an N+1 (different arguments) or
// a duplicate (the same): that is what it costs, but where it is the
// stream's design, allow it by route with the Detector's
// querytrace.Allow{Route: "/package.Service/Method", Reason: ...}.
//
// # Behind a gRPC gateway, and Connect
//
// A gateway that calls the gRPC server over a connection (grpc-gateway's
// RegisterXHandlerFromEndpoint) hands the statements to the call, not to
// the HTTP request: without the interceptors that request reports no
// statements and every one of them unattributed; with them the call
// reports them. A gateway that calls the server's methods directly
// (RegisterXHandlerServer) passes the HTTP request's context, so the HTTP
// Handler around it traces them. Connect (connectrpc.com/connect) serves
// over net/http: the HTTP Handler traces its calls; see the README for
// naming them by procedure.
//
// To trace only some methods, wrap an interceptor in a selector, such as
// the one of github.com/grpc-ecosystem/go-grpc-middleware/v2.
package grpcquerytrace
