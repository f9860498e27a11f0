package querytracetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/human"
)

// verbose reports whether go test runs with -v; tests of this package
// replace it.
var verbose = testingVerbose

func testingVerbose() bool { return testing.Verbose() }

// maxShape is how much of a shape a table row shows; the golden files and
// the N+1 lines keep whole shapes.
const maxShape = 160

// stackDepth is how many frames of a group's stack a failure shows.
const stackDepth = 3

// marks returns, by group ID, what the report found about each group.
func marks(r *querytrace.Report) map[int][]string {
	m := make(map[int][]string)
	add := func(fs []querytrace.Finding, mark string) {
		for _, f := range fs {
			if f.Group != nil {
				m[f.Group.ID] = append(m[f.Group.ID], mark)
			}
		}
	}
	add(r.NPlusOne, "N+1")
	add(r.Duplicates, "duplicate")
	add(r.Slow, "slow")
	return m
}

// statementGroups returns the groups of r that ran statements, the most
// frequent first: prepares alone are counted by the report, not budgeted.
func statementGroups(r *querytrace.Report) []*querytrace.Group {
	var gs []*querytrace.Group
	for _, g := range r.Groups {
		if g.Statements > 0 {
			gs = append(gs, g)
		}
	}
	slices.SortStableFunc(gs, func(a, b *querytrace.Group) int {
		if c := cmp.Compare(b.Statements, a.Statements); c != 0 {
			return c
		}
		return cmp.Compare(b.Total, a.Total)
	})
	return gs
}

// writeGroups writes the table of a report's statement groups.
func writeGroups(b *strings.Builder, r *querytrace.Report) {
	gs := statementGroups(r)
	if len(gs) == 0 {
		return
	}
	m := marks(r)
	fmt.Fprintf(b, "  %6s %9s  %s\n", "count", "total", "shape / call stack")
	for _, g := range gs {
		line := short(g.Shape)
		if ms := m[g.ID]; len(ms) > 0 {
			line += "  " + strings.Join(ms, ", ")
		}
		if g.Paused != "" {
			line += "  (paused: " + g.Paused + ")"
		}
		fmt.Fprintf(b, "  %6d %9s  %s\n", g.Statements, human.Duration(g.Total), line)
		if s := stack(g); s != "" {
			fmt.Fprintf(b, "  %6s %9s    at %s\n", "", "", s)
		}
	}
}

// writeFindings writes the N+1 and duplicate findings of r with the fixes
// the report suggests.
func writeFindings(b *strings.Builder, r *querytrace.Report) {
	for _, f := range r.NPlusOne {
		fmt.Fprintf(b, "  N+1: %s\n", findingLine(f))
		if f.Source != nil {
			perRow := ""
			if f.PerRow > 0 {
				perRow = fmt.Sprintf(", %d per row", f.PerRow)
			}
			fmt.Fprintf(b, "       looping over: %s at %s (%d rows%s)\n", short(f.Source.Shape), site(f.Source), f.Source.Rows, perRow)
		}
		if f.Fix != "" {
			fmt.Fprintf(b, "       fix: %s\n", f.Fix)
		}
		if f.ORMFix != "" {
			fmt.Fprintf(b, "       %s\n", f.ORMFix)
		}
	}
	for _, f := range r.Duplicates {
		fmt.Fprintf(b, "  duplicate: %s\n", findingLine(f))
		if f.Fix != "" {
			fmt.Fprintf(b, "       fix: %s\n", f.Fix)
		}
	}
}

func findingLine(f querytrace.Finding) string {
	if f.Group == nil {
		return fmt.Sprintf("%d statements (%s)", f.Count, human.Duration(f.Total))
	}
	return fmt.Sprintf("%s ran %d times (%s) from %s", short(f.Group.Shape), f.Count, human.Duration(f.Total), site(f.Group))
}

// writeEvents writes the statements of r one by one, as far as the trace
// kept them: only with go test -v.
func writeEvents(b *strings.Builder, r *querytrace.Report) {
	if !verbose() || r.EventsKept == 0 {
		return
	}
	shapes := make(map[int]*querytrace.Group, len(r.Groups))
	for _, g := range r.Groups {
		shapes[g.ID] = g
	}
	fmt.Fprintf(b, "  statements in order:\n")
	for i, e := range r.Events() {
		what := ""
		if g := shapes[e.Group]; g != nil {
			what = short(g.Shape)
			if s := site(g); s != "" {
				what += "  " + s
			}
		}
		if e.Err {
			what += "  (error)"
		}
		fmt.Fprintf(b, "  %5d %9s %9s  %-14s %4d rows  %s\n", i+1, "+"+human.Duration(e.Start), human.Duration(e.Duration), e.Kind, e.Rows, what)
	}
	if r.EventsMissed > 0 {
		fmt.Fprintf(b, "  ... and %d more, not kept\n", r.EventsMissed)
	}
}

// details is everything a failure shows under its headline.
func details(r *querytrace.Report) string {
	var b strings.Builder
	if r.Statements == 0 && r.Unattributed > 0 {
		fmt.Fprintf(&b, "  none of the statements were this test's, but %d ran outside any trace meanwhile:\n"+
			"  run them with the context Golden, Budget or the trace returned\n", r.Unattributed)
	}
	writeGroups(&b, r)
	writeFindings(&b, r)
	writeEvents(&b, r)
	return strings.TrimRight(b.String(), "\n")
}

// site is a group's innermost frame, or a placeholder when it has none.
func site(g *querytrace.Group) string {
	if fs := frames(g); len(fs) > 0 {
		return fs[0].String()
	}
	return "(unknown call site)"
}

// stack is a group's first frames, the innermost first.
func stack(g *querytrace.Group) string {
	fs := frames(g)
	fs = fs[:min(len(fs), stackDepth)]
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, " <- ")
}

// frames returns the frames of g's stack that are the application's:
// without the wrappers the compiler generates for methods promoted through
// embedded fields, which say "<autogenerated>:1" and name no code anyone
// wrote.
func frames(g *querytrace.Group) []querytrace.Frame {
	var fs []querytrace.Frame
	for _, f := range g.Stack {
		if f.File != "<autogenerated>" && !strings.HasPrefix(f.Function, "go:") {
			fs = append(fs, f)
		}
	}
	return fs
}

// short cuts a long shape in its middle, where the column lists are.
func short(shape string) string {
	if len(shape) <= maxShape {
		return shape
	}
	half := (maxShape - 5) / 2
	return shape[:half] + " ... " + shape[len(shape)-half:]
}
