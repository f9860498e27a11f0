package sqlnorm

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
)

// tokKind is the kind of the last token written to a shape; it decides
// spacing, whether a sign is unary, and whether NULL is a value.
type tokKind uint8

const (
	tkNone   tokKind = iota // start of input
	tkWord                  // unquoted word
	tkQuoted                // quoted identifier
	tkValue                 // "?"
	tkOpen                  // (
	tkOpenBr                // [
	tkClose                 // ) or ]
	tkComma                 // ,
	tkDot                   // .
	tkCast                  // ::
	tkSemi                  // ;
	tkOp                    // operator
	tkOther                 // any other punctuation
)

// kwID identifies the few words the normalizer treats specially.
type kwID uint8

const (
	kwNone kwID = iota
	kwPlain
	kwIs
	kwNot
	kwIn
	kwValues
	kwArray
	kwSavepoint
	kwTo
	kwRelease
	kwRollback
	kwNull
	kwBool
	kwAnd
	kwBetween
	kwDDL    // CREATE, ALTER, DROP
	kwSet    // SET starts a list of assignments
	kwEndSet // WHERE, FROM and RETURNING end it
	kwPragma
	kwLimit
)

// Word flags.
const (
	// fOperand marks words after which an operand is expected, so that a
	// sign starts a number and NULL is a value.
	fOperand = 1 << iota
	// fSpace marks keywords written with a space before "(": words without
	// it are function or table names and touch their "(".
	fSpace
	// fValue marks words after which a value goes: in SQLite a "quoted"
	// token there is a string.
	fValue
	// fTable marks words after which a table or other object's name goes.
	fTable
	// fName marks words after which column names go.
	fName
)

// keywords are the words the normalizer treats specially.
var keywords = [...]struct {
	w  string
	id kwID
	fl uint8
}{
	{"select", kwPlain, fOperand | fSpace},
	{"or", kwPlain, fOperand | fSpace},
	{"on", kwPlain, fOperand | fSpace},
	{"having", kwPlain, fOperand | fSpace},
	{"case", kwPlain, fOperand | fSpace},
	{"return", kwPlain, fOperand | fSpace},
	{"distinct", kwPlain, fOperand | fSpace},
	{"all", kwPlain, fOperand | fSpace},
	{"xor", kwPlain, fOperand | fSpace},
	{"then", kwPlain, fOperand | fSpace | fValue},
	{"else", kwPlain, fOperand | fSpace | fValue},
	{"when", kwPlain, fOperand | fSpace | fValue},
	{"like", kwPlain, fOperand | fSpace | fValue},
	{"ilike", kwPlain, fOperand | fSpace | fValue},
	{"limit", kwLimit, fOperand | fSpace | fValue},
	{"offset", kwPlain, fOperand | fSpace | fValue},
	{"and", kwAnd, fOperand | fSpace},
	{"between", kwBetween, fOperand | fSpace | fValue},
	{"where", kwEndSet, fOperand | fSpace},
	{"from", kwEndSet, fOperand | fSpace | fTable},
	{"by", kwPlain, fOperand | fSpace | fName},
	{"default", kwPlain, fOperand | fValue},
	{"escape", kwPlain, fOperand | fValue},
	{"glob", kwPlain, fOperand | fValue},
	{"regexp", kwPlain, fOperand | fValue},
	{"rlike", kwPlain, fOperand | fValue},
	{"similar", kwPlain, fOperand | fValue},
	{"any", kwPlain, fOperand},
	{"some", kwPlain, fOperand},
	{"interval", kwPlain, fOperand},
	{"div", kwPlain, fOperand},
	{"mod", kwPlain, fOperand},
	{"exists", kwPlain, fSpace | fTable},
	{"as", kwPlain, fSpace | fTable},
	{"join", kwPlain, fSpace | fTable},
	{"with", kwPlain, fSpace | fTable},
	{"using", kwPlain, fSpace | fName},
	{"conflict", kwPlain, fSpace | fName},
	{"returning", kwEndSet, fSpace | fName},
	{"set", kwSet, fSpace | fName},
	{"union", kwPlain, fSpace},
	{"intersect", kwPlain, fSpace},
	{"except", kwPlain, fSpace},
	{"over", kwPlain, fSpace},
	{"lateral", kwPlain, fSpace},
	{"do", kwPlain, fSpace},
	{"key", kwPlain, fSpace},
	{"unique", kwPlain, fSpace},
	{"check", kwPlain, fSpace},
	{"filter", kwPlain, fSpace},
	{"within", kwPlain, fSpace},
	{"sets", kwPlain, fSpace},
	{"materialized", kwPlain, fSpace},
	{"group", kwPlain, fSpace},
	{"into", kwPlain, fTable},
	{"table", kwPlain, fTable},
	{"update", kwPlain, fTable},
	{"references", kwPlain, fTable},
	{"index", kwPlain, fTable},
	{"view", kwPlain, fTable},
	{"create", kwDDL, 0},
	{"alter", kwDDL, 0},
	{"drop", kwDDL, 0},
	{"pragma", kwPragma, 0},
	{"not", kwNot, fOperand | fSpace},
	{"in", kwIn, fOperand | fSpace},
	{"values", kwValues, fOperand | fSpace},
	{"value", kwValues, fOperand | fSpace},
	{"to", kwTo, fOperand},
	{"is", kwIs, fSpace | fValue},
	{"array", kwArray, 0},
	{"savepoint", kwSavepoint, 0},
	{"release", kwRelease, 0},
	{"rollback", kwRollback, 0},
	{"null", kwNull, 0},
	{"true", kwBool, 0},
	{"false", kwBool, 0},
}

// kwIndex finds keywords by a hash of a word's length and first and last
// letters, probing linearly: most words of a statement are names, and
// this turns them away in a probe or two where a switch over the keywords
// would compare several strings. It holds 1 + an index into keywords, or 0.
var kwIndex [256]uint8

// maxKeywordLen is the length of the longest keyword.
const maxKeywordLen = len("materialized")

// kwSlot returns the slot of kwIndex where the search for w starts. It
// folds case by setting the bit that tells a lower-case ASCII letter from
// an upper-case one, which turns no other byte into a letter.
func kwSlot(w string) uint8 {
	return uint8(uint(w[0]|0x20)*7 ^ uint(w[len(w)-1]|0x20)*31 ^ uint(len(w))*57)
}

