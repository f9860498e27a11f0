// Command ratios reads `go test -bench` output of the compare benchmarks
// (on stdin or from the files named) and prints markdown tables of each
// wrapper's cost over the raw driver's, per workload and database.
//
// For BenchmarkInterleaved, whose lines carry each wrapper's ratio over
// raw in the same run (<wrapper>/raw), the table holds the median of
// those ratios, with their range over the runs:
//
//	go test -run '^$' -bench Interleaved -count 10 | tee interleaved.txt
//	go run ./cmd/ratios interleaved.txt
//
// For the benchmarks that run one wrapper after the other, named
// Benchmark<Workload>/db=<db>/wrapper=<wrapper>, the tables hold each
// wrapper's median ns/op, allocs/op and B/op over raw's:
//
//	go test -run '^$' -bench 'QueryRow|Exec' -benchmem -count 6 | tee results.txt
//	go run ./cmd/ratios results.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

const base = "raw"

type key struct{ workload, db, wrapper string }

type samples struct{ ns, bytes, allocs []float64 }

type results struct {
	runs                     map[key]*samples
	workloads, dbs, wrappers []string // in order of first appearance
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [go test -bench output files...]  (stdin when none)")
	}
	flag.Parse()
	r := &results{runs: map[key]*samples{}}
	il := &interleaved{runs: map[key]*samples{}}
	read := func(in io.Reader) {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
				continue
			}
			if !il.add(f) {
				r.add(f)
			}
		}
	}
	if flag.NArg() == 0 {
		read(os.Stdin)
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(1)
		}
		read(f)
		f.Close()
	}
	if len(r.runs) == 0 && len(il.runs) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark lines of the form BenchmarkInterleaved/<W>/db=<db> or Benchmark<W>/db=<db>/wrapper=<w>")
		os.Exit(1)
	}
	if len(il.runs) > 0 {
		il.print(os.Stdout)
	}
	if len(r.runs) > 0 {
		r.print(os.Stdout)
	}
}

// add adds the benchmark line of fields f, if it is one of the
// benchmarks that run one wrapper after the other.
func (r *results) add(f []string) {
	k, ok := parseName(f[0])
	if !ok {
		return
	}
	s := r.runs[k]
	if s == nil {
		s = &samples{}
		r.runs[k] = s
		r.workloads = appendNew(r.workloads, k.workload)
		r.dbs = appendNew(r.dbs, k.db)
		r.wrappers = appendNew(r.wrappers, k.wrapper)
	}
	// f[1] is the iteration count; then value/unit pairs.
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		switch f[i+1] {
		case "ns/op":
			s.ns = append(s.ns, v)
		case "B/op":
			s.bytes = append(s.bytes, v)
		case "allocs/op":
			s.allocs = append(s.allocs, v)
		}
	}
}

// parseName splits BenchmarkQueryRow/db=sqlite/wrapper=raw-8.
func parseName(name string) (key, bool) {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	if len(parts) != 3 {
		return key{}, false
	}
	last := trimProcs(parts[2])
	db, ok1 := strings.CutPrefix(parts[1], "db=")
	w, ok2 := strings.CutPrefix(last, "wrapper=")
	if !ok1 || !ok2 {
		return key{}, false
	}
	return key{parts[0], db, w}, true
}

// trimProcs drops the -GOMAXPROCS suffix of a benchmark name's last part.
func trimProcs(s string) string {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i]
		}
	}
	return s
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2], true
	}
	return (v[n/2-1] + v[n/2]) / 2, true
}

// others are the wrappers other than the base, in order.
func (r *results) others() []string {
	var out []string
	for _, w := range r.wrappers {
		if w != base {
			out = append(out, w)
		}
	}
	return out
}

func (r *results) print(w io.Writer) {
	runs := 0
	for _, s := range r.runs {
		runs = max(runs, len(s.ns))
	}
	fmt.Fprintf(w, "Per statement, median of %d runs; ratio = wrapper / %s (1.00× = no overhead).\n\n", runs, base)
	r.table(w, "ns/op", func(s *samples) []float64 { return s.ns }, fmtDuration)
	r.table(w, "allocs/op", func(s *samples) []float64 { return s.allocs }, fmtCount)
	r.table(w, "B/op", func(s *samples) []float64 { return s.bytes }, fmtCount)
}

// table prints one metric: the base's value, then each wrapper's ratio
// over it and its difference.
func (r *results) table(w io.Writer, unit string, get func(*samples) []float64, format func(float64) string) {
	others := r.others()
	fmt.Fprintf(w, "**%s** (%s, then each wrapper: ratio over %s, difference)\n\n", unit, base, base)
	header(w, others)
	for _, wl := range r.workloads {
		for _, db := range r.dbs {
			bs := r.runs[key{wl, db, base}]
			if bs == nil {
				continue
			}
			b, ok := median(get(bs))
			if !ok {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s |", wl, db, format(b))
			for _, o := range others {
				s := r.runs[key{wl, db, o}]
				var v float64
				if s != nil {
					v, ok = median(get(s))
				}
				switch {
				case s == nil || !ok:
					fmt.Fprint(w, " – |")
				case b == 0:
					fmt.Fprintf(w, " %s |", format(v))
				default:
					fmt.Fprintf(w, " %.2f× (%s) |", v/b, signed(v-b, format))
				}
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
}

// header prints the head of a table whose columns are the workload, the
// database, the base and the others.
func header(w io.Writer, others []string) {
	fmt.Fprintf(w, "| workload | db | %s |", base)
	for _, o := range others {
		fmt.Fprintf(w, " %s |", o)
	}
	fmt.Fprint(w, "\n|---|---|---:|")
	for range others {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
}

func signed(d float64, format func(float64) string) string {
	if d < 0 {
		return "−" + format(-d)
	}
	return "+" + format(d)
}

func fmtDuration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func fmtCount(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
