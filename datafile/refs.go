package datafile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// lookups answers the questions that writing a record asks of the datafile (does a referenced record
// exist, which store an invoice is in, where a store is), remembering the answers for the rest of one
// transaction: invoice lines repeat the same invoice, store and items thousands of times. Only answers
// that later writes cannot change are kept, and forget drops them all before a step that deletes.
type lookups struct {
	q             queryer
	exists        map[string]bool      // "table\x00id" of records known to exist
	documentStore map[[2]string]string // the store of an invoice or a requisition, by table and id
	stores        map[string]storeState
}

// storeState is where a store is active, and whether it is moving away.
type storeState struct {
	site   int64
	moving bool
}

// rememberAtMost bounds each memo of lookups, which lasts as long as its transaction: an import asks about
// the same few thousand items and invoices over and over, but a million lines may name a million of them,
// and remembering every answer would hold the whole import's references in memory.
const rememberAtMost = 1 << 16

func newLookups(q queryer) *lookups {
	return &lookups{q: q, exists: map[string]bool{}, documentStore: map[[2]string]string{}, stores: map[string]storeState{}}
}

// forget drops the remembered answers, before a step that may delete records.
func (l *lookups) forget() {
	clear(l.exists)
	clear(l.documentStore)
	clear(l.stores)
}

// refExists reports whether table holds a record with id.
func (l *lookups) refExists(ctx context.Context, table, id string) (bool, error) {
	if l.exists[table+"\x00"+id] {
		return true, nil
	}
	var one int
	err := l.q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err == nil {
		if len(l.exists) >= rememberAtMost {
			clear(l.exists)
		}
		l.exists[table+"\x00"+id] = true
	}
	return err == nil, err
}

// lineDocument is, for each table of lines, the field that names the document a line belongs to and that
// document's table. A line is in its document's store.
var lineDocument = map[string]struct{ field, table string }{
	"invoice_line":     {"invoice_id", "invoice"},
	"requisition_line": {"requisition_id", "requisition"},
}

// documentStoreOf returns the store of an invoice or a requisition, and sql.ErrNoRows when there is no
// such document.
func (l *lookups) documentStoreOf(ctx context.Context, table, id string) (string, error) {
	key := [2]string{table, id}
	if s, ok := l.documentStore[key]; ok {
		return s, nil
	}
	var storeID string
	if err := l.q.QueryRowContext(ctx, `SELECT store_id FROM `+table+` WHERE id = ?`, id).Scan(&storeID); err != nil {
		return "", err
	}
	if len(l.documentStore) >= rememberAtMost {
		clear(l.documentStore)
	}
	l.documentStore[key] = storeID
	return storeID, nil
}

// store returns where a store is active and whether it is moving, and sql.ErrNoRows when there is no such
// store. Integration writes store records before any store data and forgets after them, and central
// completes a handover only after the push's records are written.
func (l *lookups) store(ctx context.Context, storeID string) (storeState, error) {
	if s, ok := l.stores[storeID]; ok {
		return s, nil
	}
	var s storeState
	if err := l.q.QueryRowContext(ctx, `SELECT site_id, moving_to_site_id IS NOT NULL FROM store WHERE id = ?`, storeID).Scan(&s.site, &s.moving); err != nil {
		return s, err
	}
	l.stores[storeID] = s
	return s, nil
}

// checkRefs confirms that every reference of rec points at a record that exists, and that a line's store
// is its invoice's.
func (l *lookups) checkRefs(ctx context.Context, rec Record) error {
	for _, f := range rec.Table.Fields {
		if f.Type != Ref {
			continue
		}
		id, _ := rec.Values[f.Name].(string)
		if id == "" {
			continue
		}
		ok, err := l.refExists(ctx, f.Ref, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("field %s: no %s with id %q", f.Name, f.Ref, id)
		}
	}
	return l.checkLineStore(ctx, rec)
}

// checkLineStore confirms that a line's store is its invoice's or requisition's: the one rule about
// references that the schema's foreign keys do not enforce.
func (l *lookups) checkLineStore(ctx context.Context, rec Record) error {
	doc, ok := lineDocument[rec.Table.Name]
	if !ok {
		return nil
	}
	docID, _ := rec.Values[doc.field].(string)
	docStore, err := l.documentStoreOf(ctx, doc.table, docID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("field %s: no %s with id %q", doc.field, doc.table, docID)
	}
	if err != nil {
		return err
	}
	if docStore != rec.Values[StoreField] {
		return fmt.Errorf("field store_id: the line's %s belongs to store %q", doc.table, docStore)
	}
	return nil
}

