package querytrace

import "testing"

func TestCountKeys(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want int
	}{
		{"SELECT * FROM t WHERE id = ?", 0},
		{"SELECT * FROM t WHERE id IN (?, ?, ?)", 3},
		{"SELECT * FROM t WHERE id in($1,$2)", 2},
		{"SELECT * FROM t WHERE id IN (1, 2, 3, 4) AND k IN ('a,b', 'c')", 4},
		{"SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE a IN (1, 2))", 2},
		{"SELECT * FROM t WHERE f(a, b) IN ((1, 2), (3, 4), (5, 6))", 3},
		{"INSERT INTO t (a, b) VALUES (?, ?)", 1},
		{"INSERT INTO t (a, b) VALUES (?, ?), (?, ?),(?, ?) RETURNING id", 3},
		{"INSERT INTO t (a) VALUES ('in (1, 2, 3)') -- in (1, 2, 3, 4, 5)", 1},
		{"SELECT 'values (1), (2)' /* in (1,2,3) */ FROM t", 0},
		{"SELECT * FROM t WHERE id IN ()", 0},
	} {
		if got := countKeys(c.sql); got != c.want {
			t.Errorf("countKeys(%q) = %d, want %d", c.sql, got, c.want)
		}
	}
}
