package debugpage

import (
	"html/template"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/human"
)

// The most runes of one text a page shows, whatever a report holds; its
// JSON has the whole text.
const (
	clipLine  = 160  // a statement on one line (the waterfall)
	clipName  = 300  // a route, a call site, a frame, a file name
	clipText  = 1200 // a statement, a fix: its start and its end
	maxFrames = 8    // frames of a stack (a trace keeps 5)
)

// funcs are the templates' helpers: formatting only.
var funcs = template.FuncMap{
	"line": func(s string) string { return human.Clip(s, clipLine) },
	"name": func(s string) string { return human.Clip(s, clipName) },
	"text": func(s string) string { return clipMiddle(s, clipText) },
	"frames": func(fs []querytrace.Frame) []querytrace.Frame {
		return fs[:min(len(fs), maxFrames)]
	},
	"per":    func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"dur":    human.Duration,
	"times":  human.Times,
	"plural": human.Plural,
	"rows":   func(n int64) string { return human.Plural(int(n), "row", "rows") },
	"clock":  func(t time.Time) string { return t.Local().Format("15:04:05.000") },
	"date":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"fp":     fmtFingerprint,
	"deltaDur": func(a, b time.Duration) string {
		return sign(int64(b-a)) + human.Duration(time.Duration(abs(int64(b-a))))
	},
	"delta": func(a, b int) string { return sign(int64(b-a)) + strconv.Itoa(int(abs(int64(b-a)))) },
	"ratio": func(a, b time.Duration) string {
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

// clipMiddle shortens s to about n runes by cutting out its middle, marked
// with "…": a statement's select list goes, its FROM and WHERE stay.
func clipMiddle(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	head := human.Clip(s, n/2)
	head = head[:len(head)-len("…")]
	tail, k := len(s), 0
	for k < n/2 && tail > 0 {
		_, size := utf8.DecodeLastRuneInString(s[:tail])
		tail -= size
		k++
	}
	return head + " … " + s[tail:]
}
