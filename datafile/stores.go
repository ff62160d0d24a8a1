package datafile

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"
)

// Store is a store and the site it is active on.
type Store struct {
	ID     string `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	SiteID int64  `json:"site_id"`
	// MovingToSiteID is the site the store moves to once its site has handed it over; nil when it is not
	// moving.
	MovingToSiteID *int64 `json:"moving_to_site_id"`
	// NameID is the name that stands for the store (the first made, if there are several): what an invoice
	// to the store is made out to. Empty on a remote until central has sent it.
	NameID string `json:"name_id"`
}

const storeColumns = `id, code, name, site_id, moving_to_site_id,
	coalesce((SELECT name.id FROM name WHERE name.store_id = store.id ORDER BY name.rowid LIMIT 1), '')`

func scanStore(row scanner) (Store, error) {
	var s Store
	var moving sql.NullInt64
	err := row.Scan(&s.ID, &s.Code, &s.Name, &s.SiteID, &moving, &s.NameID)
	if moving.Valid {
		s.MovingToSiteID = &moving.Int64
	}
	return s, err
}

// Stores returns the stores, all of them or those of one site, by code.
func (db *DB) Stores(ctx context.Context, siteRef string) ([]Store, error) {
	q := `SELECT ` + storeColumns + ` FROM store`
	var args []any
	if siteRef != "" {
		site, err := db.FindSite(ctx, siteRef)
		if err != nil {
			return nil, err
		}
		q += ` WHERE site_id = ?`
		args = append(args, site.ID)
	}
	rows, err := db.conn().QueryContext(ctx, q+` ORDER BY code`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stores := []Store{}
	for rows.Next() {
		s, err := scanStore(rows)
		if err != nil {
			return nil, err
		}
		stores = append(stores, s)
	}
	return stores, rows.Err()
}

// FindStore resolves STORE, a store's ID or code.
func (db *DB) FindStore(ctx context.Context, ref string) (Store, error) {
	return findStore(ctx, db.conn(), ref)
}

func findStore(ctx context.Context, q queryer, ref string) (Store, error) {
	s, err := scanStore(q.QueryRowContext(ctx, `SELECT `+storeColumns+` FROM store WHERE id = ? OR code = ? COLLATE NOCASE
		ORDER BY id = ? DESC LIMIT 1`, ref, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return s, errorf(ENOTFOUND, "no store with ID or code %q", ref).withHint("'msupply-sync store list' shows the stores")
	}
	return s, err
}

func validateStoreCode(code string) error {
	if code == "" || len(code) > 50 {
		return errorf(EINVALID, "a store code must be 1 to 50 characters")
	}
	for _, r := range code {
		if unicode.IsControl(r) {
			return errorf(EINVALID, "a store code must not contain control characters")
		}
	}
	return nil
}

// AddStore creates a store on a site (the central site when siteRef is empty), with a name that stands
// for it, and queues its data to it.
func (db *DB) AddStore(ctx context.Context, code, name, siteRef string) (Store, error) {
	if err := db.RequireCentralUnlocked(ctx, "adding a store"); err != nil {
		return Store{}, err
	}
	code, name = strings.TrimSpace(code), strings.TrimSpace(name)
	if err := validateStoreCode(code); err != nil {
		return Store{}, err
	}
	if err := validateStoreName(name); err != nil {
		return Store{}, err
	}
	if siteRef == "" {
		siteRef = "1"
	}
	st := Store{ID: uuid.NewString(), Code: code, Name: name}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		site, err := findSite(ctx, tx, siteRef)
		if err != nil {
			return err
		}
		if err := checkRoomFor(ctx, tx, site, Store{}); err != nil {
			return err
		}
		if other, err := findStore(ctx, tx, code); err == nil {
			return errorf(ECONFLICT, "store %s %q already has that code", other.Code, other.Name).withHint("store codes are unique, whatever their case")
		}
		st.SiteID = site.ID
		if _, err = tx.ExecContext(ctx, `INSERT INTO store (id, code, name, site_id) VALUES (?, ?, ?, ?)`, st.ID, st.Code, st.Name, st.SiteID); err != nil {
			return err
		}
		// The name that stands for the store: what its invoices to other stores are made out to, and what
		// open-mSupply needs to take the store in.
		st.NameID = uuid.NewString()
		_, err = tx.ExecContext(ctx, `INSERT INTO name (id, code, name, store_id) VALUES (?, ?, ?, ?)`, st.NameID, st.Code, st.Name, st.ID)
		return err
	})
	return st, err
}

// requeueStore replaces whatever was queued for a store with all of its data, for the site it is now on.
// The deletes queued for that site stay: what is requeued holds only records that exist, and a delete
// dropped here would never be sent again. The site may hold the record (it syncs on with its datafile), or
// may need to know that a shipment is gone (a receipt of it made elsewhere comes with the store).
func requeueStore(ctx context.Context, tx *sql.Tx, st Store) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sync_queue WHERE store_id = ? AND NOT (site_id = ? AND action = 'delete')`, st.ID, st.SiteID); err != nil {
		return err
	}
	// The store's transfers are also copies on the sites of the stores they are made out to: dropped with
	// the rest just now, they are queued for those sites again, which take what they hold already as it is.
	for _, t := range Tables() {
		if !isTransferTable(t.Name) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT counterpart.site_id, ?, r.id, counterpart.id, 'update' FROM `+t.Name+` r
			JOIN store counterpart ON counterpart.id = `+counterpartSQL(t.Name)+`
			WHERE r.store_id = ? AND counterpart.site_id <> ? AND counterpart.site_id <> ? ORDER BY r.id`,
			t.Name, st.ID, CentralSiteID, st.SiteID); err != nil {
			return err
		}
	}
	if st.SiteID == CentralSiteID {
		return nil
	}
	for _, t := range Tables() {
		if t.Kind != StoreData {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, ?, id, store_id, 'insert' FROM `+t.Name+` WHERE store_id = ? ORDER BY id`, st.SiteID, t.Name, st.ID); err != nil {
			return err
		}
		if !isTransferTable(t.Name) {
			continue
		}
		// The transfers made out to the store, from stores on other sites, follow it.
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, ?, r.id, ?, 'insert' FROM `+t.Name+` r
			WHERE `+madeOutToSQL(t.Name)+` AND (SELECT site_id FROM store WHERE id = r.store_id) <> ? ORDER BY r.id`,
			st.SiteID, t.Name, st.ID, st.ID, st.ID, st.SiteID); err != nil {
			return err
		}
	}
	if err := queueGoneShipmentsOfReceipts(ctx, tx, st); err != nil {
		return err
	}
	// The site may still hold changes of its own that central holds for an administrator, made after the
	// store was forced away from it: it is sent central's state of those records (their delete, when central
	// has none), so that the site and central agree; the changes stay parked on central.
	// A record that central holds in another store is not the site's to be sent, whatever the parked change
	// says of itself.
	for _, t := range Tables() {
		if t.Kind != StoreData {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, b.table_name, b.record_id, ?, 'update' FROM sync_buffer b
			WHERE b.source_site_id = ? AND b.held = ? AND b.table_name = ? AND b.action = 'upsert'
				AND json_extract(b.data, '$.store_id') = ?
				AND NOT EXISTS (SELECT 1 FROM `+t.Name+` r WHERE r.id = b.record_id AND r.store_id <> ?)`,
			st.SiteID, st.ID, st.SiteID, heldStoreMovedAway, t.Name, st.ID, st.ID); err != nil {
			return err
		}
	}
	return nil
}

