package sqlnorm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/outputs.txt from the current normalizer")

// TestGolden pins what the normalizer reads from a fixed set of inputs, in
// every dialect: the shape and every field of Info. It guards changes that
// must not change any output, such as making the lexer faster.
//
// The inputs are testdata/golden/inputs.txt, one Go-quoted string a line (a
// snapshot of the string literals of this package's tests and the root
// package's normalize tests, and of bench/normalize's statements and
// corpora), the seed corpora of the fuzz tests here and in the root
// package, a few long inputs built by goldenInputs, and statements of
// random tokens (randomStatements). For each input,
// testdata/golden/outputs.txt holds a hash of its records in all the
// dialects (see goldenRecord); on a mismatch the test prints the records.
// Regenerate it with -update, and only from a normalizer whose output is
// meant to change.
func TestGolden(t *testing.T) {
	// The literal hashes are seeded per process; fix the seed so that
	// they can be compared with a file.
	defer func(s uint64) { litSeed = s }(litSeed)
	litSeed = 0x243f6a8885a308d3

	inputs := goldenInputs(t)
	var out bytes.Buffer
	for _, q := range inputs {
		var recs strings.Builder
		for _, d := range dialects {
			recs.WriteString(goldenRecord(t, q, d))
		}
		sum := sha256.Sum256([]byte(recs.String()))
		fmt.Fprintf(&out, "%s\n", hex.EncodeToString(sum[:8]))
	}
	const file = "testdata/golden/outputs.txt"
	if *update {
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	got := strings.Split(out.String(), "\n")
	lines := strings.Split(string(want), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d inputs, %s has %d", len(inputs), file, len(lines)-1)
	}
	bad := 0
	for i, q := range inputs {
		if got[i] == lines[i] {
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many differences")
		}
		var recs strings.Builder
		for _, d := range dialects {
			recs.WriteString(goldenRecord(t, q, d))
		}
		t.Errorf("input %d changed: %.300q\nnow:\n%s", i, q, recs.String())
	}
}

// goldenRecord returns what the normalizer reads from q in dialect d, one
// line a field.
func goldenRecord(t *testing.T, q string, d Dialect) string {
	shape := Normalize(q, d)
	in := newInfo(q, d)
	if in.Shape != shape {
		t.Errorf("%v: Normalize and Shape differ for %.200q:\n %q\n %q", d, q, shape, in.Shape)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v %q\n", d, in.Shape)
	fmt.Fprintf(&b, " fingerprint=%#x literals=%#x keys=%d statements=%d nvalues=%d verb=%q\n",
		in.Fingerprint, in.Literals, in.Keys, in.Statements, in.NValues, in.Verb)
	fmt.Fprintf(&b, " values=%v tables=%q\n", in.Values, in.Tables())
	return b.String()
}

// goldenInputs returns TestGolden's inputs.
func goldenInputs(t *testing.T) []string {
	var qs []string
	f, err := os.Open("testdata/golden/inputs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		q, err := strconv.Unquote(sc.Text())
		if err != nil {
			t.Fatalf("inputs.txt: %v: %s", err, sc.Text())
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"testdata/fuzz/*/*", "../../testdata/fuzz/*/*"} {
		files, err := filepath.Glob(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			qs = append(qs, fuzzStrings(t, file)...)
		}
	}
	var rows strings.Builder
	rows.WriteString("INSERT INTO t (a, b, c) VALUES ")
	for i := range 300 {
		if i > 0 {
			rows.WriteString(", ")
		}
		fmt.Fprintf(&rows, "(%d, 'name %d', %d.5)", i, i, -i)
		if i%7 == 0 {
			rows.WriteString(", (1, ?, :x)")
		}
	}
	garbage := make([]byte, 8<<10)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>8)
	}
	return append(append(qs,
		rows.String(),
		strings.Repeat("(", 5000),
		strings.Repeat("a ", 3000),
		strings.Repeat("'x' ", 2000),
		strings.Repeat("a in (", 20)+strings.Repeat("1, 2)", 20),
		strings.Repeat("select \"x\" from `t` where a in (1, 2) and b = $1; ", 100),
		string(garbage),
	), randomStatements(6000)...)
}

// goldenTokens are what randomStatements builds statements from: keywords
// the normalizer treats specially, names, and every kind of literal,
// placeholder, quote, comment and operator of the dialects.
var goldenTokens = append(strings.Fields(`
	select or on having case return distinct all xor then else when like ilike
	limit offset and between where from by default escape glob regexp rlike
	similar any some interval div mod exists as join with using conflict
	returning set union intersect except over lateral do key unique check
	filter within sets materialized group into table update references index
	view create alter drop pragma not in values value to is array savepoint
	release rollback null true false insert delete order start transaction
	begin commit end abort replace now count
	a b id name t users x1 _x $x 1abc 0x1F 0X1f 0b01 0o7 1e3 1.5e-2 .5 1. 42
	'x' 'it''s' 'a\'b' "q" "q""r" "a\"b" [s] [x y] ] [ ( ( ( ) ) ) , , , ;
	. :: : = < > <= <> != - + -- # * / % ^ | || & ~ ! @ ? $1 $2 ?3 ?| ?& :n
	:1 @p @@v %s %(n)s $$ $$b$$ $t$ $t$x$t$ E'\n' e'x' X'ff' x'0F' B'01'
	N'x' U&'x' _utf8mb4'x' _binary"y" /* /*c*/ */ /*!40101 /*+ /*M!1 */
	… é 😀`), "`c`", "`c``d`", "`", "'", `"`, "\n", "\t", "\r", "\x00", "\x7f")

// randomStatements returns n statements of random goldenTokens, from a
// fixed seed, to reach what the test tables do not.
func randomStatements(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	qs := make([]string, n)
	var b strings.Builder
	for i := range qs {
		b.Reset()
		for range 1 + r.IntN(40) {
			tok := goldenTokens[r.IntN(len(goldenTokens))]
			if r.IntN(3) == 0 {
				tok = strings.ToUpper(tok)
			}
			b.WriteString(tok)
			if r.IntN(4) != 0 {
				b.WriteByte(' ')
			}
		}
		qs[i] = b.String()
	}
	return qs
}

// fuzzStrings returns the string arguments of a file of a fuzz test's
// corpus ("go test fuzz v1").
func fuzzStrings(t *testing.T, file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "string("); ok && strings.HasSuffix(v, ")") {
			q, err := strconv.Unquote(v[:len(v)-1])
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			qs = append(qs, q)
		}
	}
	return qs
}
