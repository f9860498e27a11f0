package sqlfix

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// TestCached checks that Cached answers what For does, from the cache the
// second time, and tells apart loops that differ in any field.
func TestCached(t *testing.T) {
	many := make([]Value, sqlnorm.MaxValues+3) // past what the cache keys
	many[0] = Varied
	manyKnown := slices.Clone(many)
	manyKnown[len(manyKnown)-1] = Same
	loops := []Loop{
		{Shape: "select name from users where id = ?", Dialect: gen},
		{Shape: "select name from users where id = ?", Dialect: pg},
		{Shape: "select name from users where id = ?", Dialect: pg, Values: values("K")},
		{Shape: "select name from users where id = ?", Dialect: pg, Values: values("S")},
		{Shape: "update items set qty = ? where id = ?", Dialect: lite, Values: values("K K")},
		{Shape: "update items set qty = ? where id = ?", Dialect: lite, Values: values("S K")},
		{Shape: "insert into t (a, b) values (?, ?)", Dialect: mysql, Values: values("K C")},
		{Shape: "select * from pets where owner_id = ?", Dialect: pg, Values: values("K")},
		{Shape: "select * from pets where owner_id = ?", Dialect: pg, Values: values("K"), Library: GORM},
		{Shape: "select * from pets where owner_id = ?", Dialect: pg, Values: values("K"), Library: GORM, Source: "select * from owners"},
		{Shape: "select * from t where " + strings.Repeat("a = ? and ", sqlnorm.MaxValues+2) + "id = ?", Dialect: gen, Values: many},
		{Shape: "select * from t where " + strings.Repeat("a = ? and ", sqlnorm.MaxValues+2) + "id = ?", Dialect: gen, Values: manyKnown},
	}
	for round := range 2 {
		for _, l := range loops {
			want, got := For(l), Cached(l)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: Cached(%q, %v, %v) = %+v, For = %+v", round, l.Shape, l.Dialect, l.Values, got, want)
			}
		}
	}
	l := loops[2]
	if n := testing.AllocsPerRun(100, func() { Cached(l) }); n != 0 {
		t.Errorf("a cached fix costs %v allocations, want 0", n)
	}
	for i := range cacheEntries + 100 {
		Cached(Loop{Shape: "select * from t" + strconv.Itoa(i) + " where id = ?"})
	}
	cache.mu.RLock()
	n := len(cache.m)
	cache.mu.RUnlock()
	if n > cacheEntries {
		t.Errorf("the cache holds %d fixes, more than its %d", n, cacheEntries)
	}
}

// TestCacheKeyCoversLoop fails when Loop gains a field, which the cache's
// key must then hold too: two loops that differ in it would share a fix.
func TestCacheKeyCoversLoop(t *testing.T) {
	var fields []string
	lt := reflect.TypeFor[Loop]()
	for i := range lt.NumField() {
		fields = append(fields, lt.Field(i).Name)
	}
	if want := []string{"Shape", "Dialect", "Values", "Library", "Source"}; !slices.Equal(fields, want) {
		t.Errorf("Loop has fields %v, the cache keys %v: add the new ones to cacheKey and key", fields, want)
	}
}
