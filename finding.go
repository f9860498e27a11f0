package querytrace

import (
	"fmt"
	"strings"
	"time"

	"github.com/querytrace/querytrace/internal/human"
)

// A FindingKind names a class of finding.
type FindingKind string

// The classes of findings.
const (
	FindingNPlusOne  FindingKind = "n+1"
	FindingDuplicate FindingKind = "duplicate"
	FindingSlow      FindingKind = "slow"
	FindingBatched   FindingKind = "batched"
)

// A Finding is one problem (or, for batched reads, one observation) in a
// report. Its JSON encoding (see Report.MarshalJSON) names its group and
// source by id, shape and call site rather than in full.
type Finding struct {
	Kind  FindingKind
	Group *Group

	// Count and Total are the group's executions and time.
	Count int
	Total time.Duration

	// Source is, for an N+1, the earlier query whose rows the loop was
	// most likely iterating, or nil; PerRow is how many times the loop
	// ran per row of it (2 for two COUNTs per row).
	Source *Group
	PerRow int

	// Loop is, for an N+1 or a duplicate, the application's line inside
	// the loop that repeated the statement: the call in the loop's body,
	// which may be several calls above the statement's own line (the
	// group's CallSite), or the go statement that a loop ran once per
	// row. It is named only where something shows the loop: the Go
	// source, where it is present, shows the for statement that encloses
	// a line of the stack; else a statement that ran outside the loop
	// shows where the stacks part; else, where the source shows that the
	// application does not loop and that the one library that calls back
	// into it does, around the call back, the line is the call of that
	// library. Otherwise it is nil (see Below), and so it is when no stack
	// was captured.
	Loop *Frame

	// Below is, when Loop is nil, the outermost application frame of the
	// group's stack (the handler, a middleware, the test): every
	// repetition ran below it, and nothing tells more.
	Below *Frame

	// Via is, where another finding's group prints the same frames (one
	// statement reached along two paths), the application's frame where
	// this group's path parts from the others': the line that tells them
	// apart.
	Via *Frame

	// Others are, for a duplicate found across call sites, the other
	// groups that ran the statement with the same arguments; Count and
	// Total then cover them all.
	Others []*Group

	// Prepares are, for an N+1 or a duplicate, the groups that prepared
	// its statement in the same function (a prepare per execution, as
	// database/sql does when the driver takes no query without one):
	// their time is in Total, and their prepares are not in Count.
	Prepares []*Group

	// Fix says how to remove the finding, by the statement's shape. It
	// holds no literal values: shapes have none.
	Fix string

	// ORMFix is, for an N+1 whose statements GORM, bun, ent, sqlx or sqlc
	// issued (as the frames between the application's and the driver's
	// tell), the same fix in that library's own API, after its name:
	// "GORM: Preload(\"Posts\") on the query of users ...", "sqlx:
	// query, args, err := sqlx.In(...)". It is "" for other statements,
	// where the library has no way of its own, and when no stack was
	// captured.
	ORMFix string

	// Reason is, for an allowed finding, why it is allowed: the allow
	// entry's Reason or "paused: " and the reason given to Pause. For a
	// finding that an allow entry without a reason matched, it says so.
	Reason string
}

// CallSite returns the innermost application frame of the finding's group,
// as Group.CallSite does, or "" when none is known.
func (f Finding) CallSite() string {
	if f.Group == nil {
		return ""
	}
	return f.Group.CallSite()
}

// LoopSite returns the line of the loop (Loop) as Frame.String prints it,
// when it is another line than the call site, or "": what the text report
// and the debug page show as "in the loop at".
func (f Finding) LoopSite() string {
	if f.Loop == nil || f.Group != nil && len(f.Group.Stack) > 0 && *f.Loop == f.Group.Stack[0] {
		return ""
	}
	return f.Loop.String()
}

// prepares returns how many prepares the finding's Total includes.
func (f Finding) prepares() int {
	n := 0
	for _, p := range f.Prepares {
		n += p.Count
	}
	return n
}

// String returns the finding on one line: kind, count, time (and the
// prepares it includes), shape, call site, the loop's line (or the frame
// it repeated below), Via, the other call sites, the source and the
// reason, those that are set. It holds no argument values.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d× %s", f.Kind, f.Count, human.Duration(f.Total))
	if n := f.prepares(); n > 0 {
		fmt.Fprintf(&b, " (%s included)", human.Plural(n, "prepare", "prepares"))
	}
	if f.Group != nil {
		if f.Kind == FindingSlow {
			fmt.Fprintf(&b, " (max %s)", human.Duration(f.Group.Max))
		}
		fmt.Fprintf(&b, " %s", human.Clip(f.Group.Shape, 80))
		if s := f.Group.CallSite(); s != "" {
			fmt.Fprintf(&b, " at %s", s)
		}
		if s := f.LoopSite(); s != "" {
			fmt.Fprintf(&b, " in the loop at %s", s)
		}
		if f.Below != nil {
			fmt.Fprintf(&b, " repeated below %s", f.Below)
		}
		if f.Via != nil {
			fmt.Fprintf(&b, " via %s", f.Via)
		}
	}
	for _, o := range f.Others {
		if s := o.CallSite(); s != "" {
			fmt.Fprintf(&b, " and at %s", s)
		}
	}
	if f.Source != nil {
		fmt.Fprintf(&b, "; source #%d (%d rows)", f.Source.ID, f.Source.Rows)
		if s := f.Source.CallSite(); s != "" {
			fmt.Fprintf(&b, " at %s", s)
		}
	}
	if f.Reason != "" {
		fmt.Fprintf(&b, "; %s", f.Reason)
	}
	return b.String()
}
