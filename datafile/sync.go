package datafile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OutRecord is a record on its way out by sync: its current content, or a delete when it no longer exists.
// Exactly one of Cursor (master data, read by cursor) and SyncOutID (a queue or push entry) identifies it.
type OutRecord struct {
	Cursor    int64
	SyncOutID string
	Table     string
	RecordID  string
	Action    string // insert, update or delete
	Data      json.RawMessage
	// StoreID is the store the record belongs to now (store data that still exists), or the store the
	// queue entry was made for.
	StoreID string
}

// InRecord is a record received by sync.
type InRecord struct {
	SyncOutID string
	Table     string
	RecordID  string
	Action    string // insert, update, delete or merge
	Data      json.RawMessage

	// checked is the record as checkPushed decoded and normalised it, so that writing it does not decode
	// it a second time.
	checked *Record
	// absent says checkPushed found no record with this id, so that writing it need not look again: the
	// lookup of a scattered id is a B-tree descent of its own.
	absent bool
}

// Prepare decodes and validates the content of received records ahead of IntegrateBatch or ReceivePush,
// which then do not do it again: a remote prepares the next page on one core while it writes the current
// one on the other, and the server prepares a push on every core before it takes the write lock. A record
// that does not decode or validate is left as it is, for integration to refuse or buffer with its reason.
// Prepare may run on disjoint parts of one slice at once.
func Prepare(records []InRecord) {
	for i := range records {
		r := &records[i]
		t, ok := tablesByName[r.Table]
		if !ok || r.checked != nil || r.Data == nil {
			continue
		}
		switch r.Action {
		case "insert", "update", "upsert":
		default:
			continue
		}
		if rec, err := decodeReceived(t, r.RecordID, r.Data); err == nil {
			r.checked = &rec
		}
	}
}

// decodeReceived decodes the content of a received record of t and checks it: valid, and with the id the
// record says it has. A refusal is an EINVALID *Error.
func decodeReceived(t *Table, recordID string, data []byte) (Record, error) {
	raw, err := DecodeObject(data)
	if err != nil {
		return Record{}, err
	}
	if id, _ := raw["id"].(string); id != recordID {
		return Record{}, errorf(EINVALID, "recordData.id does not match recordId")
	}
	rec, err := t.normalise(raw, nil)
	if err != nil {
		return Record{}, errorf(EINVALID, "%v", err)
	}
	return rec, nil
}

