package querytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// richPage runs a page with the findings the detector makes from real
// statements: an N+1 whose loop is a call above its statement, over the
// rows of an earlier query; a duplicate from two call sites; and repeats
// under Pause, which are allowed.
func richPage(ctx context.Context, b *detBackend) error {
	members, err := detMembers(ctx, b)
	if err != nil {
		return err
	}
	for _, m := range members {
		if err := detAttach(ctx, b, m); err != nil {
			return err
		}
	}
	if err := detHeader(ctx, b, 1); err != nil {
		return err
	}
	if err := detBody(ctx, b, 1); err != nil {
		return err
	}
	paused := Pause(ctx, "warm-up")
	for i := range 3 {
		if _, err := b.db.ExecContext(paused, b.q(`UPDATE qd_posts SET title = ? WHERE id = ?`), "seen", i); err != nil {
			return err
		}
	}
	return nil
}

// shared returns the paths under which a and b reach the same memory
// through exported fields: one pointer, or slices over one array. A
// reference to a group is not followed: the group is checked where
// Report.Groups holds it.
func shared(path string, a, b reflect.Value) []string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
		}
		if isGroupRef(path, a) {
			return nil
		}
		return shared(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			return []string{path}
		}
		var out []string
		for i := range min(a.Len(), b.Len()) {
			out = append(out, shared(path+"["+strconv.Itoa(i)+"]", a.Index(i), b.Index(i))...)
		}
		return out
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return []string{path}
		}
	case reflect.Struct:
		var out []string
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				out = append(out, shared(path+"."+f.Name, a.Field(i), b.Field(i))...)
			}
		}
		return out
	}
	return nil
}

// fullReport returns the report of richPage with every exported field of
// the report, its groups and its findings set: what the page leaves zero is
// filled in by fill, so that a field added later is set too.
func fullReport(t *testing.T) *Report {
	t.Helper()
	b := detBackends(t)[0]
	ctx, tr := Start(context.Background(), "GET /team")
	if err := richPage(ctx, b); err != nil {
		t.Fatal(err)
	}
	r := tr.Finish()
	if len(r.NPlusOne) == 0 || r.NPlusOne[0].Source == nil || len(r.Duplicates) == 0 || len(r.Allowed) == 0 || len(r.Events()) == 0 {
		t.Fatalf("the page's report lacks a finding:\n%s", r)
	}
	n := 0
	fill(t, "Report", reflect.ValueOf(r).Elem(), r, &n)
	return r
}

// fill sets every zero exported field under v to a value of its own: n
// numbers them, and groups are r's last.
func fill(t *testing.T, path string, v reflect.Value, r *Report, n *int) {
	t.Helper()
	last := r.Groups[len(r.Groups)-1]
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[time.Time]() {
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(t, path+"."+f.Name, v.Field(i), r, n)
			}
		}
		return
	}
	if !v.IsZero() {
		switch v.Kind() {
		case reflect.Pointer:
			if isGroupRef(path, v) {
				return // filled where r.Groups holds it
			}
			fill(t, path, v.Elem(), r, n)
		case reflect.Slice:
			for i := range v.Len() {
				fill(t, path+"["+strconv.Itoa(i)+"]", v.Index(i), r, n)
			}
		}
		return
	}
	*n++
	switch v.Type() {
	case reflect.TypeFor[Kind]():
		v.Set(reflect.ValueOf(KindStmtExec))
		return
	case reflect.TypeFor[Dialect]():
		v.Set(reflect.ValueOf(DialectMySQL))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2025, 1, 2, 3, 4, 5, *n, time.UTC)))
		return
	case reflect.TypeFor[*Group]():
		v.Set(reflect.ValueOf(last))
		return
	case reflect.TypeFor[[]*Group]():
		v.Set(reflect.ValueOf([]*Group{last}))
		return
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint64:
		v.SetUint(uint64(*n) << 40)
	case reflect.String:
		v.SetString("value " + strconv.Itoa(*n))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, path, v.Elem(), r, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, path+"[0]", v.Index(0), r, n)
	default:
		t.Fatalf("fill: no value for %s, a %s: teach fill one, and the JSON encoding the field", path, v.Type())
	}
}

// isGroupRef reports whether v, at path, is a reference to one of the
// report's groups (a finding's Group, Source, Others or Prepares), not the
// element of Report.Groups that holds it: references are followed by id,
// the group itself being checked where Report.Groups holds it.
func isGroupRef(path string, v reflect.Value) bool {
	return v.Type() == reflect.TypeFor[*Group]() && !groupElem.MatchString(path)
}

var groupElem = regexp.MustCompile(`^Report\.Groups\[[0-9]+\]$`)

