package datafile

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// SyncState is a remote's sync progress.
type SyncState struct {
	CentralCursor     int64
	PushCursor        int64
	Initialised       bool
	InitRequested     bool
	ServerQueueLength int64
	LastSuccessAt     *time.Time
}

// SyncState reads this datafile's sync progress.
func (db *DB) SyncState(ctx context.Context) (SyncState, error) {
	var s SyncState
	var last sql.NullString
	err := db.conn().QueryRowContext(ctx, `SELECT central_cursor, push_cursor, initialised, init_requested, server_queue_length, last_success_at
		FROM sync_state`).Scan(&s.CentralCursor, &s.PushCursor, &s.Initialised, &s.InitRequested, &s.ServerQueueLength, &last)
	if last.Valid {
		if t, err := time.Parse(time.RFC3339, last.String); err == nil {
			s.LastSuccessAt = &t
		}
	}
	return s, err
}

// SetThisSiteID records the site ID the central server says this remote is. A datafile never changes
// site: a different ID means it is being used with another site's credentials.
func (db *DB) SetThisSiteID(ctx context.Context, id int64) error {
	s, err := db.Settings(ctx)
	if err != nil {
		return err
	}
	if s.ThisSiteID == id {
		return nil
	}
	if s.ThisSiteID != 0 {
		return errorf(ECONFLICT, "this datafile belongs to site %d but the server says these credentials are site %d", s.ThisSiteID, id).
			withHint("a datafile syncs as one site only; set this site's own name and password with 'msupply-sync site edit'")
	}
	_, err = db.conn().ExecContext(ctx, `UPDATE settings SET this_site_id = ? WHERE this_site_id IS NULL`, id)
	return err
}

// MarkInitRequested notes that the central server has queued this remote's initial data.
func (db *DB) MarkInitRequested(ctx context.Context) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE sync_state SET init_requested = 1`)
	return err
}

// MarkSynced records a successful cycle, and that initialisation is complete.
func (db *DB) MarkSynced(ctx context.Context, serverQueueLength int64) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE sync_state SET initialised = 1, server_queue_length = ?, last_success_at = ?`,
		serverQueueLength, db.timestamp())
	return err
}

// SetServerQueueLength records how many records the central server holds for this site.
func (db *DB) SetServerQueueLength(ctx context.Context, n int64) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE sync_state SET server_queue_length = ?`, n)
	return err
}

// PushBatch is the next batch of local changes to push.
type PushBatch struct {
	Records []OutRecord
	// Remaining is how many changes remain after these.
	Remaining int64
	// HandedOver lists, when nothing remains after this batch, the stores moving away from this site: with
	// their writes stopped and every change made for them in this batch or before it, they are handed
	// over once the batch is committed on central.
	HandedOver []string
}

// PendingPush returns up to limit local changes not yet pushed, oldest first, and how many remain after
// them. Each carries the record's current content.
func (db *DB) PendingPush(ctx context.Context, limit int) (PushBatch, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return PushBatch{}, err
	}
	defer tx.Rollback()
	recs, remaining, err := pendingPush(ctx, tx, limit)
	if err != nil || remaining > 0 {
		return PushBatch{Records: recs, Remaining: remaining}, err
	}
	// Read in the same snapshot as the batch: a store that started moving after it was read may have
	// changes the batch does not hold.
	var site sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT this_site_id FROM settings`).Scan(&site); err != nil {
		return PushBatch{}, err
	}
	handed, err := handingOver(ctx, tx, site.Int64)
	return PushBatch{Records: recs, HandedOver: handed}, err
}

func pendingPush(ctx context.Context, tx *sql.Tx, limit int) ([]OutRecord, int64, error) {
	var after, total int64
	var source string
	if err := tx.QueryRowContext(ctx, `SELECT push_cursor, (SELECT datafile_id FROM settings) FROM sync_state`).Scan(&after, &source); err != nil {
		return nil, 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE cursor > ? AND source_site_id IS NULL AND store_id IS NOT NULL`, after).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT cursor, table_name, record_id, action FROM changelog
		WHERE cursor > ? AND source_site_id IS NULL AND store_id IS NOT NULL ORDER BY cursor LIMIT ?`, after, limit)
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
		r.SyncOutID = source + ":" + strconv.FormatInt(r.Cursor, 10)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := fillPayloads(ctx, tx, out); err != nil {
		return nil, 0, err
	}
	return out, total - int64(len(out)), nil
}