func init() {
	for i, k := range keywords {
		if len(k.w) > maxKeywordLen || strings.Trim(k.w, "abcdefghijklmnopqrstuvwxyz") != "" {
			panic("sqlnorm: keyword " + k.w + " is not a short lower-case word")
		}
		h := kwSlot(k.w)
		for kwIndex[h] != 0 {
			h++
		}
		kwIndex[h] = uint8(i + 1)
	}
}

// classify looks up a word, in any case, whose slot is h. A word no
// longer than maxKeywordLen whose slot is empty is no keyword: the caller
// checks that first, inline, and spares most names the call.
func classify(w string, h uint8) (kwID, uint8) {
	for ; kwIndex[h] != 0; h++ {
		if k := &keywords[kwIndex[h]-1]; len(k.w) == len(w) && equalFoldWord(w, k.w) {
			return k.id, k.fl
		}
	}
	return kwNone, 0
}

// equalFoldWord reports whether w is the keyword kw, which is as long and
// all lower-case letters, in any case. A byte of w matches a letter of kw
// when it is that letter in either case, which setting the case bit (see
// kwSlot) tells.
func equalFoldWord(w, kw string) bool {
	for i := 0; i < len(kw); i++ {
		if w[i]|0x20 != kw[i] {
			return false
		}
	}
	return true
}

// frame is an open "(" or "[" of the shape being written.
type frame struct {
	bracket bool  // opened by "["
	nest    uint8 // list and row frames enclosing this one, itself included
	list    bool  // IN (...) or ARRAY[...]: runs of identical items collapse
	in      bool  // an IN list, whose items Info.Keys counts
	sub     bool  // ... that turned out to be a subquery: no list
	items   int   // the items of an IN list so far
	row     bool  // a row of a VALUES list
	fn      bool  // a function's arguments
	cols    bool  // a list of column names
	// marks holds markNeedStart and markValues, which emit tests in one
	// load for every token.
	marks uint8
	// Items of a list, as offsets into the output.
	itemStart                int
	prevStart, prevEnd       int
	rows                     int // VALUES rows at this level (markValues)
	rowStart                 int
	rowPrevStart, rowPrevEnd int
}

// The bits of normalizer.stop.
const (
	stopDone = 1 << iota
	stopSemi
)

// The marks of a frame.
const (
	markNeedStart = 1 << iota // the next token starts an item of the frame
	markValues                // VALUES rows may follow at this level
)

type normalizer struct {
	src string
	i   int
	d   Dialect
	// The shape is written to out[:w]. out never grows: emit stops at
	// maxShapeLen, and writing by index spares the hot path the write
	// barriers that storing a slice header would cost.
	out []byte
	w   int

	prev    tokKind
	prevKw  kwID
	prevFl  uint8
	prev2Kw kwID
	prev2Fl uint8

	tok        int  // where the token being read starts
	brEnd      int  // the "]" that would end a SQLite [identifier], in the generic reading
	ansiQuotes bool // MySQL reads "..." as an identifier (MySQLANSIQuotes)
	// noEscapes reads MySQL's strings as a server with NO_BACKSLASH_ESCAPES
	// does, a backslash being a character like any other; openString is
	// set where a MySQL string ran to the end of the text unclosed. See
	// normalize.
	noEscapes  bool
	openString bool
	setDepth   int  // len(frames) where a SET list is open, or 0
	between    bool // a BETWEEN waits for its AND
	limitAt    int  // len(frames) where LIMIT's values are being read (LIMIT a, b), or 0
	betweenAnd bool // the last word is that AND

	stmtKw   kwID // first word of the current statement
	stmtToks int
	nameNext bool // the next name is a savepoint name
	// stop holds stopDone, set once the shape is complete (the truncation
	// marker written), and stopSemi, a ";" waiting for the next
	// statement: emit tests both in one load.
	stop uint8

	frames []frame
	top    *frame // &frames[len(frames)-1], which every token asks for

	lit    uint64 // hash of the literals replaced so far
	keys   int    // the longest IN or VALUES list so far
	maxArg int    // the highest argument position a placeholder took so far
	named  bool   // a named placeholder was seen
	slots  []slot // every "?" of the shape so far

	update   bool // the statement is an UPDATE
	setStart int  // where its top-level SET list starts in out, or 0
	scratch  []byte
	assigns  []assignment
}

// normalizers recycles the scratch state of normalize, so that the cold
// path allocates only the returned string.
var normalizers = sync.Pool{New: func() any {
	return &normalizer{
		out:    make([]byte, maxShapeLen+64),
		frames: make([]frame, 0, 16),
	}
}}

// normalize returns the shape of query in dialect d, and fills in what
// else in says when it is not nil.
func normalize(query string, d Dialect, in *Info) string {
	n := normalizers.Get().(*normalizer)
	ansi := d == MySQLANSIQuotes
	if ansi {
		d = MySQL
	}
	n.read(query, d, ansi, false)
	// A server with NO_BACKSLASH_ESCAPES in its sql_mode reads 'C:\' as a
	// whole string, where the default reading runs on past its quote and
	// swallows the text up to the next one, leaving what follows, a
	// literal, outside any string. A text the default reading cannot end
	// (a string left open) and that reads whole without backslash escapes
	// is read that way. No statement a server ran ends inside a string.
	if n.openString && strings.IndexByte(query, '\\') >= 0 {
		n.read(query, d, ansi, true)
		if n.openString {
			n.read(query, d, ansi, false)
		}
	}
	shape := string(n.out[:n.w])
	if in != nil {
		in.Shape, in.Literals = shape, n.lit
		n.info(in)
	}
	n.src = ""
	normalizers.Put(n)
	return shape
}

// read normalizes query into n, from a fresh state.
func (n *normalizer) read(query string, d Dialect, ansi, noEscapes bool) {
	*n = normalizer{src: query, d: d, ansiQuotes: ansi, noEscapes: noEscapes, out: n.out, frames: n.frames[:1], slots: n.slots[:0],
		scratch: n.scratch[:0], assigns: n.assigns[:0]}
	n.frames[0] = frame{prevEnd: -1, rowPrevEnd: -1}
	n.top = &n.frames[0]
	n.run()
	n.sortSet(n.w)
}

