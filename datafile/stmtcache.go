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
	// Answers already looked up in this transaction: records known to exist ("table\x00id"), and the
	// store of an invoice. Invoice lines repeat the same invoice, store and items thousands of times. Only
	// positive answers are kept, and forget() drops them before anything is deleted.
	exists       map[string]bool
	invoiceStore map[string]string
	storeSite    map[string]int64
}

func newStmtCache(tx *sql.Tx) *stmtCache {
	return &stmtCache{tx: tx, stmts: map[string]*sql.Stmt{}, exists: map[string]bool{}, invoiceStore: map[string]string{}, storeSite: map[string]int64{}}
}

// forget drops the remembered answers, before a step that may delete records.
func (c *stmtCache) forget() {
	clear(c.exists)
	clear(c.invoiceStore)
	clear(c.storeSite)
}

// siteOfStore returns the site a store is active on, and sql.ErrNoRows when there is no such store.
func siteOfStore(ctx context.Context, q queryer, storeID string) (int64, error) {
	cache, _ := q.(*stmtCache)
	if cache != nil {
		if site, ok := cache.storeSite[storeID]; ok {
			return site, nil
		}
	}
	var site int64
	if err := q.QueryRowContext(ctx, `SELECT site_id FROM store WHERE id = ?`, storeID).Scan(&site); err != nil {
		return 0, err
	}
	if cache != nil {
		cache.storeSite[storeID] = site
	}
	return site, nil
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
