package querytrace

import (
	"errors"
	"strings"
	"testing"
)

// TestReportFile reads files of this version, bare reports (version 0)
// and what is not a report, and says so for a file of a newer version.
func TestReportFile(t *testing.T) {
	rep := wideReport()
	file, err := rep.MarshalFile()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(file), "{\n\t\"format\": \"querytrace-report\",\n\t\"version\": 1,\n\t\"report\": {") || !strings.HasSuffix(string(file), "}\n") {
		t.Errorf("the file does not start with its envelope and end with a newline:\n%.200s", file)
	}
	bare, _ := rep.MarshalJSON()
	newer := strings.Replace(string(file), `"version": 1`, `"version": 7`, 1)
	for _, c := range []struct {
		name string
		data string
		want string // an error's text, or "" for success
	}{
		{"this version", string(file), ""},
		{"bare report (version 0)", string(bare), ""},
		{"newer", newer, "format version 7, written by a newer querytrace (this one reads versions up to 1: update it)"},
		{"no version", `{"format": "querytrace-report", "report": {}}`, "without a version"},
		{"version 0 in an envelope", `{"format": "querytrace-report", "version": 0, "report": {}}`, "unknown version 0"},
		{"other format", `{"format": "pprof", "version": 1}`, `format "pprof"`},
		{"not json", `<html>`, "not a querytrace report"},
		{"other json", `{"a": 1}`, "not a querytrace report"},
		{"a report's keys of the wrong type", `{"groups": [], "statements": "many"}`, "statements"},
	} {
		got, err := UnmarshalFile([]byte(c.data))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == "" && got.String() != rep.String():
			t.Errorf("%s: read\n%s\nwant\n%s", c.name, got, rep)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
		if errors.Is(err, ErrNewerFile) != (c.name == "newer") {
			t.Errorf("%s: error %v: errors.Is ErrNewerFile is %v", c.name, err, errors.Is(err, ErrNewerFile))
		}
	}
}

// TestUnmarshalFileBounds refuses, before decoding, a file whose objects
// or values would take memory out of all proportion to its size, and
// reads a report whose strings are long.
func TestUnmarshalFileBounds(t *testing.T) {
	many := func(n int, item string) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	long := wideReport()
	long.Groups[0].Shape = "select " + strings.Repeat("a, ", 1<<19) + "b from t" // 1.5 MiB
	longFile, err := long.MarshalFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data string
		want string
	}{
		{"empty groups", `{"groups": [` + many(maxFileObjects, "{}") + `]}`, "JSON objects and arrays, more than a querytrace report holds"},
		{"empty frames", `{"groups": [{"stack": [` + many(maxFileObjects, "{}") + `]}]}`, "JSON objects and arrays"},
		{"an unknown key's list", `{"groups": [], "x": [` + many(maxFileValues, "1") + `]}`, "JSON values, more than"},
		{"braces in strings", `{"groups": [{"shape": "` + strings.Repeat(`{[,\"`, maxFileValues) + `"}]}`, ""},
		{"a long statement", string(longFile), ""},
	} {
		rep, err := UnmarshalFile([]byte(c.data))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		case c.name == "a long statement" && rep.Groups[0].Shape != long.Groups[0].Shape:
			t.Errorf("the long statement read back as %d bytes, want %d", len(rep.Groups[0].Shape), len(long.Groups[0].Shape))
		}
	}
}
