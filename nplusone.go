package querytrace

import "time"

// A Detector holds the thresholds and allow-lists that classify a trace's
// groups into findings. The zero value flags at 2 repeats with no time
// floor, as DefaultDetector does.
// (Being written: classify is a stub.)
type Detector struct {
	// MinRepeats is how many times one group must run to be flagged;
	// zero means 2.
	MinRepeats int

	// MinTotal is the least total time of a group to be flagged.
	MinTotal time.Duration

	// Slow flags a group whose slowest statement took longer; zero means
	// 500ms.
	Slow time.Duration

	// Allow lists known and accepted repeats; each needs a reason.
	Allow []Allow
}

// An Allow entry exempts matching groups from N+1 and duplicate findings.
// A group matches when every non-empty field matches. Its Reason shows in
// reports.
type Allow struct {
	CallSite string // a substring of one of the group's frames, "file.go:42" or a function name
	Shape    string // a substring of the group's shape
	Table    string // a table the statement reads or writes
	Route    string // the trace's name, exactly
	Reason   string // mandatory
}

// DefaultDetector is what traces use unless told otherwise: for tests and
// development, flag at 2 repeats with no time floor.
var DefaultDetector = Detector{MinRepeats: 2, Slow: 500 * time.Millisecond}

// StagingDetector is for logs in staging: 5 repeats and 50ms in the group.
var StagingDetector = Detector{MinRepeats: 5, MinTotal: 50 * time.Millisecond, Slow: 500 * time.Millisecond}

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
// report.
type Finding struct {
	Kind  FindingKind `json:"kind"`
	Group *Group      `json:"group"`

	// Count and Total are the group's executions and time.
	Count int           `json:"count"`
	Total time.Duration `json:"total_ns"`

	// Source is, for an N+1, the earlier query whose rows the loop was
	// most likely iterating, or nil; PerRow is how many times the loop
	// ran per row of it (2 for two COUNTs per row).
	Source *Group `json:"source,omitempty"`
	PerRow int    `json:"per_row,omitempty"`

	// Fix says how to remove the finding, by the statement's shape.
	Fix string `json:"fix"`

	// Reason is, for an allowed finding, why it is allowed.
	Reason string `json:"reason,omitempty"`
}

func (d *Detector) classify(r *Report) {}
