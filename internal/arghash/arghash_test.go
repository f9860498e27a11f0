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
	if Args(nil) != 0 {
		t.Errorf("Args(nil) = %d, want 0", Args(nil))
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
	if Values(nil) != 0 {
		t.Errorf("Values(nil) = %d, want 0", Values(nil))
	}
}

// TestEach checks that Each tells which arguments differ.
func TestEach(t *testing.T) {
	var a, b [MaxEach]uint32
	na := Each([]driver.NamedValue{{Ordinal: 1, Value: int64(17)}, {Ordinal: 2, Value: "x"}, {Ordinal: 3, Value: nil}}, &a)
	nb := Each([]driver.NamedValue{{Ordinal: 1, Value: int64(18)}, {Ordinal: 2, Value: "x"}, {Ordinal: 3, Value: nil}}, &b)
	if na != 3 || nb != 3 || a[0] == b[0] || a[1] != b[1] || a[2] != b[2] {
		t.Errorf("Each: %d %x, %d %x", na, a[:na], nb, b[:nb])
	}
	many := make([]driver.NamedValue, MaxEach+3)
	for i := range many {
		many[i] = driver.NamedValue{Ordinal: i + 1, Value: int64(i)}
	}
	if n := Each(many, &a); n != MaxEach {
		t.Errorf("Each of %d arguments wrote %d", len(many), n)
	}
}
