package pgxtrace

import (
	"database/sql/driver"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/querytrace/querytrace/internal/arghash"
	"github.com/querytrace/querytrace/internal/fnv1a"
)

// hashArgs returns the hash of a statement's arguments, as
// arghash.Args does for the wrapper: equal for the same values in
// the same places, 0 for none. pgx's options (a QueryExecMode, a
// QueryResultFormats) are hashed like any argument: they are the same on
// every execution of a call site.
func hashArgs(args []any) uint64 {
	if len(args) == 0 {
		return 0
	}
	h := foldArgs(fnv1a.Offset, args)
	if h == 0 {
		h = 1
	}
	return h
}

// foldArgs folds args, with their positions, into h.
func foldArgs(h uint64, args []any) uint64 {
	for i, a := range args {
		h = arghash.Value(h, int64(i+1))
		h = hashArg(h, a, 0)
	}
	return h
}

// maxArgDepth bounds how deep hashArg follows pointers and elements.
const maxArgDepth = 3

// maxArgElems bounds how many elements of one slice argument are hashed.
const maxArgElems = 1024

// hashArg folds one argument into h. The types database/sql converts
// arguments to go straight to arghash.Value; pgx passes arguments as
// the application wrote them, so other integers, pointers, slices (for
// "= ANY($1)"), named types and driver.Valuers are brought to those first,
// so that an N+1 over them is told from a duplicate.
func hashArg(h uint64, v any, depth int) uint64 {
	switch v := v.(type) {
	case nil, int64, float64, bool, []byte, string, time.Time, int, int32, uint64:
		return arghash.Value(h, v)
	case int8:
		return arghash.Value(h, int64(v))
	case int16:
		return arghash.Value(h, int64(v))
	case uint:
		return arghash.Value(h, uint64(v))
	case uint8:
		return arghash.Value(h, int64(v))
	case uint16:
		return arghash.Value(h, int64(v))
	case uint32:
		return arghash.Value(h, int64(v))
	case float32:
		return arghash.Value(h, float64(v))
	case pgx.NamedArgs:
		return hashNamed(h, v, depth)
	case pgx.StrictNamedArgs:
		return hashNamed(h, v, depth)
	case driver.Valuer:
		if depth < maxArgDepth {
			if dv, err := callValuer(v); err == nil {
				return hashArg(arghash.Value(h, "valuer"), dv, depth+1)
			}
		}
		return arghash.Value(h, v)
	}
	if depth >= maxArgDepth {
		return arghash.Value(h, v)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return arghash.Value(h, rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return arghash.Value(h, rv.Uint())
	case reflect.Float32, reflect.Float64:
		return arghash.Value(h, rv.Float())
	case reflect.Bool:
		return arghash.Value(h, rv.Bool())
	case reflect.String:
		return arghash.Value(h, rv.String())
	case reflect.Pointer:
		if rv.IsNil() {
			return arghash.Value(h, nil)
		}
		return hashArg(h, rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return arghash.Value(h, nil)
		}
		n := rv.Len()
		h = arghash.Value(h, "elems")
		h = arghash.Value(h, int64(n))
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			for i := 0; i < n && i < maxArgElems*8; i++ {
				h = arghash.Value(h, rv.Index(i).Uint())
			}
			return h
		}
		for i := 0; i < n && i < maxArgElems; i++ {
			h = hashArg(h, rv.Index(i).Interface(), depth+1)
		}
		return h
	}
	// Maps, structs, channels: hashed by type alone, which errs towards
	// reporting an N+1 rather than a duplicate.
	return arghash.Value(h, v)
}

// callValuer calls v.Value, which may be a nil pointer's method.
func callValuer(v driver.Valuer) (dv driver.Value, err error) {
	defer func() {
		if recover() != nil {
			dv, err = nil, errValuer
		}
	}()
	return v.Value()
}

type valuerError struct{}

func (valuerError) Error() string { return "pgxtrace: Value panicked" }

var errValuer error = valuerError{}

// hashNamed folds named arguments into h whatever the map's order.
func hashNamed(h uint64, m map[string]any, depth int) uint64 {
	var sum uint64
	for k, v := range m {
		e := arghash.Value(fnv1a.Offset, k)
		sum += hashArg(e, v, depth+1) * 0x9e3779b97f4a7c15
	}
	h = arghash.Value(h, "named")
	return arghash.Value(h, sum)
}
