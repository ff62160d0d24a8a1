-- Local settings of this datafile: one row, written by init.
CREATE TABLE settings (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    role TEXT NOT NULL CHECK (role IN ('central', 'remote')),
    -- NULL on a remote until the central server has told it which site it is.
    this_site_id INTEGER,
    auth_code_hash TEXT NOT NULL,
    unlocked_until INTEGER NOT NULL DEFAULT 0,
    unlock_window_minutes INTEGER NOT NULL DEFAULT 15,
    server_url TEXT NOT NULL DEFAULT '',
    sync_interval_minutes INTEGER NOT NULL DEFAULT 10 CHECK (sync_interval_minutes >= 0),
    request_size INTEGER NOT NULL DEFAULT 500 CHECK (request_size > 0),
    alt_http_client INTEGER NOT NULL DEFAULT 0,
    -- The remote's credential for the central server: the site name in clear, the password's SHA-256
    -- sealed with a key kept outside the datafile.
    credential_site_name TEXT NOT NULL DEFAULT '',
    credential_sealed BLOB,
    created_at TEXT NOT NULL
);

-- Who is writing, for the change-capture triggers. Set by the sync integrator inside its own write
-- transaction and cleared before commit; NULL means a local write on this datafile.
CREATE TABLE change_context (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    source_site_id INTEGER
);
INSERT INTO change_context (singleton, source_site_id) VALUES (1, NULL);

CREATE TABLE site (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (name <> ''),
    type TEXT NOT NULL DEFAULT 'standalone' CHECK (type IN ('standalone', 'mobile')),
    -- Central only: argon2id of the lowercase hex SHA-256 of the password. Never synced.
    password_hash TEXT NOT NULL DEFAULT '',
    hardware_id TEXT NOT NULL DEFAULT '',
    failed_logins INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    -- Bumped whenever the credential, hardware binding or block state changes, so that a server's
    -- in-memory record of verified credentials can tell it is stale.
    auth_version INTEGER NOT NULL DEFAULT 0,
    last_sync_at TEXT,
    -- What the remote last reported as still waiting to be pushed.
    unsent_records INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX site_code_unique ON site (code COLLATE NOCASE) WHERE code <> '';

CREATE TABLE store (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (code <> ''),
    name TEXT NOT NULL,
    site_id INTEGER NOT NULL REFERENCES site (id)
);
CREATE INDEX store_site ON store (site_id);

CREATE TABLE item (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT ''
);

CREATE TABLE name (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    is_customer INTEGER NOT NULL DEFAULT 0,
    is_supplier INTEGER NOT NULL DEFAULT 0,
    store_id TEXT REFERENCES store (id)
);

CREATE TABLE master_list (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE master_list_line (
    id TEXT PRIMARY KEY,
    master_list_id TEXT NOT NULL REFERENCES master_list (id),
    item_id TEXT NOT NULL REFERENCES item (id)
);
CREATE INDEX master_list_line_master_list ON master_list_line (master_list_id);
CREATE INDEX master_list_line_item ON master_list_line (item_id);

CREATE TABLE invoice (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES store (id),
    name_id TEXT NOT NULL REFERENCES name (id),
    type TEXT NOT NULL CHECK (type IN ('customer_invoice', 'supplier_invoice')),
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'confirmed', 'finalised')),
    their_ref TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX invoice_store ON invoice (store_id);
CREATE INDEX invoice_name ON invoice (name_id);

CREATE TABLE invoice_line (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoice (id),
    store_id TEXT NOT NULL REFERENCES store (id),
    item_id TEXT NOT NULL REFERENCES item (id),
    batch TEXT NOT NULL DEFAULT '',
    expiry TEXT,
    quantity REAL NOT NULL DEFAULT 0
);
CREATE INDEX invoice_line_invoice ON invoice_line (invoice_id);
CREATE INDEX invoice_line_store ON invoice_line (store_id);
CREATE INDEX invoice_line_item ON invoice_line (item_id);

CREATE TABLE stock_line (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES store (id),
    item_id TEXT NOT NULL REFERENCES item (id),
    batch TEXT NOT NULL DEFAULT '',
    expiry TEXT,
    quantity REAL NOT NULL DEFAULT 0
);
CREATE INDEX stock_line_store ON stock_line (store_id);
CREATE INDEX stock_line_item ON stock_line (item_id);

-- Every write to a synced table, in commit order. The cursor is what central_records pages by; store_id
-- is NULL for master data; source_site_id is NULL for a write made on this datafile and otherwise the
-- site that sent the change by sync, so it is never echoed back to it.
CREATE TABLE changelog (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete', 'merge')),
    store_id TEXT,
    source_site_id INTEGER
);
CREATE INDEX changelog_master ON changelog (cursor) WHERE store_id IS NULL;
CREATE INDEX changelog_store ON changelog (store_id, cursor) WHERE store_id IS NOT NULL;

-- Central only: store data waiting for the remote site its store is active on. One entry per record:
-- a later change replaces the entry under a new id, so acknowledging the id that was sent can never
-- drop a change made after it was sent.
CREATE TABLE sync_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    record_id TEXT NOT NULL,
    store_id TEXT NOT NULL,
    action TEXT NOT NULL,
    UNIQUE (site_id, table_name, record_id)
);
CREATE INDEX sync_queue_store ON sync_queue (store_id);

