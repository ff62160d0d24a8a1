package datafile

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// siteMarks holds what central notes about the sites it hears from, their last contact and their last
// completed sync, until it is written in a group commit. A request that brings a mark waits for the commit
// that holds it, as it would for a commit of its own; but every mark that arrives while one commit is
// under way goes into the next, one transaction for all of them. A thousand sites in their idle cycles
// then cost a few commits a second rather than a thousand, and the write lock stays free for records.
type siteMarks struct {
	mu       sync.Mutex
	pending  map[int64]siteMark
	waiting  []chan error
	flushing bool
}

type siteMark struct {
	contact bool // heard from: clears a failure streak and sets last_contact_at
	synced  bool // completed a sync cycle: sets last_sync_at
}

func (m siteMark) or(o siteMark) siteMark {
	return siteMark{contact: m.contact || o.contact, synced: m.synced || o.synced}
}

// markSite records m for a site and returns once it is committed.
func (db *DB) markSite(ctx context.Context, siteID int64, m siteMark) error {
	if db.tx != nil {
		return writeSiteMarks(ctx, db.tx, map[int64]siteMark{siteID: m}, db.now())
	}
	sm := db.marks
	done := make(chan error, 1)
	sm.mu.Lock()
	sm.pending[siteID] = sm.pending[siteID].or(m)
	sm.waiting = append(sm.waiting, done)
	if !sm.flushing {
		sm.flushing = true
		go db.flushSiteMarks()
	}
	sm.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The mark is committed all the same, with the others of its group.
		return ctx.Err()
	}
}

// flushSiteMarks commits the marks waiting, group after group, until none are left.
func (db *DB) flushSiteMarks() {
	sm := db.marks
	for {
		sm.mu.Lock()
		if len(sm.pending) == 0 {
			sm.flushing = false
			sm.mu.Unlock()
			return
		}
		marks, waiting := sm.pending, sm.waiting
		sm.pending, sm.waiting = map[int64]siteMark{}, nil
		sm.mu.Unlock()
		// The commit serves many requests, so it does not end with any one of them.
		ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeout)
		err := db.withTx(ctx, func(tx *sql.Tx) error { return writeSiteMarks(ctx, tx, marks, db.now()) })
		cancel()
		for _, w := range waiting {
			w <- err
		}
	}
}

func writeSiteMarks(ctx context.Context, tx *sql.Tx, marks map[int64]siteMark, now time.Time) error {
	now = now.UTC()
	stamp, minuteAgo := now.Format(time.RFC3339), now.Add(-time.Minute).Format(time.RFC3339)
	for siteID, m := range marks {
		// Contact is noted at most once a minute, so a sync of many requests does not write on each.
		if m.contact {
			if _, err := tx.ExecContext(ctx, `UPDATE site SET failed_logins = 0, last_contact_at = ?
				WHERE id = ? AND (failed_logins <> 0 OR last_contact_at IS NULL OR last_contact_at < ?)`, stamp, siteID, minuteAgo); err != nil {
				return err
			}
		}
		if m.synced {
			if _, err := tx.ExecContext(ctx, `UPDATE site SET last_sync_at = ? WHERE id = ?`, stamp, siteID); err != nil {
				return err
			}
		}
	}
	return nil
}
