package datafile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// OutRecord is a record on its way out by sync: its current content, or a delete when it no longer exists.
// Exactly one of Cursor (master data, read by cursor) and SyncOutID (a queue or push entry) identifies it.
type OutRecord struct {
	Cursor    int64
	SyncOutID string
	Table     string
	RecordID  string
	Action    string // insert, update or delete
	// Logged is what the change was when it was made; Action is what it is now, from the record's state.
	Logged string
	Data   json.RawMessage
	// StoreID is the store the record belongs to now (store data that still exists), or the store the
	// queue entry was made for.
	StoreID string
	// Values are the fields of a record of a synced table, as Record holds them; Data is nil then. Sent
	// on the wire in another shape, they are not encoded here only to be decoded again.
	Values map[string]any
	// Extra is what a client sent of the record beyond our fields (a JSON object), to be sent with it.
	Extra json.RawMessage
}

// outAction is what to send for an entry: the record's current state, so a reader that sees several
// entries for one record converges on its latest content whatever happened in between.
func outAction(logged string, exists bool) string {
	if !exists {
		return "delete"
	}
	if logged == "insert" {
		return "insert"
	}
	return "update"
}

// CentralRecords returns up to limit master-data changes after cursor for a site (every change when siteID
// is 0), with the newest cursor of all. The joins of a store to names and of a store's name to master lists
// are that store's business: they go only to the site the store is on, and follow it when it moves.
func (db *DB) CentralRecords(ctx context.Context, siteID int64, after int64, limit int) ([]OutRecord, int64, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	q := db.prepared(tx)
	var maxCursor int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(cursor), 0) FROM changelog WHERE store_id IS NULL`).Scan(&maxCursor); err != nil {
		return nil, 0, err
	}
	if siteID == 0 {
		out, err := readChanges(ctx, q, `WHERE store_id IS NULL AND cursor > ? ORDER BY cursor LIMIT ?`, after, limit)
		return out, maxCursor, err
	}
	// Pages are read until limit records for the site are found, so that joins of other sites' stores
	// never make a page come back empty before the end. When the rest of the log holds none for the site,
	// the newest cursor said is the last record sent, so that the site stops there, as at the end.
	var kept []OutRecord
	scanned := after
	for len(kept) < limit {
		page, err := readChanges(ctx, q, `WHERE store_id IS NULL AND cursor > ? ORDER BY cursor LIMIT ?`, scanned, limit)
		if err != nil {
			return nil, 0, err
		}
		if len(page) == 0 {
			last := after
			if len(kept) > 0 {
				last = kept[len(kept)-1].Cursor
			}
			return kept, last, nil
		}
		for _, r := range page {
			scanned = r.Cursor
			mine, err := joinForSite(ctx, q, r, siteID)
			if err != nil {
				return nil, 0, err
			}
			if mine {
				if kept = append(kept, r); len(kept) == limit {
					break
				}
			}
		}
	}
	return kept, maxCursor, nil
}

// joinForSite reports whether a master record goes to a site: every record does but the join of a store
// on another site.
func joinForSite(ctx context.Context, q queryer, r OutRecord, siteID int64) (bool, error) {
	store, err := joinStore(ctx, q, r)
	if err != nil || store == "" {
		return true, err
	}
	var on int64
	err = q.QueryRowContext(ctx, `SELECT coalesce((SELECT site_id FROM store WHERE id = ?), 0)`, store).Scan(&on)
	return on == siteID, err
}

// joinStore is the store a join record concerns: a name_store_join's store, or the store whose name a
// master_list_name_join joins to a list. "" for any other record, for a join of a name that stands for no
// store, and for a delete, which is sent to every site (deleting what a site does not hold changes nothing).
func joinStore(ctx context.Context, q queryer, r OutRecord) (string, error) {
	if r.Action == "delete" || r.Values == nil {
		return "", nil
	}
	switch r.Table {
	case "name_store_join":
		s, _ := r.Values["store_id"].(string)
		return s, nil
	case "master_list_name_join":
		var store sql.NullString
		err := q.QueryRowContext(ctx, `SELECT store_id FROM name WHERE id = ?`, r.Values["name_id"]).Scan(&store)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return store.String, err
	}
	return "", nil
}

// readChanges reads the change-log entries that where selects, in its order, each with its record's
// current content.
func readChanges(ctx context.Context, tx dbtx, where string, args ...any) ([]OutRecord, error) {
	var out []OutRecord
	err := queryEach(ctx, tx, func(rows *sql.Rows) error {
		var r OutRecord
		err := rows.Scan(&r.Cursor, &r.Table, &r.RecordID, &r.Action)
		r.Logged = r.Action
		out = append(out, r)
		return err
	}, `SELECT cursor, table_name, record_id, action FROM changelog `+where, args...)
	if err != nil {
		return nil, err
	}
	return out, fillPayloads(ctx, tx, out)
}

// QueuedRecords returns up to limit entries of a site's queue, oldest first, and how many it holds.
func (db *DB) QueuedRecords(ctx context.Context, siteID int64, limit int) ([]OutRecord, int64, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	q := db.prepared(tx)
	var total int64
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sync_queue WHERE site_id = ?`, siteID).Scan(&total); err != nil {
		return nil, 0, err
	}
	var out []OutRecord
	var queuedFor []string
	err = queryEach(ctx, q, func(rows *sql.Rows) error {
		var r OutRecord
		var id int64
		var store string
		err := rows.Scan(&id, &r.Table, &r.RecordID, &r.Action, &store)
		r.SyncOutID = strconv.FormatInt(id, 10)
		out = append(out, r)
		queuedFor = append(queuedFor, store)
		return err
	}, `SELECT id, table_name, record_id, action, store_id FROM sync_queue WHERE site_id = ? ORDER BY id LIMIT ?`, siteID, limit)
	if err != nil {
		return nil, 0, err
	}
	if err := fillPayloads(ctx, q, out); err != nil {
		return nil, 0, err
	}
	for i := range out {
		// An entry outlived its record and the id now names a record of another store, or a transfer no
		// longer made out to the store it was queued for: the site learns only that its record is gone.
		if out[i].Action != "delete" && out[i].StoreID != queuedFor[i] {
			counterpart, err := counterpartOfRow(ctx, tx, out[i].Table, out[i].RecordID)
			if err != nil {
				return nil, 0, err
			}
			if counterpart != queuedFor[i] || counterpart == "" {
				out[i].Action, out[i].Data, out[i].Values = "delete", nil, nil
			}
		}
		out[i].StoreID = queuedFor[i]
	}
	return out, total, nil
}

