package querytrace

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/querytrace/querytrace/internal/human"
)

// textWidth is the width the text report keeps to, so that it reads in an
// ordinary terminal and in CI logs without wrapping.
const textWidth = 100

// textGroups is how many groups the text report lists; the rest are
// summed up on one line.
const textGroups = 10

// textFrames is how many frames of a finding's stack the text report shows.
const textFrames = 3

// String returns the report as WriteText writes it.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteText(&b)
	return b.String()
}

// Summary returns the report on one line, such as
// "41 statements, 12.3ms db, 1 N+1". Duplicates and slow statements are
// added when there are any.
func (r *Report) Summary() string {
	var b strings.Builder
	b.WriteString(human.Plural(r.Statements, "statement", "statements"))
	b.WriteString(", " + human.Duration(r.DBTime) + " db, " + strconv.Itoa(len(r.NPlusOne)) + " N+1")
	if n := len(r.Duplicates); n > 0 {
		b.WriteString(", " + human.Plural(n, "duplicate", "duplicates"))
	}
	if n := len(r.Slow); n > 0 {
		b.WriteString(", " + strconv.Itoa(n) + " slow")
	}
	if n := r.Errors; n > 0 {
		b.WriteString(", " + human.Plural(n, "error", "errors"))
	}
	if n := r.ConnErrors; n > 0 {
		b.WriteString(", " + human.Plural(n, "connection error", "connection errors"))
	}
	if n := r.Unattributed; n > 0 {
		b.WriteString(", " + strconv.Itoa(n) + " unattributed")
	}
	return b.String()
}

// WriteText writes the report as a table for a person in a terminal, at
// most 100 columns wide: the totals, the most costly groups with their
// call sites, then each finding with its stack, source and fix. It holds
// no argument values and no SQL literals. It returns the first error of w.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	name := r.Name
	if name == "" {
		name = "(unnamed trace)"
	}
	p("querytrace: %s\n", human.Clip(name, textWidth-12))
	p("wall %s, db %s, %s, %s, %s, %s, %s\n", human.Duration(r.Wall), human.Duration(r.DBTime),
		human.Plural(r.Statements, "statement", "statements"), human.Plural(r.Prepares, "prepare", "prepares"),
		human.Plural(r.Begins, "transaction", "transactions"), human.Plural(int(r.Rows), "row", "rows"),
		human.Plural(r.Errors, "error", "errors"))
	if r.ConnErrors > 0 {
		p("connection errors: %d (no usable connection: a connect failed, or driver.ErrBadConn)\n", r.ConnErrors)
	}
	p("findings: %d N+1, %s, %d slow, %d batched, %d allowed\n", len(r.NPlusOne),
		human.Plural(len(r.Duplicates), "duplicate", "duplicates"), len(r.Slow), len(r.Batched), len(r.Allowed))
	if r.Unattributed > 0 {
		p("not attributed: %s ran outside any trace meanwhile (not in this report)\n",
			human.Plural(r.Unattributed, "statement", "statements"))
	}

	if len(r.Groups) > 0 {
		const left = 46 // width of the numeric columns, up to the statement
		p("\n%3s %6s %8s %8s %8s %6s  %s\n", "#", "count", "total", "mean", "max", "rows", "statement / call site")
		for i, g := range r.Groups {
			if i == textGroups {
				rest := r.Groups[i:]
				var n int
				var total time.Duration
				for _, g := range rest {
					n += g.Count
					total += g.Total
				}
				more := "more groups"
				if len(rest) == 1 {
					more = "more group"
				}
				p("... and %d %s: %s, %s\n", len(rest), more, human.Plural(n, "execution", "executions"), human.Duration(total))
				break
			}
			p("%3d %6d %8s %8s %8s %6d  %s\n", g.ID, g.Count, human.Duration(g.Total), human.Duration(g.Mean()),
				human.Duration(g.Max), g.Rows, human.Clip(prepareMark(g)+g.Shape, textWidth-left))
			if site := g.CallSite(); site != "" {
				p("%*s  at %s\n", left-2, "", human.Clip(site, textWidth-left-3))
			}
		}
	}

	sections := []struct {
		title string
		list  []Finding
	}{
		{"N+1", r.NPlusOne},
		{"duplicate", r.Duplicates},
		{"slow", r.Slow},
		{"batched", r.Batched},
		{"allowed", r.Allowed},
	}
	for _, s := range sections {
		for i := range s.list {
			bw.WriteByte('\n')
			writeFinding(bw, s.title, &s.list[i])
		}
	}
	return bw.Flush()
}

