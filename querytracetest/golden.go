package querytracetest

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/human"
)

// update is -querytrace.update. The flag has a name of its own so that it
// never collides with the -update flag a test package may define; when one
// is defined, Golden honours it too.
var update = flag.Bool("querytrace.update", false, "rewrite the querytrace golden files under testdata/querytrace")

// updating reports whether golden files are to be rewritten: with
// -querytrace.update, or with -update when the test package defines a
// boolean flag of that name.
func updating() bool {
	if *update {
		return true
	}
	if f := flag.Lookup("update"); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			b, ok := g.Get().(bool)
			return ok && b
		}
	}
	return false
}

// goldenDir is where Golden keeps its files, relative to the package
// directory that go test runs in.
const goldenDir = "testdata/querytrace"

// Golden starts a trace on ctx and returns the traced context. When the
// test ends, it compares the statements run with it to the file
// testdata/querytrace/<test name>.golden: each (shape, kind) with its
// count, in any order, with no timings and no call sites, so that the
// file changes only when the statements do. A subtest's file is in a
// directory named after its parent.
//
// With -querytrace.update (or the test package's own -update flag) the
// file is rewritten. A missing file is created, except when the CI
// environment variable is set: there it fails the test, so that a file
// nobody committed does not pass unnoticed. A test that failed otherwise
// writes no file.
func Golden(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	g := goldenCheck{dir: goldenDir, update: updating(), ci: os.Getenv("CI") != ""}
	return watch(t, ctx, func(r *querytrace.Report) {
		t.Helper()
		g.check(t, r)
	})
}

// goldenCheck is Golden's settings, which tests of this package change.
type goldenCheck struct {
	dir    string
	update bool
	ci     bool
}

// A goldenKey is what a golden file counts statements by.
type goldenKey struct{ shape, kind string }

func (g goldenCheck) check(t testing.TB, r *querytrace.Report) {
	t.Helper()
	path := goldenPath(g.dir, t.Name())
	got := goldenCounts(r)
	want, err := readGolden(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && g.ci && !g.update:
		t.Errorf("querytrace: golden file %s is missing (CI is set, so it is not created); run %s and commit the file",
			path, rerun(t.Name()))
		return
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		t.Errorf("querytrace: %v", err)
		return
	case err == nil && !g.update:
		if diff := goldenDiff(want, got); diff != "" {
			t.Errorf("querytrace: statements differ from %s (if the change is intended, run %s)\n%s%s",
				path, rerun(t.Name()), diff, details(r))
		}
		return
	}
	if t.Failed() {
		t.Logf("querytrace: the test failed; %s not written", path)
		return
	}
	if err := writeGolden(path, t.Name(), got); err != nil {
		t.Errorf("querytrace: %v", err)
		return
	}
	t.Logf("querytrace: wrote %s (%s)", path, human.Plural(r.Statements, "statement", "statements"))
}

// goldenCounts counts the statements of r by shape and kind.
func goldenCounts(r *querytrace.Report) map[goldenKey]int {
	m := make(map[goldenKey]int)
	for _, g := range r.Groups {
		if g.Statements > 0 {
			m[goldenKey{g.Shape, g.Kind.String()}] += g.Count
		}
	}
	return m
}

// unsafePath matches what is left out of golden file names.
var unsafePath = regexp.MustCompile(`[^A-Za-z0-9_.=+,-]+`)

// goldenPath is the file of the test named name: one directory per level
// of subtests.
func goldenPath(dir, name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		p = unsafePath.ReplaceAllString(p, "_")
		if strings.Trim(p, ".") == "" {
			p = "_" + p
		}
		parts[i] = p
	}
	return filepath.Join(dir, filepath.Join(parts...)+".golden")
}

// rerun is the command that rewrites the golden file of test name.
func rerun(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test -run '%s' -querytrace.update", strings.Join(parts, "/"))
}

// A golden file is comment lines starting with "#" and one line per shape
// and kind: count, kind and shape separated by tabs, sorted by shape. A
// shape may hold a tab or a line break (in a quoted identifier): the file
// writes them, and backslashes and other control characters, escaped as
// in Go ("\t", "\n", "\\", "\x01"), so that each line splits back into
// its three fields.
func writeGolden(path, name string, counts map[goldenKey]int) error {
	keys := make([]goldenKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b goldenKey) int {
		return cmp.Or(cmp.Compare(a.shape, b.shape), cmp.Compare(a.kind, b.kind))
	})
	var b strings.Builder
	fmt.Fprintf(&b, "# querytrace statements of %s: count, kind, shape. Order does not matter.\n", name)
	fmt.Fprintf(&b, "# Regenerate with: %s\n", rerun(name))
	for _, k := range keys {
		fmt.Fprintf(&b, "%d\t%s\t%s\n", counts[k], escapeField(k.kind), escapeField(k.shape))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func readGolden(path string) (map[goldenKey]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := make(map[goldenKey]int)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, len(data)+1)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.SplitN(text, "\t", 3)
		n, err := strconv.Atoi(strings.TrimSpace(fields[0]))
		if len(fields) != 3 || err != nil {
			return nil, fmt.Errorf("%s:%d: want count, kind and shape separated by tabs; delete the file to have it written again", path, line)
		}
		m[goldenKey{unescapeField(fields[2]), unescapeField(fields[1])}] += n
	}
	return m, sc.Err()
}

// escapeField returns s with backslashes and control characters escaped,
// so that it holds no tab and no line break.
func escapeField(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeField undoes escapeField. A backslash that starts no escape
// escapeField writes is kept, so that files written before shapes were
// escaped read as they did.
func unescapeField(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			if v, err := strconv.ParseUint(s[i+2:min(i+4, len(s))], 16, 8); err == nil && i+4 <= len(s) {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
			b.WriteByte(c)
			continue
		default:
			b.WriteByte(c)
			continue
		}
		i++
	}
	return b.String()
}

// goldenDiff lists what changed from want to got, or returns "".
func goldenDiff(want, got map[goldenKey]int) string {
	keys := make([]goldenKey, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b goldenKey) int {
		return cmp.Or(cmp.Compare(a.shape, b.shape), cmp.Compare(a.kind, b.kind))
	})
	var b strings.Builder
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "  - %-9s %-14s %s (no longer runs)\n", strconv.Itoa(w), k.kind, escapeField(k.shape))
		case !inWant:
			fmt.Fprintf(&b, "  + %-9s %-14s %s (new)\n", strconv.Itoa(g), k.kind, escapeField(k.shape))
		case w != g:
			fmt.Fprintf(&b, "  ~ %-9s %-14s %s\n", fmt.Sprintf("%d -> %d", w, g), k.kind, escapeField(k.shape))
		}
	}
	return b.String()
}
