package datafile

import (
	"context"
	"database/sql"
	"sync"
)

// maxPreparedQueries bounds how many query texts stay prepared: the hot ones come first, and queries built
// with a varying number of placeholders cannot grow the set without end.
const maxPreparedQueries = 256

// reuseStatements is off only in the benchmark that measures what it saves.
var reuseStatements = true

// statements are the queries a busy central runs over and over (a site's credentials, the head of every
// pull, a page of changes), kept prepared on each connection that has run them. Compiling one of these
// statements costs SQLite more than running it, and a thousand sites' idle cycles run them thousands of
// times a minute.
type statements struct {
	mu      sync.Mutex
	byQuery map[string]*sql.Stmt
}

func (st *statements) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.byQuery {
		s.Close()
	}
	st.byQuery = nil
}

// prepared is q, a transaction or the pool, running the queries it is given as statements prepared once.
func (db *DB) prepared(q dbtx) dbtx {
	if !reuseStatements {
		return q
	}
	return preparedQueries{db: db, q: q}
}

type preparedQueries struct {
	db *DB
	q  dbtx
}

// statement returns query prepared for q, or nil when it is not kept prepared.
func (p preparedQueries) statement(ctx context.Context, query string) *sql.Stmt {
	st := p.db.stmts
	st.mu.Lock()
	s, ok := st.byQuery[query]
	full := st.byQuery == nil || len(st.byQuery) >= maxPreparedQueries
	st.mu.Unlock()
	if !ok {
		if full {
			return nil
		}
		var err error
		if s, err = p.db.sql.PrepareContext(ctx, query); err != nil {
			return nil // run unprepared, to fail there with the error in its context
		}
		st.mu.Lock()
		if kept, ok := st.byQuery[query]; ok || st.byQuery == nil {
			s.Close()
			s = kept
		} else {
			st.byQuery[query] = s
		}
		st.mu.Unlock()
		if s == nil {
			return nil
		}
	}
	if tx, ok := p.q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, s)
	}
	return s
}

func (p preparedQueries) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.statement(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.q.QueryContext(ctx, query, args...)
}

func (p preparedQueries) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.statement(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.q.QueryRowContext(ctx, query, args...)
}

func (p preparedQueries) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.q.ExecContext(ctx, query, args...)
}

func (p preparedQueries) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.q.PrepareContext(ctx, query)
}
