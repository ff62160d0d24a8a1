-- The record model grows what mSupply's legacy records need and it lacked: units, currencies, which names
-- each store sees (name_store_join) and which master lists each name sees (master_list_name_join), and an
-- invoice number per store.
CREATE TABLE unit (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    order_number REAL NOT NULL DEFAULT 0
);
ALTER TABLE item ADD COLUMN unit_id TEXT REFERENCES unit (id);
CREATE INDEX item_unit ON item (unit_id);

CREATE TABLE currency (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL DEFAULT '',
    rate REAL NOT NULL DEFAULT 1,
    is_home INTEGER NOT NULL DEFAULT 0,
    updated_on TEXT
);

CREATE TABLE name_store_join (
    id TEXT PRIMARY KEY,
    name_id TEXT NOT NULL REFERENCES name (id),
    store_id TEXT NOT NULL REFERENCES store (id),
    is_customer INTEGER NOT NULL DEFAULT 0,
    is_supplier INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX name_store_join_name ON name_store_join (name_id);
CREATE INDEX name_store_join_store ON name_store_join (store_id);

CREATE TABLE master_list_name_join (
    id TEXT PRIMARY KEY,
    master_list_id TEXT NOT NULL REFERENCES master_list (id),
    name_id TEXT NOT NULL REFERENCES name (id)
);
CREATE INDEX master_list_name_join_list ON master_list_name_join (master_list_id);
CREATE INDEX master_list_name_join_name ON master_list_name_join (name_id);

-- Invoices written from now on are numbered within their store; those already written keep 0, rather
-- than every datafile sending every invoice again.
ALTER TABLE invoice ADD COLUMN invoice_number REAL NOT NULL DEFAULT 0;
CREATE INDEX invoice_store_number ON invoice (store_id, invoice_number);

CREATE TRIGGER unit_capture_insert AFTER INSERT ON unit BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('unit', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER unit_capture_update AFTER UPDATE ON unit BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('unit', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER unit_capture_delete AFTER DELETE ON unit BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('unit', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context)); END;

CREATE TRIGGER currency_capture_insert AFTER INSERT ON currency BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('currency', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER currency_capture_update AFTER UPDATE ON currency BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('currency', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER currency_capture_delete AFTER DELETE ON currency BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('currency', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context)); END;

CREATE TRIGGER name_store_join_capture_insert AFTER INSERT ON name_store_join BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('name_store_join', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER name_store_join_capture_update AFTER UPDATE ON name_store_join BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('name_store_join', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER name_store_join_capture_delete AFTER DELETE ON name_store_join BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('name_store_join', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context)); END;

CREATE TRIGGER master_list_name_join_capture_insert AFTER INSERT ON master_list_name_join BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('master_list_name_join', NEW.id, 'insert', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER master_list_name_join_capture_update AFTER UPDATE ON master_list_name_join BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('master_list_name_join', NEW.id, 'update', NULL, (SELECT source_site_id FROM change_context)); END;
CREATE TRIGGER master_list_name_join_capture_delete AFTER DELETE ON master_list_name_join BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('master_list_name_join', OLD.id, 'delete', NULL, (SELECT source_site_id FROM change_context)); END;


-- Record ids are unique across every synced table, not only within one: open-mSupply keeps every record
-- it receives in one buffer keyed by id alone, where two records with one id would overwrite each other.
-- A datafile that already holds such a pair keeps it (the first table listed here registers the id).
CREATE TABLE record_key (
    id TEXT PRIMARY KEY,
    table_name TEXT NOT NULL
) WITHOUT ROWID;

INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'store' FROM store;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'item' FROM item;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'name' FROM name;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'master_list' FROM master_list;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'master_list_line' FROM master_list_line;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'invoice' FROM invoice;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'invoice_line' FROM invoice_line;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'stock_line' FROM stock_line;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'unit' FROM unit;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'currency' FROM currency;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'name_store_join' FROM name_store_join;
INSERT OR IGNORE INTO record_key (id, table_name) SELECT id, 'master_list_name_join' FROM master_list_name_join;

-- What a client sends of a record beyond the fields this project keeps (legacy mSupply fields it does not
-- model, keys no table has), kept exactly as the latest copy of the record brought it and sent out with the
-- record again, so that the client gets back what it sent. A JSON object. A received record waiting in the
-- buffer keeps its extras with it.
CREATE TABLE legacy_extra (
    table_name TEXT NOT NULL,
    record_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (table_name, record_id)
) WITHOUT ROWID;
ALTER TABLE sync_buffer ADD COLUMN extra TEXT;

-- For each synced table: an id another table has is refused (a trigger's refusal, told apart from the
-- table's own primary key); a new record's id is registered; a deleted record's id and extras go.
CREATE TRIGGER store_key_check BEFORE INSERT ON store WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'store') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER store_key_add AFTER INSERT ON store BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'store'); END;
CREATE TRIGGER store_forget AFTER DELETE ON store BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'store'; DELETE FROM legacy_extra WHERE table_name = 'store' AND record_id = OLD.id; END;
CREATE TRIGGER item_key_check BEFORE INSERT ON item WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'item') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER item_key_add AFTER INSERT ON item BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'item'); END;
CREATE TRIGGER item_forget AFTER DELETE ON item BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'item'; DELETE FROM legacy_extra WHERE table_name = 'item' AND record_id = OLD.id; END;
CREATE TRIGGER name_key_check BEFORE INSERT ON name WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'name') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER name_key_add AFTER INSERT ON name BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'name'); END;
CREATE TRIGGER name_forget AFTER DELETE ON name BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'name'; DELETE FROM legacy_extra WHERE table_name = 'name' AND record_id = OLD.id; END;
CREATE TRIGGER master_list_key_check BEFORE INSERT ON master_list WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'master_list') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER master_list_key_add AFTER INSERT ON master_list BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'master_list'); END;
CREATE TRIGGER master_list_forget AFTER DELETE ON master_list BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'master_list'; DELETE FROM legacy_extra WHERE table_name = 'master_list' AND record_id = OLD.id; END;
CREATE TRIGGER master_list_line_key_check BEFORE INSERT ON master_list_line WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'master_list_line') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER master_list_line_key_add AFTER INSERT ON master_list_line BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'master_list_line'); END;
CREATE TRIGGER master_list_line_forget AFTER DELETE ON master_list_line BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'master_list_line'; DELETE FROM legacy_extra WHERE table_name = 'master_list_line' AND record_id = OLD.id; END;
CREATE TRIGGER invoice_key_check BEFORE INSERT ON invoice WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'invoice') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER invoice_key_add AFTER INSERT ON invoice BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'invoice'); END;
CREATE TRIGGER invoice_forget AFTER DELETE ON invoice BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'invoice'; DELETE FROM legacy_extra WHERE table_name = 'invoice' AND record_id = OLD.id; END;
CREATE TRIGGER invoice_line_key_check BEFORE INSERT ON invoice_line WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'invoice_line') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER invoice_line_key_add AFTER INSERT ON invoice_line BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'invoice_line'); END;
CREATE TRIGGER invoice_line_forget AFTER DELETE ON invoice_line BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'invoice_line'; DELETE FROM legacy_extra WHERE table_name = 'invoice_line' AND record_id = OLD.id; END;
CREATE TRIGGER stock_line_key_check BEFORE INSERT ON stock_line WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'stock_line') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER stock_line_key_add AFTER INSERT ON stock_line BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'stock_line'); END;
CREATE TRIGGER stock_line_forget AFTER DELETE ON stock_line BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'stock_line'; DELETE FROM legacy_extra WHERE table_name = 'stock_line' AND record_id = OLD.id; END;
CREATE TRIGGER unit_key_check BEFORE INSERT ON unit WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'unit') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER unit_key_add AFTER INSERT ON unit BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'unit'); END;
CREATE TRIGGER unit_forget AFTER DELETE ON unit BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'unit'; DELETE FROM legacy_extra WHERE table_name = 'unit' AND record_id = OLD.id; END;
CREATE TRIGGER currency_key_check BEFORE INSERT ON currency WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'currency') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER currency_key_add AFTER INSERT ON currency BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'currency'); END;
CREATE TRIGGER currency_forget AFTER DELETE ON currency BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'currency'; DELETE FROM legacy_extra WHERE table_name = 'currency' AND record_id = OLD.id; END;
CREATE TRIGGER name_store_join_key_check BEFORE INSERT ON name_store_join WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'name_store_join') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER name_store_join_key_add AFTER INSERT ON name_store_join BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'name_store_join'); END;
CREATE TRIGGER name_store_join_forget AFTER DELETE ON name_store_join BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'name_store_join'; DELETE FROM legacy_extra WHERE table_name = 'name_store_join' AND record_id = OLD.id; END;
CREATE TRIGGER master_list_name_join_key_check BEFORE INSERT ON master_list_name_join WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'master_list_name_join') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER master_list_name_join_key_add AFTER INSERT ON master_list_name_join BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'master_list_name_join'); END;
CREATE TRIGGER master_list_name_join_forget AFTER DELETE ON master_list_name_join BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'master_list_name_join'; DELETE FROM legacy_extra WHERE table_name = 'master_list_name_join' AND record_id = OLD.id; END;

-- Every store has a name that stands for it (open-mSupply integrates a store only with its name), and a
-- central server a home currency (an invoice without a currency is in it). A remote gets both from central.
INSERT INTO name (id, code, name, store_id)
SELECT lower(hex(randomblob(16))), store.code, store.name, store.id FROM store
WHERE (SELECT role FROM settings) = 'central'
  AND NOT EXISTS (SELECT 1 FROM name WHERE name.store_id = store.id);
INSERT INTO currency (id, code, rate, is_home)
SELECT 'currency-USD', 'USD', 1, 1
WHERE (SELECT role FROM settings) = 'central' AND NOT EXISTS (SELECT 1 FROM currency);
