package datafile

import (
	"context"
	"database/sql"
	"strings"
)

// recordStore reads and writes records of one table inside a transaction with prepared statements.
type recordStore struct {
	t      *Table
	tx     *sql.Tx
	get    *sql.Stmt
	upsert *sql.Stmt
	insert *sql.Stmt
}

func newRecordStore(ctx context.Context, tx *sql.Tx, t *Table) (*recordStore, error) {
	cols := t.Columns()
	get, err := tx.PrepareContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+t.Name+` WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	var sets, changed []string
	for _, f := range t.Fields {
		sets = append(sets, f.Name+" = excluded."+f.Name)
		changed = append(changed, f.Name+" IS NOT excluded."+f.Name)
	}
	// The WHERE keeps a write of identical content from touching the row, so a replayed record leaves no
	// trace in the change log.
	q := `INSERT INTO ` + t.Name + ` (` + strings.Join(cols, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(cols)-1) + `)
		ON CONFLICT (id) DO UPDATE SET ` + strings.Join(sets, ", ") + ` WHERE ` + strings.Join(changed, " OR ")
	upsert, err := tx.PrepareContext(ctx, q)
	if err != nil {
		get.Close()
		return nil, err
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO `+t.Name+` (`+strings.Join(cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`)`)
	if err != nil {
		get.Close()
		upsert.Close()
		return nil, err
	}
	return &recordStore{t: t, tx: tx, get: get, upsert: upsert, insert: insert}, nil
}

func (rs *recordStore) close() {
	rs.get.Close()
	rs.upsert.Close()
	rs.insert.Close()
}

// insertNew writes rec only if no record has its id; taken reports that one has.
func (rs *recordStore) insertNew(ctx context.Context, rec Record) (taken bool, err error) {
	args := make([]any, 0, len(rs.t.Fields)+1)
	for _, col := range rs.t.Columns() {
		args = append(args, sqlValue(rec.Values[col]))
	}
	_, err = rs.insert.ExecContext(ctx, args...)
	if isPrimaryKeyTaken(err) {
		return true, nil
	}
	return false, err
}

func (rs *recordStore) load(ctx context.Context, id string) (*Record, error) {
	return scanRecord(rs.t, rs.get.QueryRowContext(ctx, id))
}

func (rs *recordStore) write(ctx context.Context, rec Record) error {
	args := make([]any, 0, len(rs.t.Fields)+1)
	for _, col := range rs.t.Columns() {
		args = append(args, sqlValue(rec.Values[col]))
	}
	_, err := rs.upsert.ExecContext(ctx, args...)
	return err
}

// writeTable runs fn in a write transaction, with the datafile's settings and a record store for the table
// named: the opening of every local write to store or master data.
func (db *DB) writeTable(ctx context.Context, tableName string, fn func(tx *sql.Tx, s Settings, rs *recordStore) error) error {
	t, err := LookupTable(tableName)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if err := widenCacheForBulkWrites(ctx, tx); err != nil {
			return err
		}
		s, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		rs, err := newRecordStore(ctx, tx, t)
		if err != nil {
			return err
		}
		defer rs.close()
		return fn(tx, s, rs)
	})
}