// UnsentCount returns how many local changes wait to be pushed.
func (db *DB) UnsentCount(ctx context.Context) (int64, error) {
	var n int64
	err := db.conn().QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE source_site_id IS NULL AND store_id IS NOT NULL
		AND cursor > (SELECT push_cursor FROM sync_state)`).Scan(&n)
	return n, err
}

// AdvancePushCursor records that the central server has the local changes up to cursor.
func (db *DB) AdvancePushCursor(ctx context.Context, cursor int64) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE sync_state SET push_cursor = max(push_cursor, ?)`, cursor)
	return err
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
			res, err := tx.ExecContext(ctx, `INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
				SELECT ?, id, 'update', store_id, NULL FROM `+t.Name+`
				WHERE store_id IN (SELECT id FROM store WHERE site_id = ?) ORDER BY id`, t.Name, s.ThisSiteID)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
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
	if _, err := db.requireCentral(ctx, "generating sync records for sites"); err != nil {
		return 0, err
	}
	if err := db.requireUnlocked(ctx); err != nil {
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
		for _, table := range []string{"site", "store"} {
			res, err := tx.ExecContext(ctx, `INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
				SELECT ?, CAST(id AS TEXT), 'update', NULL, NULL FROM `+table+` ORDER BY id`, table)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		for _, t := range Tables() {
			if t.Kind != Master {
				continue
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
				SELECT ?, id, 'update', NULL, NULL FROM `+t.Name+` ORDER BY id`, t.Name)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}

// RunLog is one sync run as recorded in the datafile.
type RunLog struct {
	ID                int64      `json:"id"`
	Kind              string     `json:"kind"`
	StartedAt         time.Time  `json:"started_at"`
	FinishedAt        *time.Time `json:"finished_at"`
	PushTotal         int64      `json:"push_total"`
	PushDone          int64      `json:"push_done"`
	PullCentralTotal  int64      `json:"pull_central_total"`
	PullCentralDone   int64      `json:"pull_central_done"`
	PullQueueTotal    int64      `json:"pull_queue_total"`
	PullQueueDone     int64      `json:"pull_queue_done"`
	IntegrateTotal    int64      `json:"integrate_total"`
	IntegrateDone     int64      `json:"integrate_done"`
	Rejected          int64      `json:"rejected"`
	Parked            int64      `json:"parked"`
	IntegrationErrors int64      `json:"integration_errors"`
	ErrorCode         string     `json:"error_code"`
	Error             string     `json:"error"`
}

// StartRun opens a sync log row.
func (db *DB) StartRun(ctx context.Context, kind string) (*RunLog, error) {
	r := &RunLog{Kind: kind, StartedAt: db.now().UTC().Truncate(time.Second)}
	res, err := db.conn().ExecContext(ctx, `INSERT INTO sync_log (kind, started_at) VALUES (?, ?)`, kind, r.StartedAt.Format(time.RFC3339))
	if err != nil {
		return nil, err
	}
	r.ID, err = res.LastInsertId()
	return r, err
}

// SaveRun writes a run's progress; with finished set it also closes the run.
func (db *DB) SaveRun(ctx context.Context, r *RunLog, finished bool) error {
	var fin any
	if finished {
		t := db.now().UTC().Truncate(time.Second)
		r.FinishedAt = &t
		fin = t.Format(time.RFC3339)
	}
	// The kind is written again because a run learns only once started that it is an initialisation.
	_, err := db.conn().ExecContext(ctx, `UPDATE sync_log SET kind = ?, finished_at = coalesce(?, finished_at), push_total = ?, push_done = ?,
		pull_central_total = ?, pull_central_done = ?, pull_queue_total = ?, pull_queue_done = ?, integrate_total = ?,
		integrate_done = ?, rejected = ?, parked = ?, integration_errors = ?, error_code = ?, error = ? WHERE id = ?`,
		r.Kind, fin, r.PushTotal, r.PushDone, r.PullCentralTotal, r.PullCentralDone, r.PullQueueTotal, r.PullQueueDone,
		r.IntegrateTotal, r.IntegrateDone, r.Rejected, r.Parked, r.IntegrationErrors, nullIfEmpty(r.ErrorCode), nullIfEmpty(r.Error), r.ID)
	return err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LastRun returns the newest sync log row, or nil when there has been no run.
func (db *DB) LastRun(ctx context.Context) (*RunLog, error) {
	var r RunLog
	var started string
	var finished, code, msg sql.NullString
	err := db.conn().QueryRowContext(ctx, `SELECT id, kind, started_at, finished_at, push_total, push_done, pull_central_total,
		pull_central_done, pull_queue_total, pull_queue_done, integrate_total, integrate_done, rejected, parked, integration_errors,
		error_code, error FROM sync_log ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &r.Kind, &started, &finished, &r.PushTotal, &r.PushDone,
		&r.PullCentralTotal, &r.PullCentralDone, &r.PullQueueTotal, &r.PullQueueDone, &r.IntegrateTotal, &r.IntegrateDone,
		&r.Rejected, &r.Parked, &r.IntegrationErrors, &code, &msg)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.StartedAt, _ = time.Parse(time.RFC3339, started)
	if finished.Valid {
		t, _ := time.Parse(time.RFC3339, finished.String)
		r.FinishedAt = &t
	}
	r.ErrorCode, r.Error = code.String, msg.String
	return &r, nil
}

// SetRequestSize stores the request size the remote has adapted to, held within MinRequestSize and the
// administrator's setting, which it never changes.
func (db *DB) SetRequestSize(ctx context.Context, n int) error {
	n = min(max(n, MinRequestSize), MaxRequestSize)
	_, err := db.conn().ExecContext(ctx, `UPDATE settings SET request_size = max(min(?, request_size_setting), ?)`, n, MinRequestSize)
	return err
}

// RotateDatafileID gives this datafile a new id for its pushes. A datafile restored from an older copy
// numbers its changes from the copy's point again; under a new id they cannot be taken for replays of the
// changes it had pushed before the copy was restored.
func (db *DB) RotateDatafileID(ctx context.Context) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE settings SET datafile_id = ?`, uuid.NewString())
	return err
}