// Rejection says why a pushed record was refused for good.
type Rejection struct {
	SyncOutID string `json:"syncOutId"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// Rejection codes.
const (
	RejectUnknownTable = "unknown_table"
	RejectMasterData   = "master_data_refused"
	RejectNotPermitted = "store_not_active_on_site"
	RejectInvalid      = "invalid_record"
	// ParkedCode marks a pushed record that central keeps without integrating it yet, with the reason.
	ParkedCode = "parked"
)

// parkStoreMovedAway is the verdict on a change pushed for a store that has left the pushing site: it was
// made while the store was that site's, so it is kept, but it may not overwrite the store's data.
const parkStoreMovedAway = "park"

// syncTableRank places the site and store tables ahead of the record tables that refer to them.
func syncTableRank(table string) (int, bool) {
	switch table {
	case "site":
		return 0, true
	case "store":
		return 1, true
	}
	if t, ok := tablesByName[table]; ok {
		return t.Rank, true
	}
	return 0, false
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

// CentralRecords returns up to limit master-data changes after cursor, with the newest cursor of all.
func (db *DB) CentralRecords(ctx context.Context, after int64, limit int) ([]OutRecord, int64, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var maxCursor int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(cursor), 0) FROM changelog WHERE store_id IS NULL`).Scan(&maxCursor); err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT cursor, table_name, record_id, action FROM changelog
		WHERE store_id IS NULL AND cursor > ? ORDER BY cursor LIMIT ?`, after, limit)
	if err != nil {
		return nil, 0, err
	}
	var out []OutRecord
	for rows.Next() {
		var r OutRecord
		if err := rows.Scan(&r.Cursor, &r.Table, &r.RecordID, &r.Action); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := fillPayloads(ctx, tx, out); err != nil {
		return nil, 0, err
	}
	return out, maxCursor, nil
}

// QueuedRecords returns up to limit entries of a site's queue, oldest first, and how many it holds.
func (db *DB) QueuedRecords(ctx context.Context, siteID int64, limit int) ([]OutRecord, int64, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sync_queue WHERE site_id = ?`, siteID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, table_name, record_id, action, store_id FROM sync_queue WHERE site_id = ? ORDER BY id LIMIT ?`, siteID, limit)
	if err != nil {
		return nil, 0, err
	}
	var out []OutRecord
	var queuedFor []string
	for rows.Next() {
		var r OutRecord
		var id int64
		var store string
		if err := rows.Scan(&id, &r.Table, &r.RecordID, &r.Action, &store); err != nil {
			rows.Close()
			return nil, 0, err
		}
		r.SyncOutID = strconv.FormatInt(id, 10)
		out = append(out, r)
		queuedFor = append(queuedFor, store)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := fillPayloads(ctx, tx, out); err != nil {
		return nil, 0, err
	}
	for i := range out {
		// An entry outlived its record and the id now names a record of another store: the site learns
		// only that its record is gone.
		if out[i].Action != "delete" && out[i].StoreID != queuedFor[i] {
			out[i].Action, out[i].Data = "delete", nil
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

// SiteAuth is what the server needs to authenticate a site. It stays inside the server.
type SiteAuth struct {
	ID           int64
	Code         string
	Name         string
	PasswordHash string
	HardwareID   string
	Blocked      bool
	FailedLogins int
	AuthVersion  int64
	Stores       int
}

func (db *DB) siteAuth(ctx context.Context, where string, arg any) (SiteAuth, error) {
	var a SiteAuth
	err := db.conn().QueryRowContext(ctx, `SELECT id, code, name, password_hash, hardware_id, blocked, failed_logins, auth_version,
		(SELECT count(*) FROM store WHERE store.site_id = site.id) FROM site WHERE `+where, arg).
		Scan(&a.ID, &a.Code, &a.Name, &a.PasswordHash, &a.HardwareID, &a.Blocked, &a.FailedLogins, &a.AuthVersion, &a.Stores)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errorf(ENOTFOUND, "no such site")
	}
	return a, err
}

// SiteAuthByName looks a site up by the name it authenticates with.
func (db *DB) SiteAuthByName(ctx context.Context, name string) (SiteAuth, error) {
	return db.siteAuth(ctx, `name = ?`, name)
}

// SiteAuthByID looks a site up by ID.
func (db *DB) SiteAuthByID(ctx context.Context, id int64) (SiteAuth, error) {
	return db.siteAuth(ctx, `id = ?`, id)
}

// RecordLoginFailure counts a failed login and blocks the site once max failures come in a row.
func (db *DB) RecordLoginFailure(ctx context.Context, siteID int64, max int) (blocked bool, err error) {
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE site SET failed_logins = failed_logins + 1 WHERE id = ?`, siteID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE site SET blocked = 1, auth_version = auth_version + 1
			WHERE id = ? AND blocked = 0 AND failed_logins >= ?`, siteID, max)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		blocked = n > 0
		return nil
	})
	return blocked, err
}

// BindHardwareID binds a site to the device that authenticated as it when it has none yet; it reports
// the hardware ID the site is bound to afterwards.
func (db *DB) BindHardwareID(ctx context.Context, siteID int64, hardwareID string) (string, error) {
	var bound string
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE site SET hardware_id = ?, auth_version = auth_version + 1
			WHERE id = ? AND hardware_id = ''`, hardwareID, siteID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT hardware_id FROM site WHERE id = ?`, siteID).Scan(&bound)
	})
	return bound, err
}

// RecordLoginSuccess clears a failure streak and notes when the site was last heard from (at most once a
// minute, so a sync of many batches does not write on every request). Being heard from is not having
// synced: RecordSyncCompleted says that.
func (db *DB) RecordLoginSuccess(ctx context.Context, siteID int64, failedLogins int) error {
	now := db.now().UTC()
	_, err := db.conn().ExecContext(ctx, `UPDATE site SET failed_logins = 0, last_contact_at = ?
		WHERE id = ? AND (failed_logins <> 0 OR last_contact_at IS NULL OR last_contact_at < ?)`,
		now.Format(time.RFC3339), siteID, now.Add(-time.Minute).Format(time.RFC3339))
	return err
}

// RecordSyncCompleted notes that the site has just completed a sync cycle, which is what its last sync
// time, its staleness and the last-sync metric report. The server decides when that is (see its
// handleGetQueued).
func (db *DB) RecordSyncCompleted(ctx context.Context, siteID int64) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE site SET last_sync_at = ? WHERE id = ?`, db.timestamp(), siteID)
	return err
}