// mysqlEscapes reports whether backslashes escape in n's MySQL strings:
// in MySQL's default sql_mode, unless the text reads whole only without.
func (n *normalizer) mysqlEscapes() bool { return n.d == MySQL && !n.noEscapes }

func (n *normalizer) put(c byte) {
	n.out[n.w] = c
	n.w++
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// charClass holds the classes of each byte below, so that the loops that
// scan words, most of a statement's bytes, test one a lookup each.
var charClass = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		if 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' || c >= 0x80 {
			t[i] |= cIdentStart | cIdentChar
		}
		if isDigit(c) || c == '$' {
			t[i] |= cIdentChar
		}
	}
	return t
}()

const (
	cIdentStart = 1 << iota // a letter, "_", or a byte of a UTF-8 sequence
	cIdentChar              // those, a digit or "$"
)

// toLower maps each byte to itself, but an upper-case ASCII letter to
// its lower-case one.
var toLower = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return t
}()

func isIdentStart(c byte) bool { return charClass[c]&cIdentStart != 0 }
func isIdentChar(c byte) bool  { return charClass[c]&cIdentChar != 0 }

func isOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|':
		return true
	}
	return false
}

func (n *normalizer) peek(k int) byte {
	if n.i+k < len(n.src) {
		return n.src[n.i+k]
	}
	return 0
}

// The bytes that start the commonest tokens, which run tells by one
// lookup; the others go through token.
const (
	startOther = iota
	startSpace
	startWord
	startDigit
	startComma
	startOpen     // (
	startClose    // )
	startQuote    // '
	startDouble   // "
	startBacktick // `
	startDot      // .
)

var tokenStart = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		switch {
		case c <= ' ' || c == 0x7f:
			t[i] = startSpace
		case isIdentStart(c):
			t[i] = startWord
		case isDigit(c):
			t[i] = startDigit
		}
	}
	t[','], t['('], t[')'], t['\''] = startComma, startOpen, startClose, startQuote
	t['"'], t['`'], t['.'] = startDouble, startBacktick, startDot
	return t
}()

func (n *normalizer) run() {
	s := n.src
	for n.stop&stopDone == 0 {
		// Blanks only separate tokens: skip a run of them in one loop.
		i := n.i
		for i < len(s) && tokenStart[s[i]] == startSpace {
			i++
		}
		n.i, n.tok = i, i
		if i >= len(s) {
			return
		}
		c := s[i]
		switch tokenStart[c] {
		case startWord:
			n.word()
		case startDigit:
			n.number(false)
		case startComma:
			n.comma()
		case startOpen:
			n.open(false)
		case startClose:
			n.close(false)
		case startQuote:
			n.str(n.i+1, '\'', n.mysqlEscapes())
		case startDouble:
			n.doubleQuote()
		case startBacktick:
			n.quotedIdent('`')
		case startDot:
			n.dot()
		default:
			n.token(c)
		}
	}
}

// token reads a token that starts with c, a byte of startOther. A byte
// that starts no other token starts an operator or is punctuation of its
// own.
func (n *normalizer) token(c byte) {
	s := n.src
	switch c {
	case '-':
		if n.dashComment(n.i) {
			n.lineComment()
			return
		}
	case '#':
		if n.d == MySQL || n.d == Generic {
			n.lineComment()
			return
		}
	case '/':
		if n.peek(1) == '*' {
			n.skipBlockComment()
			return
		}
	case '[':
		if n.d == SQLite {
			n.quotedIdent(']')
		} else {
			n.open(true)
		}
		return
	case ']':
		n.close(true)
		return
	case '$':
		n.dollar()
		return
	case '?':
		if n.d == Postgres && (n.peek(1) == '|' || n.peek(1) == '&') {
			n.emit(tkOp, s[n.i:n.i+2])
			n.i += 2
			return
		}
		n.i++
		for n.i < len(s) && isDigit(s[n.i]) {
			n.i++
		}
		n.placeholder(argNumber(s[n.tok+1 : n.i]))
		return
	case ':':
		n.colon()
		return
	case '@':
		if n.peek(1) == '@' && isIdentStart(n.peek(2)) {
			start := n.i
			n.i += 2
			for n.i < len(s) && isIdentChar(s[n.i]) {
				n.i++
			}
			n.emitWord(s[start:n.i], kwNone, 0)
			return
		}
		if n.d != Postgres && isIdentStart(n.peek(1)) {
			n.i++
			for n.i < len(s) && isIdentChar(s[n.i]) {
				n.i++
			}
			if n.d == MySQL {
				n.emitWord(s[n.tok:n.i], kwNone, 0) // a user variable
			} else {
				n.placeholder(ArgUnknown)
			}
			return
		}
	case '%':
		if n.pyformat() {
			if s[n.tok+1] == 's' {
				n.placeholder(0)
			} else {
				n.placeholder(ArgUnknown)
			}
			return
		}
	case ';':
		n.i++
		if n.prev != tkNone && n.prev != tkSemi {
			n.stop |= stopSemi
		}
		return
	}
	if isOpChar(c) {
		n.operator()
		return
	}
	n.i++
	n.emit(tkOther, s[n.i-1:n.i])
}

// doubleQuote reads a "...": a string in MySQL, unless its sql_mode has
// ANSI_QUOTES, and a quoted identifier elsewhere.
func (n *normalizer) doubleQuote() {
	if n.d == MySQL && !n.ansiQuotes {
		n.str(n.i+1, '"', n.mysqlEscapes())
	} else {
		n.quotedIdent('"')
	}
}

// dot reads a ".", or a number that starts with one where an operand
// goes.
func (n *normalizer) dot() {
	if isDigit(n.peek(1)) && !n.operand() {
		n.number(false)
		return
	}
	n.i++
	n.emit(tkDot, ".")
}

