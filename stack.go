package querytrace

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/querytrace/querytrace/internal/callstack"
)

// A Stack is a call stack as raw return addresses: cheap to capture on every
// statement and turned into file:line only when a report needs it.
type Stack struct {
	s callstack.Stack
}

// CaptureStack returns the stack of its caller. Sources that hand events to
// Record call it where the application called them (the pgx tracer in its
// start hook), since by the end hook the stack may be another.
func CaptureStack() Stack {
	var s Stack
	s.s.Capture()
	return s
}

// siteOf returns the interned stack of its caller and the stack's hash:
// the call site of the driver wrapper's statements.
func siteOf() (*callstack.Stack, uint64) { return callstack.Site() }

// emptyStack is the call site of statements from a driver wrapped
// WithoutStacks.
var (
	emptyStack     callstack.Stack
	emptyStackHash = emptyStack.Hash()
)

// A Frame is one frame of the application's own code that issued a
// statement.
type Frame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

// String returns "file.go:42 pkg.Function" with the file's last two path
// elements, short enough for a log line and still findable.
func (f Frame) String() string {
	return fmt.Sprintf("%s:%d %s", shortFile(f.File), f.Line, shortFunc(f.Function))
}

// shortFile keeps the last directory and the file name.
func shortFile(file string) string {
	dir, name := filepath.Split(file)
	if dir == "" {
		return name
	}
	return filepath.Join(filepath.Base(dir), name)
}

// shortFunc drops the import path before the package name.
func shortFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

// SkipFrames adds function-name prefixes (such as "example.com/app/store."
// for a data-access layer) whose frames are not the application's own code,
// so that call sites point at the code that called them.
//
// By default a frame is the application's when its package belongs to the
// program's main module (in a test, the tested package's module), to a
// module replaced by a local directory or to a go.work workspace, as the
// build information tells; frames of the standard library and of every
// other module (drivers, ORMs, query builders) are skipped, and so are
// frames whose file is another module's (a library's function literal
// inlined into the application's function keeps its file) or carries Go's
// generated-code header (ent, sqlc), where the file is there to read.
// SkipFrames and ApplicationFrames override that, the longest matching
// prefix winning. Skipped frames still show in Group.FullStack. Both are
// safe to call concurrently and apply to stacks symbolized after they
// return.
func SkipFrames(prefixes ...string) { callstack.Library(prefixes...) }

// ApplicationFrames adds function-name prefixes whose frames are the
// application's own code although their module is another, such as a
// company's shared data-access module fetched from its module proxy. See
// SkipFrames.
func ApplicationFrames(prefixes ...string) { callstack.Application(prefixes...) }

// FullStack returns every frame of the stack that issued the group, the
// innermost first: the application's (Stack) and the others, such as
// database/sql's, the driver's and an ORM's.
func (g *Group) FullStack() []Frame {
	if g.stack == nil {
		return nil
	}
	fs, _ := g.stack.Frames()
	return framesOf(fs)
}

// framesOf converts the frames of the internal package.
func framesOf(fs []callstack.Frame) []Frame {
	if fs == nil {
		return nil
	}
	out := make([]Frame, len(fs))
	for i, f := range fs {
		out[i] = Frame(f)
	}
	return out
}

// partsAt returns, for each of groups, the application's frame where its
// stack parts from the nearest of the others' stacks: the line that tells
// its path apart from theirs. It is nil for a group without a stack, or
// whose stack parts from none of the others.
func partsAt(groups []*Group) []*Frame {
	stacks := make([]*callstack.Stack, len(groups))
	for i, g := range groups {
		stacks[i] = g.stack
	}
	out := make([]*Frame, len(groups))
	for i, s := range stacks {
		if s == nil {
			continue
		}
		if f, ok := s.Parts(stacks); ok {
			out[i] = framePtr(f)
		}
	}
	return out
}

// setVia names, on the findings that would print alike (one shape, the
// same frames as far as a report prints them, the same loop), the frame
// where each one's path parts from the others'.
func setVia(r *Report) {
	lists := r.findingLists()
	// Only two findings or more can print alike: most reports have fewer.
	n := 0
	for _, l := range lists {
		n += len(*l)
	}
	if n < 2 {
		return
	}
	// Only findings of one shape can: most reports have none.
	shapes := make(map[uint64]int)
	for _, l := range lists {
		for _, f := range *l {
			if f.Group != nil {
				shapes[f.Group.Fingerprint]++
			}
		}
	}
	var alike map[string][]*Group
	for _, l := range lists {
		for _, f := range *l {
			if f.Group == nil || f.Group.stack == nil || shapes[f.Group.Fingerprint] < 2 {
				continue
			}
			if alike == nil {
				alike = make(map[string][]*Group)
			}
			k := printedAs(&f)
			if !slices.Contains(alike[k], f.Group) {
				alike[k] = append(alike[k], f.Group)
			}
		}
	}
	via := make(map[*Group]*Frame)
	for _, gs := range alike {
		if len(gs) < 2 {
			continue
		}
		for i, v := range partsAt(gs) {
			if v != nil && !slices.Contains(gs[i].Stack[:min(len(gs[i].Stack), textFrames)], *v) {
				via[gs[i]] = v
			}
		}
	}
	if len(via) == 0 {
		return
	}
	for _, l := range lists {
		for i := range *l {
			(*l)[i].Via = via[(*l)[i].Group]
		}
	}
}

// printedAs returns what tells f apart in print: its shape, the frames of
// its stack that a report shows and its loop.
func printedAs(f *Finding) string {
	var b strings.Builder
	b.WriteString(f.Group.Shape)
	for _, fr := range f.Group.Stack[:min(len(f.Group.Stack), textFrames)] {
		fmt.Fprintf(&b, "\x00%s:%d", fr.Function, fr.Line)
	}
	for _, fr := range []*Frame{f.Loop, f.Below} {
		if fr != nil {
			fmt.Fprintf(&b, "\x00%s:%d", fr.Function, fr.Line)
		}
	}
	return b.String()
}
