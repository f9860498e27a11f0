package querytrace

import (
	"encoding/json"
	"strconv"
	"time"
)

// MarshalJSON encodes the report with stable keys, for log pipelines and
// dashboards. Durations are integer nanoseconds under keys ending in "_ns",
// most with a rounded human form beside them without the suffix ("total":
// "12.3ms"), which is for people and may change its format; the fingerprint
// is 16 hex digits in a string, since JavaScript loses integers past 2^53.
// Lists are [] when empty, never null. It holds no argument values and no
// SQL literals.
//
// The keys of the report:
//
//	name, start (RFC 3339), summary (as Summary), wall_ns, wall,
//	db_time_ns, db_time, statements, prepares, transactions (Begins),
//	commits, rollbacks, rows, errors, canceled, conn_errors, events_kept,
//	events_missed, unattributed, groups, events, n_plus_one, duplicates, slow, batched,
//	allowed
//
// Each of groups, the most costly first:
//
//	id, shape, fingerprint, verb, kind, count, statements, distinct_args,
//	repeated_args, errors, total_ns, total, mean_ns, max_ns, max, rows,
//	min_rows, max_rows, last_rows, first_ns, last_ns, first_seq, last_seq,
//	overlapped, call_site, stack ([{function, file, line}], innermost
//	first), paused (when set)
//
// Each of events, in order: kind, group (its id, 0 for a transaction
// boundary), start_ns, duration_ns, rows, error (when true).
//
// Each finding of n_plus_one, duplicates, slow, batched and allowed:
//
//	kind ("n+1", "duplicate", "slow", "batched"), group (its id), shape,
//	call_site, stack (top frames), count, total_ns, total, max_ns,
//	distinct_args, source ({group, shape, call_site, rows}, n+1 only, when
//	found), per_row, fix, reason (when set)
func (r *Report) MarshalJSON() ([]byte, error) {
	groups := make([]*jsonGroup, len(r.Groups))
	for i, g := range r.Groups {
		groups[i] = g.jsonGroup()
	}
	events := r.Events()
	return json.Marshal(&jsonReport{
		Name:         r.Name,
		Start:        r.Start,
		Summary:      r.Summary(),
		WallNS:       int64(r.Wall),
		Wall:         fmtDur(r.Wall),
		DBTimeNS:     int64(r.DBTime),
		DBTime:       fmtDur(r.DBTime),
		Statements:   r.Statements,
		Prepares:     r.Prepares,
		Transactions: r.Begins,
		Commits:      r.Commits,
		Rollbacks:    r.Rollbacks,
		Rows:         r.Rows,
		Errors:       r.Errors,
		Canceled:     r.Canceled,
		ConnErrors:   r.ConnErrors,
		EventsKept:   r.EventsKept,
		EventsMissed: r.EventsMissed,
		Unattributed: r.Unattributed,
		Groups:       groups,
		Events:       events,
		NPlusOne:     jsonFindings(r.NPlusOne),
		Duplicates:   jsonFindings(r.Duplicates),
		Slow:         jsonFindings(r.Slow),
		Batched:      jsonFindings(r.Batched),
		Allowed:      jsonFindings(r.Allowed),
	})
}

// MarshalJSON encodes the group with the keys listed under
// Report.MarshalJSON.
func (g *Group) MarshalJSON() ([]byte, error) {
	return json.Marshal(g.jsonGroup())
}

// MarshalJSON encodes the finding with the keys listed under
// Report.MarshalJSON: its group and source by id, shape and call site, not
// in full.
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal(f.jsonFinding())
}

type jsonReport struct {
	Name         string         `json:"name"`
	Start        time.Time      `json:"start"`
	Summary      string         `json:"summary"`
	WallNS       int64          `json:"wall_ns"`
	Wall         string         `json:"wall"`
	DBTimeNS     int64          `json:"db_time_ns"`
	DBTime       string         `json:"db_time"`
	Statements   int            `json:"statements"`
	Prepares     int            `json:"prepares"`
	Transactions int            `json:"transactions"`
	Commits      int            `json:"commits"`
	Rollbacks    int            `json:"rollbacks"`
	Rows         int64          `json:"rows"`
	Errors       int            `json:"errors"`
	Canceled     int            `json:"canceled"`
	ConnErrors   int            `json:"conn_errors"`
	EventsKept   int            `json:"events_kept"`
	EventsMissed int            `json:"events_missed"`
	Unattributed int            `json:"unattributed"`
	Groups       []*jsonGroup   `json:"groups"`
	Events       []EventSample  `json:"events"`
	NPlusOne     []*jsonFinding `json:"n_plus_one"`
	Duplicates   []*jsonFinding `json:"duplicates"`
	Slow         []*jsonFinding `json:"slow"`
	Batched      []*jsonFinding `json:"batched"`
	Allowed      []*jsonFinding `json:"allowed"`
}

