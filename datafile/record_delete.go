package datafile

import (
	"context"
	"database/sql"

	"github.com/msupply-foundation/msupply-sync/plural"
)

// DeleteRecord deletes one record, refusing where this site may not write it or other records refer to it.
// An item or a name is refused on a central server with remote sites: a remote may hold records that use
// it and that it has not pushed yet. It is made inactive instead (is_active false), or deleted with
// ForceDeleteRecord.
func (db *DB) DeleteRecord(ctx context.Context, tableName, id string) error {
	return db.deleteRecord(ctx, tableName, id, false)
}

// ForceDeleteRecord deletes one record like DeleteRecord, without refusing an item or a name that remote
// sites may use. What they push that uses it is parked on central until it is restored.
func (db *DB) ForceDeleteRecord(ctx context.Context, tableName, id string) error {
	return db.deleteRecord(ctx, tableName, id, true)
}

func (db *DB) deleteRecord(ctx context.Context, tableName, id string, force bool) error {
	return db.writeTable(ctx, tableName, func(tx *sql.Tx, s Settings, rs *recordStore) error {
		t := rs.t
		existing, err := rs.load(ctx, id)
		if err != nil {
			return err
		}
		if existing == nil {
			return errorf(ENOTFOUND, "no %s with id %q", t.Name, id)
		}
		if err := (writer{settings: s, look: newLookups(tx)}).checkOwnership(ctx, t, existing.StoreID()); err != nil {
			return err
		}
		for _, ref := range referrers(t.Name) {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+ref.table+` WHERE `+ref.field+` = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errorf(ECONFLICT, "cannot delete %s %q: %s %s to it", t.Name, id, plural.Count(n, ref.table+" record", ref.table+" records"), plural.Choose(n, "refers", "refer")).
					withHint("delete or change those records first")
			}
		}
		if _, activeFlag := t.Field("is_active"); activeFlag && !force && s.Role == RoleCentral {
			var remotes int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM site WHERE id <> ?`, CentralSiteID).Scan(&remotes); err != nil {
				return err
			}
			if remotes > 0 {
				return errorf(ECONFLICT, "%s %q may be in use on remote sites, in records they have not sent yet", t.Name, id).
					withHint(`make it inactive instead: msupply-sync record put %s '{"id":%q,"is_active":false}'; --force deletes it anyway, and what remotes send that uses it is parked until it is restored`, t.Name, id)
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE id = ?`, id)
		return err
	})
}
