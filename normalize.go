package querytrace

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Dialect says how to read double quotes and a few dialect-specific tokens.
// The zero value is DialectGeneric.
type Dialect uint8

const (
	// DialectGeneric follows ANSI SQL: double quotes delimit identifiers.
	// Backslashes escape inside single-quoted strings, because a literal
	// that ends in a backslash is far rarer in practice than a MySQL-style
	// \' escape, and misreading the latter would leak the rest of the literal.
	DialectGeneric Dialect = iota
	// DialectPostgres reads double quotes as identifiers, $$...$$ and
	// $tag$...$tag$ as string bodies, # and ?| as operators, and honours
	// backslash escapes only inside E'...' strings.
	DialectPostgres
	// DialectSQLite reads double quotes, backticks and [brackets] as
	// identifiers and does not treat backslashes in strings as escapes.
	DialectSQLite
	// DialectMySQL reads double quotes as strings, backticks as identifiers,
	// # as a line comment, and lets identifiers begin with digits.
	DialectMySQL
)

// String returns the dialect's lower-case name.
func (d Dialect) String() string {
	switch d {
	case DialectGeneric:
		return "generic"
	case DialectPostgres:
		return "postgres"
	case DialectSQLite:
		return "sqlite"
	case DialectMySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

const (
	// maxShapeLen bounds a shape. A shape is for grouping and for logs, and
	// the first few KB of a statement identify it well enough.
	maxShapeLen = 4096
	// truncMarker ends a truncated shape. It is a word to the tokenizer, so
	// normalizing a truncated shape again reproduces it unchanged.
	truncMarker = "…"
	// maxQuotedIdent bounds a quoted identifier. Databases cap identifiers
	// at 64 bytes or so; anything much longer in quotes is almost certainly a
	// string literal written in the wrong dialect, so it is hidden as one.
	maxQuotedIdent = 128
	// maxListNest bounds how deeply IN lists and VALUES rows nested in one
	// another are collapsed.
	maxListNest = 8
)

// Normalize returns the shape of a SQL statement read in the generic dialect:
// the statement with every literal value removed, so that two statements have
// the same shape exactly when they differ only in literal values, placeholder
// style or numbering, whitespace, keyword case, comments, the length of an
// IN list or the number of rows of a multi-row VALUES.
//
// The shape is a sequence of tokens:
//
//   - Every string, number, blob, boolean, placeholder ($1, ?, ?3, :name,
//     @name, $name, %s), dollar-quoted body, and NULL used as a value is
//     written as "?". A sign directly in front of a number is part of it
//     where the number cannot be the right side of a subtraction, so
//     "a = -1" becomes "a = ?" while "a - 1" becomes "a - ?". NULL, TRUE and
//     FALSE after IS, IS NOT and NOT stay words.
//   - Unquoted words are lower-cased. Quoted identifiers ("x", `x`, [x]) keep
//     their quotes and case. Digits inside names are kept.
//   - Comments are removed. Tokens are separated by one space, except that
//     no space follows "(", "[", "." or "::", none precedes ")", "]", ",",
//     ".", "::" or ";", and none separates a function or table name from its
//     "(" or an expression from its "[" subscript.
//   - Runs of identical items in an IN list or ARRAY[...] collapse to one
//     ("in (?)"), and so do runs of identical rows in a VALUES list
//     ("values (?, ?)").
//   - Savepoint names become "?". Empty statements and a trailing ";" are
//     dropped.
//   - A shape longer than about 4 KB is cut at a token boundary and ends
//     with " …".
//
// Normalize never panics, runs in time linear in the length of the query and
// is idempotent: Normalize(Normalize(q)) == Normalize(q).
func Normalize(query string) string {
	return NormalizeDialect(query, DialectGeneric)
}

// NormalizeDialect is like Normalize but reads the query in dialect d.
func NormalizeDialect(query string, d Dialect) string {
	return normalize(query, d)
}

// Fingerprint returns the 64-bit FNV-1a hash of a shape. It is stable across
// runs, processes and machines, so it can be stored and compared later.
func Fingerprint(shape string) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(shape); i++ {
		h ^= uint64(shape[i])
		h *= prime64
	}
	return h
}

// The shape cache. Applications send the same few hundred statement texts
// over and over, so the driver wrapper looks shapes up by text. The cache is
// sharded to keep lock contention low and bounded both in entries and in
// bytes of retained query text; when a shard is full a random entry goes.
const (
	cacheShards        = 16
	cacheShardEntries  = 256     // 4096 entries in all
	cacheShardBytes    = 1 << 20 // 16 MB of query text in all
	cacheMaxQueryBytes = 16 << 10
)

type cacheEntry struct {
	query string
	shape string
	fp    uint64
	d     Dialect
}

type cacheShard struct {
	mu    sync.RWMutex
	m     map[uint64]cacheEntry
	bytes int
}

var (
	cacheSeed = maphash.MakeSeed()
	cache     [cacheShards]cacheShard
)

// shapeOf returns the shape of query in dialect d and its fingerprint,
// from the cache when it can. A string seen before at the same address (a
// constant) costs a pointer comparison; a new string with a known text, one
// small allocation to remember its address.
func shapeOf(query string, d Dialect) (shape string, fp uint64) {
	if len(query) > cacheMaxQueryBytes {
		shape = normalize(query, d)
		return shape, Fingerprint(shape)
	}
	slot := recentSlot(query, d)
	if r := slot.Load(); r != nil && r.d == d && len(r.query) == len(query) &&
		unsafe.StringData(r.query) == unsafe.StringData(query) {
		return r.shape, r.fp
	}
	h := maphash.String(cacheSeed, query) ^ uint64(d)*0x9e3779b97f4a7c15
	s := &cache[h%cacheShards]
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if ok && e.d == d && e.query == query {
		slot.Store(&cacheEntry{query: query, shape: e.shape, fp: e.fp, d: d})
		return e.shape, e.fp
	}
	shape = normalize(query, d)
	fp = Fingerprint(shape)
	// Keep a private copy of the text: the caller's string may point into a
	// much larger buffer that the cache should not pin.
	q := strings.Clone(query)
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[uint64]cacheEntry, cacheShardEntries)
	}
	if old, ok := s.m[h]; ok {
		s.bytes -= len(old.query) + len(old.shape)
		delete(s.m, h)
	}
	for len(s.m) > 0 && (len(s.m) >= cacheShardEntries || s.bytes+len(q)+len(shape) > cacheShardBytes) {
		for k, v := range s.m { // map iteration order is random: random eviction
			s.bytes -= len(v.query) + len(v.shape)
			delete(s.m, k)
			break
		}
	}
	s.m[h] = cacheEntry{query: q, shape: shape, fp: fp, d: d}
	s.bytes += len(q) + len(shape)
	s.mu.Unlock()
	slot.Store(&cacheEntry{query: query, shape: shape, fp: fp, d: d})
	return shape, fp
}

