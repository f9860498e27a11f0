package debugpage

import (
	"html/template"
	"strconv"
	"time"
)

// funcs are the templates' helpers: formatting only.
var funcs = template.FuncMap{
	"dur":   fmtDur,
	"ns":    func(ns int64) string { return fmtDur(time.Duration(ns)) },
	"clock": func(t time.Time) string { return t.Local().Format("15:04:05.000") },
	"date":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"fp":    fmtFingerprint,
	"deltaNS": func(a, b int64) string {
		return sign(b-a) + fmtDur(time.Duration(abs(b-a)))
	},
	"delta": func(a, b int) string { return sign(int64(b-a)) + strconv.Itoa(int(abs(int64(b-a)))) },
	"ratio": func(a, b int64) string {
		if a <= 0 || b <= 0 {
			return ""
		}
		return "×" + strconv.FormatFloat(float64(b)/float64(a), 'f', 2, 64)
	},
}

func sign(v int64) string {
	switch {
	case v > 0:
		return "+"
	case v < 0:
		return "−"
	}
	return "±"
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// fmtDur formats d with three significant digits, as querytrace's reports
// do: 9.42ms, 31.4µs.
func fmtDur(d time.Duration) string {
	sig := func(v float64, unit string) string {
		prec := 0
		switch {
		case v < 10:
			prec = 2
		case v < 100:
			prec = 1
		}
		return strconv.FormatFloat(v, 'f', prec, 64) + unit
	}
	switch {
	case d <= 0:
		return "0s"
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return sig(float64(d)/1e3, "µs")
	case d < time.Second:
		return sig(float64(d)/1e6, "ms")
	case d < time.Minute:
		return sig(float64(d)/1e9, "s")
	}
	return d.Round(time.Second).String()
}
