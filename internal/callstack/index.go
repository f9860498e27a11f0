package callstack

import (
	"go/scanner"
	"go/token"
)

// A file's functions, loops and go statements are read from its tokens,
// not from a syntax tree: go/parser would add some 400 KB to every program
// that imports querytrace, for the few constructs a report asks about.
// What the reader takes from Go's grammar is below; TestIndexFuncs holds
// it to what go/parser reads of the module's files and of GOROOT's (all
// 10,000 with -goroot, which .ci/fuzz sets), and FuzzIndexFuncs to any
// source go/parser accepts.

// A tok is one token of a file.
type tok struct {
	tok      token.Token
	lit      string    // an identifier's name
	pos, end token.Pos // end is just past the token's last byte
}

// An indexer reads a file's tokens into its functions.
type indexer struct {
	file  *token.File
	toks  []tok // ending with EOF
	p     int   // the next token
	nest  int   // groups open
	funcs []funcSpan
}

// indexFuncs returns the functions of the Go source src with their loops
// and go and defer statements, outer functions before the literals in
// them. A file with syntax errors gives what its tokens tell.
func indexFuncs(src []byte) []funcSpan {
	x := &indexer{file: token.NewFileSet().AddFile("", -1, len(src))}
	var s scanner.Scanner
	s.Init(x.file, src, nil, 0)
	for {
		pos, t, lit := s.Scan()
		n := len(lit)
		if n == 0 {
			n = len(t.String())
		}
		if t != token.IDENT {
			lit = ""
		}
		x.toks = append(x.toks, tok{t, lit, pos, pos + token.Pos(n)})
		if t == token.EOF {
			break
		}
	}
	for x.at(x.p) != token.EOF {
		// A declaration starts a line of the file's top level.
		if x.at(x.p) == token.FUNC && (x.p == 0 || x.at(x.p-1) == token.SEMICOLON) {
			x.funcDecl()
			continue
		}
		x.step(-1)
	}
	return x.funcs
}

// at returns the token at index i, EOF past the end.
func (x *indexer) at(i int) token.Token {
	if i < 0 || i >= len(x.toks) {
		return token.EOF
	}
	return x.toks[i].tok
}

func (x *indexer) line(p token.Pos) int { return x.file.Line(p) }

// step reads one token, or the bracketed group or construct it opens, of
// function cur (-1 outside any).
func (x *indexer) step(cur int) {
	t := x.toks[x.p]
	switch t.tok {
	case token.LPAREN:
		x.p++
		x.group(cur, token.RPAREN)
	case token.LBRACK:
		x.p++
		x.group(cur, token.RBRACK)
	case token.LBRACE:
		x.p++
		x.group(cur, token.RBRACE)
	case token.FUNC:
		if !x.isLit(x.p) {
			x.p = x.sigEnd(x.p + 1) // a type: nothing in it runs
			return
		}
		made := x.line(t.pos)
		x.funcLit(cur, made, false)
	case token.FOR:
		if cur < 0 {
			x.p++
			return
		}
		x.forStmt(cur)
	case token.GO, token.DEFER:
		if cur < 0 {
			x.p++
			return
		}
		x.goStmt(cur)
	case token.IDENT:
		if cur >= 0 && t.lit == "Go" && x.at(x.p+1) == token.LPAREN {
			x.goCall(cur)
			return
		}
		x.p++
	default:
		x.p++
	}
}

// maxNest bounds how deeply groups nest: a deeper file is read up to
// there, as go/parser refuses one, so that no file can exhaust the stack.
const maxNest = 10000

// group reads up to and past the token that closes a group, stopping
// short at an unmatched closing token or the end of the file.
func (x *indexer) group(cur int, closer token.Token) {
	if x.nest++; x.nest > maxNest {
		x.p = len(x.toks) - 1 // EOF
		return
	}
	defer func() { x.nest-- }()
	for {
		switch t := x.at(x.p); t {
		case closer:
			x.p++
			return
		case token.RPAREN, token.RBRACK, token.RBRACE, token.EOF:
			return
		}
		x.step(cur)
	}
}

// skip returns the index past the group opened at i.
func (x *indexer) skip(i int) int {
	depth := 0
	for ; i < len(x.toks); i++ {
		switch x.toks[i].tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if depth--; depth == 0 {
				return i + 1
			}
		case token.EOF:
			return i
		}
	}
	return i
}