// The recent table sits in front of the shape cache. A program runs the
// same few string constants over and over, and the address of a string's
// text compares in a nanosecond where hashing the text takes tens, with a
// lock besides. Each slot holds the last string seen at its index, which
// keeps that text alive: while the slot holds it, no other string can be
// at its address, so the same address and length mean the same text. (A
// program that builds strings over a []byte it then changes, with unsafe,
// breaks that promise of the language and would see stale shapes.)
const recentSlots = 1 << 10

var recent [recentSlots]atomic.Pointer[cacheEntry]

func recentSlot(query string, d Dialect) *atomic.Pointer[cacheEntry] {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(query))))
	h := (p ^ uint64(len(query))<<48 ^ uint64(d)<<56) * 0x9e3779b97f4a7c15
	return &recent[h>>(64-10)]
}

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
)

// Word flags.
const (
	// fOperand marks words after which an operand is expected, so that a
	// sign starts a number and NULL is a value.
	fOperand = 1 << iota
	// fSpace marks keywords written with a space before "(": words without
	// it are function or table names and touch their "(".
	fSpace
)

// classify looks up a lower-cased word.
func classify(w []byte) (kwID, uint8) {
	switch string(w) { // no allocation: the compiler converts in place
	case "select", "where", "and", "or", "then", "else", "when", "on", "having",
		"from", "between", "like", "ilike", "case", "return", "distinct",
		"limit", "offset", "by", "all", "xor":
		return kwPlain, fOperand | fSpace
	case "default", "escape", "any", "some", "interval", "div", "mod", "glob",
		"regexp", "rlike", "similar":
		return kwPlain, fOperand
	case "exists", "as", "join", "using", "union", "intersect", "except", "over",
		"with", "lateral", "conflict", "returning", "set", "do", "key", "unique",
		"check", "filter", "within", "sets", "materialized", "group":
		return kwPlain, fSpace
	case "not":
		return kwNot, fOperand | fSpace
	case "in":
		return kwIn, fOperand | fSpace
	case "values", "value":
		return kwValues, fOperand | fSpace
	case "to":
		return kwTo, fOperand
	case "is":
		return kwIs, fSpace
	case "array":
		return kwArray, 0
	case "savepoint":
		return kwSavepoint, 0
	case "release":
		return kwRelease, 0
	case "rollback":
		return kwRollback, 0
	case "null":
		return kwNull, 0
	case "true", "false":
		return kwBool, 0
	}
	return kwNone, 0
}

