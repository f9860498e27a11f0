package querytrace

import (
	"context"
	"reflect"
	"strconv"
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
// through exported fields: one pointer, or slices over one array.
func shared(path string, a, b reflect.Value) []string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
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
