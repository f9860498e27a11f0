// Command behaviour runs one script of database/sql calls over a fake
// driver with every combination of the optional interfaces of connections,
// statements and rows, once through database/sql directly and once through
// querytrace, and reports every difference in results, errors or the calls
// the driver saw. TestBehaviourEveryCombination generates the fake's types
// (combos.go) and runs it.
package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/querytrace/querytrace"
)

// A step is one part of the script; it returns what the application saw.
type step struct {
	name string
	run  func(r *recorder, db *sql.DB) string
}

func outcome(v any, err error) string {
	if err != nil {
		return fmt.Sprintf("error %q", err)
	}
	return fmt.Sprint(v)
}

func result(res sql.Result, err error) string {
	if err != nil {
		return outcome(nil, err)
	}
	n, err1 := res.RowsAffected()
	id, err2 := res.LastInsertId()
	return fmt.Sprint(n, err1, id, err2)
}

// read reads every result set of rows, with their column types.
func read(rows *sql.Rows, err error) string {
	if err != nil {
		return outcome(nil, err)
	}
	defer rows.Close()
	var b strings.Builder
	for {
		types, err := rows.ColumnTypes()
		if err != nil {
			fmt.Fprintf(&b, "types %q;", err)
		}
		for _, t := range types {
			l, lok := t.Length()
			n, nok := t.Nullable()
			p, s, pok := t.DecimalSize()
			fmt.Fprintf(&b, "(%s %v %q %d %v %v %v %d %d %v)", t.Name(), t.ScanType(), t.DatabaseTypeName(), l, lok, n, nok, p, s, pok)
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				fmt.Fprintf(&b, " scan %q", err)
			}
			fmt.Fprint(&b, " ", id, name)
		}
		if !rows.NextResultSet() {
			break
		}
		b.WriteString(" | next set")
	}
	fmt.Fprintf(&b, " err %v", rows.Err())
	return b.String()
}

var bg = context.Background()

// canceled is a context that is done already.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	return ctx
}

// withConn runs f on one connection of db, reserved with db.Conn.
func withConn(db *sql.DB, f func(c *sql.Conn) string) string {
	c, err := db.Conn(bg)
	if err != nil {
		return outcome(nil, err)
	}
	defer c.Close()
	return f(c)
}

