package otelquerytrace

import (
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
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

// readStatement reads a statement from a group's shape and verb.
func readStatement(g *querytrace.Group) statement {
	if g.Shape == otherShape {
		return statement{summary: "other statements"}
	}
	op := g.Verb
	if op == "" || op == "other" {
		// querytrace names the verbs it reasons about; the statement
		// itself names the others (CREATE, CALL, ...).
		op = firstWord(g.Shape)
	}
	op = strings.ToUpper(op)
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
// Past it a description is made again for each report: correct, only
// slower.
const maxStatements = 4096

// A described statement is a statement with the attributes a Bridge puts
// on spans and metrics for it, made once per shape and dialect.
type described struct {
	statement
	spanAttrs []attribute.KeyValue     // system, text, operation, collection, summary
	ok        metric.MeasurementOption // db.client.operation.duration's attributes, bounded
	failed    metric.MeasurementOption // the same with error.type
}

type statementKey struct {
	fingerprint uint64
	dialect     querytrace.Dialect
}

// statements caches the description of each shape: an application runs
// the same few hundred shapes over and over, and reading the tables of a
// shape and hashing attribute sets are the costliest part of an export.
type statements struct {
	mu sync.RWMutex
	m  map[statementKey]*described
}

// get returns g's described statement, making it with b when it is new.
func (c *statements) get(b *Bridge, g *querytrace.Group) *described {
	k := statementKey{g.Fingerprint, g.Dialect}
	c.mu.RLock()
	d, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return d
	}
	d = b.describe(g)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[statementKey]*described)
	}
	if len(c.m) < maxStatements {
		c.m[k] = d
	}
	c.mu.Unlock()
	return d
}

// describe makes g's described statement: its span attributes with the
// query text as querytrace normalized it, every literal replaced by "?",
// and its metric attributes, bounded and without the text (opt-in in the
// conventions, and one series per shape).
func (b *Bridge) describe(g *querytrace.Group) *described {
	d := &described{statement: readStatement(g)}
	system := b.systemName(g)
	d.spanAttrs = append(d.spanAttrs, system, semconv.DBQueryText(g.Shape))
	m := []attribute.KeyValue{system}
	if d.operation != "" {
		d.spanAttrs = append(d.spanAttrs, semconv.DBOperationName(d.operation))
		m = append(m, semconv.DBOperationName(b.operations.value(d.operation)))
	}
	if d.collection != "" {
		d.spanAttrs = append(d.spanAttrs, semconv.DBCollectionName(d.collection))
		m = append(m, semconv.DBCollectionName(b.collections.value(d.collection)))
	}
	if d.summary != "" {
		d.spanAttrs = append(d.spanAttrs, semconv.DBQuerySummary(d.summary))
		m = append(m, semconv.DBQuerySummary(b.shapes.value(d.summary)))
	}
	d.ok = metric.WithAttributeSet(attribute.NewSet(m...))
	d.failed = metric.WithAttributeSet(attribute.NewSet(append(m, semconv.ErrorTypeOther)...))
	return d
}

func (b *Bridge) systemName(g *querytrace.Group) attribute.KeyValue {
	if b.system.Valid() {
		return b.system
	}
	if kv, ok := b.systems[g.Dialect]; ok {
		return kv
	}
	return systemName(g.Dialect)
}
