package querytracetest

import (
	"slices"
	"testing"

	"github.com/querytrace/querytrace"
)

func TestTablesOf(t *testing.T) {
	for shape, want := range map[string][]string{
		"select id, name from entries order by id":                                                            {"entries"},
		"select ri.entry_id from request_items ri join requests r on r.id = ri.request_id where r.status = ?": {"request_items", "requests"},
		"select * from a, b as bb, public.c where a.x = b.y":                                                  {"a", "b", "public.c"},
		`insert into "Order Lines"(id) values (?)`:                                                            {"Order Lines"},
		"update items set user_id = ? where id = ?":                                                           {"items"},
		"delete from only items where id in (select id from old_items)":                                       {"items", "old_items"},
		"select * from unnest(?) as u join t on t.id = u":                                                     {"t"},
		"select * from (select id from x) s":                                                                  {"x"},
		"select * from t where a is distinct from b for update":                                               {"t"},
		"insert into t(a) values (?) on conflict (a) do update set a = ?":                                     {"t"},
		"select extract(year from created) from orders":                                                       {"orders"},
	} {
		if got := querytrace.Tables(shape); !slices.Equal(got, want) {
			t.Errorf("Tables(%q) = %q, want %q", shape, got, want)
		}
	}
	if !hasTable("select * from public.items", "ITEMS") || hasTable("select * from items", "item") {
		t.Error("hasTable matches wrongly")
	}
}
