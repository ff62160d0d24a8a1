package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// writer holds what every local write checks: who this datafile is, and the lookups of its transaction.
type writer struct {
	settings Settings
	look     *lookups
}

// checkOwnership refuses a local write of store data of storeID (or of master data) that this site may not
// make; mayWrite decides.
func (w writer) checkOwnership(ctx context.Context, t *Table, storeID string) error {
	o, err := mayWrite(ctx, w.look, writeRequest{path: localWrite, role: w.settings.Role, site: w.settings.ThisSiteID, table: t, storeID: storeID})
	if err != nil || o.verdict == writeAllowed {
		return err
	}
	return o.err
}

// RecordSource yields raw records one at a time and io.EOF after the last. With an error about a record it
// has read, it may return that record too, so that the error names the record's id.
type RecordSource func() (map[string]any, error)

// Records is a RecordSource over records already decoded.
func Records(raws ...map[string]any) RecordSource {
	i := 0
	return func() (map[string]any, error) {
		if i >= len(raws) {
			return nil, io.EOF
		}
		i++
		return raws[i-1], nil
	}
}

// PutRecords creates or updates records of one table from src, all of them or none: the first invalid record
// rolls back the whole batch and its error names the record. Fields left out of an update keep their values.
// It returns the id of each record in input order, so it suits batches whose ids fit in memory; a bulk
// import takes them one at a time with PutRecordsEach.
func (db *DB) PutRecords(ctx context.Context, tableName string, src RecordSource) ([]string, error) {
	var ids []string
	if _, err := db.PutRecordsEach(ctx, tableName, src, func(id string) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, err
	}
	return ids, nil
}

