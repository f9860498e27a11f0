// Package connecttest tests querytrace's Handler around a Connect service
// (connectrpc.com/connect), which serves over net/http: each call traced,
// its N+1 found at the loop's line, its totals in the Server-Timing
// header, and the report named by procedure with an interceptor that
// calls querytrace.SetRoute. It is a module of its own so that Connect is
// no dependency of querytrace's.
package connecttest
