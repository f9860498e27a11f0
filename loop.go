package querytrace

import "github.com/querytrace/querytrace/internal/callstack"

// loopFrame returns the application's line inside the loop that
// repeated g, or, when nothing shows a loop, the frame every repetition
// ran below. Three things show a loop, each where the one before it says
// nothing:
//
//   - The Go source, where it is present, shows the for statement that
//     encloses a line of g's stack (in the function that runs the
//     statement, or in one of its callers).
//   - A statement that ran outside the loop shows where the path to g's
//     statement leaves the path to it: the loop's source query is the
//     surest such statement (the loop iterates its rows); else the groups
//     that started before the loop's first execution or after its last,
//     the one whose path stays with g's the longest. That fork also bounds
//     the search of the source: a loop above it would have repeated the
//     other statement too.
//   - Where the source of every application frame is present and none
//     loops, the repetition is in code that is not the application's: if
//     one library alone calls back into the application on g's path
//     (pgx.ForEachRow) and its own source shows a for statement around
//     the call back, the loop is that library's, and its line is the call
//     of it. Code that calls back once (a GraphQL executor's field code
//     below the application's directive) is no loop.
//
// Otherwise the outermost application frame (the handler, a middleware,
// the test) is all that is known: every repetition ran below it.
func loopFrame(groups []*Group, g, source *Group) (loop, below *Frame) {
	if g.stack == nil || g.stack.Len() == 0 {
		return nil, nil
	}
	fork, forked := forkOf(groups, g, source)
	if !forked {
		// What the stack alone tells, which its call site keeps.
		switch f, loop, found := g.stack.Loop(); {
		case loop:
			return framePtr(f), nil
		case found:
			return nil, framePtr(f)
		}
		return nil, nil
	}
	if f, found, _ := g.stack.SourceLoop(&fork); found {
		return framePtr(f), nil
	}
	return framePtr(fork), nil
}

// forkOf returns the application's frame where g's path leaves that of a
// statement that ran outside g's loop: its source's, else the nearest of
// the groups that ran wholly before or after it.
func forkOf(groups []*Group, g, source *Group) (callstack.Frame, bool) {
	if source != nil && source.stack != nil {
		if f, _, ok := g.stack.Fork(source.stack); ok {
			return f, true
		}
	}
	var best callstack.Frame
	depth, tried := -1, 0
	for _, o := range groups {
		if o == g || o.stack == nil || o.stack == g.stack || o.Shape == otherShape ||
			o.lastStart >= g.First && o.First <= g.lastStart {
			continue
		}
		// The prepares of g's own statement ran in its loop, even where
		// they all started before its first execution (a goroutine per
		// row, each preparing before it runs).
		if o.Kind == KindPrepare && o.Fingerprint == g.Fingerprint {
			continue
		}
		if tried++; tried > maxForks {
			break
		}
		if f, dd, ok := g.stack.Fork(o.stack); ok && (depth < 0 || dd < depth) {
			best, depth = f, dd
		}
	}
	return best, depth >= 0
}

// maxForks bounds the statements outside a loop that loopFrame compares
// its stack with, so that a report of a thousand groups stays cheap.
const maxForks = 64

func framePtr(f callstack.Frame) *Frame {
	fr := Frame(f)
	return &fr
}
