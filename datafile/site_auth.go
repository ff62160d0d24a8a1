package datafile

import (
	"context"
	"database/sql"
	"errors"
)

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
	err := db.prepared(db.conn()).QueryRowContext(ctx, `SELECT id, code, name, password_hash, hardware_id, blocked, failed_logins, auth_version,
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
// minute). Being heard from is not having synced: RecordSyncCompleted says that.
func (db *DB) RecordLoginSuccess(ctx context.Context, siteID int64) error {
	return db.markSite(ctx, siteID, siteMark{contact: true})
}

// RecordSyncCompleted notes that the site has just completed a sync cycle, which is what its last sync
// time, its staleness and the last-sync metric report. The server decides when that is (see its
// handleGetQueued).
func (db *DB) RecordSyncCompleted(ctx context.Context, siteID int64) error {
	return db.markSite(ctx, siteID, siteMark{synced: true})
}

// UpdateSiteType records the type a remote reports when it syncs, unless a mobile type would break the
// one-store rule.
func (db *DB) UpdateSiteType(ctx context.Context, siteID int64, siteType string) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE site SET type = ? WHERE id = ? AND type <> ?
		AND (? <> 'mobile' OR (SELECT count(*) FROM store WHERE site_id = ?) <= 1)`, siteType, siteID, siteType, siteType, siteID)
	return err
}
