package datafile

import (
	"context"
	"database/sql"
	"time"
)

// Parked is a record a site pushed that central keeps without having integrated it: it refers to a record
// central does not have (not yet received, or master data since deleted), its store has left the site that
// wrote it, or it is of a table central does not keep or has content central cannot read. Central never
// drops such a record; it tries the first kind again after every push of that site and on its own
// (RetryParked), holds the others for good, and an administrator sees them all with 'sync parked'.
type Parked struct {
	SiteID   int64     `json:"site_id"`
	Site     string    `json:"site"`
	Table    string    `json:"table"`
	RecordID string    `json:"id"`
	Reason   string    `json:"reason"`
	Since    time.Time `json:"since"`
	Attempts int       `json:"attempts"`
}

// ParkRecords keeps records a site sent that this server does not integrate at all, held for an
// administrator with reason, and returns how many it kept. A record with no usable table name, id or
// action cannot be kept and is left out of the count.
func (db *DB) ParkRecords(ctx context.Context, siteID int64, records []InRecord, reason string) (int, error) {
	if _, err := db.requireCentral(ctx, "parking records"); err != nil {
		return 0, err
	}
	var parked int
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		parked = 0
		buf, err := newBufferWriter(ctx, tx, db.timestamp())
		if err != nil {
			return err
		}
		defer buf.close()
		for _, r := range records {
			if code, _ := checkEnvelope(&r); code != "" {
				continue
			}
			if err := buf.add(ctx, siteID, r, reason, heldUnreadable); err != nil {
				return err
			}
			parked++
		}
		return nil
	})
	return parked, err
}

// ParkedRecords lists what central holds back, oldest first.
func (db *DB) ParkedRecords(ctx context.Context) ([]Parked, error) {
	rows, err := db.conn().QueryContext(ctx, `SELECT b.source_site_id, coalesce(site.name, ''), b.table_name, b.record_id,
		coalesce(b.error, 'waiting for the records it refers to'), b.received_at, b.attempts
		FROM sync_buffer b LEFT JOIN site ON site.id = b.source_site_id
		WHERE b.source_site_id <> ? ORDER BY b.received_at, b.id`, CentralSiteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Parked{}
	for rows.Next() {
		var p Parked
		var since string
		if err := rows.Scan(&p.SiteID, &p.Site, &p.Table, &p.RecordID, &p.Reason, &since, &p.Attempts); err != nil {
			return nil, err
		}
		p.Since, _ = time.Parse(time.RFC3339, since)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ParkedCount counts what central holds back from all sites.
func (db *DB) ParkedCount(ctx context.Context) (int64, error) {
	var n int64
	err := db.conn().QueryRowContext(ctx, `SELECT count(*) FROM sync_buffer WHERE source_site_id <> ?`, CentralSiteID).Scan(&n)
	return n, err
}

// RetryParked tries again to integrate what central holds back from every site, each site's records in a
// transaction of its own, and reports the total.
func (db *DB) RetryParked(ctx context.Context) (IntegrationResult, error) {
	var total IntegrationResult
	if _, err := db.requireCentral(ctx, "retrying parked records"); err != nil {
		return total, err
	}
	sites, err := queryColumn[int64](ctx, db.conn(), `SELECT DISTINCT source_site_id FROM sync_buffer WHERE source_site_id <> ?`, CentralSiteID)
	if err != nil {
		return total, err
	}
	for _, site := range sites {
		err := db.withTx(ctx, func(tx *sql.Tx) error {
			res, err := integrate(context.WithoutCancel(ctx), tx, RoleCentral, CentralSiteID, site)
			total.Integrated += res.Integrated
			total.Failed += res.Failed
			return err
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
