package querytrace

import (
	"database/sql/driver"

	"github.com/querytrace/querytrace/internal/clock"
)

// ttx wraps a driver.Tx. Commit and Rollback get no context, so the trace
// of the BeginTx call is kept for them.
type ttx struct {
	tx   driver.Tx
	conn *conn
	t    *Trace
}

func (t *ttx) state() *tdriver { return t.conn.drv }
func (t *ttx) unwrap() any     { return t.tx }

// Commit commits the wrapped transaction. A commit that fails did not
// commit (PostgreSQL answers ROLLBACK to the COMMIT of a failed
// transaction, which pgx returns as ErrTxCommitRollback): it is counted as
// a rollback, with its error, as pgxtrace counts it.
func (t *ttx) Commit() error {
	start := clock.Now()
	err := t.tx.Commit()
	kind := KindCommit
	if err != nil {
		kind = KindRollback
	}
	t.conn.event(t.t, kind, "", nil, start, &argSum{}, err)
	return err
}

func (t *ttx) Rollback() error {
	start := clock.Now()
	err := t.tx.Rollback()
	t.conn.event(t.t, KindRollback, "", nil, start, &argSum{}, err)
	return err
}
