package sqlnorm

import (
	"slices"
	"strings"
	"unsafe"
)

// An UPDATE built from a map (GORM's Updates, a query builder's SetMap)
// lists its assignments in the map's order, which Go randomizes: one loop
// sends "set a = ?, b = ?" and "set b = ?, a = ?". They are one statement
// to the database and must be one shape to a report, or the loop's N+1
// splits into groups of one execution each. So the shape lists the
// assignments of a top-level UPDATE's SET in a canonical order, where the
// order cannot matter: MySQL runs assignments left to right, so that in
// "set a = a + 1, b = a" b gets the new a, and a reordering is safe only
// when no value reads a column the list assigns.

// maxSorted bounds the assignments sortSet reorders.
const maxSorted = 256

// A span is the run [from, to) of the output.
type span struct{ from, to int }

// An assignment of a SET list: the whole of it, the last part of the
// column it sets, and the last part of the column its value reads, if any.
type assignment struct {
	all, target, reads span
	to                 int // where it goes
}

// sortSet sorts the SET list of an UPDATE, which started at n.setStart
// and ends at end in the output, if each assignment is "name = value"
// with a value that cannot depend on the order: a placeholder or literal,
// DEFAULT, a column the list does not assign, or a clock function such as
// now(). MySQL's ORDER BY and LIMIT may follow the list. Equal
// assignments keep their order, and sorting a sorted list changes
// nothing, so a shape normalizes to itself. A shape cut short ends in the
// truncation marker, which sortSet reads as the shape's next reading
// will: as a column where it stands for a value ("a = …"), and as the end
// of the list's parse elsewhere.
func (n *normalizer) sortSet(end int) {
	start := n.setStart
	n.setStart = 0
	if start == 0 {
		return
	}
	for start < end && n.out[start] == ' ' {
		start++
	}
	for end > start && n.out[end-1] == ' ' {
		end--
	}
	if end-start < 3 {
		return
	}
	s := unsafe.String(&n.out[0], end) // read before it is rewritten
	as := n.assigns[:0]
	defer func() { n.assigns = as[:0] }()
	for i := start; ; {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var a assignment
		a.all.from = i
		if a.target = nameAt(s, &i); a.target.to == 0 || tokAt(s, &i) != "=" {
			return
		}
		var ok bool
		if a.reads, ok = valueAt(s, &i); !ok {
			return
		}
		a.all.to = i
		if as = append(as, a); len(as) > maxSorted {
			return
		}
		t := tokAt(s, &i)
		if t == "" {
			break
		}
		if t == "order" || t == "limit" {
			end = i - len(t) - 1
			break
		}
		if t != "," {
			return
		}
	}
	if len(as) < 2 {
		return
	}
	// No value may read an assigned column, nor two assignments set one.
	name := func(sp span) string { return unquote(s[sp.from:sp.to]) }
	for k, a := range as {
		for _, b := range as[k+1:] {
			if strings.EqualFold(name(a.target), name(b.target)) {
				return
			}
		}
		if a.reads.to == 0 {
			continue
		}
		for _, b := range as {
			if strings.EqualFold(name(a.reads), name(b.target)) {
				return
			}
		}
	}
	cmp := func(a, b assignment) int {
		if c := strings.Compare(name(a.target), name(b.target)); c != 0 {
			return c
		}
		return strings.Compare(s[a.all.from:a.all.to], s[b.all.from:b.all.to])
	}
	if slices.IsSortedFunc(as, cmp) {
		return
	}
	slices.SortStableFunc(as, cmp)
	buf := n.scratch[:0]
	for k := range as {
		if k > 0 {
			buf = append(buf, ", "...)
		}
		as[k].to = start + len(buf)
		buf = append(buf, s[as[k].all.from:as[k].all.to]...)
	}
	// Each "?" moves with its assignment.
	moved := n.slots[n.slotAt(start):n.slotAt(end)]
	for j := range moved {
		off := int(moved[j].off)
		for _, a := range as {
			if a.all.from <= off && off < a.all.to {
				moved[j].off = int32(a.to + off - a.all.from)
				break
			}
		}
	}
	slices.SortFunc(moved, func(a, b slot) int { return int(a.off - b.off) })
	copy(n.out[start:end], buf)
	n.scratch = buf[:0]
}

// slotAt returns the index of the first slot at or after offset off.
func (n *normalizer) slotAt(off int) int {
	i := len(n.slots)
	for i > 0 && int(n.slots[i-1].off) >= off {
		i--
	}
	return i
}

// tokAt returns the token of shape s at *i and moves *i past it.
func tokAt(s string, i *int) string {
	t, next := Token(s, *i)
	*i = next
	return t
}

// nameAt reads a column name, possibly qualified, at *i, and returns its
// last part, or an empty span when there is no name.
func nameAt(s string, i *int) span {
	for {
		t := tokAt(s, i)
		if !isName(t) {
			return span{}
		}
		if *i >= len(s) || s[*i] != '.' {
			return span{*i - len(t), *i}
		}
		*i++
	}
}

// valueAt reads, at *i, a value that no order of the assignments can
// change, and returns the column it reads, if any.
func valueAt(s string, i *int) (span, bool) {
	j := *i
	t := tokAt(s, &j)
	switch {
	case t == "?" || t == "default":
		*i = j
		return span{}, true
	case !isName(t):
		return span{}, false
	case j < len(s) && s[j] == '(':
		switch t {
		case "now", "current_timestamp", "localtimestamp", "utc_timestamp", "current_date", "curdate",
			"current_time", "curtime", "localtime":
		default:
			return span{}, false
		}
		if j+1 >= len(s) || s[j+1] != ')' {
			return span{}, false
		}
		*i = j + 2
		return span{}, true
	}
	sp := nameAt(s, i)
	return sp, sp.to != 0
}

// isName reports whether a shape token is a name: a word or an identifier
// in double quotes or backticks.
func isName(t string) bool {
	return t != "" && (isIdentStart(t[0]) || t[0] == '"' || t[0] == '`')
}

// unquote returns a name without its quotes.
func unquote(t string) string {
	if len(t) >= 2 && (t[0] == '"' || t[0] == '`') {
		return t[1 : len(t)-1]
	}
	return t
}
