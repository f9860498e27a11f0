package debugpage

import (
	"bytes"
	"database/sql"
	"embed"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/querytrace/querytrace/internal/human"
)

// A Handler serves the debug pages of a Recorder: the recent requests per
// class, one request (its findings, a waterfall of its statements and its
// groups), the comparison of two requests, and the statement statistics
// as HTML, JSON and Prometheus text. Mount it under its Prefix:
//
//	mux.Handle("/debug/querytrace/", &debugpage.Handler{Recorder: rec})
//
// It registers nothing by itself. Unless Authorize is set, it answers only
// clients on a loopback address that asked for a loopback host (which
// also keeps out a web page that rebinds its own name to 127.0.0.1), and
// refuses a request that a proxy forwarded for a client elsewhere: one
// whose Forwarded, X-Forwarded-For or X-Real-IP header names an address
// that is not loopback, or names none. A loopback client is every user
// and every process of the machine, so on a shared host, or behind a
// proxy that forwards without any of those headers, set Authorize.
//
// What reaches the database or changes state (EXPLAIN, resetting the
// statistics) is a POST from a form of the page itself; a cross-origin
// POST is refused (see net/http.CrossOriginProtection), so that another
// site the developer visits cannot make the page do either. Every page is
// sent with a Content-Security-Policy that allows no script and nothing
// from elsewhere, and is not cached. The pages show statement shapes and
// call sites, never argument values.
//
// The zero value of every field but Recorder is a sensible default; the
// fields must not change once it serves.
type Handler struct {
	// Recorder holds the reports and statistics to show.
	Recorder *Recorder

	// Prefix is the path the handler is mounted at; empty means
	// "/debug/querytrace".
	Prefix string

	// Authorize, when set, decides who may see the pages, in place of
	// the loopback and proxy checks: check a token or the application's
	// own session. It is called on the request's goroutine, for each
	// page and, through Link, for each traced request.
	Authorize func(*http.Request) bool

	// Explain, when set, offers the PostgreSQL generic plan of any
	// statement the recorder holds, from EXPLAIN (GENERIC_PLAN) on
	// version 16 and later (through a prepared statement and
	// plan_cache_mode before), run on this database in a read-only
	// transaction when a form of the page posts it. The statement is
	// chosen by its fingerprint among those the server holds, never sent
	// by the browser, and its placeholders are left as parameters: no
	// argument is needed and none is shown. Nil means no EXPLAIN.
	Explain *sql.DB

	once sync.Once
	mux  *http.ServeMux
	cop  *http.CrossOriginProtection
}

//go:embed templates/*.html static/*
var files embed.FS

var pages = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/*.html"))

// ServeHTTP serves the pages to allowed clients, and 403 to others.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
	if why := h.refusal(r); why != "" {
		http.Error(w, "querytrace: forbidden: "+why, http.StatusForbidden)
		return
	}
	h.once.Do(h.init)
	if err := h.cop.Check(r); err != nil {
		http.Error(w, "querytrace: cross-origin request refused", http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// refusal returns why r may not see the pages, or "" when it may.
func (h *Handler) refusal(r *http.Request) string {
	switch {
	case h.Authorize != nil:
		if !h.Authorize(r) {
			return "not authorized"
		}
	case !isLoopback(r.RemoteAddr) || !isLoopbackHost(r.Host):
		return "the debug page answers only loopback clients unless given Authorize"
	case forwarded(r.Header):
		return "a proxy forwarded this request for a client elsewhere; the debug page answers only loopback clients unless given Authorize"
	}
	return ""
}

// forwarded reports whether h carries a header by which a proxy names
// the client it forwards for, naming one that is not loopback, or none
// that can be read. A client that connects itself sends none.
func forwarded(h http.Header) bool {
	for _, v := range h.Values("X-Forwarded-For") {
		if !allLoopback(strings.Split(v, ",")) {
			return true
		}
	}
	for _, v := range h.Values("X-Real-IP") {
		if !isLoopback(strings.TrimSpace(v)) {
			return true
		}
	}
	for _, v := range h.Values("Forwarded") {
		// RFC 7239: for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"
		var clients []string
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				key, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(key, "for") {
					clients = append(clients, strings.Trim(val, `"`))
				}
			}
		}
		if !allLoopback(clients) {
			return true
		}
	}
	return false
}

// allLoopback reports whether addrs, addresses with or without a port,
// are at least one and all loopback.
func allLoopback(addrs []string) bool {
	for _, a := range addrs {
		if !isLoopback(strings.TrimSpace(a)) {
			return false
		}
	}
	return len(addrs) > 0
}

// isLoopback reports whether addr, "host:port", is a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = strings.Trim(addr, "[]")
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// isLoopbackHost reports whether a Host header names this machine.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") || isLoopback(host)
}

func (h *Handler) prefix() string {
	if h.Prefix == "" {
		return "/debug/querytrace"
	}
	return strings.TrimSuffix(h.Prefix, "/")
}

func (h *Handler) init() {
	p := h.prefix()
	h.cop = http.NewCrossOriginProtection()
	m := http.NewServeMux()
	m.HandleFunc("GET "+p+"/{$}", h.index)
	m.HandleFunc("GET "+p+"/requests/{id}", h.request)
	m.HandleFunc("GET "+p+"/requests/{id}/json", h.requestJSON)
	m.HandleFunc("GET "+p+"/compare", h.compare)
	m.HandleFunc("GET "+p+"/stats", h.stats)
	m.HandleFunc("GET "+p+"/stats.json", h.statsJSON)
	m.HandleFunc("POST "+p+"/stats/reset", h.reset)
	m.HandleFunc("GET "+p+"/metrics", h.metrics)
	m.HandleFunc("GET "+p+"/explain/{fingerprint}", h.explain)
	m.HandleFunc("POST "+p+"/explain/{fingerprint}", h.explain)
	for name, ctype := range map[string]string{"page.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"} {
		m.HandleFunc("GET "+p+"/static/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			data, _ := files.ReadFile("static/" + name)
			w.Write(data)
		})
	}
	h.mux = m
}

// render executes the named page into a buffer first, so that an error
// is a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, name, title string, data any) {
	nav := "requests"
	if name == "stats.html" {
		nav = "stats"
	}
	var b bytes.Buffer
	pg := &page{Title: human.Clip(title, clipName), Nav: nav, Prefix: h.prefix(), Explain: h.Explain != nil, Loaded: h.recorder().loadedDir(), Data: data}
	if err := pages.ExecuteTemplate(&b, name, pg); err != nil {
		http.Error(w, "querytrace: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// page is what every template gets. Loaded is set for a recorder of
// loaded files.
type page struct {
	Title   string
	Nav     string
	Prefix  string
	Explain bool
	Loaded  *Loaded
	Data    any
}

func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		http.Error(w, "querytrace: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(data, '\n'))
}

// entry returns the recorded request named by the path's {id}, or writes
// a 404.
func (h *Handler) entry(w http.ResponseWriter, r *http.Request, param string) *entry {
	id, err := strconv.ParseUint(r.FormValue(param), 10, 64)
	if param == "id" {
		id, err = strconv.ParseUint(r.PathValue("id"), 10, 64)
	}
	var e *entry
	if err == nil && h.Recorder != nil {
		e = h.Recorder.lookup(id)
	}
	if e == nil {
		why := "the recorder keeps only the last few of each class"
		if h.Recorder != nil && h.Recorder.loadedDir() != nil {
			why = "not one of the files loaded"
		}
		http.Error(w, "querytrace: no such request ("+why+")", http.StatusNotFound)
	}
	return e
}
