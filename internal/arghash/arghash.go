// Package arghash hashes the arguments of a statement: the only trace of
// their values that querytrace keeps. The hashes tell executions with the
// same arguments (a duplicate) from executions with others (an N+1); they
// are comparable within one process, not across processes.
package arghash

import (
	"database/sql/driver"
	"hash/maphash"
	"math"
	"reflect"
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

// A Sum is what querytrace keeps of a statement's arguments: their hash,
// and how many keys its longest array argument carried (the ids of
// "where id = any($1)"), 0 for none. An execution that carries many keys
// in one array is a batch, not a step of a loop.
type Sum struct {
	Hash uint64
	Keys int
}

// Args returns the sum of a statement's arguments; the hash is 0 for none.
func Args(args []driver.NamedValue) Sum {
	s, _ := ArgsEach(args, nil)
	return s
}

// MaxEach is how many arguments, from the first, ArgsEach hashes one by
// one.
const MaxEach = 16

// ArgsEach returns the sum of a statement's arguments, as Args does, and
// when each is not nil also writes a hash of each of the first MaxEach
// arguments on its own to each, returning how many it wrote. Where the sum
// tells whether two executions had the same arguments, those tell which
// of them differed: the key a loop went over, or the values each of its
// rows set. Each argument is hashed once, for both.
func ArgsEach(args []driver.NamedValue, each *[MaxEach]uint32) (Sum, int) {
	if len(args) == 0 {
		return Sum{}, 0
	}
	h := uint64(fnv1a.Offset)
	keys, n := 0, 0
	for i := range args {
		a := &args[i]
		h = Mix(h, uint64(a.Ordinal))
		if a.Name != "" {
			h = Mix(h, maphash.String(seed, a.Name))
		}
		v, k := value(a.Value)
		h = Mix(h, v)
		keys = max(keys, k)
		if each != nil && i < MaxEach {
			each[i] = fold32(v)
			n++
		}
	}
	if h == 0 {
		h = 1
	}
	return Sum{h, keys}, n
}

// Values returns the sum of the arguments of a context-less driver call:
// the same as Args of the same values at ordinals 1, 2, ...
func Values(args []driver.Value) Sum {
	if len(args) == 0 {
		return Sum{}
	}
	h := uint64(fnv1a.Offset)
	keys := 0
	for i, a := range args {
		h = Mix(h, uint64(i+1))
		v, k := value(a)
		h = Mix(h, v)
		keys = max(keys, k)
	}
	if h == 0 {
		h = 1
	}
	return Sum{h, keys}
}

// value returns the hash of one argument on its own, and the keys it
// carries (see Keys): the types database/sql passes are told by the type
// switch alone.
func value(v any) (h uint64, keys int) {
	switch v := v.(type) {
	case int64:
		return mixInt(fnv1a.Offset, uint64(v)), 0
	case string:
		return mixString(fnv1a.Offset, v), 0
	case nil, float64, bool, []byte, time.Time:
		return Value(fnv1a.Offset, v), 0
	}
	return Value(fnv1a.Offset, v), Keys(v)
}

// fold32 folds a value's hash to the 32 bits Each keeps.
func fold32(h uint64) uint32 { return uint32(h ^ h>>32) }

// Keys returns how many elements v holds when it is an array argument (a
// slice or an array, but not bytes, which are one value), else 0.
func Keys(v any) int {
	switch v := v.(type) {
	case nil, int64, float64, bool, []byte, string, time.Time, int, int32, uint64:
		return 0
	case []int64:
		return len(v)
	case []string:
		return len(v)
	case []int:
		return len(v)
	case []int32:
		return len(v)
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return 0 // bytes: a UUID, a hash
		}
		return rv.Len()
	}
	return 0
}

// Value folds one argument value into the hash h: driver.Value's own
// types, the integer types below, and arrays of scalars (see elems).
func Value(h uint64, v any) uint64 {
	switch v := v.(type) {
	case nil:
		h = Mix(h, 1)
	case int64:
		h = mixInt(h, uint64(v))
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
		h = mixString(h, v)
	case time.Time:
		h = mixTime(h, v)
	case int:
		h = mixInt(h, uint64(v))
	case int32:
		h = mixInt(h, uint64(v))
	case uint64:
		h = mixInt(h, v)
	default:
		h = reflected(h, reflect.ValueOf(v), 0)
	}
	return h
}

