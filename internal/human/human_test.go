package human

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-1, "0s"},
		{0, "0s"},
		{999, "999ns"},
		{1500, "1.50µs"},
		{57 * time.Microsecond, "57.0µs"},
		{999400, "999µs"},
		{999600, "1.00ms"}, // not "1000µs"
		{12345678, "12.3ms"},
		{123456789, "123ms"},
		{999_600_000, "1.00s"},
		{1200 * time.Millisecond, "1.20s"},
		{59_700 * time.Millisecond, "1m0s"},
		{61 * time.Second, "1m1s"},
	} {
		if got := Duration(c.d); got != c.want {
			t.Errorf("Duration(%d) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 rows"}, {1, "1 row"}, {2, "2 rows"}} {
		if got := Plural(c.n, "row", "rows"); got != c.want {
			t.Errorf("Plural(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestTimes(t *testing.T) {
	for n, want := range map[int]string{0: "0 times", 1: "once", 2: "twice", 3: "3 times"} {
		if got := Times(n); got != want {
			t.Errorf("Times(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"select 1", 20, "select 1"},
		{"select 1", 8, "select 1"},
		{"select 1", 7, "select…"},
		{"größer als", 3, "gr…"}, // runes, not bytes
		{"abc", 0, "…"},
	} {
		if got := Clip(c.s, c.n); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