// Acknowledge removes entries from a site's own queue. Ids that are not the site's, or not numbers, are
// ignored: a site can never touch another site's queue.
func (db *DB) Acknowledge(ctx context.Context, siteID int64, ids []string) (int, error) {
	n := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `DELETE FROM sync_queue WHERE site_id = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range ids {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				continue
			}
			res, err := stmt.ExecContext(ctx, siteID, id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// fillPayloads loads the current content of every record in out with one query per table and chunk,
// instead of one per record, and sets each record's action from whether it still exists.
func fillPayloads(ctx context.Context, q dbtx, out []OutRecord) error {
	byTable := map[string][]int{}
	for i, r := range out {
		byTable[r.Table] = append(byTable[r.Table], i)
	}
	for table, indexes := range byTable {
		payloads := map[string]payload{}
		ids := make([]string, 0, len(indexes))
		seen := map[string]bool{}
		for _, i := range indexes {
			if !seen[out[i].RecordID] {
				seen[out[i].RecordID] = true
				ids = append(ids, out[i].RecordID)
			}
		}
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			if err := loadPayloads(ctx, q, table, chunk, payloads); err != nil {
				return err
			}
			if err := loadExtras(ctx, q, table, chunk, payloads); err != nil {
				return err
			}
		}
		for _, i := range indexes {
			p, ok := payloads[out[i].RecordID]
			out[i].Action, out[i].Data, out[i].Values, out[i].Extra = outAction(out[i].Action, ok), p.data, p.values, p.extra
			if ok && p.storeID != "" {
				out[i].StoreID = p.storeID
			}
		}
	}
	return nil
}

type payload struct {
	data    json.RawMessage
	values  map[string]any
	storeID string
	extra   json.RawMessage
}

// loadExtras adds to the payloads loaded what clients sent of those records beyond our fields.
func loadExtras(ctx context.Context, q dbtx, table string, ids []string, into map[string]payload) error {
	args := []any{table}
	for _, id := range ids {
		args = append(args, id)
	}
	return queryEach(ctx, q, func(rows *sql.Rows) error {
		var id, fields string
		if err := rows.Scan(&id, &fields); err != nil {
			return err
		}
		if p, ok := into[id]; ok {
			p.extra = json.RawMessage(fields)
			into[id] = p
		}
		return nil
	}, `SELECT record_id, fields FROM legacy_extra WHERE table_name = ? AND record_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
}

func loadPayloads(ctx context.Context, q dbtx, table string, ids []string, into map[string]payload) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	switch table {
	case "site":
		return queryEach(ctx, q, func(rows *sql.Rows) error {
			var s struct {
				ID   int64  `json:"id"`
				Code string `json:"code"`
				Name string `json:"name"`
				Type string `json:"type"`
			}
			if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.Type); err != nil {
				return err
			}
			data, err := json.Marshal(s)
			into[strconv.FormatInt(s.ID, 10)] = payload{data: data}
			return err
		}, `SELECT id, code, name, type FROM site WHERE CAST(id AS TEXT) IN `+in, args...)
	case "store":
		return queryEach(ctx, q, func(rows *sql.Rows) error {
			s, err := scanStore(rows)
			if err != nil {
				return err
			}
			data, err := json.Marshal(s)
			into[s.ID] = payload{data: data}
			return err
		}, `SELECT `+storeColumns+` FROM store WHERE id IN `+in, args...)
	}
	t, ok := tablesByName[table]
	if !ok {
		return fmt.Errorf("unknown table %q in the change log", table)
	}
	return queryEach(ctx, q, func(rows *sql.Rows) error {
		rec, err := scanRecord(t, rows)
		if err != nil {
			return err
		}
		into[rec.ID()] = payload{values: rec.Values, storeID: rec.StoreID()}
		return nil
	}, `SELECT `+strings.Join(t.Columns(), ", ")+` FROM `+t.Name+` WHERE id IN `+in, args...)
}
