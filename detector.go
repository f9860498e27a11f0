package querytrace

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Detector holds the thresholds and allow-lists that classify a trace's
// groups into findings. The zero value is what traces use unless told
// otherwise, for tests and development: it flags at 2 repeats with no time
// floor and calls a statement over 500ms slow. StagingDetector returns one
// for production-like traffic.
//
// A Detector is read, never written, when a report is built (at Finish or
// Snapshot, on the goroutine that calls them), so one Detector may be shared
// by any number of traces as long as nobody changes it meanwhile.
type Detector struct {
	// MinRepeats is how many times one group must run to be flagged as an
	// N+1 or a duplicate; zero means 2.
	MinRepeats int

	// MinTotal is the least total time of a group to be flagged as an N+1
	// or a duplicate: below it a repeat is too cheap to be worth a log
	// line. Zero means no floor.
	MinTotal time.Duration

	// Slow flags a group whose slowest statement took longer; zero means
	// 500ms.
	Slow time.Duration

	// Dialect words the fixes: DialectPostgres suggests "= any($1)" with
	// an array where the others suggest "in (...)". The zero value,
	// DialectGeneric, follows each group's own dialect (the driver's, or
	// PostgreSQL for the pgx tracer) and, where that is generic too,
	// guesses PostgreSQL from the shape ("::" casts, ILIKE, RETURNING,
	// ANY(...)).
	Dialect Dialect

	// Allow lists known and accepted repeats. Each entry needs a Reason;
	// an entry without one is not applied (see Allow).
	Allow []Allow
}

// An Allow entry exempts matching groups from N+1 and duplicate findings:
// they move to Report.Allowed with the entry's Reason. A group matches when
// every non-empty one of CallSite, Shape, Table and Route matches; an entry
// with none of them set matches nothing, so that a half-written entry never
// allows everything.
//
// The Reason is mandatory. An entry without one is not applied: the finding
// it matches stays where it is and its Finding.Reason says that an allow
// entry matched but lacks a reason, so the omission shows in every report
// instead of silently hiding a problem. Detector.Check lists such entries
// up front.
type Allow struct {
	// CallSite is a substring of one of the group's frames as
	// Frame.String prints it ("store/items.go:42 store.(*DB).Items"), or
	// of its full file path and line ("/src/app/store/items.go:42").
	CallSite string

	// Shape is a substring of the group's normalized shape, such as
	// "from feature_flags".
	Shape string

	// Table is a table the statement reads or writes, without quotes;
	// "public.users" and "users" both match a statement on public.users.
	Table string

	// Route is the trace's name, exactly, such as "GET /healthz".
	Route string

	// Reason says why the repeat is accepted; reports show it.
	Reason string
}

// StagingDetector returns a new Detector for logs in staging, where a
// repeat is worth a warning only when it costs: it flags a group at 5
// repeats and 50ms of total time. Each call returns a fresh Detector, so
// that an allow-list added to one is seen by no other.
func StagingDetector() *Detector {
	return &Detector{MinRepeats: 5, MinTotal: 50 * time.Millisecond, Slow: 500 * time.Millisecond}
}

// Check reports the allow entries that cannot apply: those without a
// Reason and those that name nothing to match. Call it where a detector is
// configured (at start-up, in a test) to fail early; classification does
// not need it, since it refuses such entries loudly on its own.
func (d *Detector) Check() error {
	var bad []string
	for i, a := range d.Allow {
		switch {
		case a.Reason == "":
			bad = append(bad, fmt.Sprintf("entry %d (%s) has no Reason", i, a.describe()))
		case a.CallSite == "" && a.Shape == "" && a.Table == "" && a.Route == "":
			bad = append(bad, fmt.Sprintf("entry %d (reason %q) names no CallSite, Shape, Table or Route", i, a.Reason))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("querytrace: Detector.Allow: %s; such entries are not applied", strings.Join(bad, "; "))
}

func (d *Detector) minRepeats() int {
	if d.MinRepeats <= 0 {
		return 2
	}
	return d.MinRepeats
}

func (d *Detector) slow() time.Duration {
	if d.Slow <= 0 {
		return 500 * time.Millisecond
	}
	return d.Slow
}

// match returns the first allow entry that matches g in a trace named
// route, with or without a reason, or nil.
func (d *Detector) match(route string, g *Group) *Allow {
	for i := range d.Allow {
		if a := &d.Allow[i]; a.matches(route, g) {
			return a
		}
	}
	return nil
}

func (a *Allow) matches(route string, g *Group) bool {
	if a.CallSite == "" && a.Shape == "" && a.Table == "" && a.Route == "" {
		return false
	}
	if a.Route != "" && a.Route != route {
		return false
	}
	if a.Shape != "" && !strings.Contains(g.Shape, strings.ToLower(a.Shape)) {
		return false
	}
	if a.Table != "" && !MentionsTable(g.Shape, a.Table) {
		return false
	}
	if a.CallSite != "" && !frameMatches(g.Stack, a.CallSite) {
		return false
	}
	return true
}

// describe names an entry by its criteria, for messages.
func (a *Allow) describe() string {
	var parts []string
	for _, kv := range [][2]string{{"CallSite", a.CallSite}, {"Shape", a.Shape}, {"Table", a.Table}, {"Route", a.Route}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+strconv.Quote(kv[1]))
		}
	}
	if len(parts) == 0 {
		return "no criteria"
	}
	return strings.Join(parts, ", ")
}

func frameMatches(stack []Frame, s string) bool {
	for _, f := range stack {
		if strings.Contains(f.String(), s) || strings.Contains(f.File+":"+strconv.Itoa(f.Line), s) {
			return true
		}
	}
	return false
}
