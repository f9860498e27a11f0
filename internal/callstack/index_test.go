package callstack

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var goroot = flag.Bool("goroot", false, "TestIndexFuncs reads every file of GOROOT's src (.ci/fuzz sets it)")

// TestIndexFuncs checks that the token reader reads what go/parser does
// (functions, literals, loops, go and defer statements, and which line
// makes each literal) from every Go file of the module and of GOROOT's
// packages richest in goroutines and loops that parses; with -goroot,
// from all 10,000 files of GOROOT's src, every shape the language has.
func TestIndexFuncs(t *testing.T) {
	src := filepath.Join(runtime.GOROOT(), "src")
	roots := []string{"../.."}
	if *goroot {
		roots = append(roots, src)
	} else {
		for _, dir := range []string{"sync", "context", "net/http", "cmd/dist", "runtime/testdata/testgoroutineleakprofile"} {
			roots = append(roots, filepath.Join(src, dir))
		}
	}
	files := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if checkIndex(t, path, src) {
				files++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d files compared", files)
	if files < 400 {
		t.Errorf("%d files compared, want the module's and GOROOT's at least", files)
	}
}

// FuzzIndexFuncs holds the token reader to go/parser's reading of any
// source go/parser accepts, and to no panic on any other.
func FuzzIndexFuncs(f *testing.F) {
	for _, name := range []string{"testdata/loops.go", "index.go", "source.go"} {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, src := range []string{
		"package p\nfunc f() { for _, g := range []func(){a, b} { g() } }\n",
		"package p\nfunc f() { for k := range map[string]struct{}{\"a\": {}} { go func() { use(k) }() } }\n",
		"package p\nfunc f() { for range func(yield func() bool) { for yield() {} } {\n}\n}\n",
		"package p\nfunc f() { for i := range []byte(s) {\nL:\n} }\n",
		"package p\nfunc f() { for i := 0; i < len([]int{1}); i++ { ; } }\n",
		"package p\nfunc f() { s.wg.Go(func() {}); f().Go(g, func() {}); x.(T).Go(func() {}()) }\n",
		"package p\nvar v = func() func() int { for { defer func() {}() } }\n",
		"package p\nfunc f() { go func() {}()(); go g(func() {}); for x := struct{ a int }{}; ; { } }\n",
		"package p\nfunc f() { x := `a\nb`; for range c { y := `\n\n`\n } }\n",
		"package p\nfunc f() { c <- func() {}; n := 2 * func() int { for {} }(); var _ chan<- func() }\n",
		"package p\nfunc f() { _ = []*func(){}; _ = map[int]func(){1: func() {}}; _ = g[func()](x) }\n",
		"package p\nfunc f() { for x := range }} go func( { defer ) for ; ; ] x.Go(func() {",
		"func",
		")}] for go Go(",
	} {
		f.Add([]byte(src))
	}
	f.Add([]byte("package p\nvar x = " + strings.Repeat("(", maxNest+10)))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkIndex(t, "input", src)
	})
}

// checkIndex compares the token reader's index of src with go/parser's,
// and reports whether it did: a source go/parser rejects is not compared,
// only read (a report reads whatever file a frame names).
func checkIndex(t *testing.T, name string, src []byte) bool {
	t.Helper()
	got := indexFuncs(src)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return false
	}
	want := astIndex(fset, f)
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w funcSpan
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: function %d of %d (%d read): %+v, go/parser's %+v", name, i, len(want), len(got), g, w)
				break
			}
		}
	}
	return true
}

// goStarter reports whether a call of fun runs a function literal given
// to it on a goroutine of its own: a method or function named Go, as
// errgroup.Group's, sync.WaitGroup's and conc's pools' are.
func goStarter(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		return f.Sel.Name == "Go"
	case *ast.Ident:
		return f.Name == "Go"
	}
	return false
}

// astIndex is indexFuncs over go/parser's syntax tree: what the token
// reader must return.
func astIndex(fset *token.FileSet, f *ast.File) []funcSpan {
	line := func(p token.Pos) int { return fset.Position(p).Line }
	spanOf := func(n ast.Node) span { return span{line(n.Pos()), line(n.End())} }
	var funcs []funcSpan
	// cur is the index in funcs of the function being walked, -1 outside
	// any.
	var walk func(n ast.Node, cur int)
	walk = func(n ast.Node, cur int) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Body == nil {
					return false
				}
				funcs = append(funcs, funcSpan{span: spanOf(n), parent: -1})
				walk(n.Body, len(funcs)-1)
				return false
			case *ast.CallExpr:
				if cur < 0 || !goStarter(n.Fun) {
					return true
				}
				walk(n.Fun, cur)
				for _, a := range n.Args {
					lit, ok := a.(*ast.FuncLit)
					if !ok {
						walk(a, cur)
						continue
					}
					funcs = append(funcs, funcSpan{span: spanOf(lit), parent: cur,
						depth: funcs[cur].depth + 1, made: line(n.Pos()), goes: true})
					walk(lit.Body, len(funcs)-1)
				}
				return false
			case *ast.FuncLit:
				fs := funcSpan{span: spanOf(n), parent: cur, made: line(n.Pos())}
				if cur >= 0 {
					fs.depth = funcs[cur].depth + 1
				}
				funcs = append(funcs, fs)
				walk(n.Body, len(funcs)-1)
				return false
			case *ast.GoStmt:
				if cur >= 0 {
					funcs[cur].gos = append(funcs[cur].gos, spanOf(n))
					if lit, ok := n.Call.Fun.(*ast.FuncLit); ok {
						funcs = append(funcs, funcSpan{span: spanOf(lit), parent: cur,
							depth: funcs[cur].depth + 1, made: line(n.Pos()), goes: true})
						walk(lit.Body, len(funcs)-1)
						for _, a := range n.Call.Args {
							walk(a, cur)
						}
						return false
					}
				}
			case *ast.DeferStmt:
				if cur >= 0 {
					funcs[cur].gos = append(funcs[cur].gos, spanOf(n))
				}
			case *ast.ForStmt:
				if cur >= 0 {
					l := loopSpan{parts: stmtsSpan(fset, n.Body.List)}
					if n.Cond != nil {
						l.parts = append(l.parts, spanOf(n.Cond))
					}
					if n.Post != nil {
						l.parts = append(l.parts, spanOf(n.Post))
					}
					funcs[cur].loops = append(funcs[cur].loops, l)
				}
			case *ast.RangeStmt:
				if cur >= 0 {
					funcs[cur].loops = append(funcs[cur].loops, loopSpan{parts: stmtsSpan(fset, n.Body.List)})
				}
			}
			return true
		})
	}
	walk(f, -1)
	return funcs
}

// stmtsSpan returns the lines of a block's statements, or none for an
// empty block: the lines that run once per iteration of a loop, without
// the header that runs once.
func stmtsSpan(fset *token.FileSet, list []ast.Stmt) []span {
	if len(list) == 0 {
		return nil
	}
	return []span{{fset.Position(list[0].Pos()).Line, fset.Position(list[len(list)-1].End()).Line}}
}
