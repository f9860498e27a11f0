package sqlnorm

import (
	"strings"
	"sync/atomic"
)

// Info is what Shape reads from a statement's text: its shape, and what
// the shape no longer tells but a report and a fix need, read in the same
// pass. An Info is shared by every caller that asks for the same text and
// must not be changed.
type Info struct {
	Shape       string
	Fingerprint uint64 // Fingerprint(Shape)

	// Literals hashes the literal values the shape replaced, 0 for none.
	// Texts that differ only in their literals have one shape and
	// different literal hashes, so a caller can tell executions with
	// different inlined values apart without keeping the values. It is
	// comparable only within one process.
	Literals uint64

	// Keys is the length of the longest IN list or VALUES list, which the
	// shape collapses to one item: the items of "in (?, ?, ?)", the rows of
	// "values (?, ?), (?, ?)". An IN subquery is no list.
	Keys int

	// Statements is how many statements the text holds: more than one
	// for "a; b" (MySQL's multiStatements, the simple protocols).
	Statements int

	// Values says, for each "?" of the shape in order, what the text had
	// there; see Value. It holds the first MaxValues of them, and NValues
	// says how many there are.
	Values  []Value
	NValues int

	// Verb is Verb(Shape).
	Verb string

	// tables holds Tables(Shape) once asked for; postgres, what
	// PostgresSyntax answered (1 no, 2 yes) once asked.
	tables   atomic.Pointer[[]string]
	postgres atomic.Uint32
}

// postgresTells are what only PostgreSQL's syntax has of what a shape
// shows: a cast, ILIKE, RETURNING (SQLite's and MariaDB's too, but not
// MySQL's), = any(array), DISTINCT ON, an ARRAY constructor.
var postgresTells = []string{"::", " ilike ", " returning ", "any(", " distinct on", "array["}

// PostgresSyntax reports whether the shape uses syntax that PostgreSQL has
// and MySQL lacks (see postgresTells), read from the shape the first time:
// what a fix is written in when nothing else tells the dialect.
func (in *Info) PostgresSyntax() bool {
	if p := in.postgres.Load(); p != 0 {
		return p == 2
	}
	p := uint32(1)
	for _, tell := range postgresTells {
		if strings.Contains(in.Shape, tell) {
			p = 2
			break
		}
	}
	in.postgres.Store(p)
	return p == 2
}

// Tables returns Tables(in.Shape), read from the shape the first time: a
// trace that writes asks for the tables of each of its shapes, request
// after request. The slice is shared: it must not be changed.
func (in *Info) Tables() []string {
	if t := in.tables.Load(); t != nil {
		return *t
	}
	t := Tables(in.Shape)
	in.tables.Store(&t)
	return t
}

// MaxValues is how many of a shape's "?" an Info describes.
const MaxValues = 32

// A Value says what the text had where the shape has a "?": a placeholder
// and the argument it takes, or a literal and a hash of it.
type Value struct {
	// Arg is the 1-based position among the statement's arguments of the
	// one a placeholder takes, 0 for a literal, or ArgUnknown.
	Arg int16
	// Lit hashes a literal's text: two literals with the same text have the
	// same hash, within one process. A list collapsed to one item hashes
	// every literal of it.
	Lit uint32
}

// ArgUnknown is the Arg of a placeholder whose argument is not known by
// position: a named one (:name, @name, $name), or several collapsed into
// one list item.
const ArgUnknown = -1

// IsLiteral reports whether the text had a literal, not a placeholder.
func (v Value) IsLiteral() bool { return v.Arg == 0 }

// A slot is a "?" written to the shape being built: where, and what it
// stands for.
type slot struct {
	off int32
	v   Value
}

// addSlot notes the "?" just written at n.w-1.
func (n *normalizer) addSlot(v Value) {
	n.slots = append(n.slots, slot{off: int32(n.w - 1), v: v})
}

// collapse notes that the item [from, to) of the output repeated the item
// [keepFrom, keepTo) before it and is about to be dropped: each "?" of the
// kept item now stands for its own value and the dropped one's. The
// dropped slots go.
func (n *normalizer) collapse(keepFrom, keepTo, from, to int) {
	s := n.slots
	end := len(s)
	for end > 0 && int(s[end-1].off) >= to {
		end--
	}
	dropEnd := end
	for end > 0 && int(s[end-1].off) >= from {
		end--
	}
	dropped := s[end:dropEnd]
	k := end
	for k > 0 && int(s[k-1].off) >= keepFrom {
		k--
	}
	kept := s[k:end]
	for i := range kept {
		if int(kept[i].off) >= keepTo || i >= len(dropped) {
			break
		}
		a, b := &kept[i].v, dropped[i].v
		if a.Arg == 0 && b.Arg == 0 {
			a.Lit = uint32(mix(uint64(a.Lit), uint64(b.Lit)))
		} else {
			a.Arg = ArgUnknown
		}
	}
	// Nothing past the dropped item has been written yet.
	n.slots = s[:end]
}

// info fills in the Info of the shape just built.
func (n *normalizer) info(in *Info) {
	in.Keys = n.keys
	in.Statements = Statements(in.Shape)
	in.Verb = Verb(in.Shape)
	in.NValues = len(n.slots)
	if len(n.slots) == 0 {
		return
	}
	vs := make([]Value, min(len(n.slots), MaxValues))
	for i := range vs {
		vs[i] = n.slots[i].v
	}
	in.Values = vs
}