// frame is an open "(" or "[" of the shape being written.
type frame struct {
	bracket bool  // opened by "["
	nest    uint8 // list and row frames enclosing this one, itself included
	list    bool  // IN (...) or ARRAY[...]: runs of identical items collapse
	row     bool  // a row of a VALUES list
	// Items of a list, as offsets into the output.
	needStart                bool
	itemStart                int
	prevStart, prevEnd       int
	values                   bool // VALUES rows may follow at this level
	rowStart                 int
	rowPrevStart, rowPrevEnd int
}

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

	stmtKw      kwID // first word of the current statement
	stmtToks    int
	nameNext    bool // the next name is a savepoint name
	pendingSemi bool
	done        bool

	frames []frame
}

// normalizers recycles the scratch state of normalize, so that the cold
// path allocates only the returned string.
var normalizers = sync.Pool{New: func() any {
	return &normalizer{
		out:    make([]byte, maxShapeLen+64),
		frames: make([]frame, 0, 16),
	}
}}

func normalize(query string, d Dialect) string {
	n := normalizers.Get().(*normalizer)
	*n = normalizer{src: query, d: d, out: n.out, frames: n.frames[:1]}
	n.frames[0] = frame{prevEnd: -1, rowPrevEnd: -1}
	n.run()
	shape := string(n.out[:n.w])
	n.src = ""
	normalizers.Put(n)
	return shape
}

func (n *normalizer) put(c byte) {
	n.out[n.w] = c
	n.w++
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f'
}

