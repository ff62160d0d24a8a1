package datafile

import (
	"context"
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
	t, err := LookupTable(tableName)
	if err != nil {
		return nil, err
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
			return nil, errorf(EINVALID, "unknown field %q in --where", c.Field).
				withHint("the fields of %s are %s", t.Name, strings.Join(t.Columns(), ", "))
		}
		switch f.Type {
		case Bool:
			b, err := strconv.ParseBool(c.Value)
			if err != nil {
				return nil, errorf(EINVALID, "--where %s= takes true or false", f.Name)
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, sqlValue(b))
		case Number:
			n, err := strconv.ParseFloat(c.Value, 64)
			if err != nil {
				return nil, errorf(EINVALID, "--where %s= takes a number", f.Name)
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
	q := `SELECT ` + strings.Join(t.Columns(), ", ") + ` FROM ` + t.Name
	if len(clauses) > 0 {
		q += ` WHERE ` + strings.Join(clauses, " AND ")
	}
	q += ` ORDER BY id`
	rows, err := db.conn().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		rec, err := scanRecord(t, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *rec)
	}
	return out, rows.Err()
}