// scanQuoted returns the offset just past the quote q that closes the
// literal starting at i, or len(s) when it is unterminated. A doubled quote
// stands for itself; with bs, so does a backslash-escaped one.
func scanQuoted(s string, i int, q byte, bs bool) int {
	for {
		j := i
		if bs {
			for j < len(s) && s[j] != q && s[j] != '\\' {
				j++
			}
		} else if k := strings.IndexByte(s[i:], q); k >= 0 {
			j = i + k
		} else {
			j = len(s)
		}
		switch {
		case j >= len(s):
			return len(s)
		case s[j] == '\\':
			i = j + 2
		case j+1 < len(s) && s[j+1] == q:
			i = j + 2
		default:
			return j + 1
		}
		if i >= len(s) {
			return len(s)
		}
	}
}

// closed reports whether the string whose body starts at i, read as
// scanQuoted reads it, is closed by the end of s: scanQuoted's answer of
// len(s) leaves that open. It is asked only of a string that reached the
// end. It reads as scanQuoted does rather than being a second result of
// scanQuoted: that result slowed every string of every statement by 4%
// (bench/normalize's BenchmarkCorpus), for a question asked once in a while.
func closed(s string, i int, q byte, bs bool) bool {
	for i < len(s) {
		switch {
		case bs && s[i] == '\\':
			i += 2
		case s[i] != q:
			i++
		case i+1 < len(s) && s[i+1] == q:
			i += 2
		default:
			return true
		}
	}
	return false
}

// scanString returns the offset past the literal or quoted identifier whose
// body starts at i, as scanQuoted does, and reports whether the dialects
// agree on it. The generic reading stands for them all: it reads the body
// both with and without backslash escapes, and they must end at the same
// place.
func (n *normalizer) scanString(i int, q byte, bs bool) (int, bool) {
	if n.d != Generic {
		return scanQuoted(n.src, i, q, bs), true
	}
	end := scanQuoted(n.src, i, q, false)
	if strings.IndexByte(n.src[i:end], '\\') < 0 {
		return end, !n.crosses(end)
	}
	return end, scanQuoted(n.src, i, q, true) == end && !n.crosses(end)
}

// str reads a quoted literal whose body starts at i as a value.
func (n *normalizer) str(i int, q byte, bs bool) {
	end, ok := n.scanString(i, q, bs)
	if !ok {
		n.giveUp()
		return
	}
	if end == len(n.src) && n.d == MySQL && !closed(n.src, i, q, bs) {
		n.openString = true
	}
	n.i = end
	n.value()
}

// crosses reports whether a token of the generic reading that started at
// n.tok and ends at end runs past the "]" that would close a SQLite
// [identifier] opened before it: from there on the readings differ.
func (n *normalizer) crosses(end int) bool {
	return n.d == Generic && n.tok < n.brEnd && end > n.brEnd
}

// mayExtend reports whether, read in one of the dialects, a token that
// starts in seg might end past it: a string, quoted identifier, comment or
// dollar quote.
func mayExtend(seg string) bool {
	return strings.ContainsAny(seg, "'\"`[$#\\") || strings.Contains(seg, "/*") || strings.Contains(seg, "--")
}

// giveUp drops the rest of the text, where the dialects that the generic
// reading stands for read it differently, and ends the shape with the
// truncation marker: a shape that says less is better than a literal in a
// log.
func (n *normalizer) giveUp() {
	n.hashLit(n.src[n.tok:])
	n.i = len(n.src)
	if n.stop&stopDone != 0 {
		return
	}
	n.stop |= stopDone
	if n.space(tkWord) {
		n.put(' ')
	}
	n.w += copy(n.out[n.w:], truncMarker)
}

// dashComment reports whether "--" starts a comment at i. MySQL wants a
// blank after it: there "a--1" is "a - -1".
func (n *normalizer) dashComment(i int) bool {
	s := n.src
	if i+1 >= len(s) || s[i] != '-' || s[i+1] != '-' {
		return false
	}
	return n.d != MySQL || i+2 >= len(s) || s[i+2] <= ' '
}

// lineComment skips a "--" or "#" comment. The generic reading takes both
// for comments; where another dialect would read code that may run on past
// the line's end, it gives up.
func (n *normalizer) lineComment() {
	s := n.src
	end := len(s)
	if j := strings.IndexByte(s[n.i:], '\n'); j >= 0 {
		end = n.i + j + 1
	}
	if n.d == Generic && (s[n.i] == '#' || n.peek(2) > ' ') && mayExtend(s[n.i+1:end]) || n.crosses(end) {
		n.giveUp()
		return
	}
	n.i = end
}

func (n *normalizer) skipBlockComment() {
	s := n.src
	if (n.d == MySQL || n.d == Generic) && n.mysqlComment() {
		return
	}
	k := -1
	if n.d != Postgres {
		k = strings.Index(s[n.i+2:], "*/")
	}
	if n.d == Generic {
		// PostgreSQL nests comments and the others do not: the readings
		// agree only when no "/*" comes before the first "*/".
		if k >= 0 && (strings.Contains(s[n.i+2:n.i+2+k], "/*") || n.crosses(n.i+4+k)) {
			n.giveUp()
			return
		}
	}
	// Where comments do not nest, the first "*/" ends this one, unless
	// its "*" ends a "/*" inside it, as in "/* a /*/": the loop below
	// reads that one.
	switch {
	case n.d == Postgres:
	case k < 0:
		n.i = len(s)
		return
	case k == 0 || s[n.i+1+k] != '/':
		n.i += k + 4
		return
	}
	depth := 0
	i := n.i
	for i < len(s) {
		if s[i] == '/' && i+1 < len(s) && s[i+1] == '*' {
			if depth == 0 || n.d == Postgres {
				depth++
			}
			i += 2
			continue
		}
		if s[i] == '*' && i+1 < len(s) && s[i+1] == '/' {
			i += 2
			if depth--; depth == 0 {
				n.i = i
				return
			}
			continue
		}
		i++
	}
	n.i = len(s)
}

