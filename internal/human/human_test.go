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

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"select * from items where id = ?", "select * from items where id = ?"},
		{"café ← ok", "café ← ok"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},                     // a window title
		{"\x1b]52;c;cm0gLXJmIH4K\x07", `\x1b]52;c;cm0gLXJmIH4K\x07`}, // OSC 52: the clipboard
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},                           // clear the screen
		{"done\rFAIL", `done\x0dFAIL`},
		{"a\tb\nc", `a\x09b\x0ac`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b2J", `c1 \xc2\x9b2J`}, // CSI as one C1 code point
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`},
		{"admin\u202e\u2066txt.exe", `admin\u202e\u2066txt.exe`},
		{"line\u2028sep", `line\u2028sep`},
		{"", ""},
	} {
		if got := Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
