package querytrace_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/querytrace/querytrace"
)

// mysqlDSN returns QUERYTRACE_MYSQL_DSN with edit applied to its
// configuration, or skips the test when it is unset.
func mysqlDSN(t testing.TB, edit func(*mysql.Config)) string {
	t.Helper()
	dsn := os.Getenv("QUERYTRACE_MYSQL_DSN")
	if dsn == "" {
		t.Skip("QUERYTRACE_MYSQL_DSN is not set: set it to a MySQL or MariaDB DSN such as root@tcp(127.0.0.1:3306)/test to run the MySQL tests (.ci/run does)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("QUERYTRACE_MYSQL_DSN: %v", err)
	}
	if edit != nil {
		edit(cfg)
	}
	return cfg.FormatDSN()
}

// openMySQL opens QUERYTRACE_MYSQL_DSN, edited, through querytrace, with
// the statements in setup run first.
func openMySQL(t testing.TB, edit func(*mysql.Config), opts []querytrace.Option, setup ...string) *sql.DB {
	t.Helper()
	db, err := querytrace.Open("mysql", mysqlDSN(t, edit), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range setup {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db
}

// A dialectCase is one statement in several versions that differ only in
// their values, all of which the server must accept.
type dialectCase struct {
	name     string
	versions []string
}

// TestMySQLDialectOnServer runs the MySQL syntax the dialect reads on a
// real server through querytrace: each statement's versions, which
// differ only in values, must all run, fall into one group of one shape,
// and leave no trace of their values (marked "qzx", in hex 717a78) in the
// report's text or JSON. Different statements keep different shapes.
func TestMySQLDialectOnServer(t *testing.T) {
	setup := []string{
		"DROP TABLE IF EXISTS qt_dialect",
		"CREATE TABLE qt_dialect (a INT PRIMARY KEY, b VARCHAR(200), `c d` INT)",
		"INSERT INTO qt_dialect (a, b, `c d`) VALUES (1, 'one', 1), (2, 'two', 2)",
	}
	cases := []dialectCase{
		{name: "strings with backslash escapes", versions: []string{
			`select a from qt_dialect where b = 'qzx it\'s' or b = "qzx \"q\" \\"`,
			`select a from qt_dialect where b = 'qzx''s' or b = "qzx"`,
			`select a from qt_dialect where b = '' or b = ""`,
		}},
		{name: "backticks and comments", versions: []string{
			"select `a`, `c d` /* qzx */ from `qt_dialect` # qzx\nwhere `b` = 'qzx' -- qzx\n",
			"select `a`, `c d` from `qt_dialect` where `b` = 'qzx2'",
		}},
		{name: "versioned comments and hints", versions: []string{
			"select /*!40101 sql_no_cache */ /*+ max_execution_time(1000) */ a /*M!100100 , 1 + 41 */ from qt_dialect where a > 7",
			"select /*!40101 sql_no_cache */ a /*M!100100 , 5 + 6 */ from qt_dialect where a > -1",
		}},
		{name: "user and system variables", versions: []string{
			"select @qt_v := 'qzx', @@sql_mode, @@session.time_zone from qt_dialect where a > 5",
			"select @qt_v := 'qzx2', @@sql_mode, @@session.time_zone from qt_dialect where a > 6",
		}},
		{name: "hex, bit and introduced strings", versions: []string{
			"select X'717a78', 0x717a78, b'0101', _utf8mb4'qzx', _binary'qzx\\'' from qt_dialect",
			"select x'717a7831', 0x717a7832, B'1', _utf8mb4'', _binary'' from qt_dialect",
		}},
		{name: "placeholders and LIMIT ?, ?", versions: []string{
			"select a from qt_dialect where b <> ? order by a limit ?, ?",
			"select a from qt_dialect where b <> 'qzx' order by a limit 0, 10",
		}},
		{name: "INSERT ... ON DUPLICATE KEY UPDATE", versions: []string{
			"insert into qt_dialect (a, b) values (3, 'qzx') on duplicate key update b = values(b)",
			"insert into qt_dialect (a, b) values (4, 'qzx''s') on duplicate key update b = values(b)",
		}},
		{name: "REPLACE", versions: []string{
			"replace into qt_dialect (a, b) values (5, 'qzx'), (6, 'qzx2')",
			"replace into qt_dialect (a, b) values (7, '')",
		}},
	}
	db := openMySQL(t, nil, nil, setup...)
	shapes := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, tr := querytrace.Start(context.Background(), c.name)
			for _, v := range c.versions {
				var args []any
				if strings.Contains(v, "?") {
					args = []any{"qzx", 0, 10}
				}
				runStatement(t, ctx, db, v, args...)
			}
			checkOneShape(t, tr.Finish(), len(c.versions), shapes, c.name)
		})
	}

	// With ANSI_QUOTES, "..." are names: DialectMySQLANSIQuotes keeps
	// them; the default reading hides them as values, and leaks nothing.
	ansi := func(cfg *mysql.Config) {
		cfg.Params = map[string]string{"sql_mode": "'ANSI_QUOTES,STRICT_TRANS_TABLES'"}
	}
	versions := []string{
		`select "a", "c d" from "qt_dialect" where "b" = 'qzx it\'s' or b = _utf8mb4'qzx'`,
		`select "a", "c d" from "qt_dialect" where "b" = '' or b = _utf8mb4'qzx2'`,
	}
	for _, tt := range []struct {
		name  string
		opts  []querytrace.Option
		shape string
	}{
		{"ANSI_QUOTES read as such", []querytrace.Option{querytrace.WithDialect(querytrace.DialectMySQLANSIQuotes)},
			`select "a", "c d" from "qt_dialect" where "b" = ? or b = ?`},
		{"ANSI_QUOTES read by default", nil, `select ?, ? from ? where ? = ? or b = ?`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := openMySQL(t, ansi, tt.opts)
			ctx, tr := querytrace.Start(context.Background(), tt.name)
			for _, v := range versions {
				runStatement(t, ctx, db, v)
			}
			if shape := checkOneShape(t, tr.Finish(), len(versions), nil, tt.name); shape != tt.shape {
				t.Errorf("shape %q, want %q", shape, tt.shape)
			}
		})
	}
}

