package arghash

import (
	"database/sql/driver"
	"testing"
	"time"
)

func TestArgs(t *testing.T) {
	a := []driver.NamedValue{{Ordinal: 1, Value: int64(17)}, {Ordinal: 2, Value: "x"}}
	tests := []struct {
		name string
		b    []driver.NamedValue
		same bool
	}{
		{"copy", append([]driver.NamedValue(nil), a...), true},
		{"other int", []driver.NamedValue{{Ordinal: 1, Value: int64(18)}, {Ordinal: 2, Value: "x"}}, false},
		{"other text", []driver.NamedValue{{Ordinal: 1, Value: int64(17)}, {Ordinal: 2, Value: "y"}}, false},
		{"swapped", []driver.NamedValue{{Ordinal: 1, Value: "x"}, {Ordinal: 2, Value: int64(17)}}, false},
		{"named", []driver.NamedValue{{Ordinal: 1, Name: "a", Value: int64(17)}, {Ordinal: 2, Value: "x"}}, false},
		{"bytes for text", []driver.NamedValue{{Ordinal: 1, Value: int64(17)}, {Ordinal: 2, Value: []byte("x")}}, false},
	}
	for _, tt := range tests {
		if got := Args(a) == Args(tt.b); got != tt.same {
			t.Errorf("%s: equal hashes %v, want %v", tt.name, got, tt.same)
		}
	}
	if Args(nil) != (Sum{}) {
		t.Errorf("Args(nil) = %v, want zero", Args(nil))
	}
}

// TestValues: a context-less call's arguments hash as the same values
// given by ordinal.
func TestValues(t *testing.T) {
	vals := []driver.Value{int64(1), "two", 3.0, true, nil, []byte("six"), time.Unix(7, 0)}
	nv := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	if Values(vals) != Args(nv) {
		t.Errorf("Values and Args disagree on the same arguments")
	}
	if Values(nil) != (Sum{}) {
		t.Errorf("Values(nil) = %v, want zero", Values(nil))
	}
}

// TestArrays: an array argument, as pgx's stdlib driver passes it for
// "= any($1)", hashes by its elements, and its length is the keys it
// carries; bytes are one value, not keys.
func TestArrays(t *testing.T) {
	one := func(v any) Sum { return Args([]driver.NamedValue{{Ordinal: 1, Value: v}}) }
	type ids []int64 // a named slice goes through reflect
	for _, c := range []struct {
		name string
		a, b any
		same bool
	}{
		{"same ids", []int64{1, 2, 3}, []int64{1, 2, 3}, true},
		{"other ids", []int64{1, 2, 3}, []int64{1, 2, 4}, false},
		{"fewer ids", []int64{1, 2, 3}, []int64{1, 2}, false},
		{"other names", []string{"a", "b"}, []string{"a", "c"}, false},
		{"named slice", ids{1, 2, 3}, ids{1, 2, 4}, false},
		{"named slice, same", ids{5, 6}, ids{5, 6}, true},
		{"uint32s", []uint32{1, 2}, []uint32{1, 3}, false},
		{"uuids", [][16]byte{{1}}, [][16]byte{{2}}, true}, // elements past scalars hash alike
	} {
		if got := one(c.a).Hash == one(c.b).Hash; got != c.same {
			t.Errorf("%s: equal hashes %v, want %v", c.name, got, c.same)
		}
	}
	for _, c := range []struct {
		v    any
		keys int
	}{
		{int64(7), 0}, {"x", 0}, {[]byte("bytes"), 0}, {[16]byte{}, 0}, {nil, 0},
		{[]int64{1, 2, 3}, 3}, {[]string{"a"}, 1}, {ids{1, 2}, 2}, {[]float64{}, 0}, {[]uint32{1, 2, 3, 4}, 4},
	} {
		if got := Keys(c.v); got != c.keys {
			t.Errorf("Keys(%#v) = %d, want %d", c.v, got, c.keys)
		}
	}
	args := []driver.NamedValue{{Ordinal: 1, Value: int64(1)}, {Ordinal: 2, Value: []int64{1, 2, 3}}, {Ordinal: 3, Value: []string{"a"}}}
	if got := Args(args).Keys; got != 3 {
		t.Errorf("Args(...).Keys = %d, want the longest array's 3", got)
	}
	if got := testing.AllocsPerRun(100, func() { Args(args) }); got != 0 {
		t.Errorf("Args allocates %v times for arrays, want 0", got)
	}
}

