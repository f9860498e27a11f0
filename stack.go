package querytrace

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// maxStackDepth is how many return addresses a Stack keeps. Between the
// application and the driver, database/sql alone takes about ten frames.
const maxStackDepth = 32

// A Stack is a call stack as raw return addresses: cheap to capture on every
// statement and turned into file:line only when a report needs it.
type Stack struct {
	n   int
	pcs [maxStackDepth]uintptr
}

// CaptureStack returns the stack of its caller. Sources that hand events to
// Record call it where the application called them (the pgx tracer in its
// start hook), since by the end hook the stack may be another.
func CaptureStack() Stack {
	var s Stack
	s.capture()
	return s
}

// capture fills s with the stack of its caller.
//
//go:noinline
func (s *Stack) capture() {
	s.n, _ = walk(&s.pcs)
}

// siteOf returns the interned stack of its caller and the stack's hash.
// Not being inlined, it is always walk's caller, whose frame walk leaves out.
// Once a call site has been seen, that costs a walk that stores nothing
// and a table lookup; the first time, a second walk keeps the addresses.
//
//go:noinline
func siteOf() (*Stack, uint64) {
	_, h := walk(nil)
	if p := lookupStack(h); p != nil {
		return p, h
	}
	var s Stack
	s.n, _ = walk(&s.pcs)
	return intern(&s, h), h
}

// emptyStack is the call site of statements from a driver wrapped
// WithoutStacks.
var (
	emptyStack     Stack
	emptyStackHash = emptyStack.hash()
)

// PCs returns the captured return addresses, for runtime.CallersFrames.
func (s *Stack) PCs() []uintptr { return s.pcs[:s.n] }

// hash identifies the call site: the same loop calls through the same
// addresses every time.
func (s *Stack) hash() uint64 { return hashPCs(s.pcs[:s.n]) }

// hashPCs is the hash walk computes as it goes.
func hashPCs(pcs []uintptr) uint64 {
	h := uint64(fnvOffset)
	for _, pc := range pcs {
		h = hashPC(h, pc)
	}
	return hashEnd(h, len(pcs))
}

// hashPC folds one return address into a stack's hash; hashEnd closes it
// with the number of addresses. walk and hashPCs share them so that a
// stack hashes the same whichever computed it.
func hashPC(h uint64, pc uintptr) uint64 { return (h ^ uint64(pc)) * fnvPrime }
func hashEnd(h uint64, n int) uint64     { return (h ^ uint64(n)) * fnvPrime }

// The intern table holds one copy of each call site's stack, so that a
// statement in flight (the rows of a query) carries a pointer where it
// would carry maxStackDepth addresses. Call sites are few and fixed for
// the life of a program; a program with more than the table holds keeps
// a copy per statement for the rest, which costs an allocation, not a
// wrong call site.
const (
	internSlots = 1 << 12
	internProbe = 8
)

type internedStack struct {
	hash uint64
	s    Stack
}

var interned [internSlots]atomic.Pointer[internedStack]

// lookupStack returns the table's stack whose hash is h, or nil.
func lookupStack(h uint64) *Stack {
	for i := range uint64(internProbe) {
		p := interned[(h+i)%internSlots].Load()
		if p == nil {
			return nil
		}
		if p.hash == h {
			return &p.s
		}
	}
	return nil
}

// intern returns the table's copy of s, whose hash is h, adding it if
// there is room. The hash is the call site's identity (groups are keyed
// by it), so a stack with the same hash is the same call site. The result
// is shared: it must not be written.
func intern(s *Stack, h uint64) *Stack {
	for i := range uint64(internProbe) {
		slot := &interned[(h+i)%internSlots]
		p := slot.Load()
		if p == nil {
			n := &internedStack{hash: h, s: *s}
			if slot.CompareAndSwap(nil, n) {
				return &n.s
			}
			p = slot.Load()
		}
		if p.hash == h {
			return &p.s
		}
	}
	c := *s
	return &c
}

// A Frame is one frame of the application's own code that issued a
// statement.
type Frame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

// String returns "file.go:42 pkg.Function" with the file's last two path
// elements, short enough for a log line and still findable.
func (f Frame) String() string {
	return fmt.Sprintf("%s:%d %s", shortFile(f.File), f.Line, shortFunc(f.Function))
}

