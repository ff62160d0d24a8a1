package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// refExists reports whether table holds a record with id.
func refExists(ctx context.Context, tx queryer, table, id string) (bool, error) {
	cache, _ := tx.(*stmtCache)
	if cache != nil && cache.exists[table+"\x00"+id] {
		return true, nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err == nil && cache != nil {
		cache.exists[table+"\x00"+id] = true
	}
	return err == nil, err
}

// invoiceStoreOf returns the store of an invoice.
func invoiceStoreOf(ctx context.Context, tx queryer, invoiceID string) (string, error) {
	cache, _ := tx.(*stmtCache)
	if cache != nil {
		if s, ok := cache.invoiceStore[invoiceID]; ok {
			return s, nil
		}
	}
	var storeID string
	if err := tx.QueryRowContext(ctx, `SELECT store_id FROM invoice WHERE id = ?`, invoiceID).Scan(&storeID); err != nil {
		return "", err
	}
	if cache != nil {
		cache.invoiceStore[invoiceID] = storeID
	}
	return storeID, nil
}

// checkRefs confirms that every reference of rec points at a record that exists, and that a line's store
// is its invoice's.
func checkRefs(ctx context.Context, tx queryer, rec Record) error {
	for _, f := range rec.Table.Fields {
		if f.Type != Ref {
			continue
		}
		id, _ := rec.Values[f.Name].(string)
		if id == "" {
			continue
		}
		ok, err := refExists(ctx, tx, f.Ref, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("field %s: no %s with id %q", f.Name, f.Ref, id)
		}
	}
	return checkLineStore(ctx, tx, rec)
}

// checkLineStore confirms that an invoice line's store is its invoice's: the one rule about references
// that the schema's foreign keys do not enforce.
func checkLineStore(ctx context.Context, tx queryer, rec Record) error {
	if rec.Table.Name != "invoice_line" {
		return nil
	}
	invoiceID, _ := rec.Values["invoice_id"].(string)
	invoiceStore, err := invoiceStoreOf(ctx, tx, invoiceID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("field invoice_id: no invoice with id %q", invoiceID)
	}
	if err != nil {
		return err
	}
	if invoiceStore != rec.Values[StoreField] {
		return fmt.Errorf("field store_id: the line's invoice belongs to store %q", invoiceStore)
	}
	return nil
}