// UpdateSiteType records the type a remote reports when it syncs, unless a mobile type would break the
// one-store rule.
func (db *DB) UpdateSiteType(ctx context.Context, siteID int64, siteType string) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE site SET type = ? WHERE id = ? AND type <> ?
		AND (? <> 'mobile' OR (SELECT count(*) FROM store WHERE site_id = ?) <= 1)`, siteType, siteID, siteType, siteType, siteID)
	return err
}

// InitialiseSite queues all store data of a site's stores for it and notes that it is initialising. The
// master data it needs it reads from the change log, from cursor 0.
func (db *DB) InitialiseSite(ctx context.Context, siteID int64) (int64, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if err := requeueSiteStores(ctx, tx, siteID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE site SET init_requested_at = ? WHERE id = ?`, db.timestamp(), siteID); err != nil {
			return err
		}
		// A client that sends bare numbers counts from the start again with a new datafile; sources that
		// name their datafile need no reset, so a replayed initialise cannot reopen the door to old copies.
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_source WHERE site_id = ? AND source = ''`, siteID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM sync_queue WHERE site_id = ?`, siteID).Scan(&n)
	})
	return n, err
}

// SiteSyncInfo is what the central server tells a site about itself.
type SiteSyncInfo struct {
	InitialisationStatus string
	QueueLength          int64
}

// SiteSyncInfo reports a site's initialisation state and queue length.
func (db *DB) SiteSyncInfo(ctx context.Context, siteID int64) (SiteSyncInfo, error) {
	var info SiteSyncInfo
	var requested sql.NullString
	err := db.conn().QueryRowContext(ctx, `SELECT init_requested_at, (SELECT count(*) FROM sync_queue WHERE site_id = site.id)
		FROM site WHERE id = ?`, siteID).Scan(&requested, &info.QueueLength)
	if err != nil {
		return info, err
	}
	switch {
	case !requested.Valid:
		info.InitialisationStatus = "new"
	case info.QueueLength > 0:
		info.InitialisationStatus = "started"
	default:
		info.InitialisationStatus = "completed"
	}
	return info, nil
}

// PushResult is what central did with a pushed batch.
type PushResult struct {
	Rejections []Rejection
	// Parked are the records of the batch that central keeps without integrating them yet, with the reason.
	Parked      []Rejection
	Integration IntegrationResult
	// HandedOver counts the pending store moves the batch completed.
	HandedOver int
	// HighWater is the highest sequence integrated so far from the datafile that pushed: a remote that
	// finds it above what it has just sent has been restored from an older copy and must push under a
	// new datafile id, or its new records would be taken for replays.
	HighWater int64
	source    string
}

