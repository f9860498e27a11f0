package otelquerytrace

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Other is the value that a metric attribute takes once a Bridge has seen
// as many distinct values of it as its Limits allow: the rest are folded
// into this one series. It is the placeholder the semantic conventions use
// for values outside a known set.
const Other = "_OTHER"

// Limits bound the distinct values each metric attribute of a Bridge can
// take, and so the number of series it sends. The first values seen are
// kept, for the life of the Bridge; later ones are counted under Other.
// A zero field means its default. With the defaults, each per-request
// histogram has at most 101 series, the findings counter at most
// 3 × (200 + 101), and db.client.operation.duration at most
// (200 + 100 + 2) per database system, operation and error type.
type Limits struct {
	// Routes bounds the routes (the reports' names, such as
	// "GET /items/{id}"); 100 by default. A Handler names a request by
	// its route pattern, or its path with the ids masked; this guards
	// against names that still grow, such as a scanner's random paths.
	Routes int

	// CallSites bounds the (route, call site) pairs of the findings
	// counter; 200 by default. Past it a finding keeps its route and
	// counts under call site Other.
	CallSites int

	// Shapes bounds the statement identities, db.query.summary: an
	// operation and the tables of a shape ("SELECT items"); 200 by
	// default.
	Shapes int

	// Collections bounds the tables, db.collection.name; 100 by default.
	Collections int
}

// maxOperations bounds db.operation.name. SQL has a few dozen verbs; a
// statement querytrace cannot classify is named by its first word.
const maxOperations = 32

func (l Limits) withDefaults() Limits {
	def := func(n, d int) int {
		if n <= 0 {
			return d
		}
		return n
	}
	return Limits{
		Routes:      def(l.Routes, 100),
		CallSites:   def(l.CallSites, 200),
		Shapes:      def(l.Shapes, 200),
		Collections: def(l.Collections, 100),
	}
}

// A limiter admits the first max distinct values of one attribute and
// maps the rest to Other. For each value it admitted it keeps the
// measurement option of the attribute alone, made once, for the metrics
// recorded by that attribute. It is safe for concurrent use.
type limiter struct {
	key   attribute.Key
	max   int
	other metric.MeasurementOption
	mu    sync.RWMutex
	seen  map[string]metric.MeasurementOption
}

func newLimiter(key attribute.Key, max int) *limiter {
	return &limiter{
		key:   key,
		max:   max,
		other: metric.WithAttributeSet(attribute.NewSet(key.String(Other))),
		seen:  make(map[string]metric.MeasurementOption),
	}
}

// value returns v if it was admitted, or can be now, and Other if not.
// The empty string passes unchanged: an attribute that is not there is
// not a series.
func (l *limiter) value(v string) string {
	if v == "" || v == Other {
		return v
	}
	if _, ok := l.admit(v); !ok {
		return Other
	}
	return v
}

// option returns the measurement option with the attribute {key: v}, or
// {key: Other} when v is not admitted.
func (l *limiter) option(v string) metric.MeasurementOption {
	opt, _ := l.admit(v)
	return opt
}

// admit admits v if it can and returns its option and whether it was
// admitted; Other's option when not.
func (l *limiter) admit(v string) (metric.MeasurementOption, bool) {
	l.mu.RLock()
	opt, ok := l.seen[v]
	full := len(l.seen) >= l.max
	l.mu.RUnlock()
	if ok {
		return opt, true
	}
	if full || v == Other {
		return l.other, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if opt, ok := l.seen[v]; ok {
		return opt, true
	}
	if len(l.seen) >= l.max {
		return l.other, false
	}
	opt = metric.WithAttributeSet(attribute.NewSet(l.key.String(v)))
	l.seen[v] = opt
	return opt, true
}
