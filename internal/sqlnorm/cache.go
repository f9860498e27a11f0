package sqlnorm

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Applications send the same few hundred statement texts over and over, so
// Shape remembers shapes by text, in two tables. Neither refers to the
// caller's memory: a statement that is a small piece of a large string
// must not keep the large string alive.
//
// The shape cache is keyed by a seeded 64-bit hash of the text, its length
// and the dialect, and holds only what Shape returns (shapes, hashes and
// counts), never a text. Two texts of the same length whose hashes collide
// would share a shape (and a literal hash); with the 4,096 entries the cache holds, that takes about
// 2^52 lookups of new texts, some hundred years at a million new texts a
// second, and its effect is a miscount, never a literal in a shape. The
// cache is sharded to keep lock contention low and bounded in entries and
// in bytes of shapes; when a shard is full a random entry goes.
const (
	cacheShards        = 16
	cacheShardEntries  = 256     // 4096 entries in all
	cacheShardBytes    = 1 << 20 // 16 MB of shapes in all, 4 MB in practice
	cacheMaxQueryBytes = 16 << 10
)

type cacheEntry struct {
	n    int // the text's length
	d    Dialect
	info *Info
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

// Shape returns what the normalizer reads from query in dialect d: its
// shape and the rest of Info, from the cache when it can. The Info is
// shared and must not be changed.
//
// A string seen before at the same address (a constant, a prepared
// statement's text) costs a pointer and a byte comparison; a new string
// with a known text, a hash and two small allocations.
func Shape(query string, d Dialect) *Info {
	if len(query) > cacheMaxQueryBytes {
		return newInfo(query, d)
	}
	slot := recentSlot(query, d)
	addr := uintptr(unsafe.Pointer(unsafe.StringData(query)))
	if r := slot.Load(); r != nil && r.addr == addr && r.d == d && r.text == query {
		return r.info
	}
	h := maphash.String(cacheSeed, query) ^ uint64(d)*0x9e3779b97f4a7c15
	s := &cache[h%cacheShards]
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if ok && e.n == len(query) && e.d == d {
		remember(slot, addr, query, e)
		return e.info
	}
	e = cacheEntry{n: len(query), d: d, info: newInfo(query, d)}
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[uint64]cacheEntry, cacheShardEntries)
	}
	if old, ok := s.m[h]; ok {
		s.bytes -= old.info.size()
		delete(s.m, h)
	}
	for len(s.m) > 0 && (len(s.m) >= cacheShardEntries || s.bytes+e.info.size() > cacheShardBytes) {
		for k, v := range s.m { // map iteration order is random: random eviction
			s.bytes -= v.info.size()
			delete(s.m, k)
			break
		}
	}
	s.m[h] = e
	s.bytes += e.info.size()
	s.mu.Unlock()
	remember(slot, addr, query, e)
	return e.info
}

// newInfo normalizes query.
func newInfo(query string, d Dialect) *Info {
	in := new(Info)
	normalize(query, d, in)
	in.Fingerprint = Fingerprint(in.Shape)
	return in
}

// size is about how many bytes in holds, for the cache's bound.
func (in *Info) size() int {
	return len(in.Shape) + 8*len(in.Values)
}

// The recent table sits in front of the shape cache. A program runs the
// same few string constants over and over, and the address of a string's
// text compares in a nanosecond where hashing the text takes tens, with a
// lock besides. Each slot holds the address of the last string seen at its
// index, which is only a hint: the string may since have been freed and its
// memory reused for another text of the same length. So the slot also
// holds a private copy of the text, and a hit compares the bytes, which is
// several times cheaper than hashing them. These copies, at most
// recentSlots texts of at most recentMaxBytes, are the only statement
// texts querytrace keeps.
const (
	recentSlots    = 1 << 10
	recentMaxBytes = 4 << 10
)

type recentEntry struct {
	addr uintptr // where the caller's text was: compared, never followed
	text string  // a copy of the caller's text
	d    Dialect
	info *Info
}

var recent [recentSlots]atomic.Pointer[recentEntry]

func recentSlot(query string, d Dialect) *atomic.Pointer[recentEntry] {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(query))))
	h := (p ^ uint64(len(query))<<48 ^ uint64(d)<<56) * 0x9e3779b97f4a7c15
	return &recent[h>>(64-10)]
}

// remember puts query's shape in its recent slot.
func remember(slot *atomic.Pointer[recentEntry], addr uintptr, query string, e cacheEntry) {
	if len(query) > recentMaxBytes {
		return
	}
	slot.Store(&recentEntry{addr: addr, text: strings.Clone(query), d: e.d, info: e.info})
}
