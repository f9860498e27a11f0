package callstack

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Where the program's Go source is present (tests, development, staging
// built on the machine it runs on) a report reads it: a file whose header
// says it was generated is nobody's line to fix, and the for statement
// that encloses a frame's line tells the loop in a callee from one in its
// caller, which the stacks alone cannot. Files are read at report time,
// each at most once, and what a report needs of them is kept in a bounded
// table. A file that is absent or unreadable (a binary deployed without
// its source, a path trimmed by -trimpath) is "no source": the report
// falls back to what the stacks tell.

// maxSourceFiles bounds the files whose reading is kept. Past it, a file
// not yet read is not read at all: no source.
const maxSourceFiles = 4096

// A sourceFile is what reports need of one Go file.
type sourceFile struct {
	once      sync.Once
	present   bool // read and, unless generated, parsed
	generated bool
	funcs     []funcSpan
}

// A span is a range of lines, both ends included.
type span struct{ from, to int }

func (s span) has(line int) bool { return s.from <= line && line <= s.to }

// A funcSpan is a function declaration or literal of a file.
type funcSpan struct {
	span
	depth  int  // 0 for a declaration, 1 for a literal in it, and so on
	parent int  // index in funcs of the enclosing function, or -1
	made   int  // for a literal, the line in its parent that makes it
	goes   bool // the literal runs on a goroutine of its own: goStarted
	loops  []loopSpan
	gos    []span // the go and defer statements of its own body
}

// A loopSpan is a for statement of a function's own body (not of the
// literals in it): the lines that run once per iteration, its body's
// statements and a for clause's condition and post statement.
type loopSpan struct {
	parts []span
}

func (l loopSpan) has(line int) bool {
	for _, p := range l.parts {
		if p.has(line) {
			return true
		}
	}
	return false
}

var (
	sourceMu    sync.Mutex
	sourceFiles = make(map[string]*sourceFile)
)

// source returns what is known of file, reading it on first use, or nil
// when the table is full or file names no Go file to open.
func source(file string) *sourceFile {
	if !filepath.IsAbs(file) || !strings.HasSuffix(file, ".go") {
		return nil // no source: nothing to open, nothing to keep
	}
	sourceMu.Lock()
	sf := sourceFiles[file]
	if sf == nil {
		if len(sourceFiles) >= maxSourceFiles {
			sourceMu.Unlock()
			return nil
		}
		sf = &sourceFile{}
		sourceFiles[file] = sf
	}
	sourceMu.Unlock()
	sf.once.Do(func() { sf.read(file) })
	return sf
}

// generated reports whether file carries Go's generated-code header.
func generated(file string) bool {
	sf := source(file)
	return sf != nil && sf.generated
}

// generatedHeader is the comment that marks a generated file
// (go.dev/s/generatedcode).
var generatedHeader = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

func (sf *sourceFile) read(file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		return
	}
	sf.present = true
	if sf.generated = isGenerated(src); sf.generated {
		return // skipped like a dependency: no loop to look for in it
	}
	sf.funcs = indexFuncs(src)
}

// isGenerated reports whether src has the generated-code comment before
// its first text that is neither a comment nor blank.
func isGenerated(src []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	inBlock := false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if inBlock {
			if _, after, ok := strings.Cut(line, "*/"); ok {
				inBlock = false
				if strings.TrimSpace(after) != "" {
					return false
				}
			}
			continue
		}
		switch trimmed := strings.TrimSpace(line); {
		case trimmed == "":
		case generatedHeader.MatchString(line):
			return true
		case strings.HasPrefix(trimmed, "//"):
		case strings.HasPrefix(trimmed, "/*"):
			if _, after, ok := strings.Cut(trimmed[2:], "*/"); !ok {
				inBlock = true
			} else if strings.TrimSpace(after) != "" {
				return false
			}
		default:
			return false // the package clause, or anything else
		}
	}
	return false
}

// loopAt returns the line, in the function of the application's frame f
// or in one that made f's function literal, that a for statement encloses
// on f's path: f's own line when a loop of its function runs it, else the
// line that made the literal inside a loop, when a go statement (or a Go
// method: errgroup's, sync.WaitGroup's) ran the literal on a goroutine of
// its own, once for each time it was made. present is false when f's
// file is absent, ok when a loop was found.
func loopAt(f Frame) (loop Frame, present, ok bool) {
	sf := source(f.File)
	if sf == nil || !sf.present {
		return Frame{}, false, false
	}
	depth, wrapper := closureDepth(f.Function)
	i := sf.enclosing(f.Line, depth)
	if i < 0 {
		return Frame{}, true, false
	}
	fn, line := f.Function, f.Line
	if wrapper {
		// The go (or defer) statement's wrapper calls its function at
		// the statement's last line ("}(item)"): the statement is the
		// line to show.
		fn = trimClosure(fn)
		for _, g := range sf.funcs[i].gos {
			if g.has(line) {
				line = g.from
			}
		}
	}
	for {
		fs := &sf.funcs[i]
		for _, l := range fs.loops {
			if l.has(line) {
				return Frame{Function: fn, File: f.File, Line: line}, true, true
			}
		}
		if fs.parent < 0 || !fs.goes {
			return Frame{}, true, false
		}
		fn, line, i = trimClosure(fn), fs.made, fs.parent
	}
}

// enclosing returns the index of the function that holds line at the
// given depth of literals, or the innermost one that holds it when none
// is that deep; -1 when no function holds it.
func (sf *sourceFile) enclosing(line, depth int) int {
	found := -1
	for i, fs := range sf.funcs {
		if !fs.has(line) {
			continue
		}
		if fs.depth == depth {
			return i
		}
		if found < 0 || fs.depth > sf.funcs[found].depth {
			found = i
		}
	}
	return found
}

// closureDepth returns how deep in function literals the code of function
// fn is, by its name ("pkg.F.func1.2" is 2 deep), and whether fn is the
// wrapper of a go or defer statement ("pkg.F.gowrap1", as deep as F).
func closureDepth(fn string) (depth int, wrapper bool) {
	fn = fn[strings.LastIndexByte(fn, '/')+1:]
	if strings.IndexByte(fn, '[') >= 0 {
		fn = stripTypeArgs(fn)
	}
	for first := true; ; first = false {
		i := strings.LastIndexByte(fn, '.')
		if i < 0 {
			return depth, wrapper
		}
		e := fn[i+1:]
		switch {
		case first && (strings.HasPrefix(e, "gowrap") || strings.HasPrefix(e, "deferwrap")):
			wrapper = true
		case isClosureName(e):
			depth++
		default:
			return depth, wrapper
		}
		fn = fn[:i]
	}
}

// isClosureName reports whether e names a function literal within its
// enclosing function: "func1", or "2" inside another literal.
func isClosureName(e string) bool {
	e = strings.TrimPrefix(e, "func")
	return e != "" && strings.Trim(e, "0123456789") == ""
}

// trimClosure drops the last element of a closure's or wrapper's name:
// "pkg.F.func1" is in "pkg.F".
func trimClosure(fn string) string {
	if i := strings.LastIndexByte(fn, '.'); i > strings.LastIndexByte(fn, '/') {
		return fn[:i]
	}
	return fn
}

// stripTypeArgs removes the type arguments of a generic function's name,
// which may hold dots.
func stripTypeArgs(fn string) string {
	var b strings.Builder
	nest := 0
	for _, c := range fn {
		switch {
		case c == '[':
			nest++
		case c == ']' && nest > 0:
			nest--
		case nest == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}