func writeFinding(w *bufio.Writer, title string, f *Finding) {
	g := f.Group
	head := fmt.Sprintf("%s: %s in %s", strings.ToUpper(title[:1])+title[1:], human.Times(f.Count), human.Duration(f.Total))
	if title == "allowed" {
		head = fmt.Sprintf("Allowed %s: %s in %s", f.Kind, human.Times(f.Count), human.Duration(f.Total))
	}
	if f.Kind == FindingSlow && g != nil {
		head += ", slowest " + human.Duration(g.Max)
	}
	if n := f.prepares(); n > 0 {
		head += ", " + human.Plural(n, "prepare", "prepares") + " included"
	}
	if g != nil {
		head += fmt.Sprintf(" (group #%d)", g.ID)
	}
	fmt.Fprintln(w, head)
	if g == nil {
		return
	}
	writeWrapped(w, "  ", "  ", g.Shape)
	writeStack(w, "  at ", g.Stack)
	if s := f.LoopSite(); s != "" {
		fmt.Fprintf(w, "  in the loop at %s\n", human.Clip(s, textWidth-17))
	}
	if b := f.Below; b != nil {
		writeWrapped(w, "  repeated below ", "    ", b.String()+" (the loop's line is not known)")
	}
	if v := f.Via; v != nil {
		fmt.Fprintf(w, "  via %s\n", human.Clip(v.String(), textWidth-6))
	}
	for _, o := range f.Others {
		writeStack(w, "  and at ", o.Stack[:min(len(o.Stack), 1)])
	}
	if s := f.Source; s != nil {
		per := "once per row"
		if f.PerRow > 1 {
			per = human.Times(f.PerRow) + " per row"
		}
		writeWrapped(w, "  source: ", "          ", fmt.Sprintf("#%d %s", s.ID, s.Shape))
		fmt.Fprintf(w, "          %s, the loop ran %s\n", human.Plural(int(s.Rows), "row", "rows"), per)
		writeStack(w, "          at ", s.Stack[:min(len(s.Stack), 1)])
	}
	if f.Fix != "" {
		writeWrapped(w, "  fix: ", "       ", f.Fix)
	}
	if f.ORMFix != "" {
		writeWrapped(w, "  ", "       ", f.ORMFix)
	}
	if f.Reason != "" {
		writeWrapped(w, "  reason: ", "          ", f.Reason)
	}
}

// prepareMark marks a group of prepares in the table of groups, with the
// group it prepared for when that is a finding's.
func prepareMark(g *Group) string {
	switch {
	case g.Kind != KindPrepare:
		return ""
	case g.Serves != nil:
		return "prepare for #" + strconv.Itoa(g.Serves.ID) + ": "
	}
	return "prepare: "
}

// writeStack writes up to textFrames frames, the first after prefix and
// the others aligned under it.
func writeStack(w *bufio.Writer, prefix string, stack []Frame) {
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix))
	for i, f := range stack {
		if i == textFrames {
			break
		}
		p := indent
		if i == 0 {
			p = prefix
		}
		fmt.Fprintf(w, "%s%s\n", p, human.Clip(f.String(), textWidth-len(p)))
	}
}

// writeWrapped writes s word-wrapped to textWidth, the first line after
// first and the others after indent.
func writeWrapped(w *bufio.Writer, first, indent, s string) {
	prefix := first
	for s != "" {
		room := textWidth - utf8.RuneCountInString(prefix)
		line := s
		if utf8.RuneCountInString(s) > room {
			cut := len(s)
			n := 0
			for i := range s {
				if n == room {
					cut = i
					break
				}
				n++
			}
			if sp := strings.LastIndexByte(s[:cut], ' '); sp > 0 {
				cut = sp
			}
			line = s[:cut]
		}
		fmt.Fprintf(w, "%s%s\n", prefix, line)
		s = strings.TrimLeft(s[len(line):], " ")
		prefix = indent
	}
}
