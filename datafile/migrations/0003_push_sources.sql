-- Every datafile has an id of its own; a remote puts it in front of the syncOutIds it pushes
-- ("<datafile id>:<change-log cursor>").
ALTER TABLE settings ADD COLUMN datafile_id TEXT NOT NULL DEFAULT '';

-- Central: for each site and each datafile that pushed as it, the highest cursor integrated. A pushed
-- record at or below it is an old copy (a replayed or duplicated request) and must not overwrite newer
-- content. Source '' holds clients that send bare numbers.
CREATE TABLE push_source (
    site_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    high_water INTEGER NOT NULL,
    PRIMARY KEY (site_id, source)
);
