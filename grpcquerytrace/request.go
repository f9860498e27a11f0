package grpcquerytrace

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// request returns a gRPC call as the HTTP/2 request it is on the wire, for
// the sinks of a querytrace.Handler, which take requests: POST of the full
// method, with the call's context, the :authority as Host, the client's
// address as RemoteAddr, and the call's metadata as headers (binary
// values in base64, as sent).
func request(ctx context.Context, method string) *http.Request {
	r := &http.Request{
		Method:     http.MethodPost,
		URL:        &url.URL{Path: method},
		RequestURI: method,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     make(http.Header),
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range md {
		switch {
		case k == ":authority" && len(vs) > 0:
			r.Host = vs[0]
		case strings.HasPrefix(k, ":"):
		case strings.HasSuffix(k, "-bin"):
			for _, v := range vs {
				r.Header.Add(k, base64.RawStdEncoding.EncodeToString([]byte(v)))
			}
		default:
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		r.RemoteAddr = p.Addr.String()
	}
	return r.WithContext(ctx)
}
