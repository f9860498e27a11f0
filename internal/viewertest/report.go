package viewertest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A Spec says what a file holds.
type Spec struct {
	Name string // the route; "GET /pathological" when empty

	// Statements run in Groups groups (one per statement when zero),
	// each in a transaction of its own while Transactions last, all
	// of them listed as events.
	Statements, Groups, Transactions int

	// ShapeBytes pads each group's shape to about that length; Frames
	// is each group's stack depth (5, as a trace keeps, when zero).
	ShapeBytes, Frames int

	// NPlusOne makes every group an N+1 finding, with a fix.
	NPlusOne bool
}

// File returns the report of s as MarshalFile writes one.
func File(s Spec) []byte {
	if s.Name == "" {
		s.Name = "GET /pathological"
	}
	if s.Groups <= 0 || s.Groups > s.Statements {
		s.Groups = max(s.Statements, 1)
	}
	if s.Frames == 0 {
		s.Frames = 5
	}
	const step = 10 * time.Microsecond
	type obj = map[string]any
	groups := make([]obj, s.Groups)
	for i := range groups {
		shape := fmt.Sprintf("select id, name from table_%d where id = ?", i)
		if pad := s.ShapeBytes - len(shape); pad > 0 {
			shape = fmt.Sprintf("select %sid from table_%d where id = ?", strings.Repeat("<col>, ", pad/7), i)
		}
		stack := make([]obj, s.Frames)
		for f := range stack {
			stack[f] = obj{"function": fmt.Sprintf("example.com/app/store.Func%d", f), "file": fmt.Sprintf("/src/app/store/file%d.go", f), "line": 10 + f}
		}
		groups[i] = obj{"id": i + 1, "shape": shape, "fingerprint": fmt.Sprintf("%016x", i+1), "verb": "select", "kind": "query",
			"dialect": "postgres", "stack": stack, "first_ns": 0, "last_ns": 0}
	}
	var events []obj
	at := time.Duration(0)
	for i := range s.Statements {
		inTx := i < s.Transactions
		if inTx {
			events = append(events, obj{"kind": "begin", "group": 0, "start_ns": at, "duration_ns": step / 2})
			at += step
		}
		g := groups[i%s.Groups]
		if g["count"] == nil {
			g["first_ns"] = at
			g["count"], g["total_ns"], g["max_ns"] = 0, time.Duration(0), step
		}
		g["count"] = g["count"].(int) + 1
		g["statements"] = g["count"]
		g["total_ns"] = g["total_ns"].(time.Duration) + step
		g["last_ns"] = at + step
		events = append(events, obj{"kind": "query", "group": g["id"], "start_ns": at, "duration_ns": step, "rows": 1})
		at += step
		if inTx {
			events = append(events, obj{"kind": "commit", "group": 0, "start_ns": at, "duration_ns": step / 2})
			at += step
		}
	}
	var findings []obj
	if s.NPlusOne {
		for _, g := range groups {
			findings = append(findings, obj{"kind": "n+1", "group": g["id"], "count": g["count"], "total_ns": g["total_ns"],
				"fix": "one query for all rows: " + g["shape"].(string)})
		}
	}
	rep := obj{
		"name": s.Name, "start": time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "wall_ns": at,
		"db_time_ns": time.Duration(s.Statements) * step, "statements": s.Statements, "transactions": s.Transactions,
		"commits": s.Transactions, "events_kept": len(events), "groups": groups, "events": events, "n_plus_one": findings,
	}
	data, err := json.MarshalIndent(obj{"format": "querytrace-report", "version": 1, "report": rep}, "", "\t")
	if err != nil {
		panic(err)
	}
	return data
}
