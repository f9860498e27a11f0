package debugpage

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// explainView is the plan of one statement.
type explainView struct {
	Fingerprint string
	Shape       string
	SQL         string
	Plan        []string
	Err         string
}

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
	v := &explainView{Fingerprint: fp, Shape: shape}
	query, ok := explainable(shape)
	if !ok {
		v.Err = "only a single SELECT, INSERT, UPDATE, DELETE or WITH statement can be explained"
		h.render(w, "explain.html", "EXPLAIN", v)
		return
	}
	v.SQL = query
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	plan, err := runExplain(ctx, h.Explain, query)
	if err != nil {
		v.Err = err.Error()
	}
	v.Plan = plan
	h.render(w, "explain.html", "EXPLAIN", v)
}

// explainable returns the EXPLAIN (GENERIC_PLAN) statement of a shape:
// its placeholders become $1, $2, ... and an elided list "(?)" one
// parameter, so that PostgreSQL plans it without arguments.
func explainable(shape string) (string, bool) {
	verb, _, _ := strings.Cut(strings.TrimSpace(shape), " ")
	switch strings.ToLower(verb) {
	case "select", "insert", "update", "delete", "with":
	default:
		return "", false
	}
	if strings.Contains(shape, ";") {
		return "", false
	}
	var b strings.Builder
	b.WriteString("EXPLAIN (GENERIC_PLAN) ")
	n := 0
	for i := 0; i < len(shape); i++ {
		if shape[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(shape[i])
	}
	return b.String(), true
}

// runExplain runs query in a read-only transaction that it rolls back, and
// returns the plan's lines. A plan with parameters and no arguments needs
// the simple query protocol: lib/pq uses it for a query without arguments,
// pgx must be told, which other drivers would refuse.
func runExplain(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	plan, err := explainTx(ctx, db, query)
	if err != nil {
		if plan, err2 := explainTx(ctx, db, query, pgx.QueryExecModeSimpleProtocol); err2 == nil {
			return plan, nil
		}
	}
	return plan, err
}

func explainTx(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		plan = append(plan, line)
	}
	return plan, rows.Err()
}
