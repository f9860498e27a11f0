package querytrace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/querytrace/querytrace/internal/human"
)

// MarshalJSON encodes the report with stable keys, for log pipelines,
// dashboards and saved files (see MarshalFile); UnmarshalJSON reads it back.
// Durations are integer nanoseconds under keys ending in "_ns", most with a
// rounded human form beside them without the suffix ("total": "12.3ms"),
// which is for people, may change its format and is not read back; the
// fingerprint is 16 hex digits in a string, since JavaScript loses integers
// past 2^53. Lists are [] when empty, never null; keys marked "when set" are
// left out when zero. It holds no argument values and no SQL literals.
//
// The keys of the report:
//
//	name, start (RFC 3339), summary (as Summary), wall_ns, wall,
//	db_time_ns, db_time, statements, prepares, transactions (Begins),
//	commits, rollbacks, rows, errors, canceled, conn_errors, events_kept,
//	events_missed, unattributed, groups, events, n_plus_one, duplicates,
//	slow, batched, allowed
//
// Each of groups, the most costly first:
//
//	id, shape, fingerprint, verb, kind, dialect, count, statements,
//	distinct_args, repeated_args, errors, total_ns, total, mean_ns, max_ns,
//	max, rows, min_rows, max_rows, last_rows, first_ns, last_ns, first_seq,
//	last_seq, overlapped, call_site, stack ([{function, file, line}],
//	innermost first), paused, paused_count and keys (when set), rereads
//	(when any: executions of a seen argument set after a write to a table
//	the statement reads), serves (for a group of prepares folded into a
//	finding: the id of the finding's group)
//
// Each of events, in order: kind, group (its id, 0 for a transaction
// boundary), start_ns, duration_ns, rows, error (when true).
//
// Each finding of n_plus_one, duplicates, slow, batched and allowed:
//
//	kind ("n+1", "duplicate", "slow", "batched"), group (its id), shape,
//	call_site, stack (top frames), loop, repeated_below and via (as
//	Finding's fields, {function, file, line}, when set), other_groups
//	(ids, when set), count, total_ns, total, max_ns, distinct_args,
//	source ({group, shape, call_site, rows}, n+1 only, when found),
//	per_row (when set), prepares and prepare_groups (when set: how many
//	prepares total_ns includes, and the ids of their groups), fix, orm_fix
//	(when set: the fix in the API of the ORM that issued the statements),
//	reason (when set)
func (r *Report) MarshalJSON() ([]byte, error) {
	// A report's JSON takes tens of kilobytes: it is written into a
	// buffer kept from the last one, and copied out at its size.
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b, err := appendMembers((*bp)[:0], r.members())
	*bp = b
	return bytes.Clone(b), err
}

var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// UnmarshalJSON reads a report that MarshalJSON wrote, replacing r. Its
// findings point at its groups, found by id, and Events returns the
// events it holds. What the encoding does not hold is not restored: the
// groups' FullStack, and the keys for people, which are derived from others.
func (r *Report) UnmarshalJSON(data []byte) error {
	*r = Report{}
	if err := unmarshalMembers(data, r.members()); err != nil {
		return fmt.Errorf("querytrace report: %w", err)
	}
	r.Groups = slices.DeleteFunc(r.Groups, func(g *Group) bool { return g == nil }) // "groups": [null]
	// A group names the group it serves by id, which may come after it.
	for _, g := range r.Groups {
		if g.serves != 0 {
			for _, h := range r.Groups {
				if h.ID == g.serves {
					g.Serves = h
				}
			}
			g.serves = 0
		}
	}
	return nil
}

// MarshalJSON encodes the group with the keys listed under
// Report.MarshalJSON.
func (g *Group) MarshalJSON() ([]byte, error) {
	return appendMembers(nil, g.members())
}

// UnmarshalJSON reads a group that MarshalJSON wrote, replacing g.
func (g *Group) UnmarshalJSON(data []byte) error {
	*g = Group{}
	return unmarshalMembers(data, g.members())
}

