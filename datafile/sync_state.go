package datafile

import (
	"context"
	"database/sql"
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
