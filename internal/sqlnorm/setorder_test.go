package sqlnorm

import (
	"fmt"
	"strings"
	"testing"
)

// TestSetOrder checks that UPDATEs that differ only in the order of their
// SET assignments have one shape, with each "?" still saying which
// argument it takes, and that assignments whose order can matter keep it.
func TestSetOrder(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		sql  string
		want string
		args string // the arguments of the shape's "?", in order
	}{
		{Generic, "update t set b = ?, a = ? where id = ?", "update t set a = ?, b = ? where id = ?", "2 1 3"},
		{Postgres, `UPDATE "users" SET "starred_at" = $1, "starred" = $2 WHERE "id" = $3`,
			`update "users" set "starred" = ?, "starred_at" = ? where "id" = ?`, "2 1 3"},
		{MySQL, "UPDATE `users` SET `users`.`starred_at`=?,`users`.`starred`=? WHERE `id` = ?",
			"update `users` set `users`.`starred` = ?, `users`.`starred_at` = ? where `id` = ?", "2 1 3"},
		{MySQL, "update t set c = default, b = now(), a = ? order by id limit 5", "update t set a = ?, b = now(), c = default order by id limit ?", "1 L"},
		{SQLite, "update t set b = 'x', a = 1", "update t set a = ?, b = ?", "L L"},
		{Postgres, "update t set b = $1, a = $2 returning a, b", "update t set a = ?, b = ? returning a, b", "2 1"},
		{Postgres, "update t set b = $1, a = $2 from u where u.id = t.uid", "update t set a = ?, b = ? from u where u.id = t.uid", "2 1"},
		{Generic, "update t set b = c, a = ?", "update t set a = ?, b = c", "1"},
		{Generic, "update t set b = ?, a = ?; update u set d = ?, c = ?", "update t set a = ?, b = ?; update u set c = ?, d = ?", "2 1 4 3"},
		// The order may matter, or the list is not a plain one: kept.
		{MySQL, "update t set b = a, a = ?", "update t set b = a, a = ?", "1"},
		{MySQL, "update t set b = `t`.`A`, a = ?", "update t set b = `t`.`A`, a = ?", "1"},
		{MySQL, "update t set b = a + 1, a = ?", "update t set b = a + ?, a = ?", "L 1"},
		{MySQL, "update t set b = @v, a = ?", "update t set b = @v, a = ?", "1"},
		{Generic, "update t set b = ?, a = ?, b = ?", "update t set b = ?, a = ?, b = ?", "1 2 3"},
		{Generic, "update t set b = (select 1), a = ?", "update t set b = (select ?), a = ?", "L 1"},
		{Postgres, "update t set b = nextval('s'), a = nextval('s')", "update t set b = nextval(?), a = nextval(?)", "L L"},
		{Postgres, "insert into t (a, b) values ($1, $2) on conflict (a) do update set b = $2, a = $1",
			"insert into t(a, b) values (?, ?) on conflict (a) do update set b = ?, a = ?", "1 2 2 1"},
		{Postgres, "with x as (select 1) update t set b = $1, a = $2", "with x as (select ?) update t set b = ?, a = ?", "L 1 2"},
		{Generic, "update t set (b, a) = (?, ?)", "update t set (b, a) = (?, ?)", "1 2"},
	} {
		in := Shape(c.sql, c.d)
		var args []string
		for _, v := range in.Values {
			if v.IsLiteral() {
				args = append(args, "L")
			} else {
				args = append(args, fmt.Sprint(v.Arg))
			}
		}
		if in.Shape != c.want || strings.Join(args, " ") != c.args {
			t.Errorf("Shape(%q, %v)\n got  %q %v\n want %q %s", c.sql, c.d, in.Shape, args, c.want, c.args)
		}
		if again := Normalize(in.Shape, c.d); again != in.Shape {
			t.Errorf("not idempotent: %q -> %q", in.Shape, again)
		}
	}
}

// TestSetOrderTruncated checks a SET list cut by the shape's bound: it is
// left in its order, and the shape still normalizes to itself.
func TestSetOrderTruncated(t *testing.T) {
	var b strings.Builder
	b.WriteString("update t set ")
	for i := 600; i > 0; i-- {
		fmt.Fprintf(&b, "c%d = ?, ", i)
	}
	b.WriteString("z = ? where id = ?")
	for _, d := range dialects {
		shape := Normalize(b.String(), d)
		if !strings.HasPrefix(shape, "update t set c600 = ?, c599 = ?") || !strings.HasSuffix(shape, truncMarker) {
			t.Errorf("%v: %.60q ... %q", d, shape, shape[len(shape)-20:])
		}
		if again := Normalize(shape, d); again != shape {
			t.Errorf("%v: not idempotent", d)
		}
	}
	short := "update t set " + strings.Repeat("b = ?, ", 300) + "a = ?"
	if got := Normalize(short, Generic); !strings.HasPrefix(got, "update t set b = ?, b = ?") {
		t.Errorf("%.60q", got)
	}
}
