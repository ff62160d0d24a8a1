package datafile

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// GetRecord returns the record of table with id, or a not_found error.
func (db *DB) GetRecord(ctx context.Context, tableName, id string) (Record, error) {
	t, err := LookupTable(tableName)
	if err != nil {
		return Record{}, err
	}
	rec, err := scanRecord(t, db.conn().QueryRowContext(ctx, `SELECT `+strings.Join(t.Columns(), ", ")+` FROM `+t.Name+` WHERE id = ?`, id))
	if err != nil {
		return Record{}, err
	}
	if rec == nil {
		return Record{}, errorf(ENOTFOUND, "no %s with id %q", t.Name, id)
	}
	return *rec, nil
}

// Condition is one FIELD=VALUE filter of ListRecords.
type Condition struct {
	Field string
	Value string
}

// ListRecords returns the records of table that match every condition, in id order.
func (db *DB) ListRecords(ctx context.Context, tableName string, where []Condition) ([]Record, error) {
	var out []Record
	err := db.EachRecord(ctx, tableName, where, ListOptions{}, func(rec Record) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// ListOptions pages a listing: the records whose id sorts after After, at most Limit of them (0: all).
type ListOptions struct {
	After string
	Limit int
}

// EachRecord calls fn with each record of table that matches every condition, in id order, reading them
// one at a time: a listing of any size is printed without holding it. An error from fn stops it.
func (db *DB) EachRecord(ctx context.Context, tableName string, where []Condition, opts ListOptions, fn func(Record) error) error {
	t, err := LookupTable(tableName)
	if err != nil {
		return err
	}
	if opts.Limit < 0 {
		return errorf(EINVALID, "a limit must be 0 (none) or more")
	}
	var clauses []string
	var args []any
	for _, c := range where {
		if c.Field == "id" {
			clauses = append(clauses, "id = ?")
			args = append(args, c.Value)
			continue
		}
		f, ok := t.Field(c.Field)
		if !ok {
			return errorf(EINVALID, "unknown field %q in --where", c.Field).
				withHint("the fields of %s are %s", t.Name, strings.Join(t.Columns(), ", "))
		}
		switch f.Type {
		case Bool:
			b, err := strconv.ParseBool(c.Value)
			if err != nil {
				return errorf(EINVALID, "--where %s= takes true or false", f.Name)
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, sqlValue(b))
		case Number:
			n, err := strconv.ParseFloat(c.Value, 64)
			if err != nil {
				return errorf(EINVALID, "--where %s= takes a number", f.Name)
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, n)
		default:
			if c.Value == "" && f.Nullable {
				clauses = append(clauses, f.Name+" IS NULL")
				continue
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, c.Value)
		}
	}
	if opts.After != "" {
		clauses = append(clauses, "id > ?")
		args = append(args, opts.After)
	}
	q := `SELECT ` + strings.Join(t.Columns(), ", ") + ` FROM ` + t.Name
	if len(clauses) > 0 {
		q += ` WHERE ` + strings.Join(clauses, " AND ")
	}
	q += ` ORDER BY id`
	if opts.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, opts.Limit)
	}
	return queryEach(ctx, db.conn(), func(rows *sql.Rows) error {
		rec, err := scanRecord(t, rows)
		if err != nil {
			return err
		}
		return fn(*rec)
	}, q, args...)
}

// Snapshot runs fn with a handle whose every read sees the datafile as it stood when fn began, whatever
// other processes write meanwhile: a listing read twice (once to measure, once to print) reads the same
// rows both times. The handle cannot write.
func (db *DB) Snapshot(ctx context.Context, fn func(*DB) error) error {
	if db.tx != nil {
		return fn(db)
	}
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	inner := *db
	inner.tx = tx
	return fn(&inner)
}
