package debugpage_test

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// The page is mounted beside the traced routes, not behind them, so that
// looking at it does not fill its own lists. Each traced response names
// its request's page in a Querytrace-Page header, for the clients the page
// answers. A test server on a loopback address stands in for the
// application's own.
func Example() {
	db, err := querytrace.Open("sqlite3", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	app := http.NewServeMux() // the application's routes
	app.HandleFunc("GET /tables", func(w http.ResponseWriter, r *http.Request) {
		var n int
		db.QueryRowContext(r.Context(), "SELECT count(*) FROM sqlite_master").Scan(&n)
		fmt.Fprintln(w, n)
	})

	rec := &debugpage.Recorder{}
	mux := http.NewServeMux()
	page := &debugpage.Handler{Recorder: rec}
	mux.Handle("/", &querytrace.Handler{Next: app, OnFinish: rec.Observe, OnHeader: page.Link})
	mux.Handle("/debug/querytrace/", page)
	srv := httptest.NewServer(mux) // in an application: http.ListenAndServe("127.0.0.1:8080", mux)
	defer srv.Close()

	for _, path := range []string{"/tables", "/debug/querytrace/", "/debug/querytrace/stats"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.Status)
		if link := resp.Header.Get("Querytrace-Page"); link != "" {
			fmt.Println("  its page:", link)
		}
	}
	st := rec.Statistics(0)
	fmt.Printf("%d request recorded: %s ran %q\n", st.Requests, st.Stats[0].Route, st.Stats[0].Shape)
	// Output:
	// /tables 200 OK
	//   its page: /debug/querytrace/requests/1
	// /debug/querytrace/ 200 OK
	// /debug/querytrace/stats 200 OK
	// 1 request recorded: GET /tables ran "select count(*) from sqlite_master"
}

// An Archive saves the reports with a finding as files, for the querytrace
// command to serve, summarize and compare later. On OnReport it saves off
// the request's goroutine and may drop a report when it falls behind; on
// OnFinish, as here, it saves every report before the response ends.
func ExampleArchive() {
	dir, err := os.MkdirTemp("", "reports")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := querytrace.Open("sqlite3", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	app := http.NewServeMux()
	app.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) {
		db.QueryRowContext(r.Context(), "SELECT 1").Scan(new(int))
	})
	app.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		for id := range 3 {
			db.QueryRowContext(r.Context(), "SELECT ? + 1", id).Scan(new(int))
		}
	})

	arch := &debugpage.Archive{Dir: dir, Filter: debugpage.WithFindings, MaxFiles: 500}
	h := &querytrace.Handler{Next: app, OnFinish: arch.Observe}
	for _, path := range []string{"/fast", "/loop"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	if err := arch.Err(); err != nil {
		log.Fatal(err)
	}

	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		rep, err := querytrace.UnmarshalFile(data)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d statements, %d N+1\n", rep.Name, rep.Statements, len(rep.NPlusOne))
	}
	// Output:
	// GET /loop: 3 statements, 1 N+1
}

// LoadDir reads a directory of saved reports, copied from a server, for
// the pages to show: only its regular *.json files, within bounds, each
// file it skips counted by reason.
func ExampleRecorder_LoadDir() {
	dir, err := os.MkdirTemp("", "reports")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	arch := &debugpage.Archive{Dir: dir}
	for _, name := range []string{"GET /a", "GET /b"} {
		_, tr := querytrace.Start(context.Background(), name)
		arch.Save(tr.Finish())
	}
	os.WriteFile(filepath.Join(dir, "notes.json"), []byte(`{"todo": 1}`), 0o644)
	os.Mkdir(filepath.Join(dir, "old.json"), 0o755)

	rec := &debugpage.Recorder{}
	loaded, err := rec.LoadDir(dir, debugpage.DirLimits{MaxFileBytes: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.Files, "reports loaded")
	for _, s := range loaded.Skipped {
		fmt.Println("skipped", s.Count, "file:", s.Reason, s.Names)
	}
	// The pages, served by a Handler over rec, say which files they show.

	// Output:
	// 2 reports loaded
	// skipped 1 file: a directory [old.json]
	// skipped 1 file: not a querytrace report [notes.json]
}

// Behind a reverse proxy every client looks local, and on a shared host
// every local user is one: decide who may look.
func ExampleHandler_authorize() {
	password := "correct horse battery staple" // in an application, from its secret store
	page := &debugpage.Handler{
		Recorder: &debugpage.Recorder{},
		Authorize: func(r *http.Request) bool {
			user, pass, ok := r.BasicAuth()
			return ok && user == "ops" && pass == password
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/querytrace/", page)

	r := httptest.NewRequest("GET", "/debug/querytrace/", nil) // from 192.0.2.1, not a loopback address
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println("without a password:", w.Code)
	r.SetBasicAuth("ops", password)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println("with the password:", w.Code)
	// Output:
	// without a password: 403
	// with the password: 200
}

// Publish makes the statistics part of /debug/vars, for tools that read
// expvar; nothing is published without it.
func ExampleRecorder_Publish() {
	rec := &debugpage.Recorder{}
	rec.Publish("querytrace_example")

	_, tr := querytrace.Start(context.Background(), "job nightly")
	rec.Observe(nil, tr.Finish()) // as a Handler's OnFinish does for each request

	var st struct {
		Requests int `json:"requests"`
	}
	if err := json.Unmarshal([]byte(expvar.Get("querytrace_example").String()), &st); err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Requests, "request")
	// Output: 1 request
}
