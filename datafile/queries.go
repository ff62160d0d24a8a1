package datafile

import (
	"context"
	"database/sql"
)

// queryer and rowsQueryer are what a read needs of a *sql.DB, a *sql.Tx or a statement cache, so that one
// function serves inside and outside a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type rowsQueryer interface {
	queryer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryEach runs query and calls row for each row it returns, closing the rows whatever happens: the
// loop every multi-row read would otherwise spell out, with its three error checks.
func queryEach(ctx context.Context, q rowsQueryer, row func(*sql.Rows) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryColumn returns the one column query selects, row by row.
func queryColumn[T any](ctx context.Context, q rowsQueryer, query string, args ...any) ([]T, error) {
	var out []T
	err := queryEach(ctx, q, func(rows *sql.Rows) error {
		var v T
		if err := rows.Scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, query, args...)
	return out, err
}