// TestMySQLNoBackslashEscapesOnServer: under NO_BACKSLASH_ESCAPES a
// backslash is a character like any other, so 'C:\' is a whole string. The
// default reading, with backslash escapes, would run on past its quote;
// where that reading cannot end the statement (a quote left open), the
// text is read again without them, so the strings after it stay values.
// Arguments interpolated by the driver (interpolateParams) take the same
// path: under the mode it doubles quotes instead of escaping them.
func TestMySQLNoBackslashEscapesOnServer(t *testing.T) {
	setup := []string{
		"DROP TABLE IF EXISTS qt_nobs",
		"CREATE TABLE qt_nobs (a INT PRIMARY KEY, b VARCHAR(200))",
		"INSERT INTO qt_nobs (a, b) VALUES (1, 'one')",
	}
	for _, interpolate := range []bool{false, true} {
		t.Run(fmt.Sprintf("interpolateParams=%v", interpolate), func(t *testing.T) {
			db := openMySQL(t, func(cfg *mysql.Config) {
				cfg.Params = map[string]string{"sql_mode": "'NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'"}
				cfg.InterpolateParams = interpolate
			}, nil, setup...)
			ctx, tr := querytrace.Start(context.Background(), "no backslash escapes")
			for _, v := range []string{
				`select a from qt_nobs where b = 'C:\' or b = 'qzx'`,
				`select a from qt_nobs where b = 'D:\qzx\' or b = 'qzx2'`,
				`select a from qt_nobs where b = '' or b = 'qzx''s\'`,
			} {
				runStatement(t, ctx, db, v)
			}
			runStatement(t, ctx, db, `select a from qt_nobs where b = ? or b = ?`, `C:\`, `qzx's\`)
			r := tr.Finish()
			want := map[string]bool{
				`select a from qt_nobs where b = ? or b = ?`: true,
			}
			for _, g := range r.Groups {
				if !want[g.Shape] {
					t.Errorf("shape %q, want one of %v", g.Shape, want)
				}
			}
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if out := r.String() + string(js); strings.Contains(strings.ToLower(out), "qzx") {
				t.Errorf("a value is in the report:\n%s", r)
			}
		})
	}
}

// runStatement runs q on db, reading its rows, and fails the test on an
// error: every statement of TestMySQLDialectOnServer is valid MySQL.
func runStatement(t *testing.T, ctx context.Context, db *sql.DB, q string, args ...any) {
	t.Helper()
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// checkOneShape checks that r holds n statements of one shape, each run
// with values of its own (a query with arguments is also a prepare of the
// same shape), none of them in the report, and that the shape is no other
// case's (shapes maps shapes to the case names seen so far). It returns
// the shape.
func checkOneShape(t *testing.T, r *querytrace.Report, n int, shapes map[string]string, name string) string {
	t.Helper()
	shape := ""
	for _, g := range r.Groups {
		if shape != "" && g.Shape != shape {
			t.Fatalf("shapes %q and %q, want one:\n%s", shape, g.Shape, r)
		}
		shape = g.Shape
		if g.Kind.IsStatement() && g.Distinct != g.Count {
			t.Errorf("group %d ran %d times with %d argument sets, want each its own:\n%s", g.ID, g.Count, g.Distinct, r)
		}
	}
	if r.Statements != n {
		t.Errorf("%d statements, want %d:\n%s", r.Statements, n, r)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{r.String(), string(js)} {
		if low := strings.ToLower(out); strings.Contains(low, "qzx") || strings.Contains(low, "717a78") {
			t.Errorf("a value reached the report:\n%s", out)
		}
	}
	if shapes != nil {
		if other, ok := shapes[shape]; ok {
			t.Errorf("%s and %s share the shape %q", other, name, shape)
		}
		shapes[shape] = name
	}
	t.Logf("%s: %s", name, shape)
	return shape
}

// A logLine is a row of the server's general log.
type logLine struct{ command, argument string }

// TestMySQLCountsMatchServer runs the same work through querytrace and
// counts it twice: in querytrace's report, and in the server's general
// log, the commands the server received on the connection. With
// interpolateParams off, a query with arguments is prepared, run and
// closed (Prepare, Execute, Close stmt); with it on, the values are
// written into the text and it is one Query. A transaction's begin and
// end are Query commands too. A multiStatements text is one Query
// command that runs several statements: querytrace counts it once in
// Count and each statement in Statements, as the server's Questions
// status counts them.
func TestMySQLCountsMatchServer(t *testing.T) {
	dsn := mysqlDSN(t, nil)
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	ac, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	// The general log is the server's: one test at a time, of any
	// process or checkout, turns it on, and restores it after.
	var locked int
	if err := ac.QueryRowContext(ctx, "SELECT GET_LOCK('querytrace_general_log', 300)").Scan(&locked); err != nil || locked != 1 {
		t.Fatalf("GET_LOCK: %v (%d)", err, locked)
	}
	defer ac.ExecContext(ctx, "DO RELEASE_LOCK('querytrace_general_log')")
	var wasOn int
	var output string
	if err := ac.QueryRowContext(ctx, "SELECT @@global.general_log, @@global.log_output").Scan(&wasOn, &output); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SET GLOBAL log_output = 'TABLE'", "SET GLOBAL general_log = 1"} {
		if _, err := ac.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v (the DSN's user needs the privilege to turn on the general log)", s, err)
		}
	}
	defer func() {
		restore := []string{"SET GLOBAL general_log = " + fmt.Sprint(wasOn), "SET GLOBAL log_output = '" + output + "'"}
		if wasOn == 0 {
			// The log was off before: it holds this test's moments only.
			restore = append(restore, "TRUNCATE TABLE mysql.general_log")
		}
		for _, s := range restore {
			if _, err := ac.ExecContext(ctx, s); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
	}()
	if _, err := admin.Exec("DROP TABLE IF EXISTS qt_counts"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE TABLE qt_counts (id INT PRIMARY KEY, v VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}

	work := func(t *testing.T, ctx context.Context, db *sql.DB) {
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err := db.ExecContext(ctx, "DELETE FROM qt_counts")
		must(err)
		for i := range 3 {
			_, err := db.ExecContext(ctx, "INSERT INTO qt_counts (id, v) VALUES (?, ?)", i, "v")
			must(err)
		}
		var n int
		must(db.QueryRowContext(ctx, "SELECT count(*) FROM qt_counts WHERE id >= ?", 0).Scan(&n))
		must(db.QueryRowContext(ctx, "SELECT count(*) FROM qt_counts").Scan(&n))
		st, err := db.PrepareContext(ctx, "SELECT v FROM qt_counts WHERE id = ?")
		must(err)
		for i := range 3 {
			var v string
			must(st.QueryRowContext(ctx, i).Scan(&v))
		}
		must(st.Close())
		tx, err := db.BeginTx(ctx, nil)
		must(err)
		_, err = tx.ExecContext(ctx, "UPDATE qt_counts SET v = ? WHERE id = ?", "w", 1)
		must(err)
		must(tx.Commit())
		tx, err = db.BeginTx(ctx, nil)
		must(err)
		_, err = tx.ExecContext(ctx, "DELETE FROM qt_counts WHERE id = 2")
		must(err)
		must(tx.Rollback())
	}
	multi := func(t *testing.T, ctx context.Context, db *sql.DB) {
		if _, err := db.ExecContext(ctx, "DELETE FROM qt_counts WHERE id > 10; INSERT INTO qt_counts (id, v) VALUES (11, 'a'); UPDATE qt_counts SET v = 'b' WHERE id = 11"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		edit func(*mysql.Config)
		run  func(*testing.T, context.Context, *sql.DB)
		// statements is how many statements the server ran, which the
		// general log does not say for a multiStatements text.
		statements int
	}{
		{"prepared", func(c *mysql.Config) { c.InterpolateParams = false }, work, 0},
		{"interpolateParams", func(c *mysql.Config) { c.InterpolateParams = true }, work, 0},
		{"multiStatements", func(c *mysql.Config) { c.MultiStatements = true }, multi, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := querytrace.Open("mysql", mysqlDSN(t, tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// One connection, whose id scopes the log to this test.
			db.SetMaxOpenConns(1)
			var id int64
			if err := db.QueryRow("SELECT CONNECTION_ID()").Scan(&id); err != nil {
				t.Fatal(err)
			}
			var questions0 int64
			var name string
			if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Questions'").Scan(&name, &questions0); err != nil {
				t.Fatal(err)
			}
			mark := func(m string) {
				if _, err := db.Exec("DO '" + m + "'"); err != nil {
					t.Fatal(err)
				}
			}
			mark("querytrace start")
			tctx, tr := querytrace.Start(context.Background(), tt.name)
			tt.run(t, tctx, db)
			r := tr.Finish()
			mark("querytrace end")
			var questions1 int64
			if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Questions'").Scan(&name, &questions1); err != nil {
				t.Fatal(err)
			}

			lines := generalLog(t, ac, id)
			var statements, prepares, begins, commits, rollbacks, queries int
			var seen []string
			for _, l := range lines {
				seen = append(seen, l.command+": "+l.argument)
				switch arg := strings.ToUpper(strings.TrimSpace(l.argument)); {
				case l.command == "Prepare":
					prepares++
				case l.command == "Execute":
					statements++
				case l.command != "Query":
				case arg == "START TRANSACTION":
					begins++
				case arg == "COMMIT":
					commits++
				case arg == "ROLLBACK":
					rollbacks++
				default:
					statements++
					queries++
				}
			}
			log := strings.Join(seen, "\n")
			want := struct{ statements, prepares, begins, commits, rollbacks int }{statements, prepares, begins, commits, rollbacks}
			if tt.statements > 0 {
				if queries != 1 {
					t.Fatalf("the server received %d queries, want one multiStatements text:\n%s", queries, log)
				}
				want.statements = tt.statements
				if g := r.Groups; len(g) != 1 || g[0].Count != 1 {
					t.Errorf("want one group run once:\n%s", r)
				}
			}
			got := struct{ statements, prepares, begins, commits, rollbacks int }{r.Statements, r.Prepares, r.Begins, r.Commits, r.Rollbacks}
			if got != want {
				t.Errorf("querytrace counted %+v, the server's general log %+v:\n%s\n%s", got, want, log, r)
			}
			// Questions counts the statements the server ran, the two
			// marks, and the SHOW that reads it.
			if q := int(questions1-questions0) - 3; q != r.Statements+r.Begins+r.Commits+r.Rollbacks {
				t.Errorf("the server's Questions rose by %d statements, querytrace counted %d statements, %d begins, %d commits, %d rollbacks", q, r.Statements, r.Begins, r.Commits, r.Rollbacks)
			}
			t.Logf("%s: %+v; Questions +%d", tt.name, got, questions1-questions0-3)
		})
	}
}

// generalLog returns the general log's rows of connection id between the
// marks "querytrace start" and "querytrace end".
func generalLog(t *testing.T, c *sql.Conn, id int64) []logLine {
	t.Helper()
	// The log is a CSV table, read in the order it was written.
	rows, err := c.QueryContext(context.Background(), "SELECT command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log WHERE thread_id = ?", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []logLine
	in := false
	for rows.Next() {
		var l logLine
		if err := rows.Scan(&l.command, &l.argument); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(l.argument, "'querytrace start'"):
			in = true
		case strings.Contains(l.argument, "'querytrace end'"):
			return lines
		case in:
			lines = append(lines, l)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("the general log of connection %d lacks the marks (%d rows read)", id, len(lines))
	return nil
}