// mysqlComment skips a MySQL /*! ... */ (MariaDB's /*M! ... */ too),
// whose body MySQL runs as code when the server is at least the version
// that may follow the "!", or /*+ ... */ optimizer hints, and reports
// false for any other comment. Read as code, a quote in the body may open
// a string that runs past the first "*/", and read as a comment not:
// where the readings could differ it gives up. Otherwise the body goes
// as a comment's does, since a server older than its version skips it.
func (n *normalizer) mysqlComment() bool {
	s := n.src
	if c := n.peek(2); c != '!' && c != '+' && !(c == 'M' && n.peek(3) == '!') {
		return false
	}
	k := strings.Index(s[n.i+2:], "*/")
	if k < 0 || mayExtend(s[n.i+2:n.i+2+k]) {
		n.giveUp()
		return true
	}
	n.i += k + 4
	return true
}

// operand reports whether the last token ends an operand, so that a
// following sign is binary.
func (n *normalizer) operand() bool {
	switch n.prev {
	case tkWord:
		return n.prevFl&fOperand == 0
	case tkQuoted, tkValue, tkClose:
		return true
	}
	return false
}

// value writes a literal, n.src[n.tok:n.i], as "?" and adds it to the
// literal hash.
func (n *normalizer) value() {
	h := n.hashLit(n.src[n.tok:n.i])
	if n.emit(tkValue, "?") {
		n.addSlot(Value{Lit: uint32(h ^ h>>32)})
	}
}

// placeholder writes a placeholder as "?". arg is the position of the
// argument it takes, 0 for the next one (a "?" or "%s"), or ArgUnknown
// for a named one.
func (n *normalizer) placeholder(arg int) {
	switch {
	case arg == 0 && !n.named:
		arg = n.maxArg + 1
	case arg == 0:
		// After a named placeholder, SQLite numbers a "?" past the
		// numbers it gave the names: not worth following.
		arg = ArgUnknown
	case arg == ArgUnknown:
		n.named = true
	}
	if arg > n.maxArg {
		n.maxArg = arg
	}
	if arg > math.MaxInt16 {
		arg = ArgUnknown
	}
	if n.emit(tkValue, "?") {
		n.addSlot(Value{Arg: int16(arg)})
	}
}

// argNumber returns the number of a numbered placeholder such as $2 or
// ?2, or 0 for none.
func argNumber(digits string) int {
	if len(digits) == 0 {
		return 0
	}
	if len(digits) > 6 {
		return ArgUnknown
	}
	a := 0
	for i := 0; i < len(digits); i++ {
		a = a*10 + int(digits[i]-'0')
	}
	if a == 0 {
		return ArgUnknown
	}
	return a
}

// litSeed starts the literal hash. Like the seed of argument hashes it is
// a per-process secret, so a short literal cannot be found from its hash by
// someone who sees only the hash.
var litSeed = maphash.Bytes(maphash.MakeSeed(), nil)

// hashLit adds the literal s to the literal hash and returns the hash of
// s alone, eight bytes to a step.
func (n *normalizer) hashLit(s string) uint64 {
	h := mix(litSeed, uint64(len(s)))
	for ; len(s) >= 8; s = s[8:] {
		h = mix(h, uint64(s[0])|uint64(s[1])<<8|uint64(s[2])<<16|uint64(s[3])<<24|
			uint64(s[4])<<32|uint64(s[5])<<40|uint64(s[6])<<48|uint64(s[7])<<56)
	}
	var t uint64
	for i := 0; i < len(s); i++ {
		t |= uint64(s[i]) << (8 * i)
	}
	h = mix(h, t)
	lit := n.lit
	if lit == 0 {
		lit = litSeed
	}
	if lit = mix(lit, h); lit == 0 {
		lit = 1
	}
	n.lit = lit
	return h
}

// mix folds the word v into the hash h.
func mix(h, v uint64) uint64 {
	h = (h ^ v) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

func (n *normalizer) quotedIdent(end byte) {
	s := n.src
	start := n.i
	i := n.i + 1
	if end == '"' && n.d == Generic {
		// MySQL reads "..." as a string, with backslash escapes.
		if _, ok := n.scanString(i, '"', false); !ok {
			n.giveUp()
			return
		}
	}
	for {
		k := strings.IndexByte(s[i:], end)
		if k < 0 {
			// Unterminated: it may as well be a literal, so hide it.
			n.i = len(s)
			n.value()
			return
		}
		i += k + 1
		if end != ']' && i < len(s) && s[i] == end {
			i++
			continue
		}
		break
	}
	if n.d == Generic && (end == '`' && mayExtend(s[start+1:i-1]) || n.crosses(i)) {
		// PostgreSQL reads what is inside backticks as code.
		n.giveUp()
		return
	}
	n.i = i
	if i-start > maxQuotedIdent || n.nameNext || end == '"' && (n.d == SQLite || n.d == Generic) && n.quotedValue() {
		n.value()
		return
	}
	n.emit(tkQuoted, s[start:i])
}

// quotedValue reports whether the double-quoted token just read is a value.
// SQLite reads "x" as a string when no column has that name, so in SQLite a
// double-quoted token where a value goes is one: after an operator or a
// word such as LIKE, THEN or DEFAULT, and as an item of a VALUES row, an IN
// list or a function's arguments, and either side of ||. MySQL reads every "x" as a string, so the
// generic reading keeps one only where a name must go: after FROM, JOIN,
// INTO, UPDATE, SET, AS, BY and the like, in a column list, and always
// before or after a dot or before "(".
func (n *normalizer) quotedValue() bool {
	if n.d != SQLite && n.d != Generic || n.prev == tkDot || n.nextIs('.') || n.nextIs('(') {
		return false
	}
	f := n.top
	if n.d == Generic && n.stmtKw != kwDDL {
		switch {
		case n.prev == tkWord && n.prevFl&(fTable|fName) != 0:
			return false
		case (n.prev == tkOpen || n.prev == tkComma) && f.cols:
			return false
		case n.prev == tkComma && n.setDepth == len(n.frames):
			return false
		}
		return true
	}
	if n.nextIs('|') && n.peekAfterBlanks(1) == '|' {
		return true // an operand of ||, which joins strings
	}
	switch n.prev {
	case tkOp:
		return true
	case tkWord:
		return n.prevFl&fValue != 0 || n.prevKw == kwAnd && n.betweenAnd ||
			n.prevKw == kwNot && n.prev2Kw == kwIs
	case tkOpen, tkComma:
		return f.list || f.row || f.fn && n.stmtKw != kwDDL || n.prev == tkComma && n.limitAt == len(n.frames)
	}
	return false
}

// nextIs reports whether the next character after blanks is c.
func (n *normalizer) nextIs(c byte) bool { return n.peekAfterBlanks(0) == c }

// peekAfterBlanks returns the character k places after the next
// non-blank one, or 0.
func (n *normalizer) peekAfterBlanks(k int) byte {
	s := n.src
	i := n.i
	for i < len(s) && s[i] <= ' ' {
		i++
	}
	if i+k < len(s) {
		return s[i+k]
	}
	return 0
}

// number reads a numeric literal. With signed, a unary sign was consumed
// before it, and number reads nothing and reports false if what follows is
// not a number after all but a MySQL identifier.
func (n *normalizer) number(signed bool) bool {
	s := n.src
	start := n.i
	i := n.i
	// MySQL has 0x and 0b, lower-case only: there 0X1 and 0o7 are names.
	if s[i] == '0' && i+2 < len(s) && (s[i+1]|0x20 == 'x' || s[i+1]|0x20 == 'b' || s[i+1]|0x20 == 'o') && isHexDigit(s[i+2]) &&
		(n.d != MySQL || s[i+1] == 'x' || s[i+1] == 'b') {
		i += 2
		for i < len(s) && (isHexDigit(s[i]) || s[i] == '_') {
			i++
		}
	} else {
		for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
				i++
			}
		}
		if i < len(s) && s[i]|0x20 == 'e' {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				i = j
			}
		}
	}
	if n.d == MySQL && i < len(s) && isIdentChar(s[i]) && s[start] != '.' {
		// MySQL identifiers may start with digits: 1st_table.
		for i < len(s) && isIdentChar(s[i]) {
			i++
		}
		if signed {
			return false
		}
		n.i = i
		if n.nameNext {
			// A savepoint name, which word hides as it hides 1st_sp.
			n.value()
		} else if w := s[start:i]; w[0] == '0' && (w[1] == 'X' || w[1] == 'B') {
			// Lower-cased, 0X1F would read back as a number.
			n.emit(tkQuoted, "`"+w+"`")
		} else {
			n.emitWord(w, kwNone, 0)
		}
		return true
	}
	n.i = i
	n.value()
	return true
}

