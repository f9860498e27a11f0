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

// Commit commits the wrapped transaction.
func (t *ttx) Commit() error {
	start := clock.Now()
	err := t.tx.Commit()
	t.conn.event(t.t, KindCommit, "", start, 0, err)
	return err
}

// Rollback rolls the wrapped transaction back.
func (t *ttx) Rollback() error {
	start := clock.Now()
	err := t.tx.Rollback()
	t.conn.event(t.t, KindRollback, "", start, 0, err)
	return err
}
