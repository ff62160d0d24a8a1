-- A remote pushes each sync cycle under a fresh source id, so central forgets sources a month after their
-- last push: a replay older than that is no longer recognised.
ALTER TABLE push_source ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