// checkIDFree refuses a new record of t whose id a record of another table has: ids are unique across all
// tables, because open-mSupply keeps every record it receives in one buffer keyed by id alone.
func (l *lookups) checkIDFree(ctx context.Context, t *Table, id string) error {
	var other string
	err := l.q.QueryRowContext(ctx, `SELECT table_name FROM record_key WHERE id = ? AND table_name <> ?`, id, t.Name).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("id %q is already used in table %s", id, other),
		Hint: "a record's id is unique across all tables, not only within its own; give this one another id"}
}

// LegacyLookup answers what translating records to and from mSupply's legacy shapes needs of this
// datafile, remembering each answer: a page of records asks about the same few items and invoices again
// and again.
type LegacyLookup struct {
	ctx     context.Context
	q       rowsQueryer
	answers map[[2]string]string
	// Pending are invoices met earlier in the batch being received, by id, with their store and type, for
	// the lines that follow them before they are written.
	Pending map[string][2]string
	// PendingRequisitions are the requisitions met earlier in the batch being received, by id, with their
	// store.
	PendingRequisitions map[string]string
}

// LegacyLookup returns a lookup over this datafile as it stands now.
func (db *DB) LegacyLookup(ctx context.Context) *LegacyLookup {
	return &LegacyLookup{ctx: ctx, q: db.prepared(db.conn()), answers: map[[2]string]string{}, Pending: map[string][2]string{},
		PendingRequisitions: map[string]string{}}
}

func (l *LegacyLookup) answer(kind, id, query string) (string, error) {
	key := [2]string{kind, id}
	if v, ok := l.answers[key]; ok {
		return v, nil
	}
	var v string
	err := l.q.QueryRowContext(l.ctx, query, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err != nil {
		return "", err
	}
	l.answers[key] = v
	return v, nil
}

// The kinds of answer a LegacyLookup keeps that Preload can also give, one key for both ways of asking.
const (
	answerItemName    = "item"
	answerInvoiceType = "invoice type"
)

// ItemName is an item's name; "" when there is no such item.
func (l *LegacyLookup) ItemName(id string) (string, error) {
	return l.answer(answerItemName, id, `SELECT name FROM item WHERE id = ?`)
}

// InvoiceType is an invoice's type; "" when unknown.
func (l *LegacyLookup) InvoiceType(id string) (string, error) {
	if p, ok := l.Pending[id]; ok {
		return p[1], nil
	}
	return l.answer(answerInvoiceType, id, `SELECT type FROM invoice WHERE id = ?`)
}

// InvoiceStore is the store an invoice belongs to; "" when unknown.
func (l *LegacyLookup) InvoiceStore(id string) (string, error) {
	if p, ok := l.Pending[id]; ok {
		return p[0], nil
	}
	return l.answer("invoice store", id, `SELECT store_id FROM invoice WHERE id = ?`)
}

// RequisitionStore is the store a requisition belongs to; "" when unknown.
func (l *LegacyLookup) RequisitionStore(id string) (string, error) {
	if s, ok := l.PendingRequisitions[id]; ok {
		return s, nil
	}
	return l.answer("requisition store", id, `SELECT store_id FROM requisition WHERE id = ?`)
}

// Preload answers at once, with one query a kind, what translating recs to legacy shapes will ask: the
// names of the items their lines refer to and the types of their invoices. Asked one by one, a push of
// invoice lines each for another item costs a query a line.
func (l *LegacyLookup) Preload(recs []OutRecord) error {
	items, invoices := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		switch r.Table {
		case "invoice_line":
			if id, ok := r.Values["invoice_id"].(string); ok {
				invoices[id] = true
			}
			fallthrough
		case "requisition_line":
			if id, ok := r.Values["item_id"].(string); ok {
				items[id] = true
			}
		}
	}
	if err := l.preload(answerItemName, items, `SELECT id, name FROM item WHERE id IN (SELECT value FROM json_each(?))`); err != nil {
		return err
	}
	return l.preload(answerInvoiceType, invoices, `SELECT id, type FROM invoice WHERE id IN (SELECT value FROM json_each(?))`)
}

// preload remembers the answers of kind for ids that query (given them as a JSON array) finds, and ""
// for those it does not, as answer would.
func (l *LegacyLookup) preload(kind string, ids map[string]bool, query string) error {
	for id := range ids {
		if _, known := l.answers[[2]string{kind, id}]; known {
			delete(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(slices.Collect(maps.Keys(ids)))
	if err != nil {
		return err
	}
	rows, err := l.q.QueryContext(l.ctx, query, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		l.answers[[2]string{kind, id}] = v
		delete(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for id := range ids {
		l.answers[[2]string{kind, id}] = ""
	}
	return nil
}