// shortFile keeps the last directory and the file name.
func shortFile(file string) string {
	dir, name := filepath.Split(file)
	if dir == "" {
		return name
	}
	return filepath.Join(filepath.Base(dir), name)
}

// shortFunc drops the import path before the package name.
func shortFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

// defaultSkips are the packages whose frames are never the application's:
// the runtime, database/sql, querytrace itself and common drivers and ORMs.
var defaultSkips = []string{
	"runtime.",
	"testing.",
	"database/sql.",
	"database/sql/driver.",
	"net/http.",
	"reflect.",
	"sync.",
	"github.com/querytrace/querytrace.",
	"github.com/querytrace/querytrace/querytracetest.",
	"github.com/querytrace/querytrace/pgxtrace.",
	"github.com/querytrace/querytrace/internal/",
	"github.com/jackc/pgx/",
	"github.com/jackc/puddle/",
	"github.com/mattn/go-sqlite3.",
	"github.com/lib/pq.",
	"github.com/go-sql-driver/mysql.",
	"modernc.org/sqlite",
	"github.com/DATA-DOG/go-sqlmock.",
	"gorm.io/",
	"github.com/jmoiron/sqlx.",
	"github.com/uptrace/bun",
	"entgo.io/ent",
	"github.com/volatiletech/sqlboiler",
	"github.com/Masterminds/squirrel.",
	"github.com/doug-martin/goqu",
	"golang.org/x/sync/errgroup.",
}

var userSkips atomic.Pointer[[]string]

// SkipFrames adds function-name prefixes (such as "example.com/app/store."
// for a data-access layer) whose frames are not the application's own code,
// so that call sites point at the code that called them. It is safe to call
// concurrently; it applies to stacks symbolized after it returns.
func SkipFrames(prefixes ...string) {
	for {
		old := userSkips.Load()
		var next []string
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, prefixes...)
		if userSkips.CompareAndSwap(old, &next) {
			frameCache.Range(func(k, _ any) bool { frameCache.Delete(k); return true })
			return
		}
	}
}

// skipped reports whether fn belongs to a package that is not the
// application's. Tests of querytrace's own packages count as application
// code so that they can see their own call sites.
func skipped(fn, file string) bool {
	// The methods that ifaces.go's combined types promote are generated
	// by the compiler: they are querytrace's, whatever they are called.
	if file == "<autogenerated>" || strings.HasPrefix(fn, "go:") {
		return true
	}
	if strings.HasSuffix(file, "_test.go") {
		return false
	}
	for _, p := range defaultSkips {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	if us := userSkips.Load(); us != nil {
		for _, p := range *us {
			if strings.HasPrefix(fn, p) {
				return true
			}
		}
	}
	return false
}

// symbolized is what one return address becomes: its frames (more than one
// where calls were inlined), each marked as the application's or not.
type symbolized struct {
	frames []Frame
	app    []bool
}

// frameCache maps a return address to its *symbolized. Addresses are few
// (one per call site) and fixed for the life of the process, so the cache
// is bounded by the program's size.
var frameCache sync.Map

func symbolize(pc uintptr) *symbolized {
	if v, ok := frameCache.Load(pc); ok {
		return v.(*symbolized)
	}
	s := &symbolized{}
	// The trailing zero makes CallersFrames expand the frames inlined at
	// pc, which it does only when more addresses follow.
	fs := runtime.CallersFrames([]uintptr{pc, 0})
	for {
		f, more := fs.Next()
		if f.Function != "" {
			s.frames = append(s.frames, Frame{Function: f.Function, File: f.File, Line: f.Line})
			s.app = append(s.app, !skipped(f.Function, f.File))
		}
		if !more {
			break
		}
	}
	frameCache.Store(pc, s)
	return s
}

// appFrames returns up to max of the application's own frames of s, the
// innermost first. Frames above the application's first (net/http's
// server loop, testing's runner) are dropped with the rest.
func (s *Stack) appFrames(max int) []Frame {
	var out []Frame
	for _, pc := range s.pcs[:s.n] {
		sym := symbolize(pc)
		for i, f := range sym.frames {
			if sym.app[i] {
				out = append(out, f)
				if len(out) == max {
					return out
				}
			}
		}
	}
	return out
}
