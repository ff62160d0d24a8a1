package datafile

import (
	"context"
	"database/sql"
	"time"
)

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
	// Initialisation queues everything at once, in one transaction: once asked for, it is complete. (The
	// server says "started" while that transaction runs.)
	info.InitialisationStatus = "new"
	if requested.Valid {
		info.InitialisationStatus = "completed"
	}
	return info, nil
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
	// TransfersPending counts the transfers from or to the site's stores that are on their way.
	TransfersPending int
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	transfers, err := db.PendingTransfersBySite(ctx)
	for i := range out {
		out[i].TransfersPending = transfers[out[i].ID]
	}
	return out, err
}