// ReceivePush takes a batch pushed by a remote site: it refuses for good what the site may not write,
// buffers the rest, and integrates everything buffered from that site, all in one transaction. A record
// that cannot be integrated yet (it refers to one not yet received, or to master data since deleted) is
// parked in the buffer with its reason and tried again with the next push and by RetryParked. remaining
// is what the site says it still has to send; handedOver are the stores it hands over with this batch
// (see completeHandovers).
func (db *DB) ReceivePush(ctx context.Context, siteID int64, records []InRecord, remaining int64, handedOver []string) (PushResult, error) {
	var res PushResult
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// A batch is at most a page of records and quick to write; watching ctx for each of its statements
		// would cost a goroutine apiece. An abandoned request's batch is written whole or not at all.
		ctx := context.WithoutCancel(ctx)
		res = PushResult{}
		buf, err := newBufferWriter(ctx, tx, db.timestamp())
		if err != nil {
			return err
		}
		defer buf.close()
		marks, err := loadPushMarks(ctx, tx, siteID)
		if err != nil {
			return err
		}
		checks := newStmtCache(tx)
		defer checks.close()
		var accepted []InRecord
		for _, r := range records {
			if source, seq, ok := splitSyncOutID(r.SyncOutID); ok {
				res.source = source
				if seq <= marks.seen[source] {
					continue // already integrated: a replay must not bring back older content
				}
				marks.raise(source, seq)
			}
			code, msg, err := checkPushed(ctx, checks, siteID, &r)
			if err != nil {
				return err
			}
			if code == parkStoreMovedAway {
				if err := buf.add(ctx, siteID, r, msg); err != nil {
					return err
				}
				res.Parked = append(res.Parked, Rejection{SyncOutID: r.SyncOutID, Code: ParkedCode, Message: msg})
				continue
			}
			if code != "" {
				res.Rejections = append(res.Rejections, Rejection{SyncOutID: r.SyncOutID, Code: code, Message: msg})
				continue
			}
			accepted = append(accepted, r)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE site SET unsent_records = ? WHERE id = ?`, max(remaining, 0), siteID); err != nil {
			return err
		}
		if err := marks.save(ctx, tx, siteID, db.now()); err != nil {
			return err
		}
		res.HighWater = marks.seen[res.source]
		// Records still waiting from earlier pushes (they referred to records not yet received) are tried
		// again after this batch, which may hold what they were waiting for.
		waiting, err := hasBuffered(ctx, tx, siteID)
		if err != nil {
			return err
		}
		in, err := newIntegrator(ctx, tx, RoleCentral, CentralSiteID, siteID)
		if err != nil {
			return err
		}
		err = in.direct(ctx, buf, waiting, accepted, &res.Integration)
		in.close()
		if err := in.finish(ctx, err); err != nil {
			return err
		}
		res.Parked = append(res.Parked, res.Integration.Held...)
		if waiting {
			retried, err := integrate(ctx, tx, RoleCentral, siteID, siteID)
			if err != nil {
				return err
			}
			res.Integration.Integrated += retried.Integrated
			res.Integration.Failed, res.Integration.Dropped = retried.Failed, retried.Dropped
		}
		// Last, so the batch that carries the handover is integrated while the store is still the site's.
		res.HandedOver, err = completeHandovers(ctx, tx, siteID, handedOver, db.timestamp())
		return err
	})
	return res, err
}

// checkPushed decides whether a remote may write a pushed record at all.
func checkPushed(ctx context.Context, tx queryer, siteID int64, r *InRecord) (code, msg string, err error) {
	t, ok := tablesByName[r.Table]
	if !ok {
		if r.Table == "site" || r.Table == "store" {
			return RejectMasterData, fmt.Sprintf("%s is master data: it is changed only on the central server", r.Table), nil
		}
		return RejectUnknownTable, fmt.Sprintf("unknown table %q", r.Table), nil
	}
	if t.Kind == Master {
		o, err := mayWrite(ctx, tx, writeRequest{path: pushCheck, role: RoleCentral, site: siteID, table: t})
		if err != nil {
			return "", "", err
		}
		if o.verdict != writeAllowed {
			return RejectMasterData, o.err.Message, nil
		}
	}
	if err := validID(r.RecordID); err != nil {
		return RejectInvalid, "recordId: " + err.Error(), nil
	}
	var stores []string
	switch r.Action {
	case "delete":
	case "insert", "update", "upsert":
		if r.checked == nil || r.checked.Table != t {
			rec, err := decodeReceived(t, r.RecordID, r.Data)
			if err != nil {
				return RejectInvalid, err.Error(), nil
			}
			r.checked = &rec
		}
		stores = append(stores, r.checked.StoreID())
	default:
		return RejectInvalid, fmt.Sprintf("action %q is not insert, update or delete", r.Action), nil
	}
	var existing sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT store_id FROM `+t.Name+` WHERE id = ?`, r.RecordID).Scan(&existing)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", err // a failing datafile is retried by the remote, not a verdict on the record
	}
	if existing.Valid {
		stores = append(stores, existing.String)
	} else {
		r.absent = true
	}
	for _, storeID := range stores {
		o, err := mayWrite(ctx, tx, writeRequest{path: pushCheck, role: RoleCentral, site: siteID, table: t, storeID: storeID})
		switch {
		case err != nil:
			return "", "", err // a failing datafile is retried by the remote, not a verdict on the record
		case o.verdict == writeParked:
			return parkStoreMovedAway, o.err.Message, nil
		case o.verdict == writeRefused:
			return RejectNotPermitted, o.err.Message, nil
		}
	}
	return "", "", nil
}

// SiteSummary is one remote site's sync state, as monitoring reads it.
type SiteSummary struct {
	ID            int64
	Name          string
	Blocked       bool
	LastSyncAt    *time.Time
	LastContactAt *time.Time
	Queued        int64
	Unsent        int64
	Parked        int64
}

