package datafile

import (
	"context"
	"database/sql"
	"errors"
)

// queueMasterData puts a copy of every master record (sites and stores included) in one remote site's own
// queue, so that only that site reads all master data again. The change log would serve the same copy to
// every remote, since they all read it by cursor. Queue entries of master data belong to no store, so
// their store_id is empty: no store move or store requeue touches them, and the entry is left alone by the
// check that drops an entry whose record has moved to another store.
func queueMasterData(ctx context.Context, tx *sql.Tx, siteID int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM site WHERE id = ? AND id <> ?`, siteID, CentralSiteID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errorf(ENOTFOUND, "no remote site with ID %d", siteID)
	}
	if err != nil {
		return err
	}
	for _, table := range []string{"site", "store"} {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, ?, CAST(id AS TEXT), '', 'update' FROM `+table+` ORDER BY id`, siteID, table); err != nil {
			return err
		}
	}
	for _, t := range Tables() {
		if t.Kind != Master {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, ?, id, '', 'update' FROM `+t.Name+` ORDER BY id`, siteID, t.Name); err != nil {
			return err
		}
	}
	return nil
}
