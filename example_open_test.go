package querytrace_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"

	_ "github.com/mattn/go-sqlite3"
	"github.com/querytrace/querytrace"
)

// Open stands in for sql.Open, and Middleware gives each request a trace
// of its own and a Server-Timing header.
func ExampleOpen() {
	db, err := querytrace.Open("sqlite3", "file:example_open?mode=memory&cache=shared") // or ("pgx", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as db
	if _, err := db.Exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /entries", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM entries`).Scan(&n); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, n, "entries")
	})
	srv := httptest.NewServer(querytrace.Middleware(mux)) // in a service: http.ListenAndServe(addr, querytrace.Middleware(mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/entries")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	// The duration varies from run to run; the description does not.
	fmt.Println(regexp.MustCompile(`dur=[0-9.]+`).ReplaceAllString(resp.Header.Get("Server-Timing"), "dur=…"))
	// Output:
	// 0 entries
	// db;dur=…;desc="1 statement"
}
