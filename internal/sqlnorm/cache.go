package sqlnorm

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The shape cache. Applications send the same few hundred statement texts
// over and over, so the driver wrapper looks shapes up by text. The cache is
// sharded to keep lock contention low and bounded both in entries and in
// bytes of retained query text; when a shard is full a random entry goes.
const (
	cacheShards        = 16
	cacheShardEntries  = 256     // 4096 entries in all
	cacheShardBytes    = 1 << 20 // 16 MB of query text in all
	cacheMaxQueryBytes = 16 << 10
)

type cacheEntry struct {
	query string
	shape string
	fp    uint64
	d     Dialect
}

type cacheShard struct {
	mu    sync.RWMutex
	m     map[uint64]cacheEntry
	bytes int
}

var (
	cacheSeed = maphash.MakeSeed()
	cache     [cacheShards]cacheShard
)

// Shape returns the shape of query in dialect d and its fingerprint,
// from the cache when it can. A string seen before at the same address (a
// constant) costs a pointer comparison; a new string with a known text, one
// small allocation to remember its address.
func Shape(query string, d Dialect) (shape string, fp uint64) {
	if len(query) > cacheMaxQueryBytes {
		shape = normalize(query, d)
		return shape, Fingerprint(shape)
	}
	slot := recentSlot(query, d)
	if r := slot.Load(); r != nil && r.d == d && len(r.query) == len(query) &&
		unsafe.StringData(r.query) == unsafe.StringData(query) {
		return r.shape, r.fp
	}
	h := maphash.String(cacheSeed, query) ^ uint64(d)*0x9e3779b97f4a7c15
	s := &cache[h%cacheShards]
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if ok && e.d == d && e.query == query {
		slot.Store(&cacheEntry{query: query, shape: e.shape, fp: e.fp, d: d})
		return e.shape, e.fp
	}
	shape = normalize(query, d)
	fp = Fingerprint(shape)
	// Keep a private copy of the text: the caller's string may point into a
	// much larger buffer that the cache should not pin.
	q := strings.Clone(query)
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[uint64]cacheEntry, cacheShardEntries)
	}
	if old, ok := s.m[h]; ok {
		s.bytes -= len(old.query) + len(old.shape)
		delete(s.m, h)
	}
	for len(s.m) > 0 && (len(s.m) >= cacheShardEntries || s.bytes+len(q)+len(shape) > cacheShardBytes) {
		for k, v := range s.m { // map iteration order is random: random eviction
			s.bytes -= len(v.query) + len(v.shape)
			delete(s.m, k)
			break
		}
	}
	s.m[h] = cacheEntry{query: q, shape: shape, fp: fp, d: d}
	s.bytes += len(q) + len(shape)
	s.mu.Unlock()
	slot.Store(&cacheEntry{query: query, shape: shape, fp: fp, d: d})
	return shape, fp
}

// The recent table sits in front of the shape cache. A program runs the
// same few string constants over and over, and the address of a string's
// text compares in a nanosecond where hashing the text takes tens, with a
// lock besides. Each slot holds the last string seen at its index, which
// keeps that text alive: while the slot holds it, no other string can be
// at its address, so the same address and length mean the same text. (A
// program that builds strings over a []byte it then changes, with unsafe,
// breaks that promise of the language and would see stale shapes.)
const recentSlots = 1 << 10

var recent [recentSlots]atomic.Pointer[cacheEntry]

func recentSlot(query string, d Dialect) *atomic.Pointer[cacheEntry] {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(query))))
	h := (p ^ uint64(len(query))<<48 ^ uint64(d)<<56) * 0x9e3779b97f4a7c15
	return &recent[h>>(64-10)]
}