// sigEnd returns the index past the signature that starts at i (its
// parameters, then any result type): the index of the body's "{" when
// a function's body follows.
func (x *indexer) sigEnd(i int) int {
	if x.at(i) != token.LPAREN {
		return i
	}
	i = x.skip(i)
	for {
		switch x.at(i) {
		case token.IDENT, token.PERIOD, token.MUL, token.MAP, token.CHAN, token.ARROW, token.FUNC:
			i++
		case token.LPAREN, token.LBRACK:
			i = x.skip(i)
		case token.STRUCT, token.INTERFACE:
			if x.at(i+1) != token.LBRACE {
				return i + 1
			}
			i = x.skip(i + 1)
		default:
			return i
		}
	}
}

// isLit reports whether the func at index i starts a function literal:
// a signature and a body, not a type. The type of a composite literal's
// elements ([]func(){f, g}) is followed by a "{" too.
func (x *indexer) isLit(i int) bool {
	switch x.at(i - 1) {
	case token.RBRACK, token.CHAN:
		return false
	case token.ARROW: // a send's value, unless the arrow is chan<-'s
		if x.at(i-2) == token.CHAN {
			return false
		}
	case token.MUL: // a product's operand, unless the star makes a pointer type
		switch x.at(i - 2) {
		case token.IDENT, token.INT, token.FLOAT, token.IMAG, token.CHAR, token.STRING, token.RPAREN, token.RBRACE:
		default:
			return false
		}
	}
	return x.at(x.sigEnd(i+1)) == token.LBRACE
}

// funcLit reads the function literal at x.p, of function cur, made at
// line made.
func (x *indexer) funcLit(cur, made int, goes bool) {
	fs := funcSpan{span: span{from: x.line(x.toks[x.p].pos)}, parent: cur, made: made, goes: goes}
	if cur >= 0 {
		fs.depth = x.funcs[cur].depth + 1
	}
	x.body(fs, x.sigEnd(x.p+1))
}

// funcDecl reads the function declaration at x.p.
func (x *indexer) funcDecl() {
	from := x.line(x.toks[x.p].pos)
	i := x.p + 1
	if x.at(i) == token.LPAREN { // a method's receiver
		i = x.skip(i)
	}
	if x.at(i) == token.IDENT {
		i++
	}
	if x.at(i) == token.LBRACK { // type parameters
		i = x.skip(i)
	}
	i = x.sigEnd(i)
	if x.at(i) != token.LBRACE { // declared without a body
		x.p = i
		return
	}
	x.body(funcSpan{span: span{from: from}, parent: -1}, i)
}

// body adds fs, a function whose body opens at index open, and reads the
// body.
func (x *indexer) body(fs funcSpan, open int) {
	x.funcs = append(x.funcs, fs)
	i := len(x.funcs) - 1
	x.p = open + 1
	x.group(i, token.RBRACE)
	x.funcs[i].to = x.line(x.toks[x.p-1].pos)
}

// forStmt reads the for statement at x.p, in function cur.
func (x *indexer) forStmt(cur int) {
	x.p++
	var parts [][2]int // the header's clauses, as token ranges
	from, isRange := x.p, false
	// compositeType is set while the header reads the type of a composite
	// literal (such a type starts with "[", map or struct): the "{" after
	// it opens the literal, not the loop's body.
	compositeType := false
header:
	for {
		t := x.at(x.p)
		switch t {
		case token.EOF:
			return
		case token.LBRACE:
			if !compositeType {
				break header
			}
			x.p++
			x.group(cur, token.RBRACE)
			compositeType = false
			continue
		case token.SEMICOLON:
			parts = append(parts, [2]int{from, x.p})
			x.p++
			from = x.p
			compositeType = false
			continue
		case token.STRUCT, token.INTERFACE:
			if x.at(x.p+1) == token.LBRACE {
				x.p = x.skip(x.p + 1)
			} else {
				x.p++
			}
			compositeType = compositeType || t == token.STRUCT
			continue
		case token.LBRACK:
			switch x.at(x.p - 1) {
			case token.IDENT, token.RPAREN, token.RBRACK, token.RBRACE, token.STRING:
				// an index or slice expression
			default:
				compositeType = true
			}
		case token.MAP:
			compositeType = true
		case token.RANGE:
			isRange = true
			compositeType = false
		case token.IDENT, token.PERIOD, token.MUL, token.RBRACK, token.CHAN, token.ARROW, token.FUNC:
		default:
			compositeType = false
		}
		x.step(cur)
	}
	parts = append(parts, [2]int{from, x.p})

	fs := &x.funcs[cur]
	fs.loops = append(fs.loops, loopSpan{})
	n := len(fs.loops) - 1
	open := x.p
	x.p++
	x.group(cur, token.RBRACE)
	var l loopSpan
	if s, ok := x.stmts(open, x.p-1); ok {
		l.parts = append(l.parts, s)
	}
	if !isRange {
		if len(parts) == 3 {
			parts = parts[1:] // the condition and the post statement
		}
		for _, p := range parts {
			if p[0] < p[1] {
				l.parts = append(l.parts, x.span(p[0], p[1]-1))
			}
		}
	}
	x.funcs[cur].loops[n] = l
}

