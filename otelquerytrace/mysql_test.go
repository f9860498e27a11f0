package otelquerytrace_test

import (
	"context"
	"net/http"
	"os"
	"testing"

	_ "github.com/go-sql-driver/mysql"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/otelquerytrace"
)

// TestMySQLSystemName asks the server of QUERYTRACE_MYSQL_DSN which
// database it is, and checks the answer against a tell of its own (MariaDB
// has the Aria engine, MySQL not), then exports a page's statements with
// and without the name given: db.system.name is the server's on the
// database spans and the metrics with it, and "mysql", the dialect's,
// without it.
func TestMySQLSystemName(t *testing.T) {
	dsn := os.Getenv("QUERYTRACE_MYSQL_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_MYSQL_DSN is not set: set it to a MySQL or MariaDB DSN such as root@tcp(127.0.0.1:3306)/test to run the MySQL test (.ci/run does)")
	}
	db, err := querytrace.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	name, err := otelquerytrace.MySQLSystemName(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var aria int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.ENGINES WHERE ENGINE = 'Aria'").Scan(&aria); err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{true: "mariadb", false: "mysql"}[aria > 0]; name != want {
		t.Fatalf("MySQLSystemName = %q, want %q", name, want)
	}

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			var n int
			if err := db.QueryRowContext(r.Context(), "SELECT ? + 1", i).Scan(&n); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}
	})
	for _, tt := range []struct {
		opts []otelquerytrace.Option
		want string
	}{
		{[]otelquerytrace.Option{otelquerytrace.WithDialectSystemName(querytrace.DialectMySQL, name)}, name},
		{nil, "mysql"},
	} {
		s := newSDK(t)
		srv := serve(t, s, s.bridge(append(tt.opts, otelquerytrace.WithDBSpans(20))...), page)
		get(t, srv, "/mysql")
		spans := s.spans.Ended()
		ds := dbSpans(spans, requestSpan(t, spans))
		if len(ds) == 0 {
			t.Fatal("no database span")
		}
		for _, d := range ds {
			if got := attrs(d.Attributes())[semconv.DBSystemNameKey].AsString(); got != tt.want {
				t.Errorf("database span %q: db.system.name %q, want %q", d.Name(), got, tt.want)
			}
		}
		ps := points(s.metrics(t), "db.client.operation.duration")
		if len(ps) == 0 || len(where(ps, semconv.DBSystemNameKey.String(tt.want))) != len(ps) {
			t.Errorf("db.client.operation.duration: %d points, want all with db.system.name %q", len(ps), tt.want)
		}
	}
}
