package sqlnorm

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzNormalize feeds arbitrary bytes to every dialect and checks that the
// result is bounded, free of string and number literals, and stable.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE a = 'x''y' AND b IN (1, 2, -3.5e2) -- c",
		`INSERT INTO "t" ("a") VALUES ($1), ($2) RETURNING "id"`,
		"select $tag$ body $tag$, E'\\'', x'ff', 0x1f, :n, @p, ?3, %s /* c */",
		"select `a` from t where b = \"s\" # c\n",
		"savepoint s1; release s1; rollback to savepoint s1",
		"select a - 1, a-1, ARRAY[1,2], a::int[], '{}' ?| b",
		"select 'unterminated", "/* open", "$$", "\"", "((((", "1abc", "a in (1, (2, 3), 1)",
		"select /*!40101 sql_no_cache */ _utf8mb4'x', _binary\"y\", b'01', @@sql_mode /*+ hint(1) */ limit ?, ?",
		"select /*M!100301 1, */ \"a\" from `t` where x = 'a\\' -- c\n or y = /*! 'x*/ 'z' */",
		"UPDATE t SET b = 1, a = ?, `c` = now() WHERE id IN (1, 2, 2) ORDER BY id LIMIT 3; update u set y = z, x = ?",
		"update t set b = ?, a = b; insert into t values (1, 'x'), (1, 'x'), (2, ?3) on conflict do update set b = $1, a = :a",
	} {
		for d := range 4 {
			f.Add(s, uint8(d))
		}
	}
	f.Fuzz(func(t *testing.T, q string, d uint8) {
		// MySQL's pick reads in both of its sql_modes, so that the
		// inputs kept in testdata keep their dialect.
		dialects := []Dialect{Dialect(d % 4)}
		if dialects[0] == MySQL {
			dialects = append(dialects, MySQLANSIQuotes)
		}
		for _, dialect := range dialects {
			checkShape(t, q, dialect)
		}
	})
}

// checkShape checks FuzzNormalize's promises for q read in dialect.
func checkShape(t *testing.T, q string, dialect Dialect) {
	t.Helper()
	shape := Normalize(q, dialect)
	if len(shape) > maxShapeLen+len(truncMarker)+2 {
		t.Fatalf("shape is %d bytes", len(shape))
	}
	if again := Normalize(shape, dialect); again != shape {
		t.Fatalf("not idempotent (%v):\n query %q\n once  %q\n twice %q", dialect, q, shape, again)
	}
	if err := literalIn(shape, dialect); err != "" {
		t.Fatalf("%s in shape (%v):\n query %q\n shape %q", err, dialect, q, shape)
	}
	// Info describes the "?" of the shape it comes with, one each, as
	// Token reads them; Token does not read SQLite's [names].
	if dialect == SQLite && strings.Contains(shape, "[") {
		return
	}
	in := new(Info)
	normalize(q, dialect, in)
	marks := 0
	for i := 0; i < len(shape); {
		tok, next := Token(shape, i)
		if tok == "" {
			break
		}
		if tok == "?" {
			marks++
		}
		i = next
	}
	if in.Shape != shape || in.NValues != marks || len(in.Values) != min(marks, MaxValues) {
		t.Fatalf("%d values for %d \"?\" (%v):\n query %q\n shape %q", in.NValues, marks, dialect, q, shape)
	}
}

// literalIn reports a string or numeric literal left in a shape, read in
// dialect d: any single quote, any double quote in MySQL, "$$" that starts a token, or a
// token that starts with a digit and is not a MySQL identifier.
func literalIn(shape string, d Dialect) string {
	mysql := d == MySQL || d == MySQLANSIQuotes
	for i := 0; i < len(shape); i++ {
		c := shape[i]
		switch {
		case c == '\'':
			return "single quote"
		case c == '"' && d == MySQL:
			return "double quote"
		case c == '"' || c == '`' || c == '[' && d == SQLite:
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(shape[i+1:], end)
			if j < 0 {
				return "unterminated identifier"
			}
			i += j + 1
		case c == '$' && i+1 < len(shape) && shape[i+1] == '$' && (i == 0 || !isIdentChar(shape[i-1])):
			return "dollar quote"
		case isDigit(c) && (i == 0 || !isIdentChar(shape[i-1])):
			j := i
			for j < len(shape) && (isIdentChar(shape[j]) || shape[j] == '.') {
				j++
			}
			if !mysql || !strings.ContainsFunc(shape[i:j], func(r rune) bool { return r > '9' || r < '0' }) {
				return "number " + strconv.Quote(shape[i:j])
			}
			i = j - 1
		}
	}
	return ""
}