func (n *normalizer) word() {
	s := n.src
	start := n.i
	i := n.i
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	n.i = i
	if i-start == 1 && i < len(s) {
		// Prefixed strings: E'..', X'..', B'..', N'..', U&'..'. Only
		// PostgreSQL has E'..', where backslashes escape; SQLite reads E
		// as a word before a plain string.
		switch s[start] | 0x20 {
		case 'e':
			if s[i] == '\'' {
				n.str(i+1, '\'', n.d != SQLite && !n.noEscapes)
				return
			}
		case 'x', 'b', 'n':
			if s[i] == '\'' {
				n.str(i+1, '\'', n.mysqlEscapes())
				return
			}
		case 'u':
			if s[i] == '&' && i+1 < len(s) && s[i+1] == '\'' {
				n.str(i+2, '\'', n.mysqlEscapes())
				return
			}
		}
	}
	if n.d == MySQL && s[start] == '_' && i < len(s) && (s[i] == '\'' || s[i] == '"' && !n.ansiQuotes) {
		// A character set introducer: _utf8mb4'...', _binary'...' (as
		// go-sql-driver/mysql writes []byte values) is one literal.
		n.str(i+1, s[i], n.mysqlEscapes())
		return
	}
	w := s[start:i]
	id, fl := kwNone, uint8(0)
	if h := kwSlot(w); len(w) <= maxKeywordLen && kwIndex[h] != 0 {
		id, fl = classify(w, h)
	}
	switch id {
	case kwNull, kwBool:
		keep := n.operand() // e.g. a column type: "a int null"
		switch {
		case n.prev == tkWord && n.prevKw == kwIs:
			keep = true
		case n.prev == tkWord && n.prevKw == kwNot:
			keep = id == kwNull || n.prev2Kw == kwIs
		}
		if !keep {
			n.value()
			return
		}
	case kwSavepoint:
	default:
		// The truncation marker reads back as itself, even where a
		// savepoint name was due: a shape must normalize to itself.
		if n.nameNext && w != truncMarker {
			n.value()
			return
		}
	}
	n.emitWord(w, id, fl)
	switch {
	case id == kwSavepoint,
		id == kwRelease && n.stmtToks == 1,
		id == kwTo && n.stmtKw == kwRollback:
		n.nameNext = true
	}
}

// emitWord writes w lower-cased (emit does).
func (n *normalizer) emitWord(w string, id kwID, fl uint8) {
	if !n.emit(tkWord, w) {
		return
	}
	n.prev2Kw, n.prev2Fl = n.prevKw, n.prevFl
	n.prevKw, n.prevFl = id, fl
	n.betweenAnd = id == kwAnd && n.between
	n.limitAt = 0
	if n.stmtToks == 1 {
		n.stmtKw = id
		n.update = string(n.out[n.w-len(w):n.w]) == "update"
	}
	if id <= kwPlain {
		return // a name, or a keyword of no consequence here: most words
	}
	switch id {
	case kwBetween:
		n.between = true
	case kwLimit:
		n.limitAt = len(n.frames)
	case kwAnd:
		n.between = false
	case kwSet:
		n.setDepth = len(n.frames)
		if n.update && n.setDepth == 1 && n.setStart == 0 {
			n.setStart = n.w
		}
	case kwEndSet:
		if n.setDepth == len(n.frames) {
			n.setDepth = 0
			n.sortSet(n.w - len(w))
		}
	case kwValues:
		f := n.top
		f.marks |= markValues
		f.rowPrevEnd = -1
		f.rows = 0
	}
}

