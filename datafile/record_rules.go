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

// checkMasterRules refuses master data that no one could use, written here by a person or a script: an
// item with neither name nor code, an item code another item has (compared without case, as store and
// site codes are), and a master list holding the same item twice. Records received by sync are not
// checked: central is where master data is written, and a remote keeps what central holds.
func checkMasterRules(ctx context.Context, tx queryer, rec Record) error {
	switch rec.Table.Name {
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
		err := tx.QueryRowContext(ctx, `SELECT id, name FROM item WHERE code = ? COLLATE NOCASE AND code <> '' AND id <> ? LIMIT 1`,
			code, rec.ID()).Scan(&other, &otherName)
		if err == nil {
			return &Error{Code: ECONFLICT, Message: fmt.Sprintf("field code: item %q (%s) already has the code %q", other, otherName, code),
				Hint: "item codes must be unique, whatever their case; give this item another code, or update that item by its id"}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	case "currency":
		if home, _ := rec.Values["is_home"].(bool); !home {
			return nil
		}
		var other, code string
		err := tx.QueryRowContext(ctx, `SELECT id, code FROM currency WHERE is_home = 1 AND id <> ? LIMIT 1`, rec.ID()).Scan(&other, &code)
		if err == nil {
			return &Error{Code: ECONFLICT, Message: fmt.Sprintf("currency %q (%s) is already the home currency", other, code),
				Hint: fmt.Sprintf(`there is one home currency: make that one not the home currency first ('{"id":%q,"is_home":false}')`, other)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	case "name_store_join":
		name, _ := rec.Values["name_id"].(string)
		store, _ := rec.Values["store_id"].(string)
		var other string
		err := tx.QueryRowContext(ctx, `SELECT id FROM name_store_join WHERE name_id = ? AND store_id = ? AND id <> ? LIMIT 1`,
			name, store, rec.ID()).Scan(&other)
		if err == nil {
			return &Error{Code: ECONFLICT, Message: fmt.Sprintf("name %q is already joined to store %q, in %q", name, store, other),
				Hint: "a name is joined to a store once; update that join by its id"}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	case "master_list_line":
		list, _ := rec.Values["master_list_id"].(string)
		item, _ := rec.Values["item_id"].(string)
		var other string
		err := tx.QueryRowContext(ctx, `SELECT id FROM master_list_line WHERE master_list_id = ? AND item_id = ? AND id <> ? LIMIT 1`,
			list, item, rec.ID()).Scan(&other)
		if err == nil {
			return &Error{Code: ECONFLICT, Message: fmt.Sprintf("master list %q already holds item %q, in line %q", list, item, other),
				Hint: "a master list holds each item once"}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}
