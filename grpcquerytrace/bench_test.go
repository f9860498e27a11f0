package grpcquerytrace_test

import (
	"log/slog"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/querytrace/querytrace"
)

// BenchmarkUnary calls a method of one statement over a loopback
// connection, without the interceptors and with them (no sink, warnings
// only), so that benchstat shows what they add to a call. Run it on a
// quiet machine:
//
//	go test -run '^$' -bench Unary -benchmem -count 8 . > b.txt && benchstat -col /interceptors b.txt
func BenchmarkUnary(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []grpc.ServerOption
	}{
		{"interceptors=off", nil},
		{"interceptors=on", interceptors(&querytrace.Handler{Logger: slog.New(slog.DiscardHandler)})},
	} {
		b.Run(c.name, func(b *testing.B) {
			conn := serve(b, sqlite(b, 10), c.opts...)
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.Invoke(b.Context(), "/inventory.Inventory/FreeFast", new(emptypb.Empty), new(structpb.Struct)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
