package otelquerytrace

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Other is the value that a metric attribute takes once a Bridge has seen
// as many distinct values of it as its Limits allow: the rest are folded
// into this one series. It is the placeholder the semantic conventions use
// for values outside a known set.
const Other = "_OTHER"

// Limits bound the distinct values each metric attribute of a Bridge can
// take, and so the number of series it sends; values past a limit are
// counted under Other. A zero field means its default. With the defaults,
// each per-request histogram has at most 101 series at a time, the
// findings counter at most 3 × (200 + 101), and
// db.client.operation.duration at most (200 + 100 + 2) per database
// system, operation and error type.
//
// Shapes and tables come from the application's code: the first ones
// seen keep their series for the life of the Bridge. Routes and call
// sites follow the requests, which clients choose (a scanner's paths are
// one route, querytrace.NoRoute, when the application answers them 404,
// but not every application does): once a limit is reached, a value that
// has not been seen while as many others were turned away gives its
// series up to one that has been turned away at least twice since, so
// that early noise cannot hold the series from later traffic. Each such
// hand-over starts a series, and a backend that keeps series (cumulative
// temporality, as Prometheus's) keeps the old one, unmoving, so the
// series over a process's life can exceed Routes when its routes churn.
type Limits struct {
	// Routes bounds the routes (the reports' names, such as
	// "GET /items/{id}"); 100 by default. A Handler names a request by
	// its route pattern, or its path with the ids masked; this guards
	// against names that still grow, such as a scanner's random paths
	// answered by a catch-all.
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

// A limiter admits up to max distinct values of one attribute and maps
// the rest to Other. For each value it admitted it keeps the measurement
// option of the attribute alone, made once, for the metrics recorded by
// that attribute. A limiter that hands over keeps the last use of each
// admitted value, on a clock that ticks with each value turned away (so
// that it stands still while nothing is), and gives the slot of a value
// idle for max ticks to a value turned away twice. It is safe for
// concurrent use.
type limiter struct {
	key      attribute.Key
	max      int
	handOver bool
	other    metric.MeasurementOption
	clock    atomic.Uint64 // values turned away since the limiter was made

	mu   sync.RWMutex
	seen map[string]*slot

	// Under mu, for a limiter that hands over: the values turned away,
	// with how many times, in two generations of up to max values each
	// (the older dropped as a new one fills), and the earliest tick at
	// which a slot can be idle.
	waiting, waited map[string]int
	nextIdle        uint64
}

// A slot is an admitted value.
type slot struct {
	opt  metric.MeasurementOption
	used atomic.Uint64 // the clock when it was last used
}

// newLimiter returns a limiter of max values of key; with handOver, one
// whose idle values give their slots up (see Limits).
func newLimiter(key attribute.Key, max int, handOver bool) *limiter {
	return &limiter{
		key:      key,
		max:      max,
		handOver: handOver,
		other:    metric.WithAttributeSet(attribute.NewSet(key.String(Other))),
		seen:     make(map[string]*slot),
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
	s, ok := l.seen[v]
	full := len(l.seen) >= l.max
	l.mu.RUnlock()
	if ok {
		s.use(l.clock.Load())
		return s.opt, true
	}
	if v == Other || full && !l.handOver {
		return l.other, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.seen[v]; ok {
		s.use(l.clock.Load())
		return s.opt, true
	}
	if len(l.seen) < l.max {
		return l.add(v), true
	}
	if !l.handOver {
		return l.other, false
	}
	now := l.clock.Add(1)
	if l.turnAway(v) < 2 || now < l.nextIdle {
		return l.other, false
	}
	// Hand over the slot of a value idle for max ticks, if there is one,
	// and note when the next could be.
	var idle string
	least := now
	for k, s := range l.seen {
		u := s.used.Load()
		if u+uint64(l.max) <= now {
			idle = k
			break
		}
		least = min(least, u)
	}
	if idle == "" {
		l.nextIdle = least + uint64(l.max)
		return l.other, false
	}
	delete(l.seen, idle)
	delete(l.waiting, v)
	delete(l.waited, v)
	return l.add(v), true
}

// add admits v. The caller holds l.mu.
func (l *limiter) add(v string) metric.MeasurementOption {
	s := &slot{opt: metric.WithAttributeSet(attribute.NewSet(l.key.String(v)))}
	s.used.Store(l.clock.Load())
	l.seen[v] = s
	return s.opt
}

// turnAway counts v as turned away and returns how many times it was,
// lately. The caller holds l.mu.
func (l *limiter) turnAway(v string) int {
	n := l.waiting[v] + l.waited[v] + 1
	delete(l.waited, v)
	if l.waiting == nil || len(l.waiting) >= l.max {
		l.waited, l.waiting = l.waiting, make(map[string]int)
	}
	l.waiting[v] = n
	return n
}

// use notes that the slot was used at tick now. Most uses find it noted
// already, and write nothing.
func (s *slot) use(now uint64) {
	if s.used.Load() < now {
		s.used.Store(now)
	}
}