-- Store data changes reach the queue of the site their store is active on, in the same transaction,
-- except on the site that sent them.
CREATE TRIGGER changelog_route AFTER INSERT ON changelog
WHEN NEW.store_id IS NOT NULL AND (SELECT role FROM settings) = 'central'
BEGIN
    INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
    SELECT store.site_id, NEW.table_name, NEW.record_id, NEW.store_id, NEW.action
    FROM store
    WHERE store.id = NEW.store_id
      AND store.site_id <> 1
      AND store.site_id IS NOT NEW.source_site_id;
END;

CREATE TRIGGER site_capture_insert AFTER INSERT ON site BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('site', CAST(NEW.id AS TEXT), 'insert', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER site_capture_update AFTER UPDATE OF code, name, type ON site
WHEN OLD.code IS NOT NEW.code OR OLD.name IS NOT NEW.name OR OLD.type IS NOT NEW.type
BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('site', CAST(NEW.id AS TEXT), 'update', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER site_capture_delete AFTER DELETE ON site BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('site', CAST(OLD.id AS TEXT), 'delete', NULL, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER store_capture_insert AFTER INSERT ON store BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('store', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER store_capture_update AFTER UPDATE ON store BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('store', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER store_capture_delete AFTER DELETE ON store BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('store', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER item_capture_insert AFTER INSERT ON item BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('item', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER item_capture_update AFTER UPDATE ON item BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('item', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER item_capture_delete AFTER DELETE ON item BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('item', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER name_capture_insert AFTER INSERT ON name BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('name', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER name_capture_update AFTER UPDATE ON name BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('name', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER name_capture_delete AFTER DELETE ON name BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('name', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER master_list_capture_insert AFTER INSERT ON master_list BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('master_list', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER master_list_capture_update AFTER UPDATE ON master_list BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('master_list', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER master_list_capture_delete AFTER DELETE ON master_list BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('master_list', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER master_list_line_capture_insert AFTER INSERT ON master_list_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('master_list_line', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER master_list_line_capture_update AFTER UPDATE ON master_list_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('master_list_line', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER master_list_line_capture_delete AFTER DELETE ON master_list_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('master_list_line', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER invoice_capture_insert AFTER INSERT ON invoice BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('invoice', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER invoice_capture_update AFTER UPDATE ON invoice BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('invoice', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER invoice_capture_delete AFTER DELETE ON invoice BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('invoice', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER invoice_line_capture_insert AFTER INSERT ON invoice_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('invoice_line', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER invoice_line_capture_update AFTER UPDATE ON invoice_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('invoice_line', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER invoice_line_capture_delete AFTER DELETE ON invoice_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('invoice_line', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context));
END;

CREATE TRIGGER stock_line_capture_insert AFTER INSERT ON stock_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('stock_line', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER stock_line_capture_update AFTER UPDATE ON stock_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('stock_line', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context));
END;
CREATE TRIGGER stock_line_capture_delete AFTER DELETE ON stock_line BEGIN
    INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
    VALUES ('stock_line', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context));
END;
