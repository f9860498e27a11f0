package gentest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
)

// TestInlinedLibrary builds testdata/qtprog against testdata/qtlib served
// from a module proxy in a folder, so that qtlib lands in the module
// cache as a dependency does, and checks that the compiler inlined
// qtlib's method into qtprog's function, literal and all: the literal's
// frame carries qtprog's function name and qtlib's file. Such a frame is
// not the application's. Then it runs the program twice: with its source
// beside it, where the loops are read from the source (the loop in a
// callee, the loop behind middleware), and with its source gone, as a
// binary deployed alone, where the stacks are all there is to go by: the
// line where the loop's path parts from a statement outside it, and for
// a loop with no statement outside it, no loop at all.
func TestInlinedLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program: not in -short")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	version := libProxy(t, filepath.Join(tmp, "proxy"), "testdata/qtlib")
	src := filepath.Join(tmp, "src", "qtprog")
	copyFile(t, "testdata/qtprog/main.go", filepath.Join(src, "main.go"))
	gomod := fmt.Sprintf("module example.com/qtprog\n\ngo 1.25.0\n\nrequire (\n\texample.com/qtlib %s\n\tgithub.com/mattn/go-sqlite3 v1.14.53\n\tgithub.com/querytrace/querytrace v0.0.0\n)\n\nreplace github.com/querytrace/querytrace => %s\n", version, root)
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	proxy := "file://" + filepath.ToSlash(filepath.Join(tmp, "proxy"))
	if up, err := exec.Command(goBin, "env", "GOPROXY").Output(); err == nil && len(bytes.TrimSpace(up)) > 0 {
		proxy += "," + string(bytes.TrimSpace(up))
	}
	bin := filepath.Join(tmp, "bin", "qtprog")
	build := exec.Command(goBin, "build", "-gcflags=-m", "-o", bin, ".")
	build.Dir = src
	// The throwaway module's go.sum is written as it builds; qtlib,
	// served from the folder, has no checksum anywhere else.
	build.Env = append(os.Environ(), "GOPROXY="+proxy, "GOFLAGS=-mod=mod", "GOSUMDB=off", "GOWORK=off")
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("inlining call to qtlib.(*Query).One")) {
		t.Fatalf("the compiler did not inline qtlib's One; the scenario needs it:\n%s", out)
	}

	withSource := runProg(t, bin)
	if err := os.RemoveAll(filepath.Join(tmp, "src")); err != nil {
		t.Fatal(err)
	}
	alone := runProg(t, bin)

	for _, run := range []struct {
		name string
		out  progOutput
	}{{"with source", withSource}, {"source gone", alone}} {
		t.Run(run.name, func(t *testing.T) {
			m := run.out.Marks
			for _, res := range run.out.Results {
				if len(res.Findings) != 1 {
					t.Fatalf("%s: %d N+1 findings, want 1", res.Page, len(res.Findings))
				}
				f := res.Findings[0]
				// The library's literal was on the path, under the
				// application's name; the stack skips it.
				inlined := false
				for _, fr := range res.Full[0] {
					if strings.HasPrefix(fr.Function, "main.queryOne.") && strings.Contains(fr.File, "/qtlib@") {
						inlined = true
					}
				}
				if !inlined {
					t.Errorf("%s: no frame of qtlib's literal under queryOne's name in %v", res.Page, res.Full[0])
				}
				if len(f.Stack) == 0 || f.Stack[0].Function != "main.queryOne" || f.Stack[0].Line != m["queryOne"] {
					t.Errorf("%s: stack %v, want main.queryOne:%d first", res.Page, f.Stack, m["queryOne"])
				}
				for _, fr := range append(f.Stack, ptrs(f.Loop, f.Below)...) {
					if strings.Contains(fr.File, "qtlib") {
						t.Errorf("%s: library frame %v named as the application's", res.Page, fr)
					}
				}
				wantLoop, wantBelow := progExpect(res.Page, run.name == "with source", m)
				if got := fileLine(f.Loop); got != wantLoop {
					t.Errorf("%s: loop %s, want %s", res.Page, got, wantLoop)
				}
				if got := fileLine(f.Below); got != wantBelow {
					t.Errorf("%s: repeated below %s, want %s", res.Page, got, wantBelow)
				}
			}
		})
	}
}

// progExpect returns what a page's finding should name, as "main.go:line"
// ("" for nothing), for its loop and for where it repeated below: the
// lines of qtprog's marks, whatever the compiler named the functions it
// inlined.
func progExpect(page string, source bool, m map[string]int) (loop, below string) {
	at := func(mark string) string { return fmt.Sprintf("main.go:%d", m[mark]) }
	switch {
	case page == "list" && source:
		return at("names loop"), "" // the loop in the callee
	case page == "list":
		return at("listPage call"), "" // where it parts from the count
	case source:
		return at("handler loop"), ""
	}
	// No statement outside the loop and no source: not the middleware's
	// line as the loop, only that it all ran below it.
	return "", at("outer middleware")
}

// progOutput is what qtprog prints.
type progOutput struct {
	Marks   map[string]int `json:"marks"`
	Results []struct {
		Page     string `json:"page"`
		Findings []struct {
			Stack []querytrace.Frame `json:"stack"`
			Loop  *querytrace.Frame  `json:"loop"`
			Below *querytrace.Frame  `json:"repeated_below"`
		} `json:"findings"`
		Full [][]querytrace.Frame `json:"full"`
	} `json:"results"`
}

func runProg(t *testing.T, bin string) progOutput {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("qtprog: %v\n%s", err, stderr.Bytes())
	}
	var p progOutput
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("qtprog's output: %v\n%s", err, out)
	}
	return p
}

// fileLine returns f as "file.go:line", or "" for nil.
func fileLine(f *querytrace.Frame) string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
}

func ptrs(fs ...*querytrace.Frame) []querytrace.Frame {
	var out []querytrace.Frame
	for _, f := range fs {
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// libProxy writes the module in dir to a module proxy in the folder proxy,
// at a version named after its content (the module cache keeps what it
// extracts: a changed library must be a new version), and returns the
// version.
func libProxy(t *testing.T, proxy, dir string) string {
	t.Helper()
	names := []string{"go.mod", "qtlib.go"}
	h := sha256.New()
	files := make(map[string][]byte)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
		fmt.Fprintf(h, "%s\x00%s\x00", n, b)
	}
	version := fmt.Sprintf("v0.0.0-20250101000000-%x", h.Sum(nil)[:6])
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, n := range names {
		w, err := zw.Create("example.com/qtlib@" + version + "/" + n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(proxy, "example.com", "qtlib", "@v")
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": []byte(`{"Version":"` + version + `","Time":"2025-01-01T00:00:00Z"}`),
		version + ".mod":  files["go.mod"],
		version + ".zip":  zb.Bytes(),
	} {
		writeFile(t, filepath.Join(at, name), data)
	}
	return version
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
