package datafile

import (
	"context"
	"database/sql"
)

// stmtCache prepares each query once per transaction. The checks on every record written (references,
// stores, ownership) run the same few queries thousands of times, and preparing them anew each time cost
// more than running them.
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newStmtCache(tx *sql.Tx) *stmtCache {
	return &stmtCache{tx: tx, stmts: map[string]*sql.Stmt{}}
}

// QueryRowContext runs query through its prepared statement.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, ok := c.stmts[query]
	if !ok {
		var err error
		if stmt, err = c.tx.PrepareContext(ctx, query); err != nil {
			return c.tx.QueryRowContext(ctx, query, args...) // carries the same error to Scan
		}
		c.stmts[query] = stmt
	}
	return stmt.QueryRowContext(ctx, args...)
}

func (c *stmtCache) close() {
	for _, s := range c.stmts {
		s.Close()
	}
}