// PutRecordsEach is PutRecords handing each record's id to written, in input order, as the record is
// written, and returning how many were: the ids of a million-record import held until the commit took
// about a quarter of the import's memory. written runs inside the transaction, so an id is only final once
// PutRecordsEach returns nil; an error from written rolls everything back and is returned as it is.
func (db *DB) PutRecordsEach(ctx context.Context, tableName string, src RecordSource, written func(id string) error) (int, error) {
	n := 0
	err := db.writeTable(ctx, tableName, func(tx *sql.Tx, s Settings, rs *recordStore) error {
		stmts := newStmtCache(tx)
		defer stmts.close()
		w := writer{settings: s, look: newLookups(stmts)}
		// An import can be millions of records: ctx is checked once a record rather than watched by a
		// goroutine for each statement.
		quiet := context.WithoutCancel(ctx)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			raw, err := src()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return recordError(n+1, raw, err)
			}
			id, err := w.put(quiet, rs, raw)
			if err != nil {
				return recordError(n+1, raw, err)
			}
			n++
			if err := written(id); err != nil {
				return err
			}
		}
		if n == 0 {
			return errorf(EINVALID, "no records given")
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func recordError(n int, raw map[string]any, err error) error {
	where := fmt.Sprintf("record %d", n)
	if id, ok := raw["id"].(string); ok && id != "" {
		where += fmt.Sprintf(" (id %q)", id)
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: where + ": " + e.Message, Hint: e.Hint + nothingWritten(e.Hint)}
	}
	return &Error{Code: EINVALID, Message: where + ": " + err.Error(), Hint: "nothing was written; correct the record and run the command again"}
}

func nothingWritten(hint string) string {
	if hint == "" {
		return "nothing was written; correct the record and run the command again"
	}
	return "; nothing was written"
}

func (w writer) put(ctx context.Context, rs *recordStore, raw map[string]any) (string, error) {
	t := rs.t
	if v, given := raw["id"]; given {
		id, ok := v.(string)
		if !ok {
			return "", errors.New("id must be a string")
		}
		if err := validID(id); err != nil {
			return "", err
		}
	} else {
		raw["id"] = uuid.NewString()
	}
	id := raw["id"].(string)
	// Most records of a bulk import are new: write them as new first, and only when the id turns out to be
	// taken read the record as it stands and merge. A record that is not valid as new (an update naming
	// only some fields) goes the long way too, which also gives the right error when it is invalid.
	if inserted, err := w.putNew(ctx, rs, raw); err != nil || inserted {
		return id, err
	}
	existing, err := rs.load(ctx, id)
	if err != nil {
		return "", err
	}
	if doc, isLine := lineDocument[t.Name]; isLine && existing == nil && raw[StoreField] == nil {
		// putNew fills a new line's store in from its document; left empty, there is no such document, and
		// that is what is wrong, not the store left out.
		if docID, ok := raw[doc.field].(string); ok {
			if _, err := w.look.documentStoreOf(ctx, doc.table, docID); errors.Is(err, sql.ErrNoRows) {
				return "", fmt.Errorf("field %s: no %s with id %q", doc.field, doc.table, docID)
			} else if err != nil {
				return "", err
			}
		}
	}
	rec, err := t.normalise(raw, existing)
	if err != nil {
		return "", err
	}
	if existing == nil {
		if err := w.look.checkIDFree(ctx, t, id); err != nil {
			return "", err
		}
		if err := w.numberInvoice(ctx, rec, raw); err != nil {
			return "", err
		}
	}
	if t.Kind == StoreData && existing != nil {
		if err := w.checkOwnership(ctx, t, existing.StoreID()); err != nil {
			return "", err
		}
		if existing.StoreID() != rec.StoreID() {
			return "", errors.New("field store_id: a record cannot move to another store")
		}
	}
	if err := w.checkOwnership(ctx, t, rec.StoreID()); err != nil {
		return "", err
	}
	if err := w.look.checkRefs(ctx, rec); err != nil {
		return "", err
	}
	if err := checkRecordRules(ctx, w.look.q, rec); err != nil {
		return "", err
	}
	if err := rs.write(ctx, rec); err != nil {
		return "", err
	}
	return id, nil
}

// putNew writes raw as a new record when it is valid as one; inserted is false when it is not, or when
// its id is taken, and nothing was written.
func (w writer) putNew(ctx context.Context, rs *recordStore, raw map[string]any) (inserted bool, err error) {
	t := rs.t
	if doc, isLine := lineDocument[t.Name]; isLine && raw[StoreField] == nil {
		// A line belongs to its document's store; saying so twice is optional. Filled in here, it is there
		// for the long way too.
		if docID, ok := raw[doc.field].(string); ok {
			if storeID, err := w.look.documentStoreOf(ctx, doc.table, docID); err == nil {
				raw[StoreField] = storeID
			}
		}
	}
	rec, err := t.normalise(raw, nil)
	if err != nil {
		return false, nil
	}
	if err := w.numberInvoice(ctx, rec, raw); err != nil {
		return false, err
	}
	if w.checkOwnership(ctx, t, rec.StoreID()) != nil || w.look.checkLineStore(ctx, rec) != nil || checkRecordRules(ctx, w.look.q, rec) != nil {
		return false, nil
	}
	taken, err := rs.insertNew(ctx, rec)
	if isForeignKeyError(err) || isTriggerRefusal(err) {
		return false, nil // the long way names the reference that points at nothing, or the id's table
	}
	if err != nil || taken {
		return false, err
	}
	return true, nil
}

// numberInvoice gives a new invoice written here without a number the next number of its store, as mSupply
// numbers them. A number received by sync, or given, is kept.
func (w writer) numberInvoice(ctx context.Context, rec Record, raw map[string]any) error {
	if rec.Table.Name != "invoice" || raw["invoice_number"] != nil {
		return nil
	}
	var last float64
	if err := w.look.q.QueryRowContext(ctx, `SELECT coalesce(max(invoice_number), 0) FROM invoice WHERE store_id = ?`, rec.StoreID()).Scan(&last); err != nil {
		return err
	}
	rec.Values["invoice_number"] = last + 1
	return nil
}