// dollar reads $1, $name, $$body$$ and $tag$body$tag$.
func (n *normalizer) dollar() {
	s := n.src
	j := n.i + 1
	if j < len(s) && isDigit(s[j]) {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		n.i = j
		n.placeholder(argNumber(s[n.tok+1 : j]))
		return
	}
	k := j
	if k < len(s) && isIdentStart(s[k]) {
		for k < len(s) && (isIdentStart(s[k]) || isDigit(s[k])) {
			k++
		}
	}
	if n.d != MySQL && k < len(s) && s[k] == '$' {
		tag := s[n.i : k+1]
		end, body := len(s), s[k+1:]
		if e := strings.Index(body, tag); e >= 0 {
			end, body = k+1+e+len(tag), body[:e]
		}
		if n.d == Generic && (mayExtend(body) || n.crosses(end)) {
			// The other dialects read the body as code.
			n.giveUp()
			return
		}
		n.i = end
		n.value()
		return
	}
	if k > j {
		for k < len(s) && isIdentChar(s[k]) {
			k++
		}
		n.i = k
		n.placeholder(ArgUnknown)
		return
	}
	n.i++
	n.emit(tkOther, "$")
}

func (n *normalizer) colon() {
	s := n.src
	switch c := n.peek(1); {
	case c == ':':
		n.i += 2
		n.emit(tkCast, "::")
	case c == '=':
		n.i += 2
		n.emit(tkOp, ":=")
	case isIdentStart(c):
		n.i++
		for n.i < len(s) && isIdentChar(s[n.i]) {
			n.i++
		}
		n.placeholder(ArgUnknown)
	case isDigit(c) && !n.operand():
		n.i++
		for n.i < len(s) && isDigit(s[n.i]) {
			n.i++
		}
		n.placeholder(ArgUnknown)
	default:
		n.i++
		n.emit(tkOther, ":")
	}
}

// pyformat reads %s and %(name)s placeholders, as Django logs them.
func (n *normalizer) pyformat() bool {
	s := n.src
	if n.peek(1) == 's' && !isIdentChar(n.peek(2)) {
		n.i += 2
		return true
	}
	if n.peek(1) == '(' {
		j := n.i + 2
		for j < len(s) && j < n.i+66 && isIdentChar(s[j]) {
			j++
		}
		if j > n.i+2 && j+1 < len(s) && s[j] == ')' && s[j+1] == 's' {
			n.i = j + 2
			return true
		}
	}
	return false
}

func (n *normalizer) operator() {
	s := n.src
	start := n.i
	i := n.i
	for i < len(s) && isOpChar(s[i]) {
		if i > start {
			c, d := s[i], byte(0)
			if i+1 < len(s) {
				d = s[i+1]
			}
			if c == '-' && d == '-' || c == '/' && d == '*' || c == '#' && (n.d == MySQL || n.d == Generic) ||
				c == '@' && n.d != Postgres && (isIdentStart(d) || d == '@') ||
				c == '%' && (d == 's' || d == '(') {
				break
			}
		}
		i++
	}
	// As in PostgreSQL, a multi-character operator ends in + or - only when
	// it contains one of ~!@#%^&|, so "=-1" is "=" and "-1".
	if i-start > 1 && !strings.ContainsAny(s[start:i], "~!@#%^&|") {
		for i-start > 1 && (s[i-1] == '+' || s[i-1] == '-') {
			i--
		}
	}
	op := s[start:i]
	n.i = i
	if (op == "-" || op == "+") && !n.operand() {
		// Skip blanks and further signs, so that "- -1" is one value as
		// "-1" and "1" are.
		j := i
		for j < len(s) && (s[j] <= ' ' || s[j] == 0x7f ||
			(s[j] == '-' || s[j] == '+') && !(j+1 < len(s) && s[j+1] == '-')) {
			j++
		}
		if j < len(s) && (isDigit(s[j]) || s[j] == '.' && j+1 < len(s) && isDigit(s[j+1])) {
			n.i = j
			if n.number(true) {
				return
			}
			n.i = i
		}
	}
	n.emit(tkOp, op)
}

func (n *normalizer) open(bracket bool) {
	top := n.top
	// Collapsing compares items, and items nested in items are compared
	// again at each level; a cap on nesting keeps the work linear.
	nest := top.nest
	row := !bracket && top.marks&markValues != 0 && (n.prev == tkWord && n.prevKw == kwValues || n.prev == tkComma)
	list := n.prev == tkWord && (!bracket && n.prevKw == kwIn || bracket && n.prevKw == kwArray)
	if row || list {
		if nest >= maxListNest {
			row, list = false, false
		} else {
			nest++
		}
	}
	// After a word that takes no space before "(" comes a function's
	// arguments, unless the word names a table: "into t (a, b)".
	named := n.prev2Fl&fTable != 0 && (n.prev == tkQuoted || n.prev == tkWord && n.prevFl&fSpace == 0)
	fn := !bracket && (!named && n.prev == tkWord && n.prevFl&fSpace == 0 || n.stmtKw == kwPragma)
	cols := !bracket && (named || n.prev == tkWord && n.prevFl&fName != 0)
	if bracket && n.d == Generic {
		// SQLite reads [...] as an identifier; the readings agree as long
		// as no token that starts inside runs past its "]" (see crosses).
		if k := strings.IndexByte(n.src[n.i:], ']'); k >= 0 {
			n.brEnd = n.i + k
		}
	}
	text := "("
	kind := tkOpen
	if bracket {
		text, kind = "[", tkOpenBr
	}
	n.i++
	if !n.emit(kind, text) {
		return
	}
	top = n.top // emit may have finished an item
	if row {
		top.rowStart = n.w - 1
	}
	n.frames = append(n.frames, frame{
		bracket:    bracket,
		list:       list,
		in:         list && !bracket,
		row:        row,
		fn:         fn,
		cols:       cols,
		nest:       nest,
		marks:      markNeedStart,
		prevEnd:    -1,
		rowPrevEnd: -1,
	})
	n.top = &n.frames[len(n.frames)-1]
}

// endItem closes the current item of a list frame, dropping it when it
// repeats the previous one.
func (n *normalizer) endItem(f *frame) {
	if f.marks&markNeedStart != 0 {
		f.itemStart = n.w
		f.marks &^= markNeedStart
	}
	if f.itemStart > n.w {
		// The item began with a VALUES row that repeated the row before
		// it, in "in (values (1), (1))", and went with the row: the
		// item is empty.
		f.itemStart = n.w
	}
	if f.in && !f.sub && n.w > f.itemStart {
		f.items++
		n.keys = max(n.keys, f.items)
	}
	cur := n.out[f.itemStart:n.w]
	if f.prevEnd >= 0 && f.itemStart-f.prevEnd == 2 && string(n.out[f.prevEnd:f.itemStart]) == ", " &&
		string(n.out[f.prevStart:f.prevEnd]) == string(cur) {
		n.collapse(f.prevStart, f.prevEnd, f.itemStart, n.w)
		n.w = f.prevEnd
		return
	}
	f.prevStart, f.prevEnd = f.itemStart, n.w
}

