package querytrace

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/querytrace/querytrace/internal/callstack"
	"github.com/querytrace/querytrace/internal/human"
	"github.com/querytrace/querytrace/internal/sqlfix"
	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// slowFix is the fix of a group with an execution slower than Detector.Slow.
func slowFix(g *Group) string {
	tables := tablesOf(g.Shape)
	on := ""
	if len(tables) > 0 {
		on = " on " + strings.Join(tables, ", ")
	}
	return "one execution took " + human.Duration(g.Max) + ": look at its plan (EXPLAIN) and the indexes" + on
}

// duplicateFix says how to remove the n repeated executions of g. Where
// writes to its tables came between some of them, the result may be
// reused only until the next write.
func duplicateFix(g *Group, n int) string {
	if g.Rereads > 0 {
		return "the same query with the same arguments ran " + strconv.Itoa(n) + " times with no write to " +
			strings.Join(tablesOf(g.Shape), ", ") + " between them (" + human.Plural(g.Rereads, "re-read", "re-reads") +
			" after a write left out): reuse the result until the next write"
	}
	if g.Verb == "select" {
		return "the same query with the same arguments ran " + strconv.Itoa(n) +
			" times: run it once and reuse the result (hoist it out of the loop or memoize it for the request)"
	}
	return "the same " + g.Verb + " with the same arguments ran " + strconv.Itoa(n) +
		" times: run it once (hoist it out of the loop)"
}

// pagedFix is the fix of a repeat that reads a result page by page.
func pagedFix(g *Group) string {
	s := fmt.Sprintf("reads pages of %d rows: not an N+1", g.MaxRows)
	if sqlnorm.HasWord(g.Shape, "offset") {
		s += "; on large tables keyset pagination (where key > last key order by key limit n) beats OFFSET"
	}
	return s
}

// chunkFix is the fix of a repeat that already runs many keys at a time.
func chunkFix(g *Group) string {
	if g.arrayKeys {
		return fmt.Sprintf("takes its keys as an array, up to %d at a time: a batch (a dataloader's), not an N+1", g.Keys)
	}
	return fmt.Sprintf("runs %d keys at a time (an IN or VALUES list): a batch in chunks, not an N+1", g.Keys)
}

// loaderFix is the fix of a repeat whose executions are a loader's
// batches of whatever keys were pending.
const loaderFix = "takes its keys in an IN list, as many as were pending each time (a dataloader's batches): a batch, not an N+1"

// loopFix suggests how to replace the loop of g with one statement, in
// dialect d: package internal/sqlfix writes it, from g's shape and what
// g's executions had at each of its "?", and says what its placeholders
// take. Where a join in the source query, the one whose rows the loop
// went over, would do as well, the fix says so. orm is the same fix in
// the API of the ORM or generator that issued g's statements, or "".
func loopFix(g *Group, source *Group, d Dialect) (fix, orm string) {
	l := sqlfix.Loop{Shape: g.Shape, Dialect: sqlnorm.Dialect(d), Values: g.values(), Library: libraryOf(g)}
	if source != nil {
		l.Source = source.Shape
	}
	f := sqlfix.Cached(l)
	s := f.String()
	if f.Join != "" && source != nil {
		s += "; or a join to " + f.Join + " in the source query"
		if site := source.CallSite(); site != "" {
			s += " at " + site
		}
	}
	return s, f.ORM
}

// libraryModules are the modules of the ORMs whose API a fix can be told
// in. sqlc, whose code is generated into the application's module, is
// told by its files' header instead; so is ent's generated client, above
// the frames of ent's own module.
var libraryModules = []struct {
	path string
	lib  sqlfix.Library
}{
	{"gorm.io/gorm", sqlfix.GORM},
	{"github.com/uptrace/bun", sqlfix.Bun},
	{"entgo.io/ent", sqlfix.Ent},
	{"github.com/jmoiron/sqlx", sqlfix.SQLX},
}

// libraryOf returns the ORM or generator that issued g's statements: the
// outermost of those whose frames lie between the application's innermost
// frame and the driver, which is the one the application called. A
// library above the application's frames (one that calls back into it)
// issued nothing. It walks the frames of g's stack in place, symbolized
// once per address for the whole process, and reads the header of a file
// generated into the application's module once: at Finish, for each N+1,
// never per statement. The answer is kept per call site, as a stack's
// frames are: a request that repeats its N+1 asks again.
func libraryOf(g *Group) sqlfix.Library {
	if g.stack == nil {
		return sqlfix.NoLibrary
	}
	if lib, ok := librariesBySite.Load(g.stack); ok {
		return lib.(sqlfix.Library)
	}
	lib := sqlfix.NoLibrary
	if f, ok := g.stack.Called(isLibrary); ok {
		lib = frameLibrary(f)
	}
	if librariesKept.Add(1) <= maxLibrarySites {
		librariesBySite.Store(g.stack, lib)
	}
	return lib
}

// librariesBySite maps a group's stack to libraryOf's answer for it, for
// the first maxLibrarySites stacks asked about: stacks are interned, one
// per call site for the life of the process (and a copy each time once the
// intern table is full, which the bound keeps out).
var (
	librariesBySite sync.Map
	librariesKept   atomic.Int64
)

const maxLibrarySites = 4096

func isLibrary(f callstack.Frame) bool { return frameLibrary(f) != sqlfix.NoLibrary }

// frameLibrary returns the library whose code frame f runs, or NoLibrary.
func frameLibrary(f callstack.Frame) sqlfix.Library {
	for _, m := range libraryModules {
		if rest, ok := strings.CutPrefix(f.Function, m.path); ok && rest != "" && (rest[0] == '.' || rest[0] == '/') {
			return m.lib
		}
	}
	switch by, ok := callstack.GeneratedBy(f); {
	case by == "sqlc":
		return sqlfix.SQLC
	case by == "ent":
		return sqlfix.Ent
	case ok:
		return sqlfix.NoLibrary
	}
	// Where the source is absent, sqlc's methods tell by their shape: a
	// method of its Queries in a file named after the queries' own
	// (query.sql becomes query.sql.go).
	if strings.Contains(f.Function, ".(*Queries).") && strings.HasSuffix(f.File, ".sql.go") {
		return sqlfix.SQLC
	}
	return sqlfix.NoLibrary
}

// values says what g's executions had at each "?" of its shape.
func (g *Group) values() []sqlfix.Value {
	if g.text == nil {
		return nil
	}
	out := make([]sqlfix.Value, g.text.NValues) // Unknown past the Values described
	for i, v := range g.text.Values {
		bit := uint32(1) << i
		switch {
		case g.unknown&bit != 0:
			out[i] = sqlfix.Unknown
		case g.varied&bit != 0:
			out[i] = sqlfix.Varied
		case v.IsLiteral():
			out[i] = sqlfix.Constant
		default:
			out[i] = sqlfix.Same
		}
	}
	return out
}

// fixDialect is the dialect a fix for g is written in: the detector's
// when set, else the one g's statements were read in, else PostgreSQL's
// where the shape shows it ("::" casts, ILIKE, RETURNING, ANY(...)).
func (d *Detector) fixDialect(g *Group) Dialect {
	switch {
	case d.Dialect != DialectGeneric:
		return d.Dialect
	case g.Dialect != DialectGeneric:
		return g.Dialect
	}
	// The Info of the group's text answers once per text for the process.
	// Every group a detector judges has one (a group read back from JSON
	// has none, and is never judged again).
	if g.text != nil && g.text.PostgresSyntax() {
		return DialectPostgres
	}
	return DialectGeneric
}
