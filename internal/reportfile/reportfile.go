// Package reportfile reads and writes querytrace reports as files: the JSON
// of Report.MarshalJSON inside an envelope that names its format version,
// so that a reader can tell a report it understands from one written by a
// newer querytrace. The debug page reads live reports through the same
// model, so a saved report looks exactly as it did live.
package reportfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/querytrace/querytrace"
)

// Format is the envelope's "format" value.
const Format = "querytrace-report"

// Version is the envelope version this package writes, and the newest it
// reads. Version 0 is a bare Report.MarshalJSON object, as logged or
// printed by earlier versions (inventory -json, a slog JSON handler).
const Version = 1

type envelope struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Report  json.RawMessage `json:"report"`
}

// Encode returns rep as a file: the envelope around its JSON, indented,
// with a final newline.
func Encode(rep *querytrace.Report) ([]byte, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(envelope{Format: Format, Version: Version, Report: body}, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ErrNewer is wrapped by Decode's error for a file of a later version.
var ErrNewer = errors.New("written by a newer querytrace")

// Decode reads a file written by Encode (of this version or an earlier
// one) or a bare report object.
func Decode(data []byte) (*Report, error) {
	var probe struct {
		Format  *string         `json:"format"`
		Version *int            `json:"version"`
		Report  json.RawMessage `json:"report"`
		Groups  json.RawMessage `json:"groups"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a querytrace report: %w", err)
	}
	body := data
	switch {
	case probe.Format != nil:
		if *probe.Format != Format {
			return nil, fmt.Errorf("not a querytrace report: format %q", *probe.Format)
		}
		if probe.Version == nil {
			return nil, errors.New("querytrace report without a version")
		}
		if v := *probe.Version; v > Version {
			return nil, fmt.Errorf("format version %d, %w (this one reads versions up to %d: update it)", v, ErrNewer, Version)
		} else if v < 1 {
			return nil, fmt.Errorf("querytrace report of unknown version %d", v)
		}
		body = probe.Report
	case probe.Groups == nil:
		return nil, errors.New(`not a querytrace report: no "format" envelope and no "groups"`)
	}
	rep := new(Report)
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(rep); err != nil {
		return nil, fmt.Errorf("querytrace report: %w", err)
	}
	rep.index()
	return rep, nil
}

// FromReport returns rep in the model of a decoded file.
func FromReport(rep *querytrace.Report) (*Report, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	r := new(Report)
	if err := json.Unmarshal(body, r); err != nil {
		return nil, err
	}
	r.index()
	return r, nil
}

// A Report is a report as its JSON holds it.
type Report struct {
	Name         string    `json:"name"`
	Start        time.Time `json:"start"`
	Summary      string    `json:"summary"`
	WallNS       int64     `json:"wall_ns"`
	DBTimeNS     int64     `json:"db_time_ns"`
	Statements   int       `json:"statements"`
	Prepares     int       `json:"prepares"`
	Transactions int       `json:"transactions"`
	Commits      int       `json:"commits"`
	Rollbacks    int       `json:"rollbacks"`
	Rows         int64     `json:"rows"`
	Errors       int       `json:"errors"`
	Canceled     int       `json:"canceled"`
	EventsKept   int       `json:"events_kept"`
	EventsMissed int       `json:"events_missed"`
	Groups       []*Group  `json:"groups"`
	Events       []Event   `json:"events"`
	NPlusOne     []Finding `json:"n_plus_one"`
	Duplicates   []Finding `json:"duplicates"`
	Slow         []Finding `json:"slow"`
	Batched      []Finding `json:"batched"`
	Allowed      []Finding `json:"allowed"`

	byID map[int]*Group
}

// Wall returns the request's wall time.
func (r *Report) Wall() time.Duration { return time.Duration(r.WallNS) }

// DBTime returns the time spent in the database.
func (r *Report) DBTime() time.Duration { return time.Duration(r.DBTimeNS) }

// Group returns the group with the id, or nil.
func (r *Report) Group(id int) *Group { return r.byID[id] }

// Findings returns the number of N+1s, duplicates and slow statements.
func (r *Report) Findings() int { return len(r.NPlusOne) + len(r.Duplicates) + len(r.Slow) }

func (r *Report) index() {
	r.byID = make(map[int]*Group, len(r.Groups))
	for _, g := range r.Groups {
		r.byID[g.ID] = g
	}
}

// A Group is one group of a report.
type Group struct {
	ID          int                `json:"id"`
	Shape       string             `json:"shape"`
	Fingerprint string             `json:"fingerprint"`
	Verb        string             `json:"verb"`
	Kind        string             `json:"kind"`
	Count       int                `json:"count"`
	Statements  int                `json:"statements"`
	Distinct    int                `json:"distinct_args"`
	Repeats     int                `json:"repeated_args"`
	Errors      int                `json:"errors"`
	TotalNS     int64              `json:"total_ns"`
	MeanNS      int64              `json:"mean_ns"`
	MaxNS       int64              `json:"max_ns"`
	Rows        int64              `json:"rows"`
	FirstNS     int64              `json:"first_ns"`
	LastNS      int64              `json:"last_ns"`
	Overlapped  int                `json:"overlapped"`
	CallSite    string             `json:"call_site"`
	Stack       []querytrace.Frame `json:"stack"`
	Paused      string             `json:"paused"`
}

// Total returns the group's total time.
func (g *Group) Total() time.Duration { return time.Duration(g.TotalNS) }

// Mean returns the group's mean time per execution.
func (g *Group) Mean() time.Duration { return time.Duration(g.MeanNS) }

// Max returns the group's longest execution.
func (g *Group) Max() time.Duration { return time.Duration(g.MaxNS) }

// An Event is one statement or transaction boundary of a report's
// timeline.
type Event struct {
	Kind       string `json:"kind"`
	Group      int    `json:"group"`
	StartNS    int64  `json:"start_ns"`
	DurationNS int64  `json:"duration_ns"`
	Rows       int64  `json:"rows"`
	Err        bool   `json:"error"`
}

// A Finding is one finding of a report.
type Finding struct {
	Kind     string             `json:"kind"`
	Group    int                `json:"group"`
	Shape    string             `json:"shape"`
	CallSite string             `json:"call_site"`
	Stack    []querytrace.Frame `json:"stack"`
	Count    int                `json:"count"`
	TotalNS  int64              `json:"total_ns"`
	Distinct int                `json:"distinct_args"`
	Source   *Source            `json:"source"`
	PerRow   int                `json:"per_row"`
	Fix      string             `json:"fix"`
	Reason   string             `json:"reason"`
}

// Total returns the finding's total time.
func (f *Finding) Total() time.Duration { return time.Duration(f.TotalNS) }

// A Source is the query whose rows an N+1's loop iterated.
type Source struct {
	Group    int    `json:"group"`
	Shape    string `json:"shape"`
	CallSite string `json:"call_site"`
	Rows     int64  `json:"rows"`
}