func (n *normalizer) close(bracket bool) {
	n.i++
	text := ")"
	if bracket {
		text = "]"
	}
	if len(n.frames) == 1 || n.top.bracket != bracket {
		n.emit(tkClose, text) // unbalanced: keep it, it is structure
		return
	}
	f := n.top
	if f.list {
		n.endItem(f)
	}
	row := f.row
	n.frames = n.frames[:len(n.frames)-1]
	n.top = &n.frames[len(n.frames)-1]
	if !n.emit(tkClose, text) || !row {
		return
	}
	p := n.top
	p.rows++
	n.keys = max(n.keys, p.rows)
	cur := n.out[p.rowStart:n.w]
	if p.rowPrevEnd >= 0 && p.rowStart-p.rowPrevEnd == 2 && string(n.out[p.rowPrevEnd:p.rowStart]) == ", " &&
		string(n.out[p.rowPrevStart:p.rowPrevEnd]) == string(cur) {
		n.collapse(p.rowPrevStart, p.rowPrevEnd, p.rowStart, n.w)
		n.w = p.rowPrevEnd
		return
	}
	p.rowPrevStart, p.rowPrevEnd = p.rowStart, n.w
}

func (n *normalizer) comma() {
	n.i++
	f := n.top
	if f.list {
		n.endItem(f)
	}
	if n.emit(tkComma, ",") {
		f = n.top
		f.marks |= markNeedStart
	}
}

// emit writes one token with the space before it, or the truncation marker
// when the shape would grow too long. It reports whether the token was
// written.
func (n *normalizer) emit(k tokKind, text string) bool {
	if n.stop != 0 {
		if n.stop&stopDone != 0 {
			return false
		}
		n.endStatement()
	}
	n.nameNext = false
	sp := n.space(k) || n.prev == tkDot && isDigit(text[0]) // ". 1a" is not ".1 a"
	// The output and its length are kept in locals: a store through out
	// could otherwise be n.w, for the compiler, which would reload it.
	w, out := n.w, n.out
	if w+len(text)+1 > maxShapeLen {
		n.truncate()
		return false
	}
	if sp {
		out[w] = ' '
		w++
	}
	if f := n.top; f.marks != 0 && k != tkComma && k != tkClose {
		if f.marks&markNeedStart != 0 {
			if f.in && f.items == 0 && k == tkWord && (strings.EqualFold(text, "select") || strings.EqualFold(text, "with")) {
				f.sub = true
			}
			f.itemStart = w
			f.marks &^= markNeedStart
		}
		if k != tkOpen {
			f.marks &^= markValues
		}
	}
	switch {
	case k == tkWord:
		// Words are written lower-cased, in the same pass: most tokens
		// are words, and most are short.
		o := out[w : w+len(text)]
		for i := range o {
			o[i] = toLower[text[i]]
		}
		w += len(o)
	case len(text) == 1: // most others: "?", ",", "(", ")", "."
		out[w] = text[0]
		w++
	default:
		w += copy(out[w:], text)
	}
	n.w = w
	n.prev = k
	n.stmtToks++
	if k != tkWord {
		n.prev2Kw, n.prev2Fl = n.prevKw, n.prevFl
		n.prevKw, n.prevFl = kwNone, 0
	}
	return true
}

// endStatement writes the ";" between two statements, before the first
// token of the second.
func (n *normalizer) endStatement() {
	n.stop &^= stopSemi
	n.sortSet(n.w)
	n.update = false
	n.put(';')
	n.prev = tkSemi
	n.stmtToks, n.stmtKw, n.nameNext, n.limitAt = 0, kwNone, false, 0
	n.setDepth, n.between = 0, false
	n.top.marks &^= markValues
}

// truncate ends a shape that has grown too long with the truncation
// marker.
func (n *normalizer) truncate() {
	n.stop |= stopDone
	if n.space(tkWord) {
		n.put(' ')
	}
	n.w += copy(n.out[n.w:], truncMarker)
}

// space reports whether a token of kind k needs a space before it.
func (n *normalizer) space(k tokKind) bool {
	switch spaces[n.prev<<4|k] {
	case spaceYes:
		return true
	case spaceAfterKeyword:
		return n.prevFl&fSpace != 0
	}
	return false
}

// spaces says, for the kind of the token written last and the kind of
// the next one, whether a space goes between them: the rules of the shape
// (see Normalize), as a table, since every token asks.
//
// It is indexed by prev<<4 | k, which a byte holds whole, so that no
// index needs a bounds check.
var spaces = func() (t [256]uint8) {
	for prev := tkNone; prev <= tkOther; prev++ {
		for k := tkNone; k <= tkOther; k++ {
			t[prev<<4|k] = spaceRule(prev, k)
		}
	}
	return t
}()

const (
	spaceNo           = iota
	spaceYes          // a space
	spaceAfterKeyword // a "(" after a word: a space after a keyword, none after a name
)

func spaceRule(prev, k tokKind) uint8 {
	if prev == tkNone {
		return spaceNo // nothing was written yet
	}
	if k == tkCast && prev == tkOther {
		return spaceYes // ": ::" must not read back as ":: :"
	}
	switch k {
	case tkClose, tkComma, tkDot, tkCast, tkSemi:
		return spaceNo
	}
	switch prev {
	case tkOpen, tkOpenBr, tkDot, tkCast:
		return spaceNo
	}
	switch k {
	case tkOpen:
		switch prev {
		case tkWord:
			return spaceAfterKeyword
		case tkQuoted:
			return spaceNo
		}
	case tkOpenBr:
		switch prev {
		case tkWord, tkQuoted, tkClose, tkValue:
			return spaceNo
		}
	}
	return spaceYes
}
