-- Records received by sync wait here until they are integrated, so that a batch can arrive in any order
-- and be written in dependency order; one row per record, the latest received state winning.
CREATE TABLE sync_buffer (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_site_id INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('upsert', 'delete', 'merge')),
    data TEXT,
    received_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    UNIQUE (source_site_id, table_name, record_id)
);
CREATE INDEX sync_buffer_table ON sync_buffer (table_name, id);

-- A remote's progress: one row. Cursors move in the same transaction as the data they cover.
CREATE TABLE sync_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    central_cursor INTEGER NOT NULL DEFAULT 0,
    push_cursor INTEGER NOT NULL DEFAULT 0,
    initialised INTEGER NOT NULL DEFAULT 0,
    init_requested INTEGER NOT NULL DEFAULT 0,
    server_queue_length INTEGER NOT NULL DEFAULT 0,
    last_success_at TEXT
);
INSERT INTO sync_state (singleton) VALUES (1);

-- One row per sync run, with per-step progress, read by 'sync status'.
CREATE TABLE sync_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    push_total INTEGER NOT NULL DEFAULT 0,
    push_done INTEGER NOT NULL DEFAULT 0,
    pull_central_total INTEGER NOT NULL DEFAULT 0,
    pull_central_done INTEGER NOT NULL DEFAULT 0,
    pull_queue_total INTEGER NOT NULL DEFAULT 0,
    pull_queue_done INTEGER NOT NULL DEFAULT 0,
    integrate_total INTEGER NOT NULL DEFAULT 0,
    integrate_done INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    integration_errors INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error TEXT
);

-- Central: when a site asked to be initialised (NULL: never).
ALTER TABLE site ADD COLUMN init_requested_at TEXT;