var script = []step{
	{"exec", func(r *recorder, db *sql.DB) string { return result(db.ExecContext(bg, "exec")) }},
	{"exec args", func(r *recorder, db *sql.DB) string {
		return result(db.ExecContext(bg, "exec", 1, "two", 3.5, nil, []byte("five"), true, time.Unix(7, 0).UTC()))
	}},
	{"exec named", func(r *recorder, db *sql.DB) string {
		return result(db.ExecContext(bg, "exec", sql.Named("a", 1), 2))
	}},
	{"exec checked", func(r *recorder, db *sql.DB) string {
		return result(db.ExecContext(bg, "exec", point{1, 2}, "skip", "remove", "keep", 5))
	}},
	{"exec rejected", func(r *recorder, db *sql.DB) string { return result(db.ExecContext(bg, "exec", "reject")) }},
	{"exec context-less", func(r *recorder, db *sql.DB) string { return result(db.Exec("exec", 1)) }},
	{"query", func(r *recorder, db *sql.DB) string { return read(db.QueryContext(bg, "query")) }},
	{"query args", func(r *recorder, db *sql.DB) string { return read(db.QueryContext(bg, "query 3", 1, "x")) }},
	{"query named", func(r *recorder, db *sql.DB) string {
		return read(db.QueryContext(bg, "query 1", sql.Named("n", 1)))
	}},
	{"query row", func(r *recorder, db *sql.DB) string {
		var id int64
		var name string
		err := db.QueryRowContext(bg, "query 1", 9).Scan(&id, &name)
		return outcome(fmt.Sprint(id, name), err)
	}},
	{"query row none", func(r *recorder, db *sql.DB) string {
		var id int64
		var name string
		return outcome(id, db.QueryRowContext(bg, "query 0").Scan(&id, &name))
	}},
	{"result sets", func(r *recorder, db *sql.DB) string { return read(db.QueryContext(bg, "query 2 1 0 3")) }},
	{"next set early", func(r *recorder, db *sql.DB) string {
		rows, err := db.QueryContext(bg, "query 3 2")
		if err != nil {
			return outcome(nil, err)
		}
		more := rows.NextResultSet()
		return fmt.Sprint(more, " ", read(rows, nil))
	}},
	{"rows error", func(r *recorder, db *sql.DB) string {
		r.failNext("rows.Next", nil, errors.New("row broke"))
		return read(db.QueryContext(bg, "query 5"))
	}},
	{"prepared", func(r *recorder, db *sql.DB) string {
		s, err := db.PrepareContext(bg, "stmt 2")
		if err != nil {
			return outcome(nil, err)
		}
		defer s.Close()
		return result(s.ExecContext(bg, 1, "x")) + " " + result(s.ExecContext(bg, 1)) + " " +
			read(s.QueryContext(bg, "bad", 2)) + " " + read(s.QueryContext(bg, point{3, 4}, "skip")) + " " +
			result(s.ExecContext(bg, sql.Named("a", 1), "remove"))
	}},
	{"prepared any count", func(r *recorder, db *sql.DB) string {
		s, err := db.PrepareContext(bg, "stmt")
		if err != nil {
			return outcome(nil, err)
		}
		defer s.Close()
		return result(s.Exec(1, 2, 3)) + " " + read(s.Query()) + " " + result(s.ExecContext(bg, "reject"))
	}},
	{"tx", func(r *recorder, db *sql.DB) string {
		tx, err := db.BeginTx(bg, nil)
		if err != nil {
			return outcome(nil, err)
		}
		out := result(tx.ExecContext(bg, "exec", 1)) + " " + read(tx.QueryContext(bg, "query 1"))
		s, err := tx.PrepareContext(bg, "stmt 1")
		out += " " + outcome(s != nil, err)
		if err == nil {
			out += " " + result(s.ExecContext(bg, 4))
		}
		return out + " " + outcome("commit", tx.Commit())
	}},
	{"tx options", func(r *recorder, db *sql.DB) string {
		var out []string
		for _, o := range []*sql.TxOptions{{Isolation: sql.LevelSerializable}, {ReadOnly: true}, {Isolation: sql.LevelDefault}} {
			tx, err := db.BeginTx(bg, o)
			out = append(out, outcome("begun", err))
			if err == nil {
				out = append(out, outcome("rollback", tx.Rollback()))
			}
		}
		return strings.Join(out, " ")
	}},
	{"ping", func(r *recorder, db *sql.DB) string { return outcome("ping", db.PingContext(bg)) }},
	{"ping bad conn", func(r *recorder, db *sql.DB) string {
		r.failNext("Ping", driver.ErrBadConn)
		return outcome("ping", db.PingContext(bg))
	}},
	{"conn raw", func(r *recorder, db *sql.DB) string {
		return withConn(db, func(c *sql.Conn) string {
			err := c.Raw(func(dc any) error {
				r.call("raw", querytrace.Unwrap(dc).(interface{ ID() string }).ID())
				return nil
			})
			return outcome("raw", err) + " " + result(c.ExecContext(bg, "exec", 1))
		})
	}},
	{"reset refused", func(r *recorder, db *sql.DB) string {
		r.failNext("ResetSession", driver.ErrBadConn)
		return result(db.ExecContext(bg, "exec"))
	}},
	{"invalid", func(r *recorder, db *sql.DB) string {
		r.failNext("IsValid", errors.New("invalid"))
		return result(db.ExecContext(bg, "exec")) + " " + result(db.ExecContext(bg, "exec"))
	}},
	{"exec bad conn", func(r *recorder, db *sql.DB) string {
		r.failNext("Exec", driver.ErrBadConn, driver.ErrBadConn)
		return result(db.ExecContext(bg, "exec", 1))
	}},
	{"exec bad conn always", func(r *recorder, db *sql.DB) string {
		r.failNext("Exec", driver.ErrBadConn, driver.ErrBadConn, driver.ErrBadConn)
		return result(db.ExecContext(bg, "exec", 1))
	}},
	{"exec skip", func(r *recorder, db *sql.DB) string {
		r.failNext("Exec", driver.ErrSkip)
		return result(db.ExecContext(bg, "exec", 1))
	}},
	{"query skip", func(r *recorder, db *sql.DB) string {
		r.failNext("Query", driver.ErrSkip)
		return read(db.QueryContext(bg, "query 1", 1))
	}},
	{"query bad conn", func(r *recorder, db *sql.DB) string {
		r.failNext("Query", driver.ErrBadConn)
		return read(db.QueryContext(bg, "query 1"))
	}},
	{"prepare bad conn", func(r *recorder, db *sql.DB) string {
		r.failNext("Prepare", driver.ErrBadConn)
		s, err := db.PrepareContext(bg, "stmt 0")
		if err == nil {
			s.Close()
		}
		return outcome("prepared", err)
	}},
	{"stmt exec bad conn", func(r *recorder, db *sql.DB) string {
		r.failNext("stmt.Exec", driver.ErrBadConn)
		s, err := db.PrepareContext(bg, "stmt 1")
		if err != nil {
			return outcome(nil, err)
		}
		defer s.Close()
		return result(s.ExecContext(bg, 1))
	}},
	{"begin bad conn", func(r *recorder, db *sql.DB) string {
		r.failNext("Begin", driver.ErrBadConn)
		tx, err := db.BeginTx(bg, nil)
		if err == nil {
			err = tx.Commit()
		}
		return outcome("committed", err)
	}},
	{"commit fails", func(r *recorder, db *sql.DB) string {
		r.failNext("Commit", errors.New("commit refused"))
		tx, err := db.BeginTx(bg, nil)
		if err == nil {
			err = tx.Commit()
		}
		return outcome("committed", err)
	}},
	{"driver error", func(r *recorder, db *sql.DB) string {
		r.failNext("Exec", errors.New("syntax error"))
		r.failNext("Query", errors.New("no such table"))
		return result(db.ExecContext(bg, "exec")) + " " + read(db.QueryContext(bg, "query"))
	}},
	{"canceled on conn", func(r *recorder, db *sql.DB) string {
		return withConn(db, func(c *sql.Conn) string {
			ctx := canceled()
			out := result(c.ExecContext(ctx, "exec", 1)) + " " + read(c.QueryContext(ctx, "query 1"))
			_, err := c.PrepareContext(ctx, "stmt 0")
			out += " " + outcome("prepared", err)
			_, err = c.BeginTx(ctx, nil)
			out += " " + outcome("begun", err)
			s, err := c.PrepareContext(bg, "stmt 1")
			if err != nil {
				return out + " " + outcome(nil, err)
			}
			defer s.Close()
			return out + " " + result(s.ExecContext(ctx, 1)) + " " + read(s.QueryContext(ctx, 1))
		})
	}},
	{"canceled during prepare and begin", func(r *recorder, db *sql.DB) string {
		return withConn(db, func(c *sql.Conn) string {
			ctx, cancel := context.WithCancel(bg)
			r.cancel["Prepare"] = cancel
			s, err := c.PrepareContext(ctx, "stmt 0")
			if err == nil {
				s.Close()
			}
			out := outcome("prepared", err)
			ctx, cancel = context.WithCancel(bg)
			defer cancel()
			r.cancel["Begin"] = cancel
			tx, err := c.BeginTx(ctx, nil)
			if err == nil {
				err = tx.Rollback()
			}
			return out + " " + outcome("rolled back", err)
		})
	}},
}

