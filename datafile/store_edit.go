package datafile

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/msupply-foundation/msupply-sync/plural"
)

// MaxStoreNameLength is the longest store name, in characters, as for site names.
const MaxStoreNameLength = 100

// validateStoreName holds store names to the rules site names follow, but for the colon, which only the
// site name's use as an HTTP user name forbids: a control character would break the one-line output of
// every list, and could drive the terminal that shows it.
func validateStoreName(name string) error {
	if name == "" {
		return errorf(EINVALID, "a store needs a name")
	}
	if !utf8.ValidString(name) {
		return errorf(EINVALID, "a store name must be UTF-8 text")
	}
	if utf8.RuneCountInString(name) > MaxStoreNameLength {
		return errorf(EINVALID, "a store name must be at most %d characters", MaxStoreNameLength)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errorf(EINVALID, "a store name must not contain control characters")
	}
	return nil
}

// StoreUpdate holds the changes of one store edit; nil fields stay as they are.
type StoreUpdate struct {
	Name *string
	Code *string
}

// EditStore renames a store or changes its code, both or neither, in one transaction. The change reaches
// every remote as master data.
func (db *DB) EditStore(ctx context.Context, ref string, u StoreUpdate) (Store, error) {
	return db.changeStore(ctx, "editing a store", ref, func(tx *sql.Tx, st *Store) error {
		if u.Name != nil {
			st.Name = strings.TrimSpace(*u.Name)
			if err := validateStoreName(st.Name); err != nil {
				return err
			}
		}
		if u.Code != nil {
			code := strings.TrimSpace(*u.Code)
			if err := validateStoreCode(code); err != nil {
				return err
			}
			var other, otherName string
			err := tx.QueryRowContext(ctx, `SELECT code, name FROM store WHERE code = ? COLLATE NOCASE AND id <> ?`, code, st.ID).Scan(&other, &otherName)
			if err == nil {
				return errorf(ECONFLICT, "store %s %q already has that code", other, otherName).withHint("store codes are unique, whatever their case")
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			st.Code = code
		}
		// The code column compares without regard to case; a change of case is a change all the same.
		_, err := tx.ExecContext(ctx, `UPDATE store SET code = ?, name = ? WHERE id = ? AND (code IS NOT ? COLLATE BINARY OR name IS NOT ?)`,
			st.Code, st.Name, st.ID, st.Code, st.Name)
		return err
	})
}

// changeStore runs change in a transaction on the store ref names, on a central server that is unlocked
// (what says what is being done, for the refusal), and returns the store as change left it.
func (db *DB) changeStore(ctx context.Context, what, ref string, change func(tx *sql.Tx, st *Store) error) (Store, error) {
	if err := db.RequireCentralUnlocked(ctx, what); err != nil {
		return Store{}, err
	}
	var st Store
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if st, err = findStore(ctx, tx, ref); err != nil {
			return err
		}
		return change(tx, &st)
	})
	return st, err
}

// DeleteStore deletes an empty store: one that holds no store data, that no name stands for, and whose
// site has nothing for it still on the way. The delete reaches every remote as master data.
func (db *DB) DeleteStore(ctx context.Context, ref string) (Store, error) {
	return db.changeStore(ctx, "deleting a store", ref, func(tx *sql.Tx, st *Store) error {
		held, err := storeHoldings(ctx, tx, st.ID)
		if err != nil {
			return err
		}
		if len(held) > 0 {
			return errorf(ECONFLICT, "store %s is not empty: %s", st.Code, strings.Join(held, ", ")).
				withHint("only an empty store can be deleted; a store that is no longer used can stay, or be moved with 'msupply-sync store move'")
		}
		if st.SiteID != CentralSiteID {
			// The remote's unsent changes are not known by store, and some may be this store's: deleting it
			// now would leave them nowhere to go.
			var site string
			var unsent int
			if err := tx.QueryRowContext(ctx, `SELECT name, unsent_records FROM site WHERE id = ?`, st.SiteID).Scan(&site, &unsent); err != nil {
				return err
			}
			if unsent > 0 {
				return errorf(ECONFLICT, "store %s is on site %q, which last reported %s not yet sent to the central server", st.Code, site, plural.Count(unsent, "change", "changes")).
					withHint("let site %q sync, then delete the store", site)
			}
		}
		// What is still queued for the store's site can only be deletes of records central no longer holds;
		// they stay queued, and reach the site ahead of the store's own delete, which its copies of those
		// records would otherwise hold up.
		if _, err := tx.ExecContext(ctx, `DELETE FROM name WHERE store_id = ?`, st.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM store WHERE id = ?`, st.ID)
		return err
	})
}

// storeHoldings describes what a store holds: its store data, the names that stand for it and are in use,
// master data that refers to it, and records of it received and waiting to be integrated.
func storeHoldings(ctx context.Context, tx *sql.Tx, storeID string) ([]string, error) {
	var held []string
	// count names what it finds as "N <kind> records<after>".
	count := func(query, kind, after string) error {
		var n int
		if err := tx.QueryRowContext(ctx, query, storeID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			held = append(held, plural.Count(n, kind+" record", kind+" records")+after)
		}
		return nil
	}
	for _, t := range Tables() {
		if t.Kind != StoreData {
			continue
		}
		if err := count(`SELECT count(*) FROM `+t.Name+` WHERE store_id = ?`, t.Name, ""); err != nil {
			return nil, err
		}
	}
	// The name that stands for the store goes with it, unless something refers to that name.
	var inUse []string
	for _, ref := range referrers("name") {
		inUse = append(inUse, `EXISTS (SELECT 1 FROM `+ref.table+` WHERE `+ref.field+` = name.id)`)
	}
	if err := count(`SELECT count(*) FROM name WHERE store_id = ? AND (`+strings.Join(inUse, " OR ")+`)`, "name", " standing for it, in use"); err != nil {
		return nil, err
	}
	for _, ref := range referrers("store") {
		if t := tablesByName[ref.table]; t.Kind == StoreData || t.Name == "name" {
			continue
		}
		if err := count(`SELECT count(*) FROM `+ref.table+` WHERE `+ref.field+` = ?`, ref.table, ""); err != nil {
			return nil, err
		}
	}
	if err := count(`SELECT count(*) FROM sync_buffer WHERE action = 'upsert' AND json_valid(data)
		AND json_extract(data, '$.store_id') = ?`, "received", " waiting to be integrated"); err != nil {
		return nil, err
	}
	return held, nil
}
