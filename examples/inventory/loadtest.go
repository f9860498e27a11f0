package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

// loadPath is the page the load test requests: the fast one, so that what
// differs between configurations (a tracing wrapper, say) is not drowned
// out by six hundred statements per request.
const loadPath = "/inventory/fast"

// loadRounds is how many times each configuration runs. The runs are
// interleaved (A, B, A, B), so a drift in the machine's speed over the test
// - a noisy neighbour, thermal throttling - falls on all configurations
// alike instead of on whichever ran last.
const loadRounds = 2

// loadConfig is one configuration under load: a name to report it by and
// the handler serving it, typically newMux over its own *sql.DB, wrapped or
// not.
type loadConfig struct {
	Name    string
	Handler http.Handler
}

// loadRun is the outcome of one timed run of one configuration.
type loadRun struct {
	Round     int
	Requests  int // answered with 200 OK within the run
	Errors    int // transport errors and non-200 answers
	Elapsed   time.Duration
	Latencies []time.Duration // of the successful requests, sorted
}

// loadResult gathers the runs of one configuration.
type loadResult struct {
	Name string
	Runs []loadRun
}

// runLoad serves each configuration on its own loopback server
// (127.0.0.1 only) and has clients concurrent clients request loadPath in a
// loop for duration, loadRounds times per configuration, interleaving the
// configurations. The whole test takes about
// loadRounds × len(configs) × duration; every request loop stops by itself
// at the end of its run, and all of them stop early if ctx is cancelled.
//
// The results come back in the order of configs; printLoad reports them.
func runLoad(ctx context.Context, duration time.Duration, clients int, configs []loadConfig) ([]loadResult, error) {
	switch {
	case duration <= 0:
		return nil, errors.New("load: duration must be positive")
	case clients < 1:
		return nil, errors.New("load: need at least one client")
	case len(configs) == 0:
		return nil, errors.New("load: no configurations")
	}

	// One transport for every run, keeping an idle connection per client
	// so that the test measures requests, not TCP handshakes. No proxy:
	// the target is always the loopback server itself.
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	results := make([]loadResult, len(configs))
	for round := 1; round <= loadRounds; round++ {
		for i, cfg := range configs {
			results[i].Name = cfg.Name
			run, err := loadOnce(ctx, client, cfg.Handler, duration, clients)
			if err != nil {
				return nil, fmt.Errorf("load: %s, round %d: %w", cfg.Name, round, err)
			}
			run.Round = round
			results[i].Runs = append(results[i].Runs, run)
		}
	}
	return results, nil
}

// loadOnce runs one timed run of h on a fresh loopback server.
func loadOnce(ctx context.Context, client *http.Client, h http.Handler, duration time.Duration, clients int) (loadRun, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadRun{}, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer func() {
		// Close the client's connections first: the next run listens on
		// another port, so they are of no more use, and the server would
		// wait for those that never sent a request (a dial that finished
		// after its request was cancelled) as if they might still do so.
		client.CloseIdleConnections()
		// Then let the handlers still running, whose clients were cut
		// off, return. They see their context cancelled, so it is quick;
		// if not, close them anyway.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			srv.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + loadPath

	// One request before the clock starts: it fails fast on a broken
	// handler, and it keeps first-request costs out of the measurement.
	if _, err := get(ctx, client, url); err != nil {
		return loadRun{}, err
	}
	// Start every run from a clean heap so that garbage left by the
	// previous configuration is not collected on this one's time.
	runtime.GC()

	runCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	start := time.Now()
	var (
		mu  sync.Mutex
		run loadRun
		wg  sync.WaitGroup
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var failed int
			for runCtx.Err() == nil {
				t0 := time.Now()
				_, err := get(runCtx, client, url)
				switch {
				case runCtx.Err() != nil:
					// Cut off by the end of the run: neither a
					// success nor a failure.
				case err != nil:
					failed++
				default:
					lat = append(lat, time.Since(t0))
				}
			}
			mu.Lock()
			run.Latencies = append(run.Latencies, lat...)
			run.Errors += failed
			mu.Unlock()
		}()
	}
	wg.Wait()

	run.Elapsed = min(time.Since(start), duration)
	run.Requests = len(run.Latencies)
	slices.Sort(run.Latencies)
	return run, nil
}

// get requests url and reads the whole body, which lets the transport reuse
// the connection. It returns the number of body bytes.
func get(ctx context.Context, client *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return n, nil
}

// total merges the runs of a configuration into one.
func (r loadResult) total() loadRun {
	var t loadRun
	for _, run := range r.Runs {
		t.Requests += run.Requests
		t.Errors += run.Errors
		t.Elapsed += run.Elapsed
		t.Latencies = append(t.Latencies, run.Latencies...)
	}
	slices.Sort(t.Latencies)
	return t
}

// rps is the run's throughput in successful requests per second.
func (r loadRun) rps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of the
// run's latencies, or 0 if there are none.
func (r loadRun) percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(n))) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// printLoad writes every run, the totals per configuration, and how each
// configuration compares to the first one.
func printLoad(w io.Writer, duration time.Duration, clients int, results []loadResult) {
	fmt.Fprintf(w, "load: GET %s, %d clients, %d interleaved runs of %v per configuration\n\n",
		loadPath, clients, loadRounds, duration)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tconfig\trequests\treq/s\tp50\tp99\terrors\t")
	for round := range loadRounds {
		for _, res := range results {
			if round < len(res.Runs) {
				printRun(tw, fmt.Sprint(round+1), res.Name, res.Runs[round])
			}
		}
	}
	for _, res := range results {
		printRun(tw, "all", res.Name, res.total())
	}
	tw.Flush()

	if len(results) < 2 {
		return
	}
	fmt.Fprintln(w)
	base := results[0].total()
	for _, res := range results[1:] {
		t := res.total()
		fmt.Fprintf(w, "%s / %s: req/s %.3f, p50 %.3f, p99 %.3f\n", res.Name, results[0].Name,
			ratio(t.rps(), base.rps()),
			ratio(float64(t.percentile(50)), float64(base.percentile(50))),
			ratio(float64(t.percentile(99)), float64(base.percentile(99))))
	}
}

func printRun(w io.Writer, round, name string, run loadRun) {
	fmt.Fprintf(w, "%s\t%s\t%d\t%.0f\t%v\t%v\t%d\t\n", round, name, run.Requests, run.rps(),
		run.percentile(50).Round(time.Microsecond), run.percentile(99).Round(time.Microsecond), run.Errors)
}

// ratio is a/b, or NaN when b is zero, so that a run with no requests
// shows up as such rather than as a misleading number.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
