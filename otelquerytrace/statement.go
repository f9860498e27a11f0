package otelquerytrace

import (
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/querytrace/querytrace"
)

// otherShape is the shape of the group a querytrace trace folds its
// statements into once it holds too many groups: it names no statement.
const otherShape = "(other statements)"

// maxSummary bounds a db.query.summary, which the conventions want short.
const maxSummary = 255

// A statement is what the conventions say about one shape: its operation,
// the collection it works on when there is exactly one, and a summary of
// both ("SELECT items", "SELECT request_items requests").
type statement struct {
	operation  string
	collection string
	summary    string
}

// describe reads a statement from a group's shape and verb.
func describe(g *querytrace.Group) statement {
	if g.Shape == otherShape {
		return statement{summary: "other statements"}
	}
	op := strings.ToUpper(g.Verb)
	if op == "" {
		op = strings.ToUpper(firstWord(g.Shape))
	}
	var st statement
	st.operation = op
	tables := querytrace.Tables(g.Shape)
	if len(tables) == 1 {
		st.collection = tables[0]
	}
	summary := op
	for _, t := range tables {
		if len(summary)+1+len(t) > maxSummary {
			break
		}
		if summary != "" {
			summary += " "
		}
		summary += t
	}
	st.summary = summary
	return st
}

// firstWord returns the leading word of a shape, for verbs querytrace does
// not classify (CREATE, CALL, ...): letters only, so a shape that starts
// with anything else gives no operation.
func firstWord(shape string) string {
	i := 0
	for i < len(shape) && (shape[i] >= 'a' && shape[i] <= 'z' || shape[i] >= 'A' && shape[i] <= 'Z' || shape[i] == '_') {
		i++
	}
	if i < len(shape) && shape[i] != ' ' {
		return ""
	}
	return shape[:i]
}

// systemName returns db.system.name for a group's dialect; the dialect is
// the driver's (or PostgreSQL for pgxtrace), and a driver querytrace does
// not know is "other_sql".
func systemName(d querytrace.Dialect) attribute.KeyValue {
	switch d {
	case querytrace.DialectPostgres:
		return semconv.DBSystemNamePostgreSQL
	case querytrace.DialectSQLite:
		return semconv.DBSystemNameSQLite
	case querytrace.DialectMySQL:
		return semconv.DBSystemNameMySQL
	}
	return semconv.DBSystemNameOtherSQL
}

// maxStatements bounds the statements a Bridge remembers descriptions of.
// Past it a description is computed again for each report: correct, only
// slower.
const maxStatements = 4096

// statements caches the description of each shape, by fingerprint: an
// application runs the same few hundred shapes over and over, and reading
// the tables of a shape is the costliest part of a report's export.
type statements struct {
	mu sync.RWMutex
	m  map[uint64]statement
}

func (c *statements) get(g *querytrace.Group) statement {
	c.mu.RLock()
	st, ok := c.m[g.Fingerprint]
	c.mu.RUnlock()
	if ok {
		return st
	}
	st = describe(g)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[uint64]statement)
	}
	if len(c.m) < maxStatements {
		c.m[g.Fingerprint] = st
	}
	c.mu.Unlock()
	return st
}
