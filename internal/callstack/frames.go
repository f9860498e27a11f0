package callstack

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// A Frame is one symbolized frame of a stack.
type Frame struct {
	Function string
	File     string
	Line     int
}

// symbolized is what one return address becomes: its frames (more than one
// where calls were inlined), the innermost first, each marked as the
// application's or not.
type symbolized struct {
	frames []Frame
	app    []bool

	// loops holds what loopAt says of each of the application's frames,
	// once SourceLoop asked: every report of a loop asks again.
	loops atomic.Pointer[[]loopResult]
}

// loopResult is what loopAt returns.
type loopResult struct {
	loop        Frame
	present, ok bool
}

// loopAt returns loopAt of frame i, an application frame of s.
func (s *symbolized) loopAt(i int) loopResult {
	if ls := s.loops.Load(); ls != nil {
		return (*ls)[i]
	}
	ls := make([]loopResult, len(s.frames))
	for j, f := range s.frames {
		if s.app[j] {
			r := &ls[j]
			r.loop, r.present, r.ok = loopAt(f)
		}
	}
	s.loops.Store(&ls)
	return ls[i]
}

// frameCache maps a return address to its *symbolized. Addresses are few
// (one per call site) and fixed for the life of the process, so the cache
// is bounded by the program's size. It is emptied when the rules that
// tell the application's frames change.
var frameCache sync.Map

func symbolize(pc uintptr) *symbolized {
	if v, ok := frameCache.Load(pc); ok {
		return v.(*symbolized)
	}
	s := &symbolized{}
	// The trailing zero makes CallersFrames expand the frames inlined at
	// pc, which it does only when more addresses follow.
	fs := runtime.CallersFrames([]uintptr{pc, 0})
	for {
		f, more := fs.Next()
		if f.Function != "" {
			s.frames = append(s.frames, Frame{Function: f.Function, File: f.File, Line: f.Line})
			s.app = append(s.app, isApp(f.Function, f.File))
		}
		if !more {
			break
		}
	}
	frameCache.Store(pc, s)
	return s
}

// The stack table keeps the symbolized addresses of the stacks read
// lately: a report reads each of its groups' stacks several times (their
// frames, their loop, where they part), and every request of a route the
// same stacks, so that reading one again costs a lookup, not one for each
// of its addresses. A slot holds the last stack read that hashed to it;
// an entry made under other rules than the current ones is stale.
const stackSlots = 1 << 10

type stackEntry struct {
	hash  uint64
	rules *[]rule // rules.Load() before it was made
	syms  []*symbolized
	app   []Frame // the application's frames, the innermost first
	loop  atomic.Pointer[loopAnswer]
}

// loopAnswer is what Loop answers for a stack, kept in its entry: the
// answer depends on the stack, its source and the rules alone.
type loopAnswer struct {
	f           Frame
	loop, found bool
	partial     bool // an application frame's source was not read
}

var stackTable [stackSlots]atomic.Pointer[stackEntry]

// symbols returns the symbolized form of each of s's addresses.
func (s *Stack) symbols() []*symbolized { return s.entry().syms }

// entry returns s's entry of the stack table, made now if it has none.
func (s *Stack) entry() *stackEntry {
	h := s.Hash()
	slot := &stackTable[h%stackSlots]
	rs := rules.Load()
	if e := slot.Load(); e != nil && e.hash == h && e.rules == rs && len(e.syms) == s.n {
		return e
	}
	e := &stackEntry{hash: h, rules: rs, syms: make([]*symbolized, s.n)}
	for i, pc := range s.pcs[:s.n] {
		sym := symbolize(pc)
		e.syms[i] = sym
		for j, f := range sym.frames {
			if sym.app[j] {
				e.app = append(e.app, f)
			}
		}
	}
	slot.Store(e)
	return e
}

// AppFrames returns up to max of the application's own frames of s, the
// innermost first, or nil when it has none. The slice is shared: it must
// not be changed.
func (s *Stack) AppFrames(max int) []Frame {
	app := s.entry().app
	if len(app) == 0 {
		return nil
	}
	return app[:min(max, len(app)):min(max, len(app))]
}

// Frames returns every frame of s, the innermost first, with whether
// each is the application's own.
func (s *Stack) Frames() (frames []Frame, app []bool) {
	for _, sym := range s.symbols() {
		frames = append(frames, sym.frames...)
		app = append(app, sym.app...)
	}
	return frames, app
}

