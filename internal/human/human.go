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
