package routers

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/labstack/echo/v4"

	"github.com/querytrace/querytrace"
)

// TestRouteNames serves /users/42 through each router, installed as the
// README shows, and checks that the report is named after the route
// template, not the path.
func TestRouteNames(t *testing.T) {
	reports := make(chan *querytrace.Report, 1)
	handler := func(next http.Handler) *querytrace.Handler {
		return &querytrace.Handler{Next: next, Logger: slog.New(slog.DiscardHandler),
			OnReport: func(_ *http.Request, r *querytrace.Report) { reports <- r }}
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }

	// chi: the Handler runs inside the router (r.Use), and Name reads
	// the pattern after routing.
	chiRouter := chi.NewRouter()
	chiRouter.Use(func(next http.Handler) http.Handler {
		h := handler(next)
		h.Name = func(r *http.Request) string { return r.Method + " " + chi.RouteContext(r.Context()).RoutePattern() }
		return h
	})
	chiRouter.Get("/users/{id}", ok)

	// gorilla/mux: the Handler wraps the router; a middleware of the
	// router sets the matched route's template.
	muxRouter := mux.NewRouter()
	muxRouter.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rt := mux.CurrentRoute(r); rt != nil {
				if tpl, err := rt.GetPathTemplate(); err == nil {
					querytrace.SetRoute(r.Context(), tpl)
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	muxRouter.HandleFunc("/users/{id}", ok).Methods("GET")

	// echo: the same, with c.Path().
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			querytrace.SetRoute(c.Request().Context(), c.Path())
			return next(c)
		}
	})
	e.GET("/users/:id", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })

	cases := []struct {
		name string
		h    http.Handler
		want string
	}{
		{"chi", chiRouter, "GET /users/{id}"},
		{"gorilla/mux", handler(muxRouter), "GET /users/{id}"},
		{"echo", handler(e), "GET /users/:id"},
		{"no router", handler(http.HandlerFunc(ok)), "GET /users/{id}"}, // masked
	}
	for _, c := range cases {
		srv := httptest.NewServer(c.h)
		get(t, srv.URL+"/users/42")
		srv.Close()
		if r := <-reports; r.Name != c.want {
			t.Errorf("%s: report named %q, want %q", c.name, r.Name, c.want)
		}
	}
}
