package datafile

import (
	"context"
	"database/sql"
	"errors"
	"strings"
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
	// The joins of stores on other sites are not this site's (see CentralRecords); its own stores' come
	// with their store data.
	notOtherSites := map[string]string{
		"name_store_join":       `WHERE store_id IN (SELECT id FROM store WHERE site_id = ?)`,
		"master_list_name_join": `WHERE coalesce((SELECT site_id FROM store WHERE id = (SELECT store_id FROM name WHERE name.id = name_id)), ?) = ?`,
	}
	for _, t := range Tables() {
		if t.Kind != Master {
			continue
		}
		where, args := "", []any{siteID, t.Name}
		if w, ok := notOtherSites[t.Name]; ok {
			where, args = w, append(args, siteID)
			if strings.Count(w, "?") == 2 {
				args = append(args, siteID)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, ?, id, '', 'update' FROM `+t.Name+` `+where+` ORDER BY id`, args...); err != nil {
			return err
		}
	}
	return nil
}

// GenerateForCentral queues all store data of this remote's stores to be pushed again, to refresh the
// central server's copy.
func (db *DB) GenerateForCentral(ctx context.Context) (int64, error) {
	s, err := db.Settings(ctx)
	if err != nil {
		return 0, err
	}
	if s.Role != RoleRemote || s.ThisSiteID == 0 {
		return 0, errorf(EINVALID, "this remote has not synced yet, so it holds no store data to send").
			withHint("run 'msupply-sync run --remote --once' first")
	}
	var n int64
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		for _, t := range Tables() {
			if t.Kind != StoreData {
				continue
			}
			k, err := logCopies(ctx, tx, t.Name, `id, 'update', store_id`, `WHERE store_id IN (SELECT id FROM store WHERE site_id = ?)`, s.ThisSiteID)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}

// GenerateForSites queues on central what remote sites need: all store data of their stores, and with
// includeMaster a fresh copy of every master record. siteID 0 means every remote site, which then all read
// the copy from the change log; for one site the copy goes into its own queue, so no other site downloads
// anything.
func (db *DB) GenerateForSites(ctx context.Context, siteID int64, includeMaster bool) (int64, error) {
	if err := db.RequireCentralUnlocked(ctx, "generating sync records for sites"); err != nil {
		return 0, err
	}
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// Master data first: in queue order, the store data that refers to it then comes after it.
		if includeMaster && siteID != 0 {
			if err := queueMasterData(ctx, tx, siteID); err != nil {
				return err
			}
		}
		if err := requeueSiteStores(ctx, tx, siteID); err != nil {
			return err
		}
		queued, args := `SELECT count(*) FROM sync_queue WHERE site_id <> 1`, []any{}
		if siteID != 0 {
			queued, args = `SELECT count(*) FROM sync_queue WHERE site_id = ?`, []any{siteID}
		}
		if err := tx.QueryRowContext(ctx, queued, args...).Scan(&n); err != nil {
			return err
		}
		if !includeMaster || siteID != 0 {
			return nil
		}
		tables := []string{"site", "store"}
		for _, t := range Tables() {
			if t.Kind == Master {
				tables = append(tables, t.Name)
			}
		}
		for _, table := range tables {
			k, err := logCopies(ctx, tx, table, `CAST(id AS TEXT), 'update', NULL`, ``)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}

// logCopies writes a change-log entry for every record of table that where selects, as a local write, so
// that every reader of the log gets a fresh copy. columns gives the record id, action and store of each.
func logCopies(ctx context.Context, tx *sql.Tx, table, columns, where string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
		SELECT ?, `+columns+`, NULL FROM `+table+` `+where+` ORDER BY id`, append([]any{table}, args...)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
