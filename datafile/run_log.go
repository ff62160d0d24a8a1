package datafile

import (
	"context"
	"database/sql"
	"time"
)

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

// keepRuns is how many sync runs the log keeps: a remote syncing every minute writes half a million rows a
// year, and 'sync status' reads only the newest.
var keepRuns int64 = 1000

// StartRun opens a sync log row, and drops the rows of all but the last keepRuns runs.
func (db *DB) StartRun(ctx context.Context, kind string) (*RunLog, error) {
	r := &RunLog{Kind: kind, StartedAt: db.now().UTC().Truncate(time.Second)}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sync_log (kind, started_at) VALUES (?, ?)`, kind, r.StartedAt.Format(time.RFC3339))
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sync_log WHERE id <= ?`, r.ID-keepRuns)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
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
