package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/msupply-foundation/msupply-sync/plural"
)

// A store moves from one site to another by a handover. While the site it leaves may hold changes it has
// not pushed, the store stays active there, read-only, and the move is pending: the store record, which
// every remote reads, names the site it is moving to, so the old site stops writing to it and, once it has
// pushed everything it wrote, says so in its push. Central then completes the move in the same
// transaction, and the new site gets all of the store's data. A change is never lost on the way: what the
// old site wrote while the store was its own reaches central before the store leaves it.
//
// A move completes at once when the site the store leaves cannot hold unsent changes: the central site,
// or a remote that has never initialised. 'store move --force' completes a pending move without the old
// site, for a site that is gone for good; whatever that site pushes for the store afterwards is parked on
// central, never dropped.

// MovePlan describes what moving a store to a site would do.
type MovePlan struct {
	Store Store
	From  Site
	To    Site
	// Handover says the move waits for From to hand the store over; false means it completes at once.
	Handover bool
	// Unsent is what From said it still had to push when it last pushed, for all of its stores.
	Unsent int
	// InFlight counts the store's records queued for From and not yet acknowledged.
	InFlight int
	// Cancels says the store is moving away from To and the move takes it back there: the pending move
	// is cancelled.
	Cancels bool
}

// PlanStoreMove reports what moving a store to a site (the central site when toSiteRef is empty) would do,
// without changing anything.
func (db *DB) PlanStoreMove(ctx context.Context, storeRef, toSiteRef string) (MovePlan, error) {
	return planStoreMove(ctx, db.conn(), storeRef, toSiteRef)
}

func planStoreMove(ctx context.Context, q rowsQueryer, storeRef, toSiteRef string) (MovePlan, error) {
	var p MovePlan
	st, err := findStore(ctx, q, storeRef)
	if err != nil {
		return p, err
	}
	if toSiteRef == "" {
		toSiteRef = itoa(CentralSiteID)
	}
	to, err := findSite(ctx, q, toSiteRef)
	if err != nil {
		return p, err
	}
	from, err := findSite(ctx, q, itoa(st.SiteID))
	if err != nil {
		return p, err
	}
	p = MovePlan{Store: st, From: from, To: to}
	if to.ID == st.SiteID {
		p.Cancels = st.MovingToSiteID != nil
		return p, nil
	}
	if from.ID == CentralSiteID {
		return p, nil
	}
	var initialised bool
	if err := q.QueryRowContext(ctx, `SELECT init_requested_at IS NOT NULL FROM site WHERE id = ?`, from.ID).Scan(&initialised); err != nil {
		return p, err
	}
	p.Handover = initialised
	p.Unsent = from.UnsentRecords
	err = q.QueryRowContext(ctx, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND store_id = ?`, from.ID, st.ID).Scan(&p.InFlight)
	return p, err
}

// MoveStore moves a store to another site (the central site when toSiteRef is empty). The move completes at
// once when the site the store leaves cannot hold unsent changes, and otherwise waits for that site's
// handover; force completes it now in any case. Moving a store back to the site it is leaving cancels the
// pending move. It returns the plan it carried out and the store as it stands after it.
func (db *DB) MoveStore(ctx context.Context, storeRef, toSiteRef string, force bool) (MovePlan, Store, error) {
	if err := db.RequireCentralUnlocked(ctx, "moving a store"); err != nil {
		return MovePlan{}, Store{}, err
	}
	var plan MovePlan
	var st Store
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if plan, err = planStoreMove(ctx, tx, storeRef, toSiteRef); err != nil {
			return err
		}
		st = plan.Store
		switch {
		case plan.Cancels:
			if _, err := tx.ExecContext(ctx, `UPDATE store SET moving_to_site_id = NULL WHERE id = ?`, st.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE store_move SET completed_at = ?, how = NULL WHERE store_id = ? AND completed_at IS NULL`,
				db.timestamp(), st.ID); err != nil {
				return err
			}
			st.MovingToSiteID = nil
			return nil
		case plan.To.ID == st.SiteID:
			return errorf(ECONFLICT, "store %s is already on site %q", st.Code, plan.To.Name)
		case !force && st.MovingToSiteID != nil && *st.MovingToSiteID == plan.To.ID:
			return errorf(ECONFLICT, "store %s is already moving to site %q; it waits for site %q to hand it over", st.Code, plan.To.Name, plan.From.Name).
				withHint("let site %q sync, or complete the move without it with --force if it is gone for good", plan.From.Name)
		}
		if err := checkRoomFor(ctx, tx, plan.To, st); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE store_move SET completed_at = ?, how = NULL WHERE store_id = ? AND completed_at IS NULL`,
			db.timestamp(), st.ID); err != nil {
			return err
		}
		if plan.Handover && !force {
			if _, err := tx.ExecContext(ctx, `INSERT INTO store_move (store_id, from_site_id, to_site_id, requested_at) VALUES (?, ?, ?, ?)`,
				st.ID, plan.From.ID, plan.To.ID, db.timestamp()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE store SET moving_to_site_id = ? WHERE id = ?`, plan.To.ID, st.ID); err != nil {
				return err
			}
			st.MovingToSiteID = &plan.To.ID
			return nil
		}
		how := "at_once"
		if plan.Handover {
			how = "forced"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO store_move (store_id, from_site_id, to_site_id, requested_at, completed_at, how)
			VALUES (?, ?, ?, ?, ?, ?)`, st.ID, plan.From.ID, plan.To.ID, db.timestamp(), db.timestamp(), how); err != nil {
			return err
		}
		st.SiteID, st.MovingToSiteID = plan.To.ID, nil
		return moveStoreNow(ctx, tx, st)
	})
	return plan, st, err
}

// moveStoreNow makes st active on st.SiteID and queues all of its data there.
func moveStoreNow(ctx context.Context, tx *sql.Tx, st Store) error {
	if _, err := tx.ExecContext(ctx, `UPDATE store SET site_id = ?, moving_to_site_id = NULL WHERE id = ?`, st.SiteID, st.ID); err != nil {
		return err
	}
	if err := dropOrphanReceipts(ctx, tx, st.ID); err != nil {
		return err
	}
	if err := requeueStore(ctx, tx, st); err != nil {
		return err
	}
	if err := queueGoneTransfers(ctx, tx, st); err != nil {
		return err
	}
	return queueStoreJoins(ctx, tx, st)
}

// checkRoomFor refuses to move a store to a mobile site that holds, or is about to hold, another store.
func checkRoomFor(ctx context.Context, q queryer, to Site, st Store) error {
	if to.Type != SiteMobile {
		return nil
	}
	var other string
	err := q.QueryRowContext(ctx, `SELECT code FROM store WHERE id <> ? AND (site_id = ? OR moving_to_site_id = ?) LIMIT 1`, st.ID, to.ID, to.ID).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return errorf(ECONFLICT, "site %q is a mobile site and already holds store %s; a mobile site holds at most one store", to.Name, other).
		withHint("move that store off the site first, or use a standalone site")
}

// completeHandovers completes the pending moves of the stores that a site says it has handed over: it has
// pushed, in this transaction or before, every change it made for them, and makes no more.
func completeHandovers(ctx context.Context, tx *sql.Tx, siteID int64, storeIDs []string, now string) (int, error) {
	done := 0
	for _, id := range storeIDs {
		var st Store
		err := tx.QueryRowContext(ctx, `SELECT id, moving_to_site_id FROM store WHERE id = ? AND site_id = ? AND moving_to_site_id IS NOT NULL`,
			id, siteID).Scan(&st.ID, &st.SiteID)
		if errors.Is(err, sql.ErrNoRows) {
			continue // not moving, or not this site's to hand over: nothing to do
		}
		if err != nil {
			return done, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE store_move SET completed_at = ?, how = 'handover' WHERE store_id = ? AND completed_at IS NULL`,
			now, st.ID); err != nil {
			return done, err
		}
		if err := moveStoreNow(ctx, tx, st); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// movedAway reports whether a store left a site by a completed move: a change that site pushes for it