// sameExported reports where the exported fields under a and b differ, or
// are zero in a: every field of a full report must survive a round trip.
func sameExported(path string, a, b reflect.Value) []string {
	if a.IsZero() {
		return []string{path + " is zero in the full report"}
	}
	switch a.Kind() {
	case reflect.Pointer:
		if b.IsNil() {
			return []string{path + " is lost"}
		}
		if isGroupRef(path, a) {
			if ga, gb := a.Interface().(*Group), b.Interface().(*Group); ga.ID != gb.ID {
				return []string{fmt.Sprintf("%s is group %d, want %d", path, gb.ID, ga.ID)}
			}
			return nil
		}
		return sameExported(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return []string{fmt.Sprintf("%s has %d elements, want %d", path, b.Len(), a.Len())}
		}
		var out []string
		for i := range a.Len() {
			out = append(out, sameExported(path+"["+strconv.Itoa(i)+"]", a.Index(i), b.Index(i))...)
		}
		return out
	case reflect.Struct:
		if ta, ok := a.Interface().(time.Time); ok {
			if !ta.Equal(b.Interface().(time.Time)) {
				return []string{fmt.Sprintf("%s is %v, want %v", path, b.Interface(), ta)}
			}
			return nil
		}
		var out []string
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				out = append(out, sameExported(path+"."+f.Name, a.Field(i), b.Field(i))...)
			}
		}
		return out
	}
	if a.Interface() != b.Interface() {
		return []string{fmt.Sprintf("%s is %v, want %v", path, b.Interface(), a.Interface())}
	}
	return nil
}

// TestReportRoundTrip checks that UnmarshalJSON reads back every field
// MarshalJSON writes, a field added later included (fullReport sets it):
// the findings point at the decoded report's own groups, its events and its
// text are those of the live report, and encoding it again gives the same
// bytes. It also checks that MarshalJSON's documentation names every key.
func TestReportRoundTrip(t *testing.T) {
	r := fullReport(t)
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := new(Report)
	if err := json.Unmarshal(data, got); err != nil {
		t.Fatal(err)
	}
	for _, d := range sameExported("Report", reflect.ValueOf(r).Elem(), reflect.ValueOf(got).Elem()) {
		t.Error(d)
	}
	own := make(map[*Group]bool)
	for _, g := range got.Groups {
		own[g] = true
	}
	for _, l := range [][]Finding{got.NPlusOne, got.Duplicates, got.Slow, got.Batched, got.Allowed} {
		for _, f := range l {
			if !own[f.Group] || !own[f.Source] || len(f.Others) == 0 || !own[f.Others[0]] {
				t.Errorf("a decoded %s finding points outside the decoded report's groups", f.Kind)
			}
		}
	}
	if !reflect.DeepEqual(got.Events(), r.Events()) {
		t.Errorf("decoded events\n%+v\nwant\n%+v", got.Events(), r.Events())
	}
	if got.String() != r.String() {
		t.Errorf("the decoded report prints\n%s\nwant\n%s", got, r)
	}
	again, err := json.Marshal(got)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("encoded again (%v):\n%s\nwant\n%s", err, again, data)
	}

	// Every key written is documented.
	var tree any
	json.Unmarshal(data, &tree)
	keys := make(map[string]bool)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				keys[k] = true
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(tree)
	doc := marshalJSONDoc(t)
	for k := range keys {
		if !regexp.MustCompile(`[\s,({]` + regexp.QuoteMeta(k) + `[\s,)}]`).MatchString(doc) {
			t.Errorf("key %q is not in Report.MarshalJSON's documentation", k)
		}
	}
}

// marshalJSONDoc returns the documentation of Report.MarshalJSON.
func marshalJSONDoc(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "report_json.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "MarshalJSON" && fn.Recv != nil {
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "Report" {
				return fn.Doc.Text()
			}
		}
	}
	t.Fatal("no Report.MarshalJSON in report_json.go")
	return ""
}

// TestReportUnmarshalErrors checks that what is not a report's JSON is an
// error, and that keys and names of a newer version are skipped.
func TestReportUnmarshalErrors(t *testing.T) {
	for _, c := range []struct {
		data string
		ok   bool
	}{
		{`{"name": "GET /", "statements": 2, "future_key": [1, 2]}`, true},
		{`{"groups": [{"id": 1, "kind": "teleport", "dialect": "cobol"}], "n_plus_one": [{"group": 1}, {"group": 9}]}`, true},
		{`[1, 2]`, false},
		{`{"statements": "two"}`, false},
		{`{"groups": [{"fingerprint": "xyz"}]}`, false},
	} {
		var r Report
		err := json.Unmarshal([]byte(c.data), &r)
		if (err == nil) != c.ok {
			t.Errorf("Unmarshal(%s) = %v, want success %v", c.data, err, c.ok)
		}
	}
	var r Report
	json.Unmarshal([]byte(`{"groups": [{"id": 1, "kind": "teleport", "dialect": "cobol"}], "n_plus_one": [{"group": 1}, {"group": 9}]}`), &r)
	if g := r.Groups[0]; g.Kind != 0 || g.Dialect != DialectGeneric || r.NPlusOne[0].Group != g || r.NPlusOne[1].Group != nil {
		t.Errorf("unknown names and ids read as %+v, %+v", g, r.NPlusOne)
	}
}

// TestAppendString checks the encoding's strings against encoding/json's,
// which escapes the markup characters, controls and invalid UTF-8.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "select id from t", `a <> b && c`, "tab\there", `quote " and \`, "ümlaut", "line\u2028sep", "bad \xff byte"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}
