package querytrace_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/faketb"
	"github.com/querytrace/querytrace/querytracetest"
)

// A literal form writes a value as one dialect reads it.
type literalForm struct {
	d     querytrace.Dialect
	name  string
	quote func(v string) string
}

var literalForms = []literalForm{
	{querytrace.DialectSQLite, "sqlite string", stdString},
	{querytrace.DialectSQLite, "sqlite double-quoted string", func(v string) string { return `"` + strings.ReplaceAll(v, `"`, `""`) + `"` }},
	{querytrace.DialectSQLite, "sqlite blob", hexBlob},
	{querytrace.DialectPostgres, "postgres string", stdString},
	{querytrace.DialectPostgres, "postgres E string", func(v string) string { return "E" + bsString(v, '\'') }},
	{querytrace.DialectPostgres, "postgres dollar quote", func(v string) string {
		if strings.Contains(v, "$q") {
			return stdString(v)
		}
		return "$q$" + v + "$q$"
	}},
	{querytrace.DialectPostgres, "postgres unicode string", func(v string) string {
		return "U&'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(v) + "'"
	}},
	{querytrace.DialectMySQL, "mysql string", func(v string) string { return bsString(v, '\'') }},
	{querytrace.DialectMySQL, "mysql double-quoted string", func(v string) string { return bsString(v, '"') }},
	{querytrace.DialectMySQL, "mysql hex", hexBlob},
	{querytrace.DialectMySQL, "mysql introduced string", func(v string) string { return "_utf8mb4" + bsString(v, '\'') }},
	{querytrace.DialectMySQLANSIQuotes, "mysql ANSI_QUOTES string", func(v string) string { return bsString(v, '\'') }},
}

func stdString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