// maxDepth bounds how far reflected follows pointers and struct fields,
// and maxFields how many fields of one struct it reads.
const (
	maxDepth  = 4
	maxFields = 16
)

var timeType = reflect.TypeFor[time.Time]()

// reflected folds a value of none of Value's own types into h by what it
// holds, as database/sql's conversion would have read it: a named
// integer, float, bool or text (type UserID int64) as its value, a
// pointer (GORM's *int foreign keys) as what it points to and a nil one as
// nil, a struct (sql.NullInt64, pgtype.Int8) by its fields, an array or a
// slice by its elements (see elems). A driver that checks its arguments
// itself gets them as the application wrote them (pgx's stdlib takes
// every one unconverted), and a loop over keys held in such values is
// still a loop over other keys. A map, a channel or a function is one
// constant: such arguments read alike. It reads through reflect without
// allocating, but for a time.Time held by value in a struct.
func reflected(h uint64, rv reflect.Value, depth int) uint64 {
	switch rv.Kind() {
	case reflect.Invalid:
		return Mix(h, 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return mixInt(h, uint64(rv.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return mixInt(h, rv.Uint())
	case reflect.Float32, reflect.Float64:
		return Mix(Mix(h, 3), math.Float64bits(rv.Float()))
	case reflect.Bool:
		return Value(h, rv.Bool())
	case reflect.String:
		return mixString(h, rv.String())
	case reflect.Slice, reflect.Array:
		return elems(h, rv)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return Mix(h, 1)
		}
		if depth < maxDepth {
			return reflected(h, rv.Elem(), depth+1)
		}
	case reflect.Struct:
		if t, ok := timeOf(rv); ok {
			return mixTime(h, t)
		}
		if depth < maxDepth {
			h = Mix(h, 10)
			for i := 0; i < rv.NumField() && i < maxFields; i++ {
				h = reflected(h, rv.Field(i), depth+1)
			}
			return h
		}
	}
	return Mix(h, 9)
}

// timeOf returns the time.Time that rv holds, when it holds one that can
// be read whole: one pointed to, or an exported field.
func timeOf(rv reflect.Value) (time.Time, bool) {
	switch {
	case rv.Type() != timeType:
	case rv.CanAddr():
		return *(*time.Time)(rv.Addr().UnsafePointer()), true
	case rv.CanInterface():
		return rv.Interface().(time.Time), true
	}
	return time.Time{}, false
}

// maxElems bounds how many elements of one array argument are hashed.
const maxElems = 1024

// elems folds an array argument (a slice or an array of scalars, as pgx
// takes for "= any($1)") into h as its length and elements, the way
// pgxtrace does, so that two arrays of other keys tell an N+1 from a
// duplicate. Elements that are no scalars hash alike.
func elems(h uint64, rv reflect.Value) uint64 {
	n := rv.Len()
	h = mixString(h, "elems")
	h = mixInt(h, uint64(n))
	for i := 0; i < n && i < maxElems; i++ {
		e := rv.Index(i)
		switch e.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			h = mixInt(h, uint64(e.Int()))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			h = mixInt(h, e.Uint())
		case reflect.Float32, reflect.Float64:
			h = Mix(Mix(h, 3), math.Float64bits(e.Float()))
		case reflect.Bool:
			h = Value(h, e.Bool())
		case reflect.String:
			h = mixString(h, e.String())
		default:
			h = Mix(h, 9)
		}
	}
	return h
}

// mixInt, mixString and mixTime fold an integer, a text and a time as
// Value does, without putting them in an interface.
func mixInt(h, v uint64) uint64            { return Mix(Mix(h, 2), v) }
func mixString(h uint64, v string) uint64  { return Mix(Mix(h, 7), maphash.String(seed, v)) }
func mixTime(h uint64, t time.Time) uint64 { return Mix(Mix(h, 8), uint64(t.UnixNano())) }
