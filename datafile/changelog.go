package datafile

import (
	"context"
	"database/sql"

	"github.com/msupply-foundation/msupply-sync/secret"
)

// Change is one entry of the change log.
type Change struct {
	Cursor       int64
	Table        string
	RecordID     string
	Action       string
	StoreID      string // "" for master data
	SourceSiteID int64  // 0 for a write made on this datafile
}

// Changes returns up to limit change-log entries after cursor, in cursor order.
func (db *DB) Changes(ctx context.Context, after int64, limit int) ([]Change, error) {
	rows, err := db.conn().QueryContext(ctx, `SELECT cursor, table_name, record_id, action, store_id, source_site_id
		FROM changelog WHERE cursor > ? ORDER BY cursor LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var store sql.NullString
		var source sql.NullInt64
		if err := rows.Scan(&c.Cursor, &c.Table, &c.RecordID, &c.Action, &store, &source); err != nil {
			return nil, err
		}
		c.StoreID, c.SourceSiteID = store.String, source.Int64
		out = append(out, c)
	}
	return out, rows.Err()
}

// VerifySitePassword reports whether password is the site's current password, for tools that must not
// rewrite an unchanged password.
func (db *DB) VerifySitePassword(ctx context.Context, siteID int64, password string) (bool, error) {
	var hash string
	if err := db.conn().QueryRowContext(ctx, `SELECT password_hash FROM site WHERE id = ?`, siteID).Scan(&hash); err != nil {
		return false, err
	}
	return hash != "" && secret.Verify(hash, secret.PasswordDigest(password)), nil
}
