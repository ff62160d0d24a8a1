-- The changes a remote still has to push are its own store-data changes after its push cursor. Without
-- this index, finding them scanned every change log entry, including the million a remote's
-- initialisation writes there, on every sync cycle.
CREATE INDEX changelog_local ON changelog (cursor) WHERE source_site_id IS NULL AND store_id IS NOT NULL;
