package debugpage

import (
	"bufio"
	"encoding/json"
	"expvar"
	"io"
	"strconv"
	"strings"
	"time"
)

// WritePrometheus writes the statistics to w in the Prometheus text
// exposition format (version 0.0.4): one series per route, statement
// fingerprint and call site, and the evicted entries under the route
// "(other)", so that the sums over series are exact. A call site is
// labeled call_site, as the pages print it ("store/items.go:42
// store.(*DB).Items"), and file, its whole path, so that two call sites
// that print alike are two series. The shapes are in
// querytrace_statement_info, once per fingerprint.
//
// The text parses whatever the labels hold: bytes that are not UTF-8 are
// written as U+FFFD, and entries whose labels are then the same are
// written as one series, their sums added, never as two samples of one
// series, which would make Prometheus refuse the scrape.
func (r *Recorder) WritePrometheus(w io.Writer) error {
	st := r.Statistics(0)
	b := bufio.NewWriter(w)
	metric := func(name, typ, help string) {
		b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
	}
	sample := func(name, labels string, v float64) {
		b.WriteString(name)
		b.WriteString(labels)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		b.WriteByte('\n')
	}
	all := st.Stats
	if st.Other.Calls > 0 {
		other := st.Other
		other.Route = "(other)"
		all = append(all, other)
	}
	// One series per label set as written, in the order of the
	// statistics.
	var (
		rows  []Stat
		texts []string
	)
	index := make(map[string]int, len(all))
	for i := range all {
		s := &all[i]
		file := ""
		if len(s.Stack) > 0 {
			file = s.Stack[0].File
		}
		text := labelText("route", s.Route, "fingerprint", fmtFingerprint(s.Fingerprint), "call_site", s.CallSite(), "file", file)
		if j, ok := index[text]; ok {
			rows[j].merge(s)
			continue
		}
		index[text] = len(rows)
		rows = append(rows, *s)
		texts = append(texts, text)
	}
	metric("querytrace_requests_total", "counter", "Finished traces (requests) recorded since the statistics were reset.")
	sample("querytrace_requests_total", "", float64(st.Requests))
	metric("querytrace_statistics_evicted_total", "counter", "Statistics entries folded into route \"(other)\" to bound memory.")
	sample("querytrace_statistics_evicted_total", "", float64(st.Evicted))
	for _, m := range []struct {
		name, typ, help string
		value           func(*Stat) float64
	}{
		{"querytrace_statement_calls_total", "counter", "Executions of the statement.", func(s *Stat) float64 { return float64(s.Calls) }},
		{"querytrace_statement_seconds_total", "counter", "Time spent in the statement, until its rows were closed.", func(s *Stat) float64 { return s.Total.Seconds() }},
		{"querytrace_statement_max_seconds", "gauge", "Longest single execution of the statement.", func(s *Stat) float64 { return s.Max.Seconds() }},
		{"querytrace_statement_rows_total", "counter", "Rows read or affected by the statement.", func(s *Stat) float64 { return float64(s.Rows) }},
		{"querytrace_statement_errors_total", "counter", "Executions of the statement that returned an error.", func(s *Stat) float64 { return float64(s.Errors) }},
		{"querytrace_statement_n_plus_one_total", "counter", "Requests in which the statement was an N+1.", func(s *Stat) float64 { return float64(s.NPlusOne) }},
	} {
		metric(m.name, m.typ, m.help)
		for i := range rows {
			sample(m.name, texts[i], m.value(&rows[i]))
		}
	}
	metric("querytrace_statement_info", "gauge", "The normalized text of each statement fingerprint: no literal values.")
	seen := make(map[uint64]bool)
	for i := range st.Stats {
		s := &st.Stats[i]
		if !seen[s.Fingerprint] {
			seen[s.Fingerprint] = true
			sample("querytrace_statement_info", labelText("fingerprint", fmtFingerprint(s.Fingerprint), "shape", s.Shape), 1)
		}
	}
	return b.Flush()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labelText returns the labels, pairs of name and value, as the text
// format writes them: {name="value",...}, each value valid UTF-8 (a byte
// that is not is written as U+FFFD) and escaped.
func labelText(pairs ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i] + `="` + labelEscaper.Replace(strings.ToValidUTF8(pairs[i+1], "\uFFFD")) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// Publish publishes the statistics with expvar under name, in the form of
// their JSON at /debug/querytrace/stats.json. Nothing is published unless
// it is called. Like expvar.Publish, it panics if name is already taken.
func (r *Recorder) Publish(name string) {
	expvar.Publish(name, expvar.Func(func() any { return r.Statistics(0).json() }))
}

// jsonStatistics is the JSON form of Statistics.
type jsonStatistics struct {
	Since    time.Time   `json:"since"`
	Requests int         `json:"requests"`
	Evicted  int         `json:"evicted"`
	Stats    []*jsonStat `json:"stats"`
	Other    *jsonStat   `json:"other"`
}

type jsonStat struct {
	Route       string `json:"route"`
	Shape       string `json:"shape"`
	Fingerprint string `json:"fingerprint"`
	CallSite    string `json:"call_site"`
	Calls       int    `json:"calls"`
	Requests    int    `json:"requests"`
	TotalNS     int64  `json:"total_ns"`
	MeanNS      int64  `json:"mean_ns"`
	MinMeanNS   int64  `json:"min_mean_ns"`
	MaxNS       int64  `json:"max_ns"`
	Rows        int64  `json:"rows"`
	Errors      int    `json:"errors"`
	NPlusOne    int    `json:"n_plus_one"`
	First       string `json:"first_seen,omitempty"`
	Last        string `json:"last_seen,omitempty"`
}

func (s *Stat) json() *jsonStat {
	j := &jsonStat{
		Route:     s.Route,
		Shape:     s.Shape,
		CallSite:  s.CallSite(),
		Calls:     s.Calls,
		Requests:  s.Requests,
		TotalNS:   int64(s.Total),
		MeanNS:    int64(s.Mean()),
		MinMeanNS: int64(s.MinMean),
		MaxNS:     int64(s.Max),
		Rows:      s.Rows,
		Errors:    s.Errors,
		NPlusOne:  s.NPlusOne,
	}
	if s.Fingerprint != 0 {
		j.Fingerprint = fmtFingerprint(s.Fingerprint)
	}
	if !s.First.IsZero() {
		j.First = s.First.Format(time.RFC3339Nano)
		j.Last = s.Last.Format(time.RFC3339Nano)
	}
	return j
}

func (st *Statistics) json() *jsonStatistics {
	j := &jsonStatistics{Since: st.Since, Requests: st.Requests, Evicted: st.Evicted, Stats: make([]*jsonStat, len(st.Stats)), Other: st.Other.json()}
	for i := range st.Stats {
		j.Stats[i] = st.Stats[i].json()
	}
	return j
}

// MarshalJSON encodes the statistics with stable keys: since, requests,
// evicted, stats and other, each stat with route, shape, fingerprint (16
// hex digits), call_site, calls, requests, total_ns, mean_ns,
// min_mean_ns (see Stat.MinMean), max_ns, rows, errors, n_plus_one, first_seen and last_seen (RFC 3339).
func (st *Statistics) MarshalJSON() ([]byte, error) { return json.Marshal(st.json()) }

func fmtFingerprint(fp uint64) string {
	s := strconv.FormatUint(fp, 16)
	return strings.Repeat("0", 16-len(s)) + s
}
