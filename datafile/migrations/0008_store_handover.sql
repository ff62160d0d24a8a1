-- A store moving away from a remote site stays active there, read-only, until that site has pushed every
-- change it made for it (the handover); moving_to_site_id is the site it goes to then. The store record
-- carries it to every remote, so the old site learns to stop writing and to hand the store over.
ALTER TABLE store ADD COLUMN moving_to_site_id INTEGER;

-- Central only: the moves a store has made. A change pushed by a site for a store that has left it is
-- parked, not refused, when the store left that site by a forced move: the change was made while the
-- store was still that site's, and is kept for an administrator.
CREATE TABLE store_move (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id TEXT NOT NULL,
    from_site_id INTEGER NOT NULL,
    to_site_id INTEGER NOT NULL,
    requested_at TEXT NOT NULL,
    completed_at TEXT,
    how TEXT CHECK (how IN ('handover', 'at_once', 'forced'))
);
CREATE INDEX store_move_store ON store_move (store_id, from_site_id);

-- What a run's pushes left parked on central: kept there, but not yet integrated.
ALTER TABLE sync_log ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;

-- Central only: a record held for an administrator is never retried. It is a change a site pushed for a
-- store that had been taken from it by a forced move; the site has dropped its copy since, so writing the
-- change later, even once the store is back on that site, would leave central and the site apart.
ALTER TABLE sync_buffer ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
