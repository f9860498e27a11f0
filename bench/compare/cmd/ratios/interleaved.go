package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// interleaved holds the runs of BenchmarkInterleaved: for each workload,
// database and wrapper, its ratios over raw (in ns) and, for raw, its
// times.
type interleaved struct {
	runs                     map[key]*samples
	workloads, dbs, wrappers []string // in order of first appearance
}

// add adds the benchmark line of fields f and reports whether it was one
// of BenchmarkInterleaved's: BenchmarkInterleaved/QueryRow/db=sqlite-2 N
// ns/op, then <wrapper>-ns/op and <wrapper>/raw for each wrapper.
func (il *interleaved) add(f []string) bool {
	parts := strings.Split(f[0], "/")
	if len(parts) != 3 || parts[0] != "BenchmarkInterleaved" {
		return false
	}
	db, ok := strings.CutPrefix(trimProcs(parts[2]), "db=")
	if !ok {
		return false
	}
	workload := parts[1]
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		unit := f[i+1]
		var w string
		switch {
		case strings.HasSuffix(unit, "/"+base):
			w = strings.TrimSuffix(unit, "/"+base)
		case unit == base+"-ns/op":
			w = base
		default:
			continue
		}
		k := key{workload, db, w}
		s := il.runs[k]
		if s == nil {
			s = &samples{}
			il.runs[k] = s
			il.workloads = appendNew(il.workloads, workload)
			il.dbs = appendNew(il.dbs, db)
			if w != base {
				il.wrappers = appendNew(il.wrappers, w)
			}
		}
		s.ns = append(s.ns, v)
	}
	return true
}

// print prints the table of ratios: raw's median time per op, then each
// wrapper's median ratio over raw, with the lowest and highest of the
// runs.
func (il *interleaved) print(w io.Writer) {
	runs := 0
	for _, s := range il.runs {
		runs = max(runs, len(s.ns))
	}
	slices.SortStableFunc(il.wrappers, func(a, b string) int { return rank(a) - rank(b) })
	fmt.Fprintf(w, "Interleaved, median of %d runs of each wrapper's time over %s's in the same run (lowest–highest run).\n\n", runs, base)
	header(w, il.wrappers)
	for _, wl := range il.workloads {
		for _, db := range il.dbs {
			bs := il.runs[key{wl, db, base}]
			if bs == nil {
				continue
			}
			b, _ := median(bs.ns)
			fmt.Fprintf(w, "| %s | %s | %s |", wl, db, fmtDuration(b))
			for _, o := range il.wrappers {
				s := il.runs[key{wl, db, o}]
				if s == nil || len(s.ns) == 0 {
					fmt.Fprint(w, " – |")
					continue
				}
				m, _ := median(s.ns)
				fmt.Fprintf(w, " %.3f (%.3f–%.3f) |", m, slices.Min(s.ns), slices.Max(s.ns))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
}

// order is the order of the table's columns: go test prints a
// benchmark's metrics sorted by unit, not in the order of the benchmark's
// wrappers.
var order = []string{"raw-control", "querytrace", "querytrace-nostacks", "sqlhooks", "sqlmw", "otelsql", "otelsql-sdk"}

// rank is w's place in order; wrappers it does not name go last.
func rank(w string) int {
	if i := slices.Index(order, w); i >= 0 {
		return i
	}
	return len(order)
}