func bsString(v string, q byte) string {
	return string(q) + strings.NewReplacer(`\`, `\\`, string(q), `\`+string(q)).Replace(v) + string(q)
}

func hexBlob(v string) string { return "x'" + hex.EncodeToString([]byte(v)) + "'" }

// Comment forms, with {C} for the text; which dialects read them as
// comments is in the name.
var commentForms = map[querytrace.Dialect][]string{
	querytrace.DialectSQLite:          {"/* {C} */", "-- {C}\n"},
	querytrace.DialectPostgres:        {"/* {C} */", "-- {C}\n", "/* a /* b */ {C} */"},
	querytrace.DialectMySQL:           mysqlComments,
	querytrace.DialectMySQLANSIQuotes: mysqlComments,
}

var mysqlComments = []string{"/* {C} */", "-- {C}\n", "# {C}\n", "/*!999999 {C} */", "/*M!999999 {C} */", "/*+ {C} */"}

// leakTemplates put {V} where a value goes and {C} where a comment may.
var leakTemplates = []string{
	"select count(*) from leak_t where a = {V} {C}",
	"select a from leak_t where b in ({V}, {V}) and a <> {V}",
	"{C} insert into leak_t (a, b) values ({V}, {V}), ({V}, 1)",
	"update leak_t set a = {V}, b = {V} {C} where b = {V}",
	"select lower({V}), {V} || a, b from leak_t where a like {V} escape '!'",
	"select case when a = {V} then {V} else b end from leak_t {C} limit 2",
	"select * from leak_t where a between {V} and {V} {C} order by a",
	"delete from leak_t where a is {V} or a is not {V}",
	"pragma key = {V}",
}

const marker = "qzx"

// markSecret puts the marker around every run of letters and digits of
// v, so that any word of v that reaches an output carries the marker.
func markSecret(v string) string {
	var b strings.Builder
	b.WriteString(marker)
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9'
		if !alnum {
			b.WriteString(marker)
		}
		b.WriteByte(c)
		if !alnum {
			b.WriteString(marker)
		}
	}
	b.WriteString(marker)
	return b.String()
}

func leakStatement(tmpl string, f literalForm, comment, secret string) string {
	s := strings.ReplaceAll(tmpl, "{V}", f.quote(secret))
	return strings.ReplaceAll(s, "{C}", comment)
}

// FuzzNoLiteralLeak runs statements with literals of every quoting form
// of the SQLite, PostgreSQL and MySQL dialects through a wrapped SQLite
// driver, once set to the statement's dialect and once to the generic
// one, and MySQL's also through go-sql-driver/mysql on the server of
// QUERYTRACE_MYSQL_DSN when it is set, inside a Handler, and fails when
// any part of a literal or comment reaches the text report, the JSON, the
// slog output, the Server-Timing header or a querytracetest failure
// message. The statements may fail to run; errors are fine.
func FuzzNoLiteralLeak(f *testing.F) {
	for _, s := range []string{"hunter2", "it's a \"secret\" \\' -- /* */ $q$ #", "x'2DD29CA851E7B5'", "\n' or 1=1 --", ""} {
		for i := range literalForms {
			f.Add(s, uint8(i), uint8(i), uint8(i))
		}
	}
	dbs := map[querytrace.Dialect]*sql.DB{}
	for _, d := range []querytrace.Dialect{querytrace.DialectGeneric, querytrace.DialectSQLite, querytrace.DialectPostgres, querytrace.DialectMySQL, querytrace.DialectMySQLANSIQuotes} {
		db, err := querytrace.Open("sqlite3", fmt.Sprintf("file:leakfuzz%d?mode=memory&cache=shared", d), querytrace.WithDialect(d))
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { db.Close() })
		if _, err := db.Exec("create table if not exists leak_t (a, b)"); err != nil {
			f.Fatal(err)
		}
		dbs[d] = db
	}
	// MySQL's forms also go to a MySQL server, through its driver, read
	// in the dialect querytrace guesses from it.
	var mysqlDB *sql.DB
	if dsn := os.Getenv("QUERYTRACE_MYSQL_DSN"); dsn != "" {
		var err error
		if mysqlDB, err = querytrace.Open("mysql", dsn); err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { mysqlDB.Close() })
		if _, err := mysqlDB.Exec("create table if not exists leak_t (a varchar(300), b varchar(300))"); err != nil {
			f.Fatal(err)
		}
	} else {
		f.Log("QUERYTRACE_MYSQL_DSN is not set: MySQL's forms run on SQLite only")
	}
	var (
		mu      sync.Mutex
		run     func(ctx context.Context) // the statements of the current input
		logs    strings.Builder
		reports []*querytrace.Report
	)
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(&querytrace.Handler{
		Next:         http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { run(r.Context()) }),
		Logger:       logger,
		WarnInterval: -1,
		OnFinish: func(_ *http.Request, rep *querytrace.Report) {
			mu.Lock()
			reports = append(reports, rep)
			mu.Unlock()
		},
	})
	f.Cleanup(srv.Close)

	f.Fuzz(func(t *testing.T, secret string, formPick, tmplPick, commentPick uint8) {
		form := literalForms[int(formPick)%len(literalForms)]
		comments := commentForms[form.d]
		cf := comments[int(commentPick)%len(comments)]
		marked := markSecret(secret)
		comment := strings.ReplaceAll(cf, "{C}", commentSafe(marked, cf))
		q := leakStatement(leakTemplates[int(tmplPick)%len(leakTemplates)], form, comment, marked)
		run = func(ctx context.Context) {
			// A literal of one dialect read by SQLite may end early and
			// leave code of the fuzzer's making: bound its time.
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			targets := []*sql.DB{dbs[form.d], dbs[querytrace.DialectGeneric]}
			if form.d == querytrace.DialectMySQL && mysqlDB != nil {
				targets = append(targets, mysqlDB)
			}
			for _, db := range targets {
				for range 3 {
					if rows, err := db.QueryContext(ctx, q); err == nil {
						rows.Close()
					}
				}
			}
		}
		mu.Lock()
		logs.Reset()
		reports = reports[:0]
		mu.Unlock()
		// Keep the table small, or every input runs slower than the last.
		for _, db := range dbs {
			db.Exec("delete from leak_t")
		}
		if mysqlDB != nil {
			mysqlDB.Exec("delete from leak_t")
		}

		resp, err := http.Get(srv.URL + "/leak")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		outputs := map[string]string{"Server-Timing": resp.Header.Get("Server-Timing")}

		fake := faketb.Run(t, "leak", func(tb testing.TB) {
			run(querytracetest.Budget(tb, context.Background(), querytracetest.AtMost(0)))
		})
		outputs["querytracetest"] = fake.Text()

		mu.Lock()
		outputs["slog"] = logs.String()
		for _, rep := range reports {
			outputs["text"] += rep.String()
			js, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			outputs["JSON"] += string(js)
			var b strings.Builder
			slog.New(slog.NewTextHandler(&b, nil)).Info("report", "report", rep)
			outputs["slog"] += b.String()
		}
		n := len(reports)
		mu.Unlock()
		if n == 0 || !strings.Contains(outputs["text"], "statement") {
			t.Fatalf("no report reached OnFinish (%d)", n)
		}
		hexMarker := hex.EncodeToString([]byte(marker))
		for name, out := range outputs {
			low := strings.ToLower(out)
			if strings.Contains(low, marker) || form.quote("") == "x''" && strings.Contains(low, hexMarker) {
				t.Fatalf("a literal (%s) reached the %s output:\n statement %q\n output %s", form.name, name, q, out)
			}
		}
	})
}

// commentSafe returns secret with what would end a comment of form
// removed, so that the whole secret is comment text.
func commentSafe(secret, form string) string {
	switch {
	case strings.HasPrefix(form, "/*"):
		return strings.NewReplacer("*/", "", "/*", "").Replace(secret)
	default:
		return strings.NewReplacer("\n", "", "\r", "").Replace(secret)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
