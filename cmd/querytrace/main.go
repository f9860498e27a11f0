// Querytrace reads the reports that a debugpage.Archive saved: it serves
// the debug pages over them, prints the costliest N+1s across them, and
// compares two of them.
//
// Usage:
//
//	querytrace serve [-addr 127.0.0.1:7070] [bounds] DIR
//	querytrace top [-n 20] [-all] [bounds] DIR
//	querytrace diff [-max-file 16MiB] A.json B.json
//
// Serve shows the reports of DIR (read once, at start) as the live page
// shows those of a running application (requests per class, each
// request, their comparison and the statement statistics), to loopback
// clients only.
// Top prints the N+1s of all the reports of DIR, by route, statement and
// call site, the most total time first; with -all, every statement. Diff
// prints how the second report differs from the first: statements,
// times, and the statements added and removed.
//
// A directory of reports is copied from server to laptop, and may hold
// anything: serve and top read only the regular files named *.json
// directly in DIR, never following a symbolic link or waiting on a named
// pipe, the most recently modified first, within bounds:
//
//	-max-files 10000    files read
//	-max-file 16MiB     bytes of one file
//	-max-total 256MiB   bytes of all files together
//
// Each reason a file was skipped is logged once, with the count of files
// and the first few names. Serve keeps what it read in memory: a file
// changed after the start changes nothing served. What a file holds is
// printed with control characters escaped, so that it cannot act on the
// terminal (set its title, clear it, write to the clipboard).
//
// It reads reports saved by this version and by earlier ones (a bare
// report object, as logged, is version 0), and says so when a report is
// of a newer version than it knows.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	"github.com/querytrace/querytrace/internal/human"
)

const usage = `usage:
	querytrace serve [-addr 127.0.0.1:7070] [bounds] DIR   serve the debug pages over the reports in DIR
	querytrace top [-n 20] [-all] [bounds] DIR             print the costliest N+1s across the reports in DIR
	querytrace diff [-max-file 16MiB] A.json B.json        compare two reports
bounds: [-max-files 10000] [-max-file 16MiB] [-max-total 256MiB]
`

