package querytrace

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/querytrace/querytrace/internal/human"
)

// A request's trace is named by its route, so that reports, warnings and
// anything keyed by route see one name per page, whatever its ids, and so
// that no token in a path (a password-reset link, a signed download)
// reaches a log. The route is, in order: Handler.Name's, the one set with
// SetRoute, the ServeMux pattern, or the path with every segment that
// looks like an identifier or a token masked as {id}. The query string is
// never part of it. A request that no route matched is NoRoute.

// NoRoute names the requests that matched no route: answered 404 Not
// Found or 405 Method Not Allowed with no route set and no ServeMux
// pattern, as a ServeMux (or a router that sets the route with SetRoute)
// answers a path it does not serve. A scanner's thousand paths are then
// one name in reports, warnings, logs and metrics, not a thousand.
const NoRoute = "(no route)"

// routeKey is the context key of a request's *routeName.
type routeKey struct{}

// routeName holds the route set with SetRoute.
type routeName struct{ p atomic.Pointer[string] }

// SetRoute names the route of the request that ctx belongs to, for a
// Handler whose Next routes with a framework that keeps its route
// template to itself (gin's c.FullPath(), echo's c.Path()): call it from
// the framework's middleware, after routing. The Handler then names the
// request's trace and report "METHOD route". An empty route is none, as
// gin's c.FullPath() is for a request no route matched. It does nothing
// when ctx is not a request's of a Handler, or when the Handler has a
// Name func.
func SetRoute(ctx context.Context, route string) {
	if rn, _ := ctx.Value(routeKey{}).(*routeName); rn != nil {
		rn.p.Store(&route)
	}
}

// route returns the route of r as the Handler names it by default, once
// answered with status (0 before the response).
func (rn *routeName) route(r *http.Request, status int) string {
	method := maskMethod(r.Method)
	if p := rn.p.Load(); p != nil && *p != "" {
		return method + " " + *p
	}
	route := r.Pattern
	if route == "" {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return NoRoute
		}
		return method + " " + maskPath(r.URL.Path)
	}
	// A pattern is "[METHOD ][HOST]/PATH".
	if i := strings.IndexAny(route, " \t"); i >= 0 {
		route = strings.TrimLeft(route[i:], " \t")
	}
	if i := strings.IndexByte(route, '/'); i > 0 {
		route = route[i:] // the host is not the route
	}
	return method + " " + route
}

// maskMethod returns method, or "OTHER" for one that is not a token of at
// most 16 capital letters: the client chooses the method.
func maskMethod(method string) string {
	if method == "" {
		return http.MethodGet
	}
	if len(method) > 16 {
		return "OTHER"
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; c < 'A' || c > 'Z' {
			return "OTHER"
		}
	}
	return method
}

// maxRoute bounds the length of a route taken from a path, in runes.
const maxRoute = 256

// maskPath returns path with each segment that looks like an identifier
// or a token replaced by {id}.
func maskPath(path string) string {
	var b strings.Builder
	masked := false
	for i := 0; i < len(path); {
		j := strings.IndexByte(path[i:], '/')
		if j < 0 {
			j = len(path)
		} else {
			j += i
		}
		if seg := path[i:j]; idLike(seg) {
			if !masked {
				b.Grow(len(path))
				b.WriteString(path[:i])
				masked = true
			}
			b.WriteString("{id}")
		} else if masked {
			b.WriteString(seg)
		}
		if j < len(path) && masked {
			b.WriteByte('/')
		}
		i = j + 1
	}
	out := path
	if masked {
		out = b.String()
	}
	return human.Clip(out, maxRoute+1)
}

// idLike reports whether a path segment looks like an identifier or a
// token rather than a word of the route: a number, anything with more
// than two digits or a long one with any, a long hex string, a mix of
// capitals and small letters like base64, anything long without a
// separator, and anything with characters other than letters, digits and
// -._~ (an e-mail address, an encoded value, a non-ASCII name).
// "v2", "oauth2-callback", "index.html" and "reset-password" are words.
func idLike(seg string) bool {
	if seg == "" {
		return false
	}
	if len(seg) > 32 {
		return true
	}
	var digits, upper, lower, seps int
	hex := true
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; {
		case '0' <= c && c <= '9':
			digits++
		case 'a' <= c && c <= 'z':
			lower++
			hex = hex && c <= 'f'
		case 'A' <= c && c <= 'Z':
			upper++
			hex = hex && c <= 'F'
		case c == '-' || c == '_' || c == '.' || c == '~':
			seps++
			hex = false
		default:
			return true
		}
	}
	n := len(seg)
	switch {
	case digits == n, digits > 2, digits > 0 && n >= 16:
		return true
	case hex && n >= 16:
		return true
	case upper >= 3 && lower >= 3 && n >= 12 && upper*4 >= upper+lower:
		return true // base64-like: capitals in a quarter of the letters or more
	case seps == 0 && n >= 24:
		return true
	}
	return false
}