// afterwards was made while the store was its own, and is parked rather than refused.
func movedAway(ctx context.Context, q queryer, storeID string, siteID int64) (bool, error) {
	var moved bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM store_move WHERE store_id = ? AND from_site_id = ?
		AND completed_at IS NOT NULL AND how IS NOT NULL)`, storeID, siteID).Scan(&moved)
	return moved, err
}

// handingOver returns the stores active on this remote that are moving away: local writes to them are
// refused, and the push that empties the remote's unsent changes hands them over.
func handingOver(ctx context.Context, q rowsQueryer, thisSite int64) ([]string, error) {
	return queryColumn[string](ctx, q, `SELECT id FROM store WHERE site_id = ? AND moving_to_site_id IS NOT NULL ORDER BY id`, thisSite)
}

// Describe says in words what a move did or waits for, for the command line.
func (p MovePlan) Describe(st Store, force bool) string {
	switch {
	case p.Cancels:
		return fmt.Sprintf("store %s stays on site %q: its pending move is cancelled", st.Code, p.To.Name)
	case st.MovingToSiteID != nil:
		return fmt.Sprintf("store %s is moving from site %q to site %q: the move completes once %q has sent every change it made for the store (it said it had %s when it last pushed); until then the store is read-only on %q",
			st.Code, p.From.Name, p.To.Name, p.From.Name, plural.Count(p.Unsent, "unsent change", "unsent changes"), p.From.Name)
	case force && p.Handover:
		return fmt.Sprintf("store %s moved from site %q to site %q without a handover: changes %q sends for it from now on are parked on the central server ('msupply-sync sync parked')",
			st.Code, p.From.Name, p.To.Name, p.From.Name)
	}
	return fmt.Sprintf("store %s moved from site %q to site %q", st.Code, p.From.Name, p.To.Name)
}
