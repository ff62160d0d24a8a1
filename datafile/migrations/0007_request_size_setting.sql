-- The administrator's sync request size, kept apart from request_size, the size a remote adapts to its
-- connection, which may never exceed it. Before this the one number was both, and adaptation overwrote
-- what the administrator had set. What was set then cannot be told from what was adapted, so an older
-- datafile takes the largest size as its setting and goes on adapting exactly as it did.
ALTER TABLE settings ADD COLUMN request_size_setting INTEGER NOT NULL DEFAULT 5000 CHECK (request_size_setting > 0);
