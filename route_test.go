package querytrace

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

func TestMaskPath(t *testing.T) {
	cases := []struct{ path, want string }{
		{"/", "/"},
		{"", ""},
		{"/users", "/users"},
		{"/users/42", "/users/{id}"},
		{"/users/42/orders/7", "/users/{id}/orders/{id}"},
		{"/users/42/", "/users/{id}/"},
		{"/v1/users", "/v1/users"},
		{"/api/v2/oauth2-callback", "/api/v2/oauth2-callback"},
		{"/static/index.html", "/static/index.html"},
		{"/static/app.min.js", "/static/app.min.js"},
		{"/reset-password/how-to-reset", "/reset-password/how-to-reset"},
		{"/orders/6ba7b810-9dad-11d1-80b4-00c04fd430c8", "/orders/{id}"},   // UUID
		{"/blobs/d41d8cd98f00b204e9800998ecf8427e", "/blobs/{id}"},         // MD5 hex
		{"/blobs/deadbeefcafebabe", "/blobs/{id}"},                         // hex, no digit
		{"/reset-password/Xk9aBqLmNoPqRsTuVwXyZ0", "/reset-password/{id}"}, // base64-ish
		{"/reset-password/KhPzWqLmNbVcXyTq", "/reset-password/{id}"},       // base64, no digit
		{"/reset-password/aB-_cDeFgHiJ_kLmN", "/reset-password/{id}"},      // base64url
		{"/share/abc123def", "/share/{id}"},                                // mixed, 6 digits
		{"/share/a1b2", "/share/a1b2"},                                     // short, 2 digits: a word
		{"/confirm/zqxjkvbwpfmghtrlnsdcyaeu", "/confirm/{id}"},             // long, no separator
		{"/users/alice@example.com", "/users/{id}"},                        // e-mail
		{"/files/caf%C3%A9", "/files/{id}"},                                // escaped
		{"/files/café", "/files/{id}"},                                     // non-ASCII
		{"/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "/t/{id}"},         // JWT
		{"/posts/2024/05/hello-world", "/posts/{id}/{id}/hello-world"},     // date
		{"/a/getUserProfile", "/a/getUserProfile"},                         // camelCase word
		{"/very-long-slug-of-a-blog-post-title-here", "/{id}"},             // longer than 32
	}
	for _, c := range cases {
		if got := maskPath(c.path); got != c.want {
			t.Errorf("maskPath(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	long := strings.Repeat("/users", 100)
	if got := maskPath(long); len(got) > maxRoute+len("…") {
		t.Errorf("maskPath of %d bytes is %d bytes", len(long), len(got))
	}
}

func TestMaskMethod(t *testing.T) {
	for method, want := range map[string]string{
		"GET": "GET", "PROPFIND": "PROPFIND", "": "GET",
		"get": "OTHER", "X-SECRET-123": "OTHER", strings.Repeat("A", 17): "OTHER",
	} {
		if got := maskMethod(method); got != want {
			t.Errorf("maskMethod(%q) = %q, want %q", method, got, want)
		}
	}
}

// TestHandlerTokenInPath serves a password-reset link, a token in the
// path and the query string, with an N+1 behind it, through a real
// server, and checks that the token is in no log, report or header.
func TestHandlerTokenInPath(t *testing.T) {
	const token = "Zk3JqP0vXw9LmTq2RsY8bNc4"
	db := openSeed(t, 4)
	var logs strings.Builder
	var mu strings.Builder // the text report, written under the sink's goroutine
	onReport, ch := reports()
	h := &Handler{
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnReport: func(r *http.Request, rep *Report) {
			rep.WriteText(&mu)
			onReport(r, rep)
		},
		Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := store.SlowInventory(r.Context(), db); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Write([]byte("ok"))
		}),
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/reset-password/" + token + "?token=" + token + "&next=/home")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rep := wait(t, ch)
	if rep.Name != "GET /reset-password/{id}" || len(rep.NPlusOne) == 0 {
		t.Errorf("report %q with %d N+1, want %q with some", rep.Name, len(rep.NPlusOne), "GET /reset-password/{id}")
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var headers strings.Builder
	resp.Header.Write(&headers)
	for what, out := range map[string]string{
		"JSON report": string(js), "text report": mu.String(), "slog report": slogText(rep),
		"logs": logs.String(), "headers": headers.String(),
	} {
		if strings.Contains(out, token) || strings.Contains(out, "token=") {
			t.Errorf("the token is in the %s:\n%s", what, out)
		}
	}
	if !strings.Contains(logs.String(), "N+1") {
		t.Errorf("no N+1 warning logged: %s", logs.String())
	}
}

// slogText renders rep's LogValue through a text handler.
func slogText(rep *Report) string {
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("report", "report", rep)
	return b.String()
}

// TestHandlerSetRoute checks that a router that keeps its route to itself
// (as gin and echo do) can name the request with SetRoute, after routing.
func TestHandlerSetRoute(t *testing.T) {
	onReport, ch := reports()
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What a gin middleware would do with c.FullPath().
		SetRoute(r.Context(), "/users/:id")
	})
	h := &Handler{Next: router, Logger: slog.New(&logRecorder{}), OnReport: onReport}
	serve(h, "/users/alice")
	if r := wait(t, ch); r.Name != "GET /users/:id" {
		t.Errorf("report named %q, want %q", r.Name, "GET /users/:id")
	}
	SetRoute(context.Background(), "/nowhere") // no Handler: nothing happens
}

// TestNoRoute: the requests that no route matched are one name, however
// many paths a scanner tries; a route that matched keeps its name
// whatever it answers.
func TestNoRoute(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "404" {
			http.NotFound(w, r) // a route that matched, for an item that is not there
		}
	})
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // routes by itself
		if r.URL.Path != "/home" {
			http.NotFound(w, r)
		}
	})
	gin := func(route string, status int) http.Handler { // what a gin middleware does
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			SetRoute(r.Context(), route)
			w.WriteHeader(status)
		})
	}
	for _, c := range []struct {
		next         http.Handler
		name         func(*http.Request) string
		method, path string
		want         string
	}{
		{mux, nil, "GET", "/wp-login.php", NoRoute},
		{mux, nil, "GET", "/.env", NoRoute},
		{mux, nil, "POST", "/items/7", NoRoute}, // 405
		{mux, nil, "GET", "/items/7", "GET /items/{id}"},
		{mux, nil, "GET", "/items/404", "GET /items/{id}"},
		{plain, nil, "GET", "/home", "GET /home"},
		{plain, nil, "GET", "/admin/config.php", NoRoute},
		{gin("", 404), nil, "GET", "/phpmyadmin/", NoRoute},
		{gin("/users/:id", 404), nil, "GET", "/users/7", "GET /users/:id"},
		{gin("", 200), nil, "GET", "/about", "GET /about"},
		{mux, func(r *http.Request) string { return "mine" }, "GET", "/wp-login.php", "mine"}, // Name decides
	} {
		onReport, ch := reports()
		h := &Handler{Next: c.next, Name: c.name, Logger: slog.New(&logRecorder{}), OnReport: onReport}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
		if r := wait(t, ch); r.Name != c.want {
			t.Errorf("%s %s: report named %q, want %q", c.method, c.path, r.Name, c.want)
		}
	}
}

func BenchmarkMaskPath(b *testing.B) {
	for _, path := range []string{"/api/v2/inventory/items", "/users/42/orders/6ba7b810-9dad-11d1-80b4-00c04fd430c8"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				maskPath(path)
			}
		})
	}
}