// MarshalJSON encodes the finding with the keys listed under
// Report.MarshalJSON: its group and source by id, shape and call site, not
// in full. Only a report reads findings back, since only it holds the
// groups they name.
func (f Finding) MarshalJSON() ([]byte, error) {
	return appendMembers(nil, f.members(nil))
}

// A member is one key of a JSON object and what it holds. The members
// methods below list each object's keys once, in order, pointing them at
// the fields they hold: MarshalJSON writes through them and UnmarshalJSON
// reads through them, so that a field joins the encoding in one line.
type member struct {
	key string

	// out is what MarshalJSON writes; in, unless nil, the pointer that
	// UnmarshalJSON decodes the key's value into. Most keys hold a field
	// both ways (field); a key derived from others for people or for
	// convenience, such as "total": "12.3ms", is written and never read
	// (derived).
	out, in any

	// omitEmpty leaves the key out when out is zero or an empty list.
	omitEmpty bool
}

// field is a key that holds the field p points to.
func field(key string, p any) member { return member{key: key, out: p, in: p} }

// optional is a field whose key is left out when it is zero.
func optional(key string, p any) member { return member{key: key, out: p, in: p, omitEmpty: true} }

// derived is a key written with v and not read back.
func derived(key string, v any) member { return member{key: key, out: v} }

func (r *Report) members() []member {
	return []member{
		field("name", &r.Name),
		field("start", &r.Start),
		derived("summary", r.Summary()),
		field("wall_ns", &r.Wall),
		derived("wall", human.Duration(r.Wall)),
		field("db_time_ns", &r.DBTime),
		derived("db_time", human.Duration(r.DBTime)),
		field("statements", &r.Statements),
		field("prepares", &r.Prepares),
		field("transactions", &r.Begins),
		field("commits", &r.Commits),
		field("rollbacks", &r.Rollbacks),
		field("rows", &r.Rows),
		field("errors", &r.Errors),
		field("canceled", &r.Canceled),
		field("conn_errors", &r.ConnErrors),
		field("events_kept", &r.EventsKept),
		field("events_missed", &r.EventsMissed),
		field("unattributed", &r.Unattributed),
		field("groups", &r.Groups),
		{key: "events", out: r.Events(), in: &r.events},
		// The findings come after the groups, which they name by id.
		r.findings("n_plus_one", &r.NPlusOne),
		r.findings("duplicates", &r.Duplicates),
		r.findings("slow", &r.Slow),
		r.findings("batched", &r.Batched),
		r.findings("allowed", &r.Allowed),
	}
}

func (g *Group) members() []member {
	return []member{
		field("id", &g.ID),
		field("shape", &g.Shape),
		field("fingerprint", (*hexFingerprint)(&g.Fingerprint)),
		field("verb", &g.Verb),
		field("kind", (*kindName)(&g.Kind)),
		field("dialect", (*dialectName)(&g.Dialect)),
		field("count", &g.Count),
		field("statements", &g.Statements),
		field("distinct_args", &g.Distinct),
		field("repeated_args", &g.Repeats),
		field("errors", &g.Errors),
		field("total_ns", &g.Total),
		derived("total", human.Duration(g.Total)),
		derived("mean_ns", g.Mean()),
		field("max_ns", &g.Max),
		derived("max", human.Duration(g.Max)),
		field("rows", &g.Rows),
		field("min_rows", &g.MinRows),
		field("max_rows", &g.MaxRows),
		field("last_rows", &g.LastRows),
		field("first_ns", &g.First),
		field("last_ns", &g.Last),
		field("first_seq", &g.FirstSeq),
		field("last_seq", &g.LastSeq),
		field("overlapped", &g.Overlapped),
		derived("call_site", g.CallSite()),
		field("stack", &g.Stack),
		optional("paused", &g.Paused),
		optional("paused_count", &g.PausedCount),
		optional("keys", &g.Keys),
		optional("rereads", &g.Rereads),
		{key: "serves", out: groupID(g.Serves), in: &g.serves, omitEmpty: true},
	}
}

