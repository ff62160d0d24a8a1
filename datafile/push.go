package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rejection says why a pushed record was refused for good.
type Rejection struct {
	SyncOutID string `json:"syncOutId"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// Rejection codes.
const (
	RejectMasterData   = "master_data_refused"
	RejectNotPermitted = "store_not_active_on_site"
	RejectInvalid      = "invalid_record"
	// ParkedCode marks a pushed record that central keeps without integrating it yet, with the reason.
	ParkedCode = "parked"
)

// The verdicts on a pushed record that central keeps, with its reason, but will not integrate (see
// holding): a change for a store that has left the pushing site, made while the store was that site's,
// may not overwrite the store's data now; a record of a table this server does not model, or with content
// it cannot read, cannot be written. A client such as open-mSupply never sends again what it was told was
// refused, so refusing these would lose them; an administrator sees them with 'sync parked'.
const (
	parkStoreMovedAway = "park:moved"
	parkUnreadable     = "park:unreadable"
)

// skipResent is the verdict on a change central already has from the handover of its store.
const skipResent = "skip"

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
		if err := widenCacheForBulkWrites(ctx, tx); err != nil {
			return err
		}
		buf, err := newBufferWriter(ctx, tx, db.timestamp())
		if err != nil {
			return err
		}
		defer buf.close()
		marks, err := loadPushMarks(ctx, tx, siteID)
		if err != nil {
			return err
		}
		stmts := newStmtCache(tx)
		defer stmts.close()
		checks := newLookups(stmts)
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
			if code == skipResent {
				continue
			}
			if code == parkStoreMovedAway || code == parkUnreadable {
				held := heldStoreMovedAway
				if code == parkUnreadable {
					held = heldUnreadable
				}
				if err := buf.add(ctx, siteID, r, msg, held); err != nil {
					return err
				}
				if held == heldStoreMovedAway {
					if err := returnParkedTransfer(ctx, tx, siteID, r.Table, r.RecordID); err != nil {
						return err
					}
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
func checkPushed(ctx context.Context, look *lookups, siteID int64, r *InRecord) (code, msg string, err error) {
	if r.Unreadable != "" {
		code, msg := keepUnreadable(r, r.Unreadable)
		return code, msg, nil
	}
	t, ok := tablesByName[r.Table]
	if !ok {
		if r.Table == "site" || r.Table == "store" {
			return RejectMasterData, fmt.Sprintf("%s is master data: it is changed only on the central server", r.Table), nil
		}
		code, msg := keepUnreadable(r, fmt.Sprintf("table %q is not one this server keeps", r.Table))
		return code, msg, nil
	}
	if t.Kind == Master {
		o, err := mayWrite(ctx, look, writeRequest{path: pushCheck, role: RoleCentral, site: siteID, table: t})
		if err != nil {
			return "", "", err
		}
		if o.verdict != writeAllowed {
			if t.Name == "name_store_join" {
				// open-mSupply pushes the joins of its stores' names as a matter of course: refused, they
				// would be lost, so central keeps them for an administrator, unwritten.
				code, msg := keepUnreadable(r, o.err.Message+"; kept for an administrator")
				return code, msg, nil
			}
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
				return parkUnreadable, err.Error(), nil
			}
			r.checked = &rec
		}
		stores = append(stores, r.checked.StoreID())
	default:
		return RejectInvalid, fmt.Sprintf("action %q is not insert, update or delete", r.Action), nil
	}
	var existing sql.NullString
	err = look.q.QueryRowContext(ctx, `SELECT store_id FROM `+t.Name+` WHERE id = ?`, r.RecordID).Scan(&existing)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", err // a failing datafile is retried by the remote, not a verdict on the record
	}
	if existing.Valid {
		stores = append(stores, existing.String)
	} else {
		r.absent = true
	}
	for _, storeID := range stores {
		o, err := mayWrite(ctx, look, writeRequest{path: pushCheck, role: RoleCentral, site: siteID, table: t, storeID: storeID})
		switch {
		case err != nil:
			return "", "", err // a failing datafile is retried by the remote, not a verdict on the record
		case o.verdict == writeParked:
			return parkStoreMovedAway, o.err.Message, nil
		case o.verdict == writeResent:
			return skipResent, "", nil
		case o.verdict == writeRefused:
			return RejectNotPermitted, o.err.Message, nil
		}
	}
	return "", "", nil
}

// keepUnreadable is the verdict on a record central keeps, with reason, but cannot write: parked and held,
// unless it cannot even be kept (checkEnvelope).
func keepUnreadable(r *InRecord, reason string) (code, msg string) {
	if code, msg := checkEnvelope(r); code != "" {
		return code, msg
	}
	return parkUnreadable, reason
}

// checkEnvelope refuses a pushed record that cannot even be kept: one with no usable table name or id, or
// an action that is none of insert, update, upsert, delete and merge.
func checkEnvelope(r *InRecord) (code, msg string) {
	if !validTableName(r.Table) {
		return RejectInvalid, fmt.Sprintf("tableName must be 1 to %d letters, digits and underscores", maxTableName)
	}
	if err := validID(r.RecordID); err != nil {
		return RejectInvalid, "recordId: " + err.Error()
	}
	switch r.Action {
	case "insert", "update", "upsert", "delete", "merge":
		return "", ""
	}
	return RejectInvalid, fmt.Sprintf("action %q is not insert, update or delete", r.Action)
}

const maxTableName = 64

func validTableName(name string) bool {
	if name == "" || len(name) > maxTableName {
		return false
	}
	for _, c := range []byte(name) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
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
	err := queryEach(ctx, tx, func(rows *sql.Rows) error {
		var source string
		var hw int64
		err := rows.Scan(&source, &hw)
		m.seen[source] = hw
		return err
	}, `SELECT source, high_water FROM push_source WHERE site_id = ?`, siteID)
	return m, err
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
