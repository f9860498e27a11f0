package pgxtrace_test

import (
	"go/doc"
	"go/parser"
	"go/token"
	"io"
	"os"
	"strings"
	"testing"
)

// TestExamples runs the examples, which need a PostgreSQL server and so
// have no Output comment, against the test server, and checks that each
// prints what its doc comment says it prints.
func TestExamples(t *testing.T) {
	t.Setenv("DATABASE_URL", postgresDSN(t))
	examples := map[string]func(){
		"":            Example,
		"multitracer": Example_multitracer,
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range doc.Examples(f) {
		name := strings.TrimPrefix(ex.Name, "_")
		run, ok := examples[name]
		if name == "" {
			name = "Example"
		}
		if !ok {
			t.Errorf("example %q is not run by TestExamples", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			want := printed(ex.Doc)
			if want == "" {
				t.Fatalf("the doc comment of example %q does not say what it prints", name)
			}
			if got := stdout(t, run); got != want {
				t.Errorf("printed:\n%s\nwant, as its doc comment says:\n%s", got, want)
			}
		})
	}
}

// printed returns the indented lines that follow "prints:" in an
// example's doc comment, one per line.
func printed(comment string) string {
	_, after, ok := strings.Cut(comment, "prints:\n\n")
	if !ok {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.Split(after, "\n") {
		line, ok := strings.CutPrefix(line, "\t")
		if !ok {
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// stdout runs f and returns what it wrote to os.Stdout.
func stdout(t *testing.T, f func()) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = saved }()
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	f()
	w.Close()
	return <-out
}
