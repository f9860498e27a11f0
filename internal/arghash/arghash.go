// Package arghash hashes the arguments of a statement: the only trace of
// their values that querytrace keeps. The hashes tell executions with the
// same arguments (a duplicate) from executions with others (an N+1); they
// are comparable within one process, not across processes.
package arghash

import (
	"database/sql/driver"
	"hash/maphash"
	"math"
	"time"

	"github.com/querytrace/querytrace/internal/fnv1a"
)

// Mix folds the word v into the hash h with one multiplication, where
// FNV-1a over the word's eight bytes would take eight dependent ones.
func Mix(h, v uint64) uint64 {
	h = (h ^ v) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// seed seeds the hashes of text and byte arguments. Argument hashes are
// compared only within one process, so a per-process seed is fine.
var seed = maphash.MakeSeed()

// Args returns the hash of a statement's arguments, 0 for none.
func Args(args []driver.NamedValue) uint64 {
	if len(args) == 0 {
		return 0
	}
	h := uint64(fnv1a.Offset)
	for i := range args {
		a := &args[i]
		h = Mix(h, uint64(a.Ordinal))
		if a.Name != "" {
			h = Mix(h, maphash.String(seed, a.Name))
		}
		h = Value(h, a.Value)
	}
	if h == 0 {
		h = 1
	}
	return h
}

// Values returns the hash of the arguments of a context-less driver call:
// the same as Args of the same values at ordinals 1, 2, ...
func Values(args []driver.Value) uint64 {
	if len(args) == 0 {
		return 0
	}
	h := uint64(fnv1a.Offset)
	for i, v := range args {
		h = Mix(h, uint64(i+1))
		h = Value(h, v)
	}
	if h == 0 {
		h = 1
	}
	return h
}

// Value folds one argument value into the hash h. A value of a type other
// than driver.Value's own and the integer types below is hashed as one
// constant, whatever it holds: such arguments tell no N+1 from a
// duplicate, which errs towards reporting an N+1.
func Value(h uint64, v any) uint64 {
	switch v := v.(type) {
	case nil:
		h = Mix(h, 1)
	case int64:
		h = Mix(Mix(h, 2), uint64(v))
	case float64:
		h = Mix(Mix(h, 3), math.Float64bits(v))
	case bool:
		b := uint64(4)
		if v {
			b = 5
		}
		h = Mix(h, b)
	case []byte:
		h = Mix(Mix(h, 6), maphash.Bytes(seed, v))
	case string:
		h = Mix(Mix(h, 7), maphash.String(seed, v))
	case time.Time:
		h = Mix(Mix(h, 8), uint64(v.UnixNano()))
	case int:
		h = Mix(Mix(h, 2), uint64(v))
	case int32:
		h = Mix(Mix(h, 2), uint64(v))
	case uint64:
		h = Mix(Mix(h, 2), v)
	default:
		h = Mix(h, 9)
	}
	return h
}

// MaxEach is how many arguments, from the first, Each hashes one by one.
const MaxEach = 16

// Each writes a hash of each of the first MaxEach arguments, each on its
// own, to out, and returns how many it wrote. Where Args tells whether two
// executions had the same arguments, Each tells which of them differed:
// the key a loop went over, or the values each of its rows set.
func Each(args []driver.NamedValue, out *[MaxEach]uint32) int {
	n := min(len(args), MaxEach)
	for i := range n {
		h := Value(fnv1a.Offset, args[i].Value)
		out[i] = uint32(h ^ h>>32)
	}
	return n
}