// stmts returns the lines of the statements of the block whose braces are
// at indexes open and close, and false for an empty block.
func (x *indexer) stmts(open, close int) (span, bool) {
	first, last := open+1, close-1
	if x.at(close) != token.RBRACE {
		last = close // the file ends in the block
	}
	if first > last {
		return span{}, false
	}
	if t := x.at(last); t == token.SEMICOLON {
		// A semicolon ends the last statement, unless it is one: an
		// empty statement of its own.
		if p := x.at(last - 1); p != token.LBRACE && p != token.SEMICOLON {
			last--
		}
	}
	if x.at(last) == token.COLON {
		// A label with no statement labels an empty one at the "}".
		return span{x.line(x.toks[first].pos), x.line(x.toks[close].pos)}, true
	}
	return x.span(first, last), true
}

// span returns the lines of the tokens first to last.
func (x *indexer) span(first, last int) span {
	return span{x.line(x.toks[first].pos), x.line(x.toks[last].end)}
}

// goStmt reads the go or defer statement at x.p, in function cur.
func (x *indexer) goStmt(cur int) {
	start := x.p
	fs := &x.funcs[cur]
	fs.gos = append(fs.gos, span{})
	n := len(fs.gos) - 1
	x.p++
	if x.toks[start].tok == token.GO && x.at(x.p) == token.FUNC && x.isLit(x.p) {
		// go func(...) { ... }(...): the literal runs on a goroutine of
		// its own, made by the statement.
		if args := x.skip(x.sigEnd(x.p + 1)); x.at(args) == token.LPAREN && stmtEnd(x.at(x.skip(args))) {
			x.funcLit(cur, x.line(x.toks[start].pos), true)
		}
	}
	for !stmtEnd(x.at(x.p)) {
		x.step(cur)
	}
	x.funcs[cur].gos[n] = x.span(start, x.p-1)
}

// stmtEnd reports whether t ends a simple statement.
func stmtEnd(t token.Token) bool {
	switch t {
	case token.SEMICOLON, token.RBRACE, token.RPAREN, token.RBRACK, token.EOF:
		return true
	}
	return false
}

// goCall reads the call of a function or method named Go at x.p, in
// function cur: a literal given to it runs on a goroutine of its own,
// made by the call, as errgroup.Group's, sync.WaitGroup's and conc's
// pools' do.
func (x *indexer) goCall(cur int) {
	made := x.line(x.toks[x.callStart(x.p)].pos)
	x.p += 2
	for {
		switch x.at(x.p) {
		case token.RPAREN:
			x.p++
			return
		case token.RBRACK, token.RBRACE, token.EOF:
			return
		case token.COMMA:
			x.p++
			continue
		case token.FUNC:
			if x.isLit(x.p) {
				switch x.at(x.skip(x.sigEnd(x.p + 1))) {
				case token.COMMA, token.RPAREN: // the argument is the literal
					x.funcLit(cur, made, true)
					continue
				}
			}
		}
		x.step(cur)
	}
}

// callStart returns the index of the first token of the call whose
// function's name is at index i: the operand of x.Go, s.wg.Go, f().Go.
func (x *indexer) callStart(i int) int {
	for x.at(i-1) == token.PERIOD {
		j := i - 2
		switch x.at(j) {
		case token.RPAREN, token.RBRACK, token.RBRACE:
			j = x.opener(j)
			if x.at(j-1) == token.IDENT {
				j--
			}
		case token.IDENT:
		default:
			return i
		}
		i = j
	}
	return i
}

// opener returns the index of the token that opens the group closed at i.
func (x *indexer) opener(i int) int {
	depth := 0
	for ; i >= 0; i-- {
		switch x.toks[i].tok {
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth++
		case token.LPAREN, token.LBRACK, token.LBRACE:
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return 0
}