// FuzzNormalizeLiteral puts fuzzed values in literal positions of real
// statements, correctly quoted for each dialect, and checks that the shape
// does not depend on them at all, so no part of them can reach a log.
func FuzzNormalizeLiteral(f *testing.F) {
	f.Add("it's a secret", int64(-42), 3.25e-7)
	f.Add("back\\slash\\' and \"dq\" and $$ and */ and --", int64(0), -1.0)
	f.Add("", int64(math.MaxInt64), 1e300)
	f.Fuzz(func(t *testing.T, secret string, i int64, fl float64) {
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			fl = 1.5
		}
		for _, d := range []Dialect{Postgres, SQLite, MySQL, MySQLANSIQuotes} {
			for _, tmpl := range literalTemplates {
				if d == SQLite && strings.Contains(tmpl, "[") {
					continue
				}
				got := Normalize(fill(tmpl, d, secret, i, fl), d)
				want := Normalize(fill(tmpl, d, "x", 1, 2), d)
				if got != want {
					t.Fatalf("shape depends on literal values (%v):\n query %q\n got   %q\n want  %q", d, fill(tmpl, d, secret, i, fl), got, want)
				}
				// The generic reading may drop more, but no word of a
				// literal may survive it.
				q := fill(tmpl, d, markSecret(secret), i, fl)
				if got := Normalize(q, Generic); strings.Contains(strings.ToLower(got), secretMarker) {
					t.Fatalf("literal left in the generic reading of a %v statement:\n query %q\n shape %q", d, q, got)
				}
			}
		}
	})
}

const secretMarker = "qzx"

// markSecret puts a marker around every run of letters and digits of v,
// so that any word of v that reaches a shape carries the marker.
func markSecret(v string) string {
	var b strings.Builder
	b.WriteString(secretMarker)
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := 'a' <= c|0x20 && c|0x20 <= 'z' || isDigit(c)
		if !alnum {
			b.WriteString(secretMarker)
		}
		b.WriteByte(c)
		if !alnum {
			b.WriteString(secretMarker)
		}
	}
	b.WriteString(secretMarker)
	return b.String()
}

// In literalTemplates, {S} is a quoted string, {D} a double-quoted string in
// MySQL (a string elsewhere too), {U} a string with a MySQL character set
// introducer (a string elsewhere), {I} an integer, {F} a float, {H} a hex blob,
// {C} a block comment, {L} a line comment and {Q} a dollar-quoted body.
var literalTemplates = []string{
	"SELECT * FROM t WHERE a = {S} AND b = {I} AND c = {F}",
	"select a - {I}, b+{F}, c * {I}, {I} - {I}, ({I}), - {F} from t {C}",
	"INSERT INTO t (a, b, c) VALUES ({S}, {I}, {F}), ({S}, - {I}, {H}), ({S}, {I}, {F}) {L}",
	"UPDATE t SET a = {S}, b = {I} WHERE id IN ({I}, {I}, {F}) {C}",
	"select f({S}, {I}), {S}::text from t where y like {S} escape {S}",
	"select array[{I}, {F}], x[{I}] from t", // not SQLite, where [...] is an identifier
	"select * from t where a between {I} and {F} limit {I} offset {I}",
	"select * from t where a = {Q} and b = {D}",
	"select /*!40101 sql_no_cache */ a from t where b = {U} /*+ max_execution_time(1) */ limit {I}, {I}",
	"insert into t (a, b) values ({S}, {U}) on duplicate key update b = {D}, c = c + {I}",
}

func fill(tmpl string, d Dialect, s string, i int64, fl float64) string {
	var b strings.Builder
	for k := 0; k < len(tmpl); k++ {
		if tmpl[k] != '{' || k+2 >= len(tmpl) || tmpl[k+2] != '}' {
			b.WriteByte(tmpl[k])
			continue
		}
		k++
		switch tmpl[k] {
		case 'S':
			b.WriteString(quote(s, d))
		case 'D':
			switch d {
			case MySQL:
				b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`)
			case SQLite:
				b.WriteString(`"` + strings.ReplaceAll(s, `"`, `""`) + `"`)
			default:
				b.WriteString(quote(s, d))
			}
		case 'U':
			if d == MySQL || d == MySQLANSIQuotes {
				b.WriteString("_utf8mb4")
			}
			b.WriteString(quote(s, d))
		case 'I':
			b.WriteString(strconv.FormatInt(i, 10))
		case 'F':
			b.WriteString(strconv.FormatFloat(fl, 'g', -1, 64))
		case 'H':
			b.WriteString("x'" + strconv.FormatUint(uint64(i), 16) + "'")
		case 'C':
			// A space first: MySQL runs /*!...*/ and reads /*+...*/ as hints.
			b.WriteString("/* " + strings.ReplaceAll(s, "*", "") + "*/")
		case 'L':
			b.WriteString("-- " + strings.NewReplacer("\n", "", "\r", "").Replace(s) + "\n")
		case 'Q':
			if d == MySQL || d == MySQLANSIQuotes || strings.Contains(s, "$q$") || strings.HasSuffix(s, "$q") {
				b.WriteString(quote(s, d))
			} else {
				b.WriteString("$q$" + s + "$q$")
			}
		}
		k++
	}
	return b.String()
}

// quote writes s as a single-quoted literal the way dialect d reads it.
func quote(s string, d Dialect) string {
	if d == Generic || d == MySQL || d == MySQLANSIQuotes {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
