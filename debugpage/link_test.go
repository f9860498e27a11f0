package debugpage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/querytrace/querytrace"
)

// TestLink: a response names its request's page, which shows that
// request, one at a time and many at once.
func TestLink(t *testing.T) {
	srv := newSite(t, &Recorder{}, &Handler{})
	check := func(path string) {
		resp, _ := get(t, srv.URL+path)
		link := resp.Header.Get("Querytrace-Page")
		if !strings.HasPrefix(link, "/debug/querytrace/requests/") {
			t.Errorf("GET %s: Querytrace-Page %q", path, link)
			return
		}
		resp, body := get(t, srv.URL+link)
		if resp.StatusCode != 200 || !strings.Contains(body, "<title>GET "+path) {
			t.Errorf("GET %s: its page %s: %s, not the request's\n%.300s", path, link, resp.Status, body)
		}
	}
	check("/loop")
	check("/fail") // an error page
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() { check([]string{"/loop", "/one"}[i%2]) })
	}
	wg.Wait()
}

// TestLinkOnlyForThePagesClients: no other client learns where the page
// is, and no other client's request takes a number.
func TestLinkOnlyForThePagesClients(t *testing.T) {
	direct := newSite(t, &Recorder{}, &Handler{})
	target, _ := url.Parse(direct.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
	}}
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = "203.0.113.9:4711"
		proxy.ServeHTTP(w, r)
	}))
	defer public.Close()
	token := newSite(t, &Recorder{}, &Handler{Authorize: func(r *http.Request) bool { return r.Header.Get("X-Token") == "ok" }})

	for _, c := range []struct {
		name, url, token string
		want             bool
	}{
		{"loopback", direct.URL, "", true},
		{"through a proxy, from elsewhere", public.URL, "", false},
		{"Authorize says yes", token.URL, "ok", true},
		{"Authorize says no", token.URL, "", false},
	} {
		req, _ := http.NewRequest("GET", c.url+"/one", nil)
		req.Header.Set("X-Token", c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Querytrace-Page"); (got != "") != c.want {
			t.Errorf("%s: Querytrace-Page %q, want one: %v", c.name, got, c.want)
		}
	}
}

// TestLinkBounded: numbers given out for reports that never arrive are
// given up, the oldest first.
func TestLinkBounded(t *testing.T) {
	rec := &Recorder{}
	var first *http.Request
	for i := range 3 * maxLinks {
		ctx, tr := querytrace.Start(context.Background(), fmt.Sprint(i))
		rec.reserve(tr)
		if i == 0 {
			first = (&http.Request{}).WithContext(ctx)
		}
	}
	rec.mu.Lock()
	n, id := len(rec.links), rec.claim(first)
	rec.mu.Unlock()
	if n > maxLinks || id != 0 {
		t.Errorf("%d numbers held (want at most %d); the first request's still held: %v", n, maxLinks, id != 0)
	}
}
