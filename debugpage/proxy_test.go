package debugpage

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// TestBehindProxy serves the page from a real server behind real
// reverse proxies on the same machine, in the two styles of
// net/http/httputil and with the headers nginx and RFC 7239 use: every
// request reaches the page from a loopback address, and only the headers
// tell a client of the machine from one elsewhere.
func TestBehindProxy(t *testing.T) {
	rec := &Recorder{}
	page := httptest.NewServer(&Handler{Recorder: rec})
	defer page.Close()
	tokenPage := httptest.NewServer(&Handler{Recorder: rec, Authorize: func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Bearer ops-token"
	}})
	defer tokenPage.Close()

	clientIP := func(r *http.Request) string {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		return ip
	}
	rewrite := func(upstream string, headers func(*httputil.ProxyRequest)) http.Handler {
		target, _ := url.Parse(upstream)
		return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // Host becomes the upstream's, as nginx's proxy_pass does
			headers(pr)
		}}
	}
	styles := []struct {
		name  string
		proxy func(upstream string) http.Handler
	}{
		// Director: the client's Host goes through (here the proxy's
		// loopback address), X-Forwarded-For is appended.
		{"Director", func(upstream string) http.Handler {
			target, _ := url.Parse(upstream)
			return httputil.NewSingleHostReverseProxy(target)
		}},
		{"Rewrite, SetXForwarded", func(upstream string) http.Handler {
			return rewrite(upstream, func(pr *httputil.ProxyRequest) { pr.SetXForwarded() })
		}},
		{"Rewrite, X-Real-IP", func(upstream string) http.Handler { // proxy_set_header X-Real-IP $remote_addr
			return rewrite(upstream, func(pr *httputil.ProxyRequest) { pr.Out.Header.Set("X-Real-IP", clientIP(pr.In)) })
		}},
		{"Rewrite, Forwarded", func(upstream string) http.Handler {
			return rewrite(upstream, func(pr *httputil.ProxyRequest) {
				pr.Out.Header.Set("Forwarded", `for="`+pr.In.RemoteAddr+`";proto=http`)
			})
		}},
	}
	for _, s := range styles {
		for _, c := range []struct {
			client string // the address the proxy sees; "" for its real loopback client
			page   *httptest.Server
			auth   string
			want   int
		}{
			{"", page, "", 200},
			{"203.0.113.9:4711", page, "", 403},
			{"[2001:db8::1]:4711", page, "", 403},
			{"203.0.113.9:4711", tokenPage, "Bearer ops-token", 200},
			{"203.0.113.9:4711", tokenPage, "", 403},
		} {
			proxy := s.proxy(c.page.URL)
			// The proxy's listener is on loopback; a client elsewhere is
			// what the proxy would see on a public one.
			edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.client != "" {
					r.RemoteAddr = c.client
				}
				proxy.ServeHTTP(w, r)
			}))
			req, _ := http.NewRequest("GET", edge.URL+"/debug/querytrace/", nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			edge.Close()
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s, client %q, Authorize %v: %s, want %d", s.name, c.client, c.page == tokenPage, resp.Status, c.want)
			}
		}
	}

	// A proxy that rewrites Host and says nothing of its client cannot
	// be told from a client of the machine: the README says to set
	// Authorize there.
	silent := rewrite(page.URL, func(*httputil.ProxyRequest) {})
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = "203.0.113.9:4711"
		silent.ServeHTTP(w, r)
	}))
	defer edge.Close()
	resp, _ := get(t, edge.URL+"/debug/querytrace/")
	if resp.StatusCode != 200 {
		t.Errorf("a silent proxy: %s; the test's premise (it cannot be seen) no longer holds", resp.Status)
	}
}
