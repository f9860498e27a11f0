package sqlnorm

import "testing"

// TestMySQLSyntax checks the shapes of the MySQL syntax that the other
// dialects lack, in both of MySQL's readings of double quotes, and that
// each shape reads back as itself. The root package's
// TestMySQLDialectOnServer runs the same kinds of statements on a server.
func TestMySQLSyntax(t *testing.T) {
	tests := []struct {
		d           Dialect
		query, want string
	}{
		{MySQL, `select 'it\'s', "a \" b", 'x''y' from t`, "select ?, ?, ? from t"},
		{MySQL, `select "a" from t where b = "x"`, "select ? from t where b = ?"},
		// NO_BACKSLASH_ESCAPES: a text that the default reading leaves in
		// an open string, and that reads whole without backslash escapes.
		{MySQL, `select * from t where a = 'C:\' and b = 'hunter2'`, "select * from t where a = ? and b = ?"},
		{MySQL, `select * from t where a = "C:\" and b = "hunter2" limit 1`, "select * from t where a = ? and b = ? limit ?"},
		{MySQL, `select * from t where a = _utf8mb4'C:\' and b = 'hunter''s\'`, "select * from t where a = ? and b = ?"},
		{MySQLANSIQuotes, `select "a" from "t" where b = 'C:\' or c = 'hunter2'`, `select "a" from "t" where b = ? or c = ?`},
		// ... and one that reads whole with them stays as it was.
		{MySQL, `select * from t where a = 'it\'s' and b = 'hunter2'`, "select * from t where a = ? and b = ?"},
		{MySQLANSIQuotes, `select "a" from "t" where "b" = 'it\'s'`, `select "a" from "t" where "b" = ?`},
		{MySQLANSIQuotes, `select "a""b" from t where c = "d"`, `select "a""b" from t where c = "d"`},
		{MySQL, "select `a``b`, `c` from `db`.`t`", "select `a``b`, `c` from `db`.`t`"},
		{MySQL, "select a # note\n, b -- note\n, c /* note */ from t", "select a, b, c from t"},
		{MySQL, "select 5--1, 5-- 1\n from t", "select ? - ?, ? from t"},
		{MySQL, "select /*!40101 SQL_NO_CACHE */ a from t", "select a from t"},
		{MySQL, "select /*!50700 a, */ b from t", "select b from t"},
		{MySQL, "select /*M!100301 a, */ b from t", "select b from t"},
		{MySQL, "select /*! STRAIGHT_JOIN */ a from t", "select a from t"},
		{MySQL, "select /*+ MAX_EXECUTION_TIME(1000) NO_INDEX_MERGE(t) */ a from t", "select a from t"},
		{MySQL, "select /*!40101 a=*/ 1", "select ?"},
		{MySQL, "select /*! 'a*/ 'b' */ 1", "select …"},
		{Generic, "select /*! 'a*/ 'b' */ 1", "select …"},
		{Generic, "select /*!40101 a */ 1", "select ?"},
		{MySQL, "select @x := 1, @`y`, @@sql_mode, @@session.time_zone, @@GLOBAL.max_connections",
			"select @x := ?, @ `y`, @@sql_mode, @@session.time_zone, @@global.max_connections"},
		{MySQL, "select X'0A1b', x'', 0x1F, b'0101', B'', 0b11 from t", "select ?, ?, ?, ?, ?, ? from t"},
		{MySQL, "select 0X1F, 0o17, 0B1, 1e from t", "select `0X1F`, 0o17, `0B1`, 1e from t"},
		{MySQL, "release 0B01", "release ?"}, // a savepoint name, hidden as 1st_sp is
		{MySQL, `select _utf8mb4'a', _binary'\\x', _latin1"b", _utf8mb4 'c' collate utf8mb4_bin from t`,
			"select ?, ?, ?, _utf8mb4 ? collate utf8mb4_bin from t"},
		{MySQLANSIQuotes, `select _utf8mb4'a', _latin1"b" from t`, `select ?, _latin1 "b" from t`},
		{MySQL, "select * from t where a = ? and b in (?, ?, ?) limit ?, ?", "select * from t where a = ? and b in (?) limit ?, ?"},
		{MySQL, "select * from t limit 10, 20", "select * from t limit ?, ?"},
		{MySQL, "insert into t (a, b) values (1, 'x'), (2, 'y') on duplicate key update b = values(b), c = c + 1",
			"insert into t(a, b) values (?, ?) on duplicate key update b = values (b), c = c + ?"},
		{MySQL, "insert into t (a) values (?) as new on duplicate key update a = new.a",
			"insert into t(a) values (?) as new on duplicate key update a = new.a"},
		{MySQL, "REPLACE INTO t (a, b) VALUES (1, 'x')", "replace into t(a, b) values (?, ?)"},
		{MySQL, "REPLACE t SET a = 1, b = 'x'", "replace t set a = ?, b = ?"},
		{MySQL, "select 1st_col from 2nd_table", "select 1st_col from 2nd_table"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.query, tt.d); got != tt.want {
			t.Errorf("Normalize(%q, %v)\n got %q\nwant %q", tt.query, tt.d, got, tt.want)
		}
		if got := Normalize(tt.want, tt.d); got != tt.want {
			t.Errorf("not idempotent (%v): %q -> %q", tt.d, tt.want, got)
		}
	}
}

// TestStatements checks the count of statements in a shape.
func TestStatements(t *testing.T) {
	for shape, want := range map[string]int{
		"":                   1,
		"select ?":           1,
		"select ?; select ?": 2,
		"delete from t; insert into t(a) values (?); update t set a = ?": 3,
		"select `a;b` from t":    1,
		`select "a;b"; select ?`: 2,
	} {
		if got := Statements(shape); got != want {
			t.Errorf("Statements(%q) = %d, want %d", shape, got, want)
		}
	}
}