// members lists the keys of a finding. byID finds the groups it names
// when it is read; it is nil when the finding is written.
func (f *Finding) members(byID map[int]*Group) []member {
	g := f.Group
	if g == nil {
		g = &Group{}
	}
	return []member{
		field("kind", &f.Kind),
		{key: "group", out: g.ID, in: &groupRef{&f.Group, byID}},
		derived("shape", g.Shape),
		derived("call_site", g.CallSite()),
		derived("stack", g.Stack[:min(len(g.Stack), textFrames)]),
		optional("loop", &f.Loop),
		optional("repeated_below", &f.Below),
		optional("via", &f.Via),
		{key: "other_groups", out: groupIDs(f.Others), in: &groupRefs{&f.Others, byID}, omitEmpty: true},
		field("count", &f.Count),
		field("total_ns", &f.Total),
		derived("total", human.Duration(f.Total)),
		derived("max_ns", g.Max),
		derived("distinct_args", g.Distinct),
		{key: "source", out: sourceOf(f.Source), in: &sourceRef{&f.Source, byID}, omitEmpty: true},
		optional("per_row", &f.PerRow),
		{key: "prepares", out: f.prepares(), omitEmpty: true},
		{key: "prepare_groups", out: groupIDs(f.Prepares), in: &groupRefs{&f.Prepares, byID}, omitEmpty: true},
		field("fix", &f.Fix),
		optional("orm_fix", &f.ORMFix),
		optional("reason", &f.Reason),
	}
}

// appendMembers appends ms to b as a JSON object, its keys in order. A nil
// list is written [].
func appendMembers(b []byte, ms []member) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, m := range ms {
		if m.omitEmpty && empty(m.out) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(appendString(b, m.key), ':')
		// Most keys are written here, the rest by encoding/json, which
		// would check and compact again what the lists' MarshalJSON wrote
		// and costs a copy and a reflection for each value.
		var err error
		switch out := m.out.(type) {
		case *string:
			b = appendString(b, *out)
		case string:
			b = appendString(b, out)
		case *[]Frame:
			b = appendFrames(b, *out)
		case []Frame:
			b = appendFrames(b, out)
		case **Frame:
			b = appendFrame(b, *out)
		case *int:
			b = strconv.AppendInt(b, int64(*out), 10)
		case *int64:
			b = strconv.AppendInt(b, *out, 10)
		case *time.Duration:
			b = strconv.AppendInt(b, int64(*out), 10)
		case int:
			b = strconv.AppendInt(b, int64(out), 10)
		case time.Duration:
			b = strconv.AppendInt(b, int64(out), 10)
		case *[]*Group:
			b = append(b, '[')
			for i, g := range *out {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = appendMembers(b, g.members()); err != nil {
					return nil, err
				}
			}
			b = append(b, ']')
		case []Finding:
			b = append(b, '[')
			for i := range out {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = appendMembers(b, out[i].members(nil)); err != nil {
					return nil, err
				}
			}
			b = append(b, ']')
		default:
			if v := reflect.ValueOf(out); v.Kind() == reflect.Slice && v.IsNil() {
				b = append(b, "[]"...)
				continue
			}
			data, err := json.Marshal(out)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.key, err)
			}
			b = append(b, data...)
		}
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string, as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			data, _ := json.Marshal(s) // escapes, for the few strings that need them
			return append(b, data...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFrames appends a stack, [] when it is empty.
func appendFrames(b []byte, fs []Frame) []byte {
	b = append(b, '[')
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFrame(b, &fs[i])
	}
	return append(b, ']')
}