// Called returns the outermost frame of s, below its innermost
// application frame, that is, of the code the application called to run
// the statement (libraries, database/sql, the driver), for which match is
// true. It walks the symbolized frames in place.
func (s *Stack) Called(match func(Frame) bool) (Frame, bool) {
	var found Frame
	ok := false
	for _, sym := range s.symbols() {
		for i, f := range sym.frames {
			if sym.app[i] {
				return found, ok
			}
			if match(f) {
				found, ok = f, true
			}
		}
	}
	return found, ok
}

// Outermost returns the outermost application frame of s: for a request,
// the handler (or the application's middleware), for a test, the test.
func (s *Stack) Outermost() (Frame, bool) {
	syms := s.symbols()
	for i := len(syms) - 1; i >= 0; i-- {
		sym := syms[i]
		for j := len(sym.frames) - 1; j >= 0; j-- {
			if sym.app[j] {
				return sym.frames[j], true
			}
		}
	}
	return Frame{}, false
}

// Fork returns the frame where the path to s leaves the path to other:
// the line, in the innermost function both passed through, from which s
// went on to its statement. For a statement repeated in a loop and one
// that ran outside it, that is the line inside the loop; it is the
// application's frame at or nearest above that point, since a library's
// frame (a callback's caller) is no line to fix. depth is how far the
// fork is from the statement, in return addresses: the smaller, the
// closer. ok is false when the stacks share no frame (one is cut off
// before their common part), when what they share is not their common
// part (the frames outward of it differ in both), or when s is the whole
// of other's path.
func (s *Stack) Fork(other *Stack) (f Frame, depth int, ok bool) {
	// Anchor on the outermost address of s that other has too, then
	// follow both stacks inwards while they agree. Anchoring, rather than
	// aligning the outer ends, copes with stacks cut off at Depth.
	i, j := -1, -1
	for a := s.n - 1; a >= 0 && i < 0; a-- {
		for b := other.n - 1; b >= 0; b-- {
			if other.pcs[b] == s.pcs[a] {
				i, j = a, b
				break
			}
		}
	}
	if i < 0 {
		return Frame{}, 0, false
	}
	if i < s.n-1 && j < other.n-1 {
		// Both stacks go on outwards, apart: the address is one
		// function's, called along two paths (a GraphQL directive run
		// for a list's query and again in each element's goroutine),
		// and the paths part further out than either stack shows.
		return Frame{}, 0, false
	}
	for i > 0 && j > 0 && s.pcs[i-1] == other.pcs[j-1] {
		i--
		j--
	}
	if i == 0 {
		return Frame{}, 0, false
	}
	// s.pcs[i-1] is where s leaves other. Where calls were inlined, one
	// address stands for several frames: the fork is the outermost of them
	// that differs from other's.
	syms := s.symbols()
	fork := syms[i-1]
	var theirs []Frame
	if j > 0 {
		theirs = other.symbols()[j-1].frames
	}
	k := len(fork.frames) - 1
	for m := len(theirs) - 1; k > 0 && m >= 0 && fork.frames[k] == theirs[m]; m-- {
		k--
	}
	// The application's frame at the fork or nearest above it.
	for a := i - 1; a < s.n; a++ {
		sym := syms[a]
		from := 0
		if a == i-1 {
			from = k
		}
		for b := from; b < len(sym.frames); b++ {
			if sym.app[b] {
				return sym.frames[b], i - 1, true
			}
		}
	}
	return Frame{}, 0, false
}

// SourceLoop returns the application's line inside the innermost loop
// that the Go source shows on s's path: from the innermost application
// frame outwards, the first whose line a for statement of its own
// function encloses, or the line that started its function literal on a
// goroutine of its own inside a loop (a goroutine per row). The
// search ends after the frame stop, when given: a loop above the point
// where s parts from a statement that ran outside the loop cannot be the
// one. found is false when the source shows no loop; complete tells
// whether the source of every frame searched was present.
func (s *Stack) SourceLoop(stop *Frame) (loop Frame, found, complete bool) {
	complete = true
	for _, sym := range s.symbols() {
		for i, f := range sym.frames {
			if !sym.app[i] {
				continue
			}
			r := sym.loopAt(i)
			if r.ok {
				return r.loop, true, true
			}
			complete = complete && r.present
			if stop != nil && f == *stop {
				return Frame{}, false, complete
			}
		}
	}
	return Frame{}, false, complete
}