func isIdentStart(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

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

func (n *normalizer) run() {
	s := n.src
	for n.i < len(s) && !n.done {
		c := s[n.i]
		switch {
		case c <= ' ' || c == 0x7f:
			n.i++
		case c == '-' && n.peek(1) == '-', c == '#' && n.d == DialectMySQL:
			if j := strings.IndexByte(s[n.i:], '\n'); j >= 0 {
				n.i += j + 1
			} else {
				n.i = len(s)
			}
		case c == '/' && n.peek(1) == '*':
			n.skipBlockComment()
		case c == '\'':
			n.i = scanQuoted(s, n.i+1, '\'', n.d != DialectPostgres && n.d != DialectSQLite)
			n.value()
		case c == '"':
			if n.d == DialectMySQL {
				n.i = scanQuoted(s, n.i+1, '"', true)
				n.value()
			} else {
				n.quotedIdent('"')
			}
		case c == '`':
			n.quotedIdent('`')
		case c == '[' && n.d == DialectSQLite:
			n.quotedIdent(']')
		case isDigit(c) || c == '.' && isDigit(n.peek(1)) && !n.operand():
			n.number(false)
		case isIdentStart(c):
			n.word()
		case c == '$':
			n.dollar()
		case c == '?':
			if n.d == DialectPostgres && (n.peek(1) == '|' || n.peek(1) == '&') {
				n.emit(tkOp, s[n.i:n.i+2])
				n.i += 2
				break
			}
			n.i++
			for n.i < len(s) && isDigit(s[n.i]) {
				n.i++
			}
			n.value()
		case c == ':':
			n.colon()
		case c == '@' && n.peek(1) == '@' && isIdentStart(n.peek(2)):
			start := n.i
			n.i += 2
			for n.i < len(s) && isIdentChar(s[n.i]) {
				n.i++
			}
			n.emitWord(s[start:n.i], kwNone, 0)
		case c == '@' && n.d != DialectPostgres && isIdentStart(n.peek(1)):
			n.i++
			for n.i < len(s) && isIdentChar(s[n.i]) {
				n.i++
			}
			n.value()
		case c == '%' && n.pyformat():
			n.value()
		case c == '(':
			n.open(false)
		case c == '[':
			n.open(true)
		case c == ')' || c == ']':
			n.close(c == ']')
		case c == ',':
			n.comma()
		case c == ';':
			n.i++
			if n.prev != tkNone && n.prev != tkSemi {
				n.pendingSemi = true
			}
		case c == '.':
			n.i++
			n.emit(tkDot, ".")
		case isOpChar(c):
			n.operator()
		default:
			n.i++
			n.emit(tkOther, s[n.i-1:n.i])
		}
	}
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

func (n *normalizer) skipBlockComment() {
	s := n.src
	depth := 0
	i := n.i
	for i < len(s) {
		if s[i] == '/' && i+1 < len(s) && s[i+1] == '*' {
			if depth == 0 || n.d == DialectPostgres {
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

// value writes a literal or placeholder.
func (n *normalizer) value() {
	n.emit(tkValue, "?")
}

func (n *normalizer) quotedIdent(end byte) {
	s := n.src
	start := n.i
	i := n.i + 1
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
	n.i = i
	if i-start > maxQuotedIdent || n.nameNext {
		n.value()
		return
	}
	n.emit(tkQuoted, s[start:i])
}

// number reads a numeric literal. With signed, a unary sign was consumed
// before it, and number reads nothing and reports false if what follows is
// not a number after all but a MySQL identifier.
func (n *normalizer) number(signed bool) bool {
	s := n.src
	start := n.i
	i := n.i
	if s[i] == '0' && i+2 < len(s) && (s[i+1]|0x20 == 'x' || s[i+1]|0x20 == 'b' || s[i+1]|0x20 == 'o') && isHexDigit(s[i+2]) {
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
	if n.d == DialectMySQL && i < len(s) && isIdentChar(s[i]) && s[start] != '.' {
		// MySQL identifiers may start with digits: 1st_table.
		for i < len(s) && isIdentChar(s[i]) {
			i++
		}
		if signed {
			return false
		}
		n.i = i
		n.emitWord(s[start:i], kwNone, 0)
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
		// Prefixed strings: E'..', X'..', B'..', N'..', U&'..'.
		switch s[start] | 0x20 {
		case 'e':
			if s[i] == '\'' {
				n.i = scanQuoted(s, i+1, '\'', true)
				n.value()
				return
			}
		case 'x', 'b', 'n':
			if s[i] == '\'' {
				n.i = scanQuoted(s, i+1, '\'', n.d != DialectPostgres && n.d != DialectSQLite)
				n.value()
				return
			}
		case 'u':
			if s[i] == '&' && i+1 < len(s) && s[i+1] == '\'' {
				n.i = scanQuoted(s, i+2, '\'', false)
				n.value()
				return
			}
		}
	}
	w := s[start:i]
	var buf [16]byte
	id, fl := kwNone, uint8(0)
	if len(w) <= len(buf) {
		for k := 0; k < len(w); k++ {
			c := w[k]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[k] = c
		}
		id, fl = classify(buf[:len(w)])
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
		if n.nameNext {
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

// emitWord writes w lower-cased.
func (n *normalizer) emitWord(w string, id kwID, fl uint8) {
	if !n.emit(tkWord, w) {
		return
	}
	o := n.out[n.w-len(w) : n.w]
	for k, c := range []byte(o) {
		if 'A' <= c && c <= 'Z' {
			o[k] = c + ('a' - 'A')
		}
	}
	n.prev2Kw = n.prevKw
	n.prevKw, n.prevFl = id, fl
	if n.stmtToks == 1 {
		n.stmtKw = id
	}
	if id == kwValues {
		f := &n.frames[len(n.frames)-1]
		f.values = true
		f.rowPrevEnd = -1
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
		n.value()
		return
	}
	k := j
	if k < len(s) && isIdentStart(s[k]) {
		for k < len(s) && (isIdentStart(s[k]) || isDigit(s[k])) {
			k++
		}
	}
	if n.d != DialectMySQL && k < len(s) && s[k] == '$' {
		tag := s[n.i : k+1]
		if e := strings.Index(s[k+1:], tag); e >= 0 {
			n.i = k + 1 + e + len(tag)
		} else {
			n.i = len(s)
		}
		n.value()
		return
	}
	if k > j {
		for k < len(s) && isIdentChar(s[k]) {
			k++
		}
		n.i = k
		n.value()
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
		n.value()
	case isDigit(c) && !n.operand():
		n.i++
		for n.i < len(s) && isDigit(s[n.i]) {
			n.i++
		}
		n.value()
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
			if c == '-' && d == '-' || c == '/' && d == '*' || c == '#' && n.d == DialectMySQL ||
				c == '@' && n.d != DialectPostgres && (isIdentStart(d) || d == '@') ||
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
	top := &n.frames[len(n.frames)-1]
	// Collapsing compares items, and items nested in items are compared
	// again at each level; a cap on nesting keeps the work linear.
	nest := top.nest
	row := !bracket && top.values && (n.prev == tkWord && n.prevKw == kwValues || n.prev == tkComma)
	list := n.prev == tkWord && (!bracket && n.prevKw == kwIn || bracket && n.prevKw == kwArray)
	if row || list {
		if nest >= maxListNest {
			row, list = false, false
		} else {
			nest++
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
	top = &n.frames[len(n.frames)-1] // emit may have finished an item
	if row {
		top.rowStart = n.w - 1
	}
	n.frames = append(n.frames, frame{
		bracket:    bracket,
		list:       list,
		row:        row,
		nest:       nest,
		needStart:  true,
		prevEnd:    -1,
		rowPrevEnd: -1,
	})
}

// endItem closes the current item of a list frame, dropping it when it
// repeats the previous one.
func (n *normalizer) endItem(f *frame) {
	if f.needStart {
		f.itemStart = n.w
		f.needStart = false
	}
	cur := n.out[f.itemStart:n.w]
	if f.prevEnd >= 0 && f.itemStart-f.prevEnd == 2 && string(n.out[f.prevEnd:f.itemStart]) == ", " &&
		string(n.out[f.prevStart:f.prevEnd]) == string(cur) {
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
	if len(n.frames) == 1 || n.frames[len(n.frames)-1].bracket != bracket {
		n.emit(tkClose, text) // unbalanced: keep it, it is structure
		return
	}
	f := &n.frames[len(n.frames)-1]
	if f.list {
		n.endItem(f)
	}
	row := f.row
	n.frames = n.frames[:len(n.frames)-1]
	if !n.emit(tkClose, text) || !row {
		return
	}
	p := &n.frames[len(n.frames)-1]
	cur := n.out[p.rowStart:n.w]
	if p.rowPrevEnd >= 0 && p.rowStart-p.rowPrevEnd == 2 && string(n.out[p.rowPrevEnd:p.rowStart]) == ", " &&
		string(n.out[p.rowPrevStart:p.rowPrevEnd]) == string(cur) {
		n.w = p.rowPrevEnd
		return
	}
	p.rowPrevStart, p.rowPrevEnd = p.rowStart, n.w
}

func (n *normalizer) comma() {
	n.i++
	f := &n.frames[len(n.frames)-1]
	if f.list {
		n.endItem(f)
	}
	if n.emit(tkComma, ",") {
		f = &n.frames[len(n.frames)-1]
		f.needStart = true
	}
}

// emit writes one token with the space before it, or the truncation marker
// when the shape would grow too long. It reports whether the token was
// written.
func (n *normalizer) emit(k tokKind, text string) bool {
	if n.done {
		return false
	}
	if n.pendingSemi {
		n.pendingSemi = false
		n.put(';')
		n.prev = tkSemi
		n.stmtToks, n.stmtKw, n.nameNext = 0, kwNone, false
		n.frames[len(n.frames)-1].values = false
	}
	n.nameNext = false
	sp := n.space(k) || n.prev == tkDot && isDigit(text[0]) // ". 1a" is not ".1 a"
	if n.w+len(text)+1 > maxShapeLen {
		n.done = true
		if n.space(tkWord) {
			n.put(' ')
		}
		n.w += copy(n.out[n.w:], truncMarker)
		return false
	}
	if sp {
		n.put(' ')
	}
	f := &n.frames[len(n.frames)-1]
	if k != tkComma && k != tkClose {
		if f.needStart {
			f.itemStart = n.w
			f.needStart = false
		}
		if f.values && k != tkOpen {
			f.values = false
		}
	}
	n.w += copy(n.out[n.w:], text)
	n.prev = k
	n.stmtToks++
	if k != tkWord {
		n.prev2Kw, n.prevKw, n.prevFl = n.prevKw, kwNone, 0
	}
	return true
}

// space reports whether a token of kind k needs a space before it.
func (n *normalizer) space(k tokKind) bool {
	if n.w == 0 {
		return false
	}
	if k == tkCast && n.prev == tkOther {
		return true // ": ::" must not read back as ":: :"
	}
	switch k {
	case tkClose, tkComma, tkDot, tkCast, tkSemi:
		return false
	}
	switch n.prev {
	case tkOpen, tkOpenBr, tkDot, tkCast:
		return false
	}
	switch k {
	case tkOpen:
		return !(n.prev == tkWord && n.prevFl&fSpace == 0 || n.prev == tkQuoted)
	case tkOpenBr:
		return !(n.prev == tkWord || n.prev == tkQuoted || n.prev == tkClose || n.prev == tkValue)
	}
	return true
}

// shapeToken returns the token of shape at i and the offset after it.
// Shapes are canonical, so a tiny scanner suffices.
func shapeToken(s string, i int) (tok string, next int) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) {
		return "", i
	}
	start := i
	switch c := s[i]; {
	case c == '"' || c == '`':
		i++
		for i < len(s) {
			if s[i] == c {
				if i+1 < len(s) && s[i+1] == c {
					i += 2
					continue
				}
				i++
				break
			}
			i++
		}
	case isIdentChar(c) || c == '@':
		for i < len(s) && (isIdentChar(s[i]) || s[i] == '@') {
			i++
		}
	default:
		i++
	}
	return s[start:i], i
}

// verbOf returns the kind of the main statement of a shape: "select",
// "insert", "update", "delete", "begin", "commit", "rollback", "savepoint",
// "release" or "set", or "other". For WITH it is the verb after the common
// table expressions.
func verbOf(shape string) string {
	tok, i := shapeToken(shape, 0)
	for tok == "(" {
		tok, i = shapeToken(shape, i)
	}
	switch tok {
	case "select", "insert", "update", "delete", "begin", "commit", "rollback",
		"savepoint", "release", "set":
		return tok
	case "replace":
		return "insert"
	case "start":
		if t, _ := shapeToken(shape, i); t == "transaction" {
			return "begin"
		}
	case "end":
		return "commit"
	case "abort":
		return "rollback"
	case "with":
		depth := 0
		for i < len(shape) {
			tok, i = shapeToken(shape, i)
			switch tok {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
			case "select", "insert", "update", "delete":
				if depth == 0 {
					return tok
				}
			case ";":
				return "other"
			}
		}
	}
	return "other"
}

// tablesOf returns the names that follow FROM, JOIN, INTO and UPDATE in a
// shape, without quotes, deduplicated, in order of appearance.
func tablesOf(shape string) []string {
	type level struct {
		fn       bool // inside a function call's parentheses
		fromList bool // in a FROM list, where "," introduces another table
	}
	var (
		tables  []string
		stack   = []level{{}}
		expect  bool // the next name is a table
		isFrom  bool // ... and may be a function call, which is not
		prevTok string
	)
	for i := 0; i < len(shape); {
		var tok string
		tok, i = shapeToken(shape, i)
		if tok == "" {
			break
		}
		start := i - len(tok)
		top := &stack[len(stack)-1]
		switch {
		case tok == "(" || tok == "[":
			fn := start > 0 && shape[start-1] != ' ' && shape[start-1] != '(' && (isIdentChar(shape[start-1]) || shape[start-1] == '"' || shape[start-1] == '`')
			stack = append(stack, level{fn: fn && !expect})
			expect = false
		case tok == ")" || tok == "]":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			expect = false
		case tok == ",":
			expect = top.fromList
			isFrom = true
		case expect && (isIdentStart(tok[0]) || tok[0] == '"' || tok[0] == '`' || isDigit(tok[0])):
			switch tok {
			case "only", "lateral", "ignore", "low_priority", "quick", "table", "delayed", "high_priority":
				continue
			}
			expect = false
			name, j := readName(shape, tok, i)
			if isFrom && j < len(shape) && shape[j] == '(' {
				i = j // a table function such as unnest(?)
				continue
			}
			i = j
			tables = appendUnique(tables, name)
		case tok == "from":
			if !top.fn && prevTok != "distinct" {
				expect, isFrom, top.fromList = true, true, true
			}
		case tok == "join" || tok == "straight_join":
			if !top.fn {
				expect, isFrom, top.fromList = true, true, false
			}
		case tok == "into":
			if !top.fn {
				expect, isFrom, top.fromList = true, false, false
			}
		case tok == "update":
			if !top.fn && prevTok != "for" && prevTok != "key" && prevTok != "do" {
				expect, isFrom, top.fromList = true, false, false
			}
		default:
			expect = false
			switch tok {
			case "where", "group", "order", "limit", "having", "union", "intersect",
				"except", "window", "on", "using", "set", "returning", "for", "offset",
				"fetch", "values", "select", "natural", "left", "right", "inner",
				"outer", "cross", "full", "as", ";":
				if tok != "as" {
					top.fromList = false
				}
			}
		}
		prevTok = tok
	}
	return tables
}

// readName reads a possibly qualified name whose first part is tok and
// returns it without quotes, and the offset after it.
func readName(shape, tok string, i int) (string, int) {
	start := i - len(tok)
	simple := tok[0] != '"' && tok[0] != '`'
	parts := []string{tok}
	for i < len(shape) && shape[i] == '.' && i+1 < len(shape) {
		t, j := shapeToken(shape, i+1)
		if t == "" || !(isIdentChar(t[0]) || t[0] == '"' || t[0] == '`') {
			break
		}
		if t[0] == '"' || t[0] == '`' {
			simple = false
		}
		parts = append(parts, t)
		i = j
	}
	if simple {
		return shape[start:i], i
	}
	var b strings.Builder
	for k, p := range parts {
		if k > 0 {
			b.WriteByte('.')
		}
		if len(p) >= 2 && (p[0] == '"' || p[0] == '`') && p[len(p)-1] == p[0] {
			q := p[:1]
			b.WriteString(strings.ReplaceAll(p[1:len(p)-1], q+q, q))
		} else {
			b.WriteString(p)
		}
	}
	return b.String(), i
}

func appendUnique(list []string, s string) []string {
	for _, t := range list {
		if t == s {
			return list
		}
	}
	return append(list, s)
}

// Tables returns the tables a shape (as Normalize returns it) names after
// FROM, JOIN, INTO and UPDATE, without quotes, in order.
func Tables(shape string) []string { return tablesOf(shape) }

// MentionsTable reports whether shape names table, alone or
// schema-qualified, ignoring case: what allow-lists and test budgets
// filter by.
func MentionsTable(shape, table string) bool {
	for _, t := range tablesOf(shape) {
		if strings.EqualFold(t, table) || (len(t) > len(table) && t[len(t)-len(table)-1] == '.' && strings.EqualFold(t[len(t)-len(table):], table)) {
			return true
		}
	}
	return false
}