// queueGoneShipmentsOfReceipts queues, after a store's receipts, the deletes of the shipments they were made
// from that central has seen deleted. The site may have taken the shipment's delete already, and deleted
// its receipt, and then lost its datafile before it pushed that: started afresh, it is handed the receipt
// again by central, which still holds it, and would keep a receipt of goods that are not coming. The
// delete makes the site delete the receipt as its own change, as it did the first time.
func queueGoneShipmentsOfReceipts(ctx context.Context, tx *sql.Tx, st Store) error {
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
		SELECT DISTINCT ?, 'invoice', si.linked_invoice_id, si.store_id, 'delete' FROM invoice si
		WHERE si.store_id = ? AND si.type = 'supplier_invoice'
			AND si.linked_invoice_id IN (SELECT id FROM transfer_gone)
			AND NOT EXISTS (SELECT 1 FROM invoice ci WHERE ci.id = si.linked_invoice_id)
		ORDER BY si.linked_invoice_id`, st.SiteID, st.ID)
	return err
}

// queueStoreJoins queues a store's joins for the site it has moved to: only the site a store is on gets
// them (see CentralRecords), and its new site has read past them in the change log. Queued like master
// data, under no store.
func queueStoreJoins(ctx context.Context, tx *sql.Tx, st Store) error {
	if st.SiteID == CentralSiteID {
		return nil
	}
	for _, join := range []struct{ table, where string }{
		{"name_store_join", `store_id = ?`},
		{"master_list_name_join", `name_id IN (SELECT id FROM name WHERE store_id = ?)`},
	} {
		// A site that has not initialised yet reads them from the start of the log.
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT ?, ?, id, '', 'update' FROM `+join.table+` WHERE `+join.where+`
				AND EXISTS (SELECT 1 FROM site WHERE id = ? AND init_requested_at IS NOT NULL) ORDER BY id`,
			st.SiteID, join.table, st.ID, st.SiteID); err != nil {
			return err
		}
	}
	return nil
}

