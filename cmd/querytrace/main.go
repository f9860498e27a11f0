// Querytrace reads the reports that a debugpage.Archive saved: it serves
// the debug pages over them, prints the costliest N+1s across them, and
// compares two of them.
//
// Usage:
//
//	querytrace serve [-addr 127.0.0.1:7070] DIR
//	querytrace top [-n 20] [-all] DIR
//	querytrace diff A.json B.json
//
// Serve shows the reports of DIR (read once, at start) as the live page
// shows those of a running application (recent requests per class, each
// request, their comparison and the statement statistics), to loopback
// clients only.
// Top prints the N+1s of all the reports of DIR, by route, statement and
// call site, the most total time first; with -all, every statement. Diff
// prints how the second report differs from the first: statements,
// times, and the statements added and removed.
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
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
	"github.com/querytrace/querytrace/internal/human"
)

const usage = `usage:
	querytrace serve [-addr 127.0.0.1:7070] DIR   serve the debug pages over the reports in DIR
	querytrace top [-n 20] [-all] DIR             print the costliest N+1s across the reports in DIR
	querytrace diff A.json B.json                 compare two reports
`

func main() {
	log.SetFlags(0)
	log.SetPrefix("querytrace: ")
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatal(err)
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
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		h, n, err := newServer(fs.Arg(0))
		if err != nil {
			return err
		}
		log.Printf("%d reports from %s at http://%s/debug/querytrace/", n, fs.Arg(0), *addr)
		srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
		return srv.ListenAndServe()
	case "top":
		fs := flag.NewFlagSet("top", flag.ContinueOnError)
		n := fs.Int("n", 20, "print the first `n` entries")
		all := fs.Bool("all", false, "every statement, not only the N+1s")
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		return top(out, fs.Arg(0), *n, *all)
	case "diff":
		fs := flag.NewFlagSet("diff", flag.ContinueOnError)
		if err := parse(fs, args, 2); err != nil {
			return err
		}
		return diff(out, fs.Arg(0), fs.Arg(1))
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

// load records the reports of dir. Reports it cannot read are named on
// the log; no readable report at all is an error.
func load(dir string) (*debugpage.Recorder, int, error) {
	rec := &debugpage.Recorder{Keep: 1 << 20, MaxStats: 1 << 20}
	n, err := rec.LoadDir(dir)
	if err != nil {
		if n == 0 {
			return nil, 0, err
		}
		log.Printf("skipped: %v", err)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("no report in %s", dir)
	}
	return rec, n, nil
}

// newServer returns the debug pages over the reports of dir.
func newServer(dir string) (http.Handler, int, error) {
	rec, n, err := load(dir)
	if err != nil {
		return nil, 0, err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/querytrace/", &debugpage.Handler{Recorder: rec})
	mux.Handle("GET /{$}", http.RedirectHandler("/debug/querytrace/", http.StatusFound))
	return mux, n, nil
}

func top(out io.Writer, dir string, n int, all bool) error {
	rec, reports, err := load(dir)
	if err != nil {
		return err
	}
	st := rec.Statistics(0)
	what := "N+1s"
	if all {
		what = "statements"
	}
	fmt.Fprintf(out, "%d reports, %s by total time\n\n", reports, what)
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
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d of %d\t%s\t%s\n", human.Duration(s.Total), s.Calls, human.Duration(s.Mean()), s.NPlusOne, s.Requests, s.Route, human.Clip(s.Shape, 100))
		fmt.Fprintf(tw, "\t\t\t\t\t  at %s\n", s.CallSite())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if shown == 0 {
		fmt.Fprintf(out, "no %s\n", what)
	}
	return nil
}

func diff(out io.Writer, pathA, pathB string) error {
	var reps [2]*querytrace.Report
	for i, path := range []string{pathA, pathB} {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if reps[i], err = querytrace.UnmarshalFile(data); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	a, b := reps[0], reps[1]
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tA\tB\n")
	fmt.Fprintf(tw, "route\t%s\t%s\n", a.Name, b.Name)
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
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", ca, cb, human.Duration(ta), human.Duration(tb), d.Status(), human.Clip(d.Shape, 90))
		fmt.Fprintf(tw, "\t\t\t\t\t  at %s\n", d.CallSite)
	}
	return tw.Flush()
}
