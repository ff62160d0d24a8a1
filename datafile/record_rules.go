package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MaxNumber bounds every number field. Quantities beyond a million million are typing errors or hostile
// input, and doubles that large lose the units that stock counts are made of.
const MaxNumber = 1e12

// checkRecordRules refuses records that no one could use, written here by a person or a script: an item
// with neither name nor code, an item code another item has (compared without case, as store and site
// codes are), a master list holding the same item twice, a second home currency, a name joined to a store
// twice, a requisition whose status does not fit its type, and an invoice or requisition to another store
// that its store may not deal with. Records received by
// sync are not checked: each was checked where it was written, and a site keeps what that site wrote.
func checkRecordRules(ctx context.Context, tx queryer, rec Record) error {
	switch rec.Table.Name {
	case "invoice":
		return checkTransferVisible(ctx, tx, rec)
	case "requisition":
		typ, _ := rec.Values["type"].(string)
		status, _ := rec.Values["status"].(string)
		if fits := map[string]bool{"request draft": true, "request sent": true, "request finalised": true,
			"response new": true, "response finalised": true}[typ+" "+status]; !fits {
			return fmt.Errorf("field status: a %s is never %s (a request goes draft, sent, finalised; a response new, finalised)", typ, status)
		}
		return checkTransferVisible(ctx, tx, rec)
	case "item":
		code, _ := rec.Values["code"].(string)
		name, _ := rec.Values["name"].(string)
		if code == "" && name == "" {
			return errors.New("an item needs a name or a code")
		}
		if code == "" {
			return nil
		}
		var other, otherName string
		if found, err := another(ctx, tx,
			`SELECT id, name FROM item WHERE code = ? COLLATE NOCASE AND code <> '' AND id <> ? LIMIT 1`,
			[]any{code, rec.ID()}, &other, &otherName); err != nil || !found {
			return err
		}
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("field code: item %q (%s) already has the code %q", other, otherName, code),
			Hint: "item codes must be unique, whatever their case; give this item another code, or update that item by its id"}
	case "currency":
		if home, _ := rec.Values["is_home"].(bool); !home {
			return nil
		}
		var other, code string
		if found, err := another(ctx, tx,
			`SELECT id, code FROM currency WHERE is_home = 1 AND id <> ? LIMIT 1`,
			[]any{rec.ID()}, &other, &code); err != nil || !found {
			return err
		}
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("currency %q (%s) is already the home currency", other, code),
			Hint: fmt.Sprintf(`there is one home currency: make that one not the home currency first ('{"id":%q,"is_home":false}')`, other)}
	case "name_store_join":
		name, _ := rec.Values["name_id"].(string)
		store, _ := rec.Values["store_id"].(string)
		var other string
		if found, err := another(ctx, tx,
			`SELECT id FROM name_store_join WHERE name_id = ? AND store_id = ? AND id <> ? LIMIT 1`,
			[]any{name, store, rec.ID()}, &other); err != nil || !found {
			return err
		}
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("name %q is already joined to store %q, in %q", name, store, other),
			Hint: "a name is joined to a store once; update that join by its id"}
	case "master_list_line":
		list, _ := rec.Values["master_list_id"].(string)
		item, _ := rec.Values["item_id"].(string)
		var other string
		if found, err := another(ctx, tx,
			`SELECT id FROM master_list_line WHERE master_list_id = ? AND item_id = ? AND id <> ? LIMIT 1`,
			[]any{list, item, rec.ID()}, &other); err != nil || !found {
			return err
		}
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("master list %q already holds item %q, in line %q", list, item, other),
			Hint: "a master list holds each item once"}
	}
	return nil
}

// another reads into dest the first row query finds: another record that already has what rec would
// take. found is false when there is none.
func another(ctx context.Context, tx queryer, query string, args []any, dest ...any) (found bool, err error) {
	err = tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// checkTransferVisible refuses a customer invoice or a request made out to the name of another store (a
// transfer to that store) when no active name_store_join lets its store deal with that name.
func checkTransferVisible(ctx context.Context, tx queryer, rec Record) error {
	if typ := rec.Values["type"]; typ != "customer_invoice" && typ != "request" {
		return nil // a receipt or a response is the other half of a transfer, made out to its sender
	}
	nameID, _ := rec.Values["name_id"].(string)
	var toStore, toCode string
	err := tx.QueryRowContext(ctx, `SELECT store.id, store.code FROM name JOIN store ON store.id = name.store_id WHERE name.id = ?`, nameID).Scan(&toStore, &toCode)
	if errors.Is(err, sql.ErrNoRows) || err == nil && toStore == rec.StoreID() {
		return nil // not a transfer
	}
	if err != nil {
		return err
	}
	var visible bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM name_store_join WHERE name_id = ? AND store_id = ? AND is_active = 1)`,
		nameID, rec.StoreID()).Scan(&visible); err != nil || visible {
		return err
	}
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("field name_id: name %q stands for store %s, which this %s's store may not deal with", nameID, toCode, rec.Table.Name),
		Hint: fmt.Sprintf(`on the central server, join the name to the store: msupply-sync record put name_store_join '{"name_id":%q,"store_id":%q,"is_customer":true}'`, nameID, rec.StoreID())}
}
