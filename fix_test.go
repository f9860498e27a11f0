package querytrace

import "testing"

func TestLoopFix(t *testing.T) {
	cases := []struct {
		shape string
		pg    bool
		want  string
	}{
		{"select count(*) from items where entry_id = ? and user_id is null", false,
			"one query for all rows: select entry_id, count(*) from items where entry_id in (...) and user_id is null group by entry_id"},
		{"select count(*) from items where entry_id = ? and user_id is null", true,
			"one query for all rows: select entry_id, count(*) from items where entry_id = any($1) and user_id is null group by entry_id with the keys as an array"},
		{"select coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id = ? and r.status = ?", false,
			"one query for all rows: select ri.entry_id, coalesce(sum(ri.quantity), ?) from request_items ri join requests r on r.id = ri.request_id where ri.entry_id in (...) and r.status = ? group by ri.entry_id"},
		{"select count(*) from items where user_id is null and entry_id = ? order by ?", false,
			"one query for all rows: select entry_id, count(*) from items where user_id is null and entry_id in (...) group by entry_id order by ?"},
		{"select status, count(*) from requests where entry_id = ? group by status", false,
			"one query for all rows: select entry_id, status, count(*) from requests where entry_id in (...) group by entry_id, status"},
		{"select name from users where id = ?", false, "one query for all rows: select id, name from users where id in (...)"},
		{"select * from users where id = ? limit ?", true, "one query for all rows: select * from users where id = any($1) limit ?"},
		{"select u.id, u.name from users u where u.id = ?", false, "one query for all rows: select u.id, u.name from users u where u.id in (...)"},
		{"insert into items(entry_id, user_id) values (?, ?) returning id", true,
			"one statement for all rows: insert into items(entry_id, user_id) values (?, ?), (?, ?), ... returning id, or COPY (pgx CopyFrom)"},
		{"update items set user_id = ?, updated_at = ? where id = ? and deleted_at is null", false,
			"one statement for all rows: update items set user_id = v.user_id, updated_at = v.updated_at from (values (?, ?, ?), ...) as v(id, user_id, updated_at) where items.id = v.id and deleted_at is null"},
		{"update items set n = n + ? where id = ?", false, "update all rows in one statement: UPDATE ... FROM (VALUES ...) joined on the key"},
		{"delete from sessions where user_id = ?", true, "one statement for all rows: delete from sessions where user_id = any($1)"},
		{"select * from t where a > ?", false, "fetch all rows in one statement: in (...) over the keys, or a join to the source query"},
	}
	for _, c := range cases {
		g := &Group{Shape: c.shape, Verb: verbOf(c.shape)}
		if got := loopFix(g, nil, c.pg); got != c.want {
			t.Errorf("loopFix(%q, pg=%v)\n got %s\nwant %s", c.shape, c.pg, got, c.want)
		}
	}
}