// SiteSummaries returns the sync state of every remote site in one read.
func (db *DB) SiteSummaries(ctx context.Context) ([]SiteSummary, error) {
	rows, err := db.conn().QueryContext(ctx, `SELECT site.id, site.name, site.blocked, site.last_sync_at, site.last_contact_at, site.unsent_records,
		(SELECT count(*) FROM sync_queue WHERE sync_queue.site_id = site.id),
		(SELECT count(*) FROM sync_buffer WHERE sync_buffer.source_site_id = site.id) FROM site WHERE site.id <> ? ORDER BY site.id`, CentralSiteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SiteSummary
	for rows.Next() {
		var s SiteSummary
		var lastSync, lastContact sql.NullString
		if err := rows.Scan(&s.ID, &s.Name, &s.Blocked, &lastSync, &lastContact, &s.Unsent, &s.Queued, &s.Parked); err != nil {
			return nil, err
		}
		s.LastSyncAt, s.LastContactAt = parseTimestamp(lastSync), parseTimestamp(lastContact)
		out = append(out, s)
	}
	return out, rows.Err()
}

// splitSyncOutID reads "<source>:<sequence>" or a bare sequence number.
func splitSyncOutID(id string) (source string, seq int64, ok bool) {
	num := id
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		source, num = id[:i], id[i+1:]
	}
	seq, err := strconv.ParseInt(num, 10, 64)
	return source, seq, err == nil && seq > 0
}

// pushMarks are the high-water marks of one site's push sources.
type pushMarks struct {
	seen    map[string]int64
	changed map[string]bool
}

func loadPushMarks(ctx context.Context, tx *sql.Tx, siteID int64) (*pushMarks, error) {
	m := &pushMarks{seen: map[string]int64{}, changed: map[string]bool{}}
	rows, err := tx.QueryContext(ctx, `SELECT source, high_water FROM push_source WHERE site_id = ?`, siteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var source string
		var hw int64
		if err := rows.Scan(&source, &hw); err != nil {
			return nil, err
		}
		m.seen[source] = hw
	}
	return m, rows.Err()
}

func (m *pushMarks) raise(source string, seq int64) {
	if seq > m.seen[source] {
		m.seen[source] = seq
		m.changed[source] = true
	}
}

func (m *pushMarks) save(ctx context.Context, tx *sql.Tx, siteID int64, now time.Time) error {
	for source := range m.changed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_source (site_id, source, high_water, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (site_id, source) DO UPDATE SET high_water = max(high_water, excluded.high_water), updated_at = excluded.updated_at`,
			siteID, source, m.seen[source], now.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
	if len(m.changed) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM push_source WHERE site_id = ? AND updated_at < ?`,
		siteID, now.Add(-pushSourceRetention).UTC().Format(time.RFC3339))
	return err
}

// pushSourceRetention is how long central remembers a push source it no longer hears from.
const pushSourceRetention = 30 * 24 * time.Hour

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
		}
		for _, i := range indexes {
			p, ok := payloads[out[i].RecordID]
			out[i].Action, out[i].Data = outAction(out[i].Action, ok), p.data
			if ok && p.storeID != "" {
				out[i].StoreID = p.storeID
			}
		}
	}
	return nil
}

type payload struct {
	data    json.RawMessage
	storeID string
}

func loadPayloads(ctx context.Context, q dbtx, table string, ids []string, into map[string]payload) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	switch table {
	case "site":
		rows, err := q.QueryContext(ctx, `SELECT id, code, name, type FROM site WHERE CAST(id AS TEXT) IN `+in, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
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
			if err != nil {
				return err
			}
			into[strconv.FormatInt(s.ID, 10)] = payload{data: data}
		}
		return rows.Err()
	case "store":
		rows, err := q.QueryContext(ctx, `SELECT `+storeColumns+` FROM store WHERE id IN `+in, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanStore(rows)
			if err != nil {
				return err
			}
			data, err := json.Marshal(s)
			if err != nil {
				return err
			}
			into[s.ID] = payload{data: data}
		}
		return rows.Err()
	}
	t, ok := tablesByName[table]
	if !ok {
		return fmt.Errorf("unknown table %q in the change log", table)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(t.Columns(), ", ")+` FROM `+t.Name+` WHERE id IN `+in, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanRecord(t, rows)
		if err != nil {
			return err
		}
		data, err := rec.MarshalJSON()
		if err != nil {
			return err
		}
		into[rec.ID()] = payload{data: data, storeID: rec.StoreID()}
	}
	return rows.Err()
}
