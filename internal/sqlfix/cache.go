package sqlfix

import (
	"sync"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// An application runs the same loops request after request, and every
// report that finds one writes its fix again from the same loop, reading
// the whole shape each time: Cached keeps the fixes written lately, keyed
// by everything For reads of a Loop.
const cacheEntries = 512

// cacheKey is a Loop as a comparable value. The values past
// sqlnorm.MaxValues, which the wrapper never compares, are all Unknown in
// a loop that the cache keeps (see key).
type cacheKey struct {
	shape   string
	dialect sqlnorm.Dialect
	library Library
	source  string
	n       int
	values  [sqlnorm.MaxValues]Value
}

var cache struct {
	mu sync.RWMutex
	m  map[cacheKey]Fix
}

// Cached returns For(l), from a cache of the fixes written lately when it
// can. The Fix is shared: its Notes must not be changed.
func Cached(l Loop) Fix {
	k, ok := key(l)
	if !ok {
		return For(l)
	}
	cache.mu.RLock()
	f, ok := cache.m[k]
	cache.mu.RUnlock()
	if ok {
		return f
	}
	f = For(l)
	cache.mu.Lock()
	if cache.m == nil {
		cache.m = make(map[cacheKey]Fix, cacheEntries)
	}
	for k := range cache.m { // map iteration order is random: random eviction
		if len(cache.m) < cacheEntries {
			break
		}
		delete(cache.m, k)
	}
	cache.m[k] = f
	cache.mu.Unlock()
	return f
}

// key returns the key of l, and false for a loop with a value past
// sqlnorm.MaxValues other than Unknown, which the cache leaves out.
func key(l Loop) (cacheKey, bool) {
	k := cacheKey{shape: l.Shape, dialect: l.Dialect, library: l.Library, source: l.Source, n: len(l.Values)}
	for i, v := range l.Values {
		if i >= len(k.values) {
			if v != Unknown {
				return cacheKey{}, false
			}
			continue
		}
		k.values[i] = v
	}
	return k, true
}
