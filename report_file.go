package querytrace

import (
	"encoding/json"
	"errors"
	"fmt"
)

// fileFormat names the envelope of a saved report.
const fileFormat = "querytrace-report"

// fileVersion is the envelope version MarshalFile writes, and the newest
// UnmarshalFile reads. Version 0 is a bare report object, as MarshalJSON
// writes it and as earlier versions logged and printed it.
const fileVersion = 1

// ErrNewerFile is wrapped by the error of UnmarshalFile for a file written
// by a later version of querytrace than this one reads.
var ErrNewerFile = errors.New("written by a newer querytrace")

// MarshalFile returns the report as a file holds it: its JSON (see
// MarshalJSON) in an envelope that names the format and its version, so
// that a reader tells a report it understands from one written by a newer
// querytrace, indented and with a final newline:
//
//	{
//		"format": "querytrace-report",
//		"version": 1,
//		"report": {...}
//	}
//
// debugpage's Archive saves reports so, and the querytrace command reads
// them.
func (r *Report) MarshalFile() ([]byte, error) {
	body, err := r.MarshalJSON()
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(envelope{Format: fileFormat, Version: fileVersion, Report: body}, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

type envelope struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Report  json.RawMessage `json:"report"`
}

// UnmarshalFile reads a report from a file that MarshalFile wrote, of this
// version or an earlier one, or from a bare report object (version 0). The
// error for a file of a newer version wraps ErrNewerFile.
//
// A file may come from anywhere, and decoding takes memory in proportion
// to the objects it holds more than to its bytes: UnmarshalFile refuses
// one of more than 131072 JSON objects and arrays, or more than 2097152
// values, before decoding it. A report holds a few per group, and a trace
// keeps at most 1000 groups. How large a file to read at all is the
// caller's to bound.
func UnmarshalFile(data []byte) (*Report, error) {
	if err := checkCounts(data); err != nil {
		return nil, err
	}
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
		if *probe.Format != fileFormat {
			return nil, fmt.Errorf("not a querytrace report: format %q", *probe.Format)
		}
		if probe.Version == nil {
			return nil, errors.New("querytrace report without a version")
		}
		if v := *probe.Version; v > fileVersion {
			return nil, fmt.Errorf("querytrace report of format version %d, %w (this one reads versions up to %d: update it)", v, ErrNewerFile, fileVersion)
		} else if v < 1 {
			return nil, fmt.Errorf("querytrace report of unknown version %d", v)
		}
		body = probe.Report
	case probe.Groups == nil:
		return nil, errors.New(`not a querytrace report: no "format" envelope and no "groups"`)
	}
	r := new(Report)
	if err := r.UnmarshalJSON(body); err != nil {
		return nil, err
	}
	return r, nil
}

// The bounds of what UnmarshalFile decodes: a report of 1000 groups, their
// stacks and findings holds about 15000 objects and arrays and 70000
// values.
const (
	maxFileObjects = 1 << 17
	maxFileValues  = 1 << 21
)

// checkCounts counts the objects, arrays and values of the JSON text data,
// without decoding it, and returns an error past the bounds. Strings, such
// as long statements, count as one value whatever their length.
func checkCounts(data []byte) error {
	objects, values := 0, 1
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			objects++
		case c == ',':
			values++
		}
	}
	switch {
	case objects > maxFileObjects:
		return fmt.Errorf("not read: %d JSON objects and arrays, more than a querytrace report holds (at most %d are read)", objects, maxFileObjects)
	case values > maxFileValues:
		return fmt.Errorf("not read: %d JSON values, more than a querytrace report holds (at most %d are read)", values, maxFileValues)
	}
	return nil
}