func main() {
	log.SetFlags(0)
	log.SetPrefix("querytrace: ")
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatal(human.Printable(err.Error()))
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch cmd, args := args[0], args[1:]; cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		addr := fs.String("addr", "127.0.0.1:7070", "listen on `address`")
		lim := boundFlags(fs)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		h, ld, err := newServer(fs.Arg(0), *lim)
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		log.Printf("serving %s from %s at http://%s/debug/querytrace/", human.Plural(ld.Files, "report", "reports"), human.Printable(ld.Dir), l.Addr())
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		return srv.Serve(l)
	case "top":
		fs := flag.NewFlagSet("top", flag.ContinueOnError)
		n := fs.Int("n", 20, "print the first `n` entries")
		all := fs.Bool("all", false, "every statement, not only the N+1s")
		lim := boundFlags(fs)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		return top(out, fs.Arg(0), *lim, *n, *all)
	case "diff":
		fs := flag.NewFlagSet("diff", flag.ContinueOnError)
		maxFile := int64(16 << 20)
		fs.Var((*size)(&maxFile), "max-file", "refuse a file larger than `size` (bytes, or with KiB, MiB or GiB)")
		if err := parse(fs, args, 2); err != nil {
			return err
		}
		return diff(out, fs.Arg(0), fs.Arg(1), maxFile)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(out, usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func parse(fs *flag.FlagSet, args []string, want int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != want {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("%s: want %d arguments, got %d", fs.Name(), want, fs.NArg())
	}
	return nil
}

// boundFlags defines the flags that bound what is read of a directory.
func boundFlags(fs *flag.FlagSet) *debugpage.DirLimits {
	lim := &debugpage.DirLimits{MaxFiles: 10000, MaxFileBytes: 16 << 20, MaxBytes: 256 << 20}
	fs.IntVar(&lim.MaxFiles, "max-files", lim.MaxFiles, "read at most `n` files, the most recently modified first")
	fs.Var((*size)(&lim.MaxFileBytes), "max-file", "skip a file larger than `size` (bytes, or with KiB, MiB or GiB)")
	fs.Var((*size)(&lim.MaxBytes), "max-total", "read at most `size` of files in all")
	return lim
}

// A size is a flag's number of bytes, written "1048576", "512KiB", "16MiB"
// or "1GiB".
type size int64

func (s *size) String() string {
	for _, u := range units {
		if *s >= size(u.n) && int64(*s)%u.n == 0 {
			return strconv.FormatInt(int64(*s)/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *size) Set(text string) error {
	mult := int64(1)
	for _, u := range units {
		if t, ok := strings.CutSuffix(text, u.name); ok {
			text, mult = strings.TrimSpace(t), u.n
			break
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return errors.New("want a positive number of bytes, or one with KiB, MiB or GiB")
	}
	*s = size(n * mult)
	return nil
}

var units = []struct {
	name string
	n    int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

// load records the reports of dir within lim, and logs each reason a file
// was skipped once. No report at all is an error.
func load(dir string, lim debugpage.DirLimits) (*debugpage.Recorder, *debugpage.Loaded, error) {
	rec := &debugpage.Recorder{Keep: lim.MaxFiles, MaxStats: 100000}
	ld, err := rec.LoadDir(dir, lim)
	if err != nil {
		return nil, nil, err
	}
	var skipped []string
	for _, s := range ld.Skipped {
		skipped = append(skipped, "skipped "+s.String())
	}
	if ld.Files == 0 {
		return nil, nil, fmt.Errorf("no report in %s%s", dir, strings.Join(append([]string{""}, skipped...), "; "))
	}
	for _, s := range skipped {
		log.Print(human.Printable(s))
	}
	return rec, ld, nil
}

// newServer returns the debug pages over the reports of dir.
func newServer(dir string, lim debugpage.DirLimits) (http.Handler, *debugpage.Loaded, error) {
	rec, ld, err := load(dir, lim)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/querytrace/", &debugpage.Handler{Recorder: rec})
	mux.Handle("GET /{$}", http.RedirectHandler("/debug/querytrace/", http.StatusFound))
	return mux, ld, nil
}

// The columns of top and diff: what a file holds, made printable and cut
// to a width.
func route(s string) string { return human.Printable(human.Clip(s, 60)) }
func shape(s string) string { return human.Printable(human.Clip(s, 100)) }
func site(s string) string  { return human.Printable(human.Clip(s, 120)) }

func top(out io.Writer, dir string, lim debugpage.DirLimits, n int, all bool) error {
	rec, ld, err := load(dir, lim)
	if err != nil {
		return err
	}
	st := rec.Statistics(0)
	what := "N+1s"
	if all {
		what = "statements"
	}
	fmt.Fprintf(out, "%s, %s by total time\n\n", human.Plural(ld.Files, "report", "reports"), what)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "total\tcalls\tmean\tN+1 in\troute\tstatement · call site")
	shown := 0
	for _, s := range st.Stats {
		if !all && s.NPlusOne == 0 {
			continue
		}
		if shown++; shown > n {
			break
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d of %d\t%s\t%s\n", human.Duration(s.Total), s.Calls, human.Duration(s.Mean()), s.NPlusOne, s.Requests, route(s.Route), shape(s.Shape))
		fmt.Fprintf(tw, "\t\t\t\t\t  at %s\n", site(s.CallSite()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if shown == 0 {
		fmt.Fprintf(out, "no %s\n", what)
	}
	return nil
}

func diff(out io.Writer, pathA, pathB string, maxFile int64) error {
	var reps [2]*querytrace.Report
	for i, path := range []string{pathA, pathB} {
		var err error
		if reps[i], err = debugpage.ReadFile(path, maxFile); err != nil {
			return err
		}
	}
	a, b := reps[0], reps[1]
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tA\tB\n")
	fmt.Fprintf(tw, "route\t%s\t%s\n", route(a.Name), route(b.Name))
	fmt.Fprintf(tw, "wall\t%s\t%s\n", human.Duration(a.Wall), human.Duration(b.Wall))
	fmt.Fprintf(tw, "db time\t%s\t%s\n", human.Duration(a.DBTime), human.Duration(b.DBTime))
	fmt.Fprintf(tw, "statements\t%d\t%d\n", a.Statements, b.Statements)
	fmt.Fprintf(tw, "N+1\t%d\t%d\n", len(a.NPlusOne), len(b.NPlusOne))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "count A\tcount B\ttotal A\ttotal B\t\tstatement · call site\n")
	for _, d := range debugpage.Compare(a, b) {
		ca, cb := d.Count()
		ta, tb := d.Total()
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", ca, cb, human.Duration(ta), human.Duration(tb), d.Status(), shape(d.Shape))
		fmt.Fprintf(tw, "\t\t\t\t\t  at %s\n", site(d.CallSite))
	}
	return tw.Flush()
}