// queueGoneTransfers queues, for the site a store has moved to, the deletes of the transfer documents and
// lines, from the store or made out to it, that no longer exist: the site may hold copies of them from
// before (made out to a store of its own then, or to this store on its way), and once they are the store's
// own data there, or made out to it, nothing else would take them away.
func queueGoneTransfers(ctx context.Context, tx *sql.Tx, st Store) error {
	if st.SiteID == CentralSiteID {
		return nil
	}
	for _, table := range transferTables {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
			SELECT DISTINCT ?, c.table_name, c.record_id, c.store_id, 'delete' FROM changelog c
			WHERE (c.store_id = ? OR c.counterpart_store_id = ?) AND c.table_name = ? AND c.action = 'delete'
				AND c.counterpart_store_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `+table+` r WHERE r.id = c.record_id)
				AND EXISTS (SELECT 1 FROM site WHERE id = ? AND init_requested_at IS NOT NULL)`,
			st.SiteID, st.ID, st.ID, table, st.SiteID); err != nil {
			return err
		}
	}
	return nil
}

// requeueSiteStores queues all store data of the stores on a site, or on every remote site when siteID is 0.
func requeueSiteStores(ctx context.Context, tx *sql.Tx, siteID int64) error {
	q, args := `SELECT `+storeColumns+` FROM store WHERE site_id <> ?`, []any{CentralSiteID}
	if siteID != 0 {
		q += ` AND site_id = ?`
		args = append(args, siteID)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	var stores []Store
	for rows.Next() {
		s, err := scanStore(rows)
		if err != nil {
			rows.Close()
			return err
		}
		stores = append(stores, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range stores {
		if err := requeueStore(ctx, tx, s); err != nil {
			return err
		}
	}
	return nil
}

// QueuedForSite counts the records waiting in a site's queue, all of them or one store's.
func (db *DB) QueuedForSite(ctx context.Context, siteID int64, storeID string) (int, error) {
	q := `SELECT count(*) FROM sync_queue WHERE site_id = ?`
	args := []any{siteID}
	if storeID != "" {
		q += ` AND store_id = ?`
		args = append(args, storeID)
	}
	var n int
	err := db.conn().QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