// TestArgsEach checks that ArgsEach tells which arguments differ, and that
// its sum is Args'.
func TestArgsEach(t *testing.T) {
	var a, b [MaxEach]uint32
	x := []driver.NamedValue{{Ordinal: 1, Value: int64(17)}, {Ordinal: 2, Value: "x"}, {Ordinal: 3, Value: nil}}
	y := []driver.NamedValue{{Ordinal: 1, Value: int64(18)}, {Ordinal: 2, Value: "x"}, {Ordinal: 3, Value: nil}}
	sa, na := ArgsEach(x, &a)
	sb, nb := ArgsEach(y, &b)
	if na != 3 || nb != 3 || a[0] == b[0] || a[1] != b[1] || a[2] != b[2] {
		t.Errorf("ArgsEach: %d %x, %d %x", na, a[:na], nb, b[:nb])
	}
	if sa != Args(x) || sb != Args(y) || sa == sb {
		t.Errorf("ArgsEach sums %v and %v, Args %v and %v", sa, sb, Args(x), Args(y))
	}
	many := make([]driver.NamedValue, MaxEach+3)
	for i := range many {
		many[i] = driver.NamedValue{Ordinal: i + 1, Value: int64(i)}
	}
	if _, n := ArgsEach(many, &a); n != MaxEach {
		t.Errorf("ArgsEach of %d arguments wrote %d", len(many), n)
	}
	// The last argument counts in the sum though it has no hash of its own.
	other := append([]driver.NamedValue(nil), many...)
	other[len(other)-1].Value = int64(-1)
	if Args(many) == Args(other) {
		t.Error("an argument past MaxEach does not change the sum")
	}
	if got := testing.AllocsPerRun(100, func() { ArgsEach(many, &a) }); got != 0 {
		t.Errorf("ArgsEach allocates %v times, want 0", got)
	}
}

// TestHeldValues checks the values that reach a driver unconverted when
// it checks its arguments itself (pgx's stdlib): pointers, named scalars
// and structs hash by what they hold, as database/sql's conversion would
// have read them, so that other keys hash apart and the same key alike.
func TestHeldValues(t *testing.T) {
	type userID int64
	type null struct {
		Int64 int64
		Valid bool
	}
	type stamped struct{ At time.Time }
	type hidden struct{ at time.Time }
	one := func(v any) Sum { return Args([]driver.NamedValue{{Ordinal: 1, Value: v}}) }
	ptr := func(v int) *int { return &v }
	at := time.Unix(1700000000, 0)
	for _, c := range []struct {
		name string
		a, b any
		same bool
	}{
		{"pointers to other ints", ptr(1), ptr(2), false},
		{"pointers to one int", ptr(1), ptr(1), true},
		{"a pointer and its int", ptr(7), int64(7), true},
		{"a nil pointer and nil", (*int)(nil), nil, true},
		{"a nil pointer and zero", (*int)(nil), ptr(0), false},
		{"named integers", userID(1), userID(2), false},
		{"a named integer and its int", userID(3), int64(3), true},
		{"pointers to named integers", func() any { v := userID(4); return &v }(), func() any { v := userID(5); return &v }(), false},
		{"structs of other values", null{1, true}, null{2, true}, false},
		{"structs of one value", null{1, true}, null{1, true}, true},
		{"valid and null", null{0, true}, null{0, false}, false},
		{"a pointer to a time and the time", &at, at, true},
		{"times in structs", stamped{at}, stamped{at.Add(time.Second)}, false},
		{"unexported times", hidden{at}, hidden{at.Add(time.Second)}, false},
		{"maps", map[string]int{"a": 1}, map[string]int{"a": 2}, true}, // read alike
	} {
		if got := one(c.a).Hash == one(c.b).Hash; got != c.same {
			t.Errorf("%s: equal hashes %v, want %v", c.name, got, c.same)
		}
	}
	args := []driver.NamedValue{{Ordinal: 1, Value: ptr(1)}, {Ordinal: 2, Value: userID(2)}, {Ordinal: 3, Value: null{3, true}}, {Ordinal: 4, Value: &at}}
	if got := testing.AllocsPerRun(100, func() { Args(args) }); got != 0 {
		t.Errorf("Args allocates %v times for held values, want 0", got)
	}
}