// LoopingCallback returns the application's frame that calls into the
// only stretch of code on s's path, between two application frames, that
// is not the application's (a library that calls back into it), when the
// source of that stretch shows a for statement around one of its lines:
// it calls back once per iteration, as pgx.ForEachRow runs a function per
// row. Code that calls back once, as a GraphQL executor's generated field
// code calls a resolver below the application's directive, is no loop;
// nor is a stretch whose source is absent or generated (a generated file
// is not read for loops): ok is false.
func (s *Stack) LoopingCallback() (caller Frame, ok bool) {
	caller, from, to, ok := s.callback()
	if !ok {
		return Frame{}, false
	}
	syms := s.symbols()
	for a := from.pc; a <= to.pc; a++ {
		sym := syms[a]
		for b := range sym.frames {
			if a == from.pc && b < from.frame || a == to.pc && b > to.frame {
				continue
			}
			if _, _, loops := loopAt(sym.frames[b]); loops {
				return caller, true
			}
		}
	}
	return Frame{}, false
}

// A place is where a frame is in a stack: the index of its return
// address, and its index among the frames inlined there.
type place struct{ pc, frame int }

// callback returns the application's frame that calls into the only
// stretch of code on s's path, between two application frames, that is
// not the application's, and the first and last frame of that stretch.
// ok is false when there is no such stretch, or more than one.
func (s *Stack) callback() (caller Frame, from, to place, ok bool) {
	stretches, seenApp, inLib := 0, false, false
	var first, last place
	for a, sym := range s.symbols() {
		for i, f := range sym.frames {
			switch {
			case sym.app[i]:
				if seenApp && inLib {
					stretches++
					caller, from, to = f, first, last
				}
				seenApp, inLib = true, false
			case f.File == "<autogenerated>":
				// A compiler's wrapper is no code of a library.
			case seenApp:
				if !inLib {
					first = place{a, i}
				}
				inLib, last = true, place{a, i}
			}
		}
	}
	return caller, from, to, stretches == 1
}

// Parts returns the application's frame where the path to s parts from
// the nearest of others: the line to show to tell s apart from them,
// which is the fork (see Fork) closest to the statement. ok is false when
// no other stack parts from s anywhere.
func (s *Stack) Parts(others []*Stack) (f Frame, ok bool) {
	depth := -1
	for _, o := range others {
		if o == nil || o == s {
			continue
		}
		if ff, d, forked := s.Fork(o); forked && (depth < 0 || d < depth) {
			f, depth = ff, d
		}
	}
	return f, depth >= 0
}

// Loop returns the loop of s's statement as s alone tells it, for when no
// statement that ran outside the loop shows where the stacks part: the
// innermost for statement of the application's source around one of its
// frames (SourceLoop), else, where every application frame's source was
// read, a library that calls back into the application in a loop
// (LoopingCallback); loop is then true. Otherwise, with loop false, f is
// the outermost application frame, below which the statement repeated,
// and found is false when s has no application frame. The answer is kept
// with s's symbols: the reports of one call site ask it again and again.
func (s *Stack) Loop() (f Frame, loop, found bool) {
	a := s.loopAnswer()
	return a.f, a.loop, a.found
}

// MayLoop reports whether s may hold a loop: Loop finds one, or the
// source of one of the application's frames was not read, which hides
// what that frame does.
func (s *Stack) MayLoop() bool {
	a := s.loopAnswer()
	return a.loop || a.partial
}

// loopAnswer returns what Loop and MayLoop answer for s, worked out once
// and kept in s's entry of the stack table.
func (s *Stack) loopAnswer() *loopAnswer {
	e := s.entry()
	if a := e.loop.Load(); a != nil {
		return a
	}
	f, ok, complete := s.SourceLoop(nil)
	if !ok && complete {
		f, ok = s.LoopingCallback()
	}
	a := &loopAnswer{partial: !complete}
	switch {
	case ok:
		a.f, a.loop, a.found = f, true, true
	default:
		if f, ok := s.Outermost(); ok {
			a.f, a.found = f, true
		}
	}
	e.loop.Store(a)
	return a
}
