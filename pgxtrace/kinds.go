package pgxtrace

import (
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/arghash"
	"github.com/querytrace/querytrace/internal/fnv1a"
)

// boundary returns the kind of a statement that begins, commits or rolls
// back the current transaction, as pgx.Tx runs them, or 0 for any other
// statement. "rollback to savepoint", "commit prepared" and the like are
// ordinary statements.
func boundary(sql string) querytrace.Kind {
	i := skipSpace(sql, 0)
	if i == len(sql) {
		return 0
	}
	switch sql[i] | 0x20 { // cheap reject: most statements start otherwise
	case 'b', 's', 'c', 'e', 'r', 'a':
	default:
		return 0
	}
	word, j := nextWord(sql, i)
	var k querytrace.Kind
	switch {
	case strings.EqualFold(word, "begin"):
		k = querytrace.KindBegin
	case strings.EqualFold(word, "start"):
		w, _ := nextWord(sql, skipSpace(sql, j))
		if !strings.EqualFold(w, "transaction") {
			return 0
		}
		k = querytrace.KindBegin
	case strings.EqualFold(word, "commit"), strings.EqualFold(word, "end"):
		k = querytrace.KindCommit
	case strings.EqualFold(word, "rollback"), strings.EqualFold(word, "abort"):
		k = querytrace.KindRollback
	default:
		return 0
	}
	rest := sql[j:]
	if k != querytrace.KindBegin {
		w, _ := nextWord(rest, skipSpace(rest, 0))
		if strings.EqualFold(w, "to") || strings.EqualFold(w, "prepared") {
			return 0
		}
	}
	// "begin; insert ...": more than a boundary.
	if semi := strings.IndexByte(rest, ';'); semi >= 0 && skipSpace(rest, semi+1) < len(rest) {
		return 0
	}
	return k
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f') {
		i++
	}
	return i
}

// nextWord returns the letters of s from i, and where they end.
func nextWord(s string, i int) (string, int) {
	j := i
	for j < len(s) && (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z' || s[j] == '_') {
		j++
	}
	return s[i:j], j
}

// statementKind tells a query from an exec: by the command tag the server
// sent or, when it sent none (an error), by the statement's verb.
func statementKind(tag pgconn.CommandTag, sql string, prepared bool) querytrace.Kind {
	var rows bool
	if s := tag.String(); s != "" {
		w, _ := nextWord(s, 0)
		rows = strings.EqualFold(w, "select") || strings.EqualFold(w, "fetch") ||
			strings.EqualFold(w, "show") || strings.EqualFold(w, "explain")
	} else {
		w, _ := nextWord(sql, skipSpace(sql, 0))
		for _, v := range [...]string{"select", "with", "values", "table", "show", "explain", "fetch"} {
			if strings.EqualFold(w, v) {
				rows = true
				break
			}
		}
	}
	switch {
	case rows && prepared:
		return querytrace.KindStmtQuery
	case rows:
		return querytrace.KindQuery
	case prepared:
		return querytrace.KindStmtExec
	}
	return querytrace.KindExec
}

// copySQL is the statement CopyFrom runs, as its shape: the table and
// columns, never the rows.
func copySQL(table pgx.Identifier, columns []string) string {
	var b strings.Builder
	b.WriteString("COPY ")
	b.WriteString(table.Sanitize())
	b.WriteString(" (")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{c}.Sanitize())
	}
	b.WriteString(") FROM STDIN")
	return b.String()
}

// maxBatchShapes bounds how many distinct statements make a batch's text.
const maxBatchShapes = 8

// batchOf returns what one event says of a batch: its text (the statement
// its queries share, or the distinct statements one after the other), how
// many statements it stands for, the transaction boundaries queued in it,
// and the hash of all its arguments.
func (t *Tracer) batchOf(b *pgx.Batch) (text string, n int, boundaries []querytrace.Kind, args uint64) {
	ps := t.prepared.Load()
	var distinct [maxBatchShapes]string
	nd := 0
	more := false
	h := uint64(fnv1a.Offset)
	anyArgs := false
	for i, q := range b.QueuedQueries {
		if q == nil {
			continue
		}
		sql := q.SQL
		if k := boundary(sql); k != 0 {
			boundaries = append(boundaries, k)
			continue
		}
		if ps != nil {
			if text, ok := (*ps)[sql]; ok {
				sql = text
			}
		}
		n++
		if len(q.Arguments) > 0 {
			anyArgs = true
			h = arghash.Value(h, int64(i+1))
			h = foldArgs(h, q.Arguments)
		}
		seen := false
		for _, d := range distinct[:nd] {
			if d == sql {
				seen = true
				break
			}
		}
		if !seen {
			if nd < maxBatchShapes {
				distinct[nd] = sql
				nd++
			} else {
				more = true
			}
		}
	}
	switch {
	case nd == 1 && !more:
		text = distinct[0]
	case nd > 1:
		var sb strings.Builder
		for i, d := range distinct[:nd] {
			if i > 0 {
				sb.WriteString(";\n")
			}
			sb.WriteString(strings.TrimRight(strings.TrimSpace(d), ";"))
		}
		text = sb.String()
	}
	if anyArgs {
		if h == 0 {
			h = 1
		}
		args = h
	}
	return text, n, boundaries, args
}
