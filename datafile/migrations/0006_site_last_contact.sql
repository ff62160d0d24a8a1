-- last_sync_at was set by every authenticated request. It now records a completed sync cycle, and
-- last_contact_at takes over what it used to mean. What it held is carried over as the last contact, and
-- stays the last sync until the site's next completed cycle replaces it: clearing it would flag every
-- site as never synced on upgrade.
ALTER TABLE site ADD COLUMN last_contact_at TEXT;
UPDATE site SET last_contact_at = last_sync_at;