// appendFrame appends a frame with the keys of Frame's json tags, which
// read it back, or null.
func appendFrame(b []byte, f *Frame) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"function":`...)
	b = appendString(b, f.Function)
	b = append(b, `,"file":`...)
	b = appendString(b, f.File)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(f.Line), 10)
	return append(b, '}')
}

// empty reports whether v, or what it points to, is zero or an empty list.
func empty(v any) bool {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	return !rv.IsValid() || rv.IsZero() || rv.Kind() == reflect.Slice && rv.Len() == 0
}

// unmarshalMembers reads the JSON object data into the members that are
// read. Keys it does not know, as of a newer version, are skipped.
func unmarshalMembers(data []byte, ms []member) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	for _, m := range ms {
		raw, ok := obj[m.key]
		if !ok || m.in == nil {
			continue
		}
		if err := json.Unmarshal(raw, m.in); err != nil {
			return fmt.Errorf("%s: %w", m.key, err)
		}
	}
	return nil
}

// findings is a list of findings: written as they are, and read back with
// the report's groups, which precede them.
func (r *Report) findings(key string, list *[]Finding) member {
	return member{key: key, out: *list, in: &findingList{list, r}}
}

type findingList struct {
	list *[]Finding
	r    *Report
}

func (l *findingList) UnmarshalJSON(data []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil || raws == nil {
		return err
	}
	byID := make(map[int]*Group, len(l.r.Groups))
	for _, g := range l.r.Groups {
		if g != nil {
			byID[g.ID] = g
		}
	}
	*l.list = make([]Finding, len(raws))
	for i, raw := range raws {
		if err := unmarshalMembers(raw, (*l.list)[i].members(byID)); err != nil {
			return err
		}
	}
	return nil
}

// groupRef reads a group's id into the group it names, nil when the report
// has no such group.
type groupRef struct {
	g    **Group
	byID map[int]*Group
}

func (r *groupRef) UnmarshalJSON(data []byte) error {
	var id int
	if err := json.Unmarshal(data, &id); err != nil {
		return err
	}
	*r.g = r.byID[id]
	return nil
}

// groupID returns g's id, 0 for none.
func groupID(g *Group) int {
	if g == nil {
		return 0
	}
	return g.ID
}

func groupIDs(gs []*Group) []int {
	ids := make([]int, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

// groupRefs reads a list of group ids into the groups they name.
type groupRefs struct {
	gs   *[]*Group
	byID map[int]*Group
}

func (r *groupRefs) UnmarshalJSON(data []byte) error {
	var ids []int
	if err := json.Unmarshal(data, &ids); err != nil {
		return err
	}
	for _, id := range ids {
		if g := r.byID[id]; g != nil {
			*r.gs = append(*r.gs, g)
		}
	}
	return nil
}

// A source is an N+1's source as a finding's JSON names it.
type source struct {
	Group    int    `json:"group"`
	Shape    string `json:"shape"`
	CallSite string `json:"call_site"`
	Rows     int64  `json:"rows"`
}

func sourceOf(g *Group) *source {
	if g == nil {
		return nil
	}
	return &source{Group: g.ID, Shape: g.Shape, CallSite: g.CallSite(), Rows: g.Rows}
}

// sourceRef reads a source into the group it names.
type sourceRef struct {
	g    **Group
	byID map[int]*Group
}

func (r *sourceRef) UnmarshalJSON(data []byte) error {
	var s *source
	if err := json.Unmarshal(data, &s); err != nil || s == nil {
		return err
	}
	*r.g = r.byID[s.Group]
	return nil
}

// hexFingerprint is a fingerprint as 16 hex digits in a string.
type hexFingerprint uint64

func (fp *hexFingerprint) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%016x", uint64(*fp)), nil
}

func (fp *hexFingerprint) UnmarshalText(text []byte) error {
	v, err := strconv.ParseUint(string(text), 16, 64)
	*fp = hexFingerprint(v)
	return err
}

// kindName is a Kind by its name; a name this version does not know reads
// as 0, which prints "unknown".
type kindName Kind

func (k *kindName) MarshalText() ([]byte, error) { return []byte(Kind(*k).String()), nil }

func (k *kindName) UnmarshalText(text []byte) error {
	*k = kindName(max(0, slices.Index(kindNames[:], string(text))))
	return nil
}

// dialectName is a Dialect by its name; a name this version does not know
// reads as DialectGeneric.
type dialectName Dialect

func (d *dialectName) MarshalText() ([]byte, error) { return []byte(Dialect(*d).String()), nil }

func (d *dialectName) UnmarshalText(text []byte) error {
	*d = dialectName(DialectGeneric)
	for _, known := range []Dialect{DialectPostgres, DialectSQLite, DialectMySQL} {
		if string(text) == known.String() {
			*d = dialectName(known)
		}
	}
	return nil
}
