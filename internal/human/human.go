// Package human formats numbers and text for people, the same way in every
// rendering of a report: the text report, the failures of querytracetest,
// the debug page and the querytrace command.
package human

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Duration formats d with three significant digits ("12.3ms", "850µs",
// "57.0µs", "1.20s"): Duration.String's nanoseconds are noise in a report,
// and a fixed number of digits says how precise the figure is and keeps a
// column of them steady. Under a microsecond it counts nanoseconds, from a
// minute on whole seconds ("1m1s").
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	// Each unit up to where its three digits would round to 1000.
	case d < time.Millisecond-500*time.Nanosecond:
		return sig(float64(d)/1e3) + "µs"
	case d < time.Second-500*time.Microsecond:
		return sig(float64(d)/1e6) + "ms"
	case d < time.Minute-500*time.Millisecond:
		return sig(float64(d)/1e9) + "s"
	}
	return d.Round(time.Second).String()
}

// sig formats v, from 1 to 1000, with three significant digits.
func sig(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// Plural returns n with the noun: "1 statement", "3 statements".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Times returns how often something ran: "once", "twice", "3 times".
func Times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// Clip shortens s to n runes, marking the cut with "…".
func Clip(s string, n int) string {
	if n < 1 {
		n = 1
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	k := 0
	for i := range s {
		if k == n-1 {
			return s[:i] + "…"
		}
		k++
	}
	return s
}

// Printable returns s with everything a terminal would act on rather than
// show written as an escape: C0 controls (ESC, BEL, CR, tab and newline
// among them), DEL, C1 controls, the Unicode controls that reorder or
// break lines (bidirectional overrides and isolates, the line and
// paragraph separators), and bytes that are not UTF-8. "\x1b]52;c;…\x07"
// (an OSC 52 write to the clipboard) prints as `\x1b]52;c;…\x07`. Text read
// from a file goes through it before it reaches a terminal or a log.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !printable(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	b := []byte(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case printable(r, n):
			b = append(b, s[i:i+n]...)
		case r == utf8.RuneError || r < 0x100:
			// A byte that is not UTF-8, or a C0 or C1 control: one
			// escape per byte of it, as a Go string literal writes it.
			for _, c := range []byte(s[i : i+n]) {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			}
		default:
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		}
		i += n
	}
	return string(b)
}

const hex = "0123456789abcdef"

// printable reports whether the rune r, n bytes of UTF-8, prints as itself.
func printable(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return false
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return false
	case r == 0x61c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return false // bidirectional marks, embeddings, overrides and isolates
	case r == 0x2028, r == 0x2029:
		return false // line and paragraph separators
	}
	return true
}
