package datafile

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// A transfer document lives in its own store and is also held, read-only, on the site of the store it is
// made out to: central queues it there, that site takes it in, keeps it when it purges other stores' data,
// and gets it again when the store it is made out to moves.

// counterpartSQL is an expression for the store a row r of table is made out to, when it is a transfer
// document or a line of one: the store whose name the document bears. It is NULL for any other row, and
// for a document made out to its own store.
func counterpartSQL(table string) string {
	if doc, isLine := lineDocument[table]; isLine {
		return `(SELECT nullif(n.store_id, d.store_id) FROM ` + doc.table + ` d JOIN name n ON n.id = d.name_id WHERE d.id = r.` + doc.field + `)`
	}
	if table == "invoice" || table == "requisition" {
		return `(SELECT nullif(n.store_id, r.store_id) FROM name n WHERE n.id = r.name_id)`
	}
	return `NULL`
}

// madeOutToSQL is a condition on a row r of a transfer table: it is a transfer made out to the store given
// twice as arguments. Unlike comparing counterpartSQL, it finds the rows through the indexes.
func madeOutToSQL(table string) string {
	docs := `SELECT d.id FROM %s d WHERE d.name_id IN (SELECT id FROM name WHERE store_id = ?) AND d.store_id <> ?`
	if doc, isLine := lineDocument[table]; isLine {
		return `r.` + doc.field + ` IN (` + strings.Replace(docs, "%s", doc.table, 1) + `)`
	}
	return `r.id IN (` + strings.Replace(docs, "%s", table, 1) + `)`
}

// isTransferTable reports whether table holds transfer documents or their lines.
func isTransferTable(table string) bool {
	return counterpartSQL(table) != `NULL`
}

// counterpartOfRecord is the store rec is made out to, from its own values ("" for none): the record may
// not be written yet.
func counterpartOfRecord(ctx context.Context, q queryer, rec Record) (string, error) {
	var query string
	var arg any
	if doc, isLine := lineDocument[rec.Table.Name]; isLine {
		query = `SELECT nullif(n.store_id, d.store_id) FROM ` + doc.table + ` d JOIN name n ON n.id = d.name_id WHERE d.id = ?`
		arg = rec.Values[doc.field]
	} else if isTransferTable(rec.Table.Name) {
		var store sql.NullString
		err := q.QueryRowContext(ctx, `SELECT store_id FROM name WHERE id = ?`, rec.Values["name_id"]).Scan(&store)
		if errors.Is(err, sql.ErrNoRows) || store.String == rec.StoreID() {
			return "", nil
		}
		return store.String, err
	} else {
		return "", nil
	}
	var store sql.NullString
	err := q.QueryRowContext(ctx, query, arg).Scan(&store)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return store.String, err
}

// counterpartOfRow is the store the row id of table is made out to ("" for none).
func counterpartOfRow(ctx context.Context, q queryer, table, id string) (string, error) {
	var store sql.NullString
	err := q.QueryRowContext(ctx, `SELECT `+counterpartSQL(table)+` FROM `+table+` r WHERE r.id = ?`, id).Scan(&store)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return store.String, err
}

// transferCopy reports whether a remote holds a record of another store as a transfer made out to a store
// active here, given the store it is made out to.
func (in *integrator) transferCopy(ctx context.Context, counterpart string) (bool, error) {
	if in.role != RoleRemote || counterpart == "" {
		return false, nil
	}
	st, err := in.look.store(ctx, counterpart)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && st.site == in.thisSite, err
}

// returnParkedTransfer queues central's state of a transfer record that central parked from a site whose
// store was forced away from it: the site may hold the record as a transfer made out to one of its own
// stores, which its purge keeps, and must then hold what central holds (nothing, when central has none).
// Sent to a site for which it is no such transfer, it is dropped there.
func returnParkedTransfer(ctx context.Context, tx *sql.Tx, siteID int64, table, id string) error {
	if !isTransferTable(table) {
		return nil
	}
	counterpart, err := counterpartOfRow(ctx, tx, table, id)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
		VALUES (?, ?, ?, ?, 'update')`, siteID, table, id, counterpart)
	return err
}
