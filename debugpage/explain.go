package debugpage

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// explainView is the plan of one statement. Ran is false on the page
// that only offers to plan it.
type explainView struct {
	Fingerprint string
	Shape       string
	Ran         bool
	SQL         string
	Plan        []string
	Err         string
}

// explain serves the plan of a statement. A GET shows the statement and a
// form; only the form's POST reaches the database. A GET is what any web
// page can make a browser send (an <img> does it, with no script and no
// click), and ServeHTTP's CrossOriginProtection lets it through; a POST
// from another origin it refuses, by Sec-Fetch-Site, which every current
// browser sends, or, from an older browser, by an Origin that is not this
// host. A POST without either header is not a browser's (curl, a script
// of the developer's own) and passes: a web page cannot make one.
func (h *Handler) explain(w http.ResponseWriter, r *http.Request) {
	if h.Explain == nil {
		http.Error(w, "querytrace: EXPLAIN is off (set Handler.Explain to a *sql.DB)", http.StatusNotFound)
		return
	}
	fp := r.PathValue("fingerprint")
	shape := h.recorder().shape(fp)
	if shape == "" {
		http.Error(w, "querytrace: no statement with that fingerprint is held", http.StatusNotFound)
		return
	}
	v := &explainView{Fingerprint: fp, Shape: shape, Ran: r.Method == http.MethodPost}
	stmt, params, ok := explainable(shape)
	if !ok {
		v.Err = "only a single SELECT, INSERT, UPDATE, DELETE or WITH statement can be explained"
		h.render(w, "explain.html", "EXPLAIN", v)
		return
	}
	if !v.Ran {
		h.render(w, "explain.html", "EXPLAIN", v)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	sent, plan, err := runExplain(ctx, h.Explain, stmt, params)
	if err != nil {
		v.Err = err.Error()
	}
	v.SQL, v.Plan = sent, plan
	h.render(w, "explain.html", "EXPLAIN", v)
}

// explainable returns the statement of a shape to plan: its placeholders
// become $1, $2, ... (an elided list "(?)" one parameter), so that
// PostgreSQL plans it without arguments, and how many there are.
func explainable(shape string) (string, int, bool) {
	verb, _, _ := strings.Cut(strings.TrimSpace(shape), " ")
	switch strings.ToLower(verb) {
	case "select", "insert", "update", "delete", "with":
	default:
		return "", 0, false
	}
	if strings.Contains(shape, ";") {
		return "", 0, false
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(shape); i++ {
		if shape[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(shape[i])
	}
	return b.String(), n, true
}

// explainSeq names the statements prepared for plans before PostgreSQL
// 16: a name is never reused, so that one left behind by a failed plan
// cannot collide.
var explainSeq atomic.Uint64

// runExplain plans stmt in a read-only transaction that it rolls back,
// and returns what it sent and the plan's lines. PostgreSQL 16 and later
// plan it with EXPLAIN (GENERIC_PLAN); earlier ones, and drivers that
// cannot send that without arguments, through a prepared statement
// executed with NULLs under plan_cache_mode force_generic_plan, which
// gives the same generic plan.
func runExplain(ctx context.Context, db *sql.DB, stmt string, params int) (sent string, plan []string, err error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return "", nil, err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return "", nil, err
	}
	if version >= 160000 {
		// A statement with parameters and no arguments needs the simple
		// query protocol: lib/pq uses it for a query without arguments,
		// while pgx prepares the statement and then misses its arguments.
		// The try runs in a savepoint, so that its failure leaves the
		// transaction usable for the prepared statement, which every
		// driver sends as it is.
		sent = "EXPLAIN (GENERIC_PLAN) " + stmt
		if _, err := tx.ExecContext(ctx, "SAVEPOINT querytrace_explain"); err != nil {
			return sent, nil, err
		}
		plan, err = lines(ctx, tx, sent)
		if err == nil || params == 0 {
			return sent, plan, err
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT querytrace_explain"); err != nil {
			return sent, nil, err
		}
	}
	return explainPrepared(ctx, tx, stmt, params)
}

// explainPrepared plans stmt as a prepared statement forced to its generic
// plan, executed with a NULL for each parameter.
func explainPrepared(ctx context.Context, tx *sql.Tx, stmt string, params int) (sent string, plan []string, err error) {
	name := "querytrace_explain_" + strconv.FormatUint(explainSeq.Add(1), 10)
	nulls := strings.TrimSuffix(strings.Repeat("NULL, ", params), ", ")
	steps := []string{
		"SET LOCAL plan_cache_mode = force_generic_plan",
		"PREPARE " + name + " AS " + stmt,
	}
	explain := "EXPLAIN EXECUTE " + name
	if params > 0 {
		explain += "(" + nulls + ")"
	}
	sent = strings.Join(append(steps, explain), ";\n")
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return sent, nil, err
		}
	}
	plan, err = lines(ctx, tx, explain)
	tx.ExecContext(ctx, "DEALLOCATE "+name)
	return sent, plan, err
}

// lines returns the one-column rows of query.
func lines(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	return out, rows.Err()
}