type jsonGroup struct {
	ID          int     `json:"id"`
	Shape       string  `json:"shape"`
	Fingerprint string  `json:"fingerprint"`
	Verb        string  `json:"verb"`
	Kind        string  `json:"kind"`
	Count       int     `json:"count"`
	Statements  int     `json:"statements"`
	Distinct    int     `json:"distinct_args"`
	Repeats     int     `json:"repeated_args"`
	Errors      int     `json:"errors"`
	TotalNS     int64   `json:"total_ns"`
	Total       string  `json:"total"`
	MeanNS      int64   `json:"mean_ns"`
	MaxNS       int64   `json:"max_ns"`
	Max         string  `json:"max"`
	Rows        int64   `json:"rows"`
	MinRows     int64   `json:"min_rows"`
	MaxRows     int64   `json:"max_rows"`
	LastRows    int64   `json:"last_rows"`
	FirstNS     int64   `json:"first_ns"`
	LastNS      int64   `json:"last_ns"`
	FirstSeq    int     `json:"first_seq"`
	LastSeq     int     `json:"last_seq"`
	Overlapped  int     `json:"overlapped"`
	CallSite    string  `json:"call_site"`
	Stack       []Frame `json:"stack"`
	Paused      string  `json:"paused,omitempty"`
	PausedCount int     `json:"paused_count,omitempty"`
	Keys        int     `json:"keys,omitempty"`
}

type jsonFinding struct {
	Kind     FindingKind `json:"kind"`
	Group    int         `json:"group"`
	Shape    string      `json:"shape"`
	CallSite string      `json:"call_site"`
	Stack    []Frame     `json:"stack"`
	Loop     *Frame      `json:"loop,omitempty"`
	Others   []int       `json:"other_groups,omitempty"`
	Count    int         `json:"count"`
	TotalNS  int64       `json:"total_ns"`
	Total    string      `json:"total"`
	MaxNS    int64       `json:"max_ns"`
	Distinct int         `json:"distinct_args"`
	Source   *jsonSource `json:"source,omitempty"`
	PerRow   int         `json:"per_row,omitempty"`
	Fix      string      `json:"fix"`
	Reason   string      `json:"reason,omitempty"`
}

type jsonSource struct {
	Group    int    `json:"group"`
	Shape    string `json:"shape"`
	CallSite string `json:"call_site"`
	Rows     int64  `json:"rows"`
}

func (g *Group) jsonGroup() *jsonGroup {
	stack := g.Stack
	if stack == nil {
		stack = []Frame{}
	}
	return &jsonGroup{
		ID:          g.ID,
		Shape:       g.Shape,
		Fingerprint: fmtFingerprint(g.Fingerprint),
		Verb:        g.Verb,
		Kind:        g.Kind.String(),
		Count:       g.Count,
		Statements:  g.Statements,
		Distinct:    g.Distinct,
		Repeats:     g.Repeats,
		Errors:      g.Errors,
		TotalNS:     int64(g.Total),
		Total:       fmtDur(g.Total),
		MeanNS:      int64(g.Mean()),
		MaxNS:       int64(g.Max),
		Max:         fmtDur(g.Max),
		Rows:        g.Rows,
		MinRows:     g.MinRows,
		MaxRows:     g.MaxRows,
		LastRows:    g.LastRows,
		FirstNS:     int64(g.First),
		LastNS:      int64(g.Last),
		FirstSeq:    g.FirstSeq,
		LastSeq:     g.LastSeq,
		Overlapped:  g.Overlapped,
		CallSite:    g.CallSite(),
		Stack:       stack,
		Paused:      g.Paused,
		PausedCount: g.PausedCount,
		Keys:        g.Keys,
	}
}

func (f Finding) jsonFinding() *jsonFinding {
	j := &jsonFinding{
		Kind:    f.Kind,
		Count:   f.Count,
		TotalNS: int64(f.Total),
		Total:   fmtDur(f.Total),
		PerRow:  f.PerRow,
		Fix:     f.Fix,
		Reason:  f.Reason,
		Stack:   []Frame{},
		Loop:    f.Loop,
	}
	for _, o := range f.Others {
		j.Others = append(j.Others, o.ID)
	}
	if g := f.Group; g != nil {
		j.Group = g.ID
		j.Shape = g.Shape
		j.CallSite = g.CallSite()
		j.Stack = g.Stack[:min(len(g.Stack), textFrames)]
		j.MaxNS = int64(g.Max)
		j.Distinct = g.Distinct
	}
	if s := f.Source; s != nil {
		j.Source = &jsonSource{Group: s.ID, Shape: s.Shape, CallSite: s.CallSite(), Rows: s.Rows}
	}
	return j
}

func jsonFindings(fs []Finding) []*jsonFinding {
	out := make([]*jsonFinding, len(fs))
	for i := range fs {
		out[i] = fs[i].jsonFinding()
	}
	return out
}

func fmtFingerprint(fp uint64) string {
	s := strconv.FormatUint(fp, 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}