// run runs the script on a fresh database over the fake driver with the
// given interfaces, wrapped or not, and returns what it saw, step by step.
func run(connMask, stmtMask, rowsMask uint32, traced bool) []string {
	r := &recorder{fail: map[string][]error{}, cancel: map[string]func(){}, connMask: connMask, stmtMask: stmtMask, rowsMask: rowsMask}
	var c driver.Connector = connector{r}
	var db *sql.DB
	if traced {
		db = querytrace.OpenDB(c)
	} else {
		db = sql.OpenDB(c)
	}
	db.SetMaxIdleConns(1)
	var out []string
	for _, s := range script {
		r.calls = r.calls[:0]
		got := s.run(r, db)
		clear(r.fail)
		clear(r.cancel)
		out = append(out, fmt.Sprintf("%s: %s\n\tdriver: %s", s.name, got, strings.Join(r.calls, "; ")))
	}
	r.calls = r.calls[:0]
	db.Close()
	return append(out, "close: "+strings.Join(r.calls, "; "))
}

func main() {
	const fullStmt, fullRows = 1<<stmtIfaces - 1, 1<<rowsIfaces - 1
	if len(os.Args) > 1 && os.Args[1] == "-dump" {
		// What the script sees over the bare fake and the full one.
		fmt.Printf("bare:\n%s\n", strings.Join(run(0, 0, 0, true), "\n"))
		fmt.Printf("full:\n%s\n", strings.Join(run(1<<connIfaces-1, fullStmt, fullRows, true), "\n"))
		return
	}
	type combo struct{ conn, stmt, rows uint32 }
	var combos []combo
	for c := uint32(0); c < 1<<connIfaces; c++ {
		for _, s := range []uint32{0, fullStmt} {
			combos = append(combos, combo{c, s, fullRows})
		}
	}
	for s := uint32(0); s < 1<<stmtIfaces; s++ {
		for _, c := range []uint32{0, 1<<connIfaces - 1, 1 << 9} {
			combos = append(combos, combo{c, s, fullRows})
		}
	}
	for rw := uint32(0); rw < 1<<rowsIfaces; rw++ {
		combos = append(combos, combo{0, 0, rw}, combo{1<<connIfaces - 1, fullStmt, rw})
	}
	failed := 0
	for _, c := range combos {
		raw, traced := run(c.conn, c.stmt, c.rows, false), run(c.conn, c.stmt, c.rows, true)
		for i := range raw {
			if raw[i] != traced[i] {
				failed++
				if failed <= 10 {
					fmt.Printf("conn %s, stmt %s, rows %s:\n  raw:    %s\n  traced: %s\n", describe(connNames, c.conn), describe(stmtNames, c.stmt), describe(rowsNames, c.rows), raw[i], traced[i])
				}
			}
		}
	}
	fmt.Printf("%d combinations, %d steps each, %d differences\n", len(combos), len(script)+1, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func describe(names []string, mask uint32) string {
	var s []string
	for i, n := range names {
		if mask&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return "{" + strings.Join(s, " ") + "}"
}
