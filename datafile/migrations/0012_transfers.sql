-- Transfers: a customer invoice or a request requisition made out to another store's name reaches that
-- store's site, which makes the supplier invoice or the response from it there.

ALTER TABLE invoice ADD COLUMN linked_invoice_id TEXT NOT NULL DEFAULT '';
ALTER TABLE invoice ADD COLUMN requisition_id TEXT NOT NULL DEFAULT '';
ALTER TABLE invoice ADD COLUMN received_at TEXT;
ALTER TABLE invoice ADD COLUMN verified_at TEXT;
CREATE INDEX invoice_linked ON invoice (linked_invoice_id) WHERE linked_invoice_id <> '';

ALTER TABLE invoice_line ADD COLUMN pack_size REAL NOT NULL DEFAULT 1;
ALTER TABLE invoice_line ADD COLUMN cost_price REAL NOT NULL DEFAULT 0;
ALTER TABLE invoice_line ADD COLUMN sell_price REAL NOT NULL DEFAULT 0;

CREATE TABLE requisition (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES store (id),
    name_id TEXT NOT NULL REFERENCES name (id),
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    linked_requisition_id TEXT NOT NULL DEFAULT '',
    their_ref TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    requisition_number REAL NOT NULL DEFAULT 0
);
CREATE INDEX requisition_store ON requisition (store_id);
CREATE INDEX requisition_name ON requisition (name_id);
CREATE INDEX requisition_linked ON requisition (linked_requisition_id) WHERE linked_requisition_id <> '';

CREATE TABLE requisition_line (
    id TEXT PRIMARY KEY,
    requisition_id TEXT NOT NULL REFERENCES requisition (id),
    store_id TEXT NOT NULL REFERENCES store (id),
    item_id TEXT NOT NULL REFERENCES item (id),
    requested_quantity REAL NOT NULL DEFAULT 0,
    supplied_quantity REAL NOT NULL DEFAULT 0
);
CREATE INDEX requisition_line_requisition ON requisition_line (requisition_id);
CREATE INDEX requisition_line_store ON requisition_line (store_id);
CREATE INDEX requisition_line_item ON requisition_line (item_id);
CREATE INDEX name_store ON name (store_id) WHERE store_id IS NOT NULL;

-- The store a transfer document, or a line of one, is made out to (the store whose name it bears), when
-- that is not its own store: central queues the change to that store's site as well.
ALTER TABLE changelog ADD COLUMN counterpart_store_id TEXT;

DROP TRIGGER invoice_capture_insert;
DROP TRIGGER invoice_capture_update;
DROP TRIGGER invoice_capture_delete;
DROP TRIGGER invoice_line_capture_insert;
DROP TRIGGER invoice_line_capture_update;
DROP TRIGGER invoice_line_capture_delete;
CREATE TRIGGER invoice_capture_insert AFTER INSERT ON invoice BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('invoice', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(store_id, NEW.store_id) FROM name WHERE id = NEW.name_id)); END;
CREATE TRIGGER invoice_capture_update AFTER UPDATE ON invoice BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('invoice', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(store_id, NEW.store_id) FROM name WHERE id = NEW.name_id)); END;
CREATE TRIGGER invoice_capture_delete AFTER DELETE ON invoice BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('invoice', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(store_id, OLD.store_id) FROM name WHERE id = OLD.name_id)); END;
CREATE TRIGGER invoice_line_capture_insert AFTER INSERT ON invoice_line BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('invoice_line', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(n.store_id, d.store_id) FROM invoice d JOIN name n ON n.id = d.name_id WHERE d.id = NEW.invoice_id)); END;
CREATE TRIGGER invoice_line_capture_update AFTER UPDATE ON invoice_line BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('invoice_line', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(n.store_id, d.store_id) FROM invoice d JOIN name n ON n.id = d.name_id WHERE d.id = NEW.invoice_id)); END;
CREATE TRIGGER invoice_line_capture_delete AFTER DELETE ON invoice_line BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('invoice_line', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(n.store_id, d.store_id) FROM invoice d JOIN name n ON n.id = d.name_id WHERE d.id = OLD.invoice_id)); END;
CREATE TRIGGER requisition_capture_insert AFTER INSERT ON requisition BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('requisition', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(store_id, NEW.store_id) FROM name WHERE id = NEW.name_id)); END;
CREATE TRIGGER requisition_capture_update AFTER UPDATE ON requisition BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('requisition', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(store_id, NEW.store_id) FROM name WHERE id = NEW.name_id)); END;
CREATE TRIGGER requisition_capture_delete AFTER DELETE ON requisition BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('requisition', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(store_id, OLD.store_id) FROM name WHERE id = OLD.name_id)); END;
CREATE TRIGGER requisition_line_capture_insert AFTER INSERT ON requisition_line BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('requisition_line', NEW.id, 'insert', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(n.store_id, d.store_id) FROM requisition d JOIN name n ON n.id = d.name_id WHERE d.id = NEW.requisition_id)); END;
CREATE TRIGGER requisition_line_capture_update AFTER UPDATE ON requisition_line BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('requisition_line', NEW.id, 'update', NEW.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(n.store_id, d.store_id) FROM requisition d JOIN name n ON n.id = d.name_id WHERE d.id = NEW.requisition_id)); END;
CREATE TRIGGER requisition_line_capture_delete AFTER DELETE ON requisition_line BEGIN INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id, counterpart_store_id) VALUES ('requisition_line', OLD.id, 'delete', OLD.store_id, (SELECT source_site_id FROM change_context), (SELECT nullif(n.store_id, d.store_id) FROM requisition d JOIN name n ON n.id = d.name_id WHERE d.id = OLD.requisition_id)); END;

CREATE TRIGGER requisition_key_check BEFORE INSERT ON requisition WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'requisition') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER requisition_key_add AFTER INSERT ON requisition BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'requisition'); END;
CREATE TRIGGER requisition_forget AFTER DELETE ON requisition BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'requisition'; DELETE FROM legacy_extra WHERE table_name = 'requisition' AND record_id = OLD.id; END;
CREATE TRIGGER requisition_line_key_check BEFORE INSERT ON requisition_line WHEN EXISTS (SELECT 1 FROM record_key WHERE id = NEW.id AND table_name <> 'requisition_line') BEGIN SELECT RAISE(ABORT, 'record id already used in another table'); END;
CREATE TRIGGER requisition_line_key_add AFTER INSERT ON requisition_line BEGIN INSERT OR IGNORE INTO record_key (id, table_name) VALUES (NEW.id, 'requisition_line'); END;
CREATE TRIGGER requisition_line_forget AFTER DELETE ON requisition_line BEGIN DELETE FROM record_key WHERE id = OLD.id AND table_name = 'requisition_line'; DELETE FROM legacy_extra WHERE table_name = 'requisition_line' AND record_id = OLD.id; END;

-- A transfer document's changes also reach the queue of the site its counterpart store is active on, under
-- that store, so that a move of the counterpart store takes them along. Never the site that sent them, and
-- never twice to one site. The older entry of the record is deleted first, not replaced: a trigger's OR
-- REPLACE gives way to the conflict clause of the statement that fired it, and an upsert has one.
DROP TRIGGER changelog_route;
CREATE TRIGGER changelog_route AFTER INSERT ON changelog
WHEN NEW.store_id IS NOT NULL AND (SELECT role FROM settings) = 'central'
BEGIN
    DELETE FROM sync_queue
    WHERE table_name = NEW.table_name AND record_id = NEW.record_id
      AND site_id IN (SELECT site_id FROM store WHERE id IN (NEW.store_id, NEW.counterpart_store_id))
      AND site_id IS NOT NEW.source_site_id;
    INSERT INTO sync_queue (site_id, table_name, record_id, store_id, action)
    SELECT store.site_id, NEW.table_name, NEW.record_id, NEW.store_id, NEW.action
    FROM store
    WHERE store.id = NEW.store_id
      AND store.site_id <> 1
      AND store.site_id IS NOT NEW.source_site_id;
    INSERT INTO sync_queue (site_id, table_name, record_id, store_id, action)
    SELECT counterpart.site_id, NEW.table_name, NEW.record_id, NEW.counterpart_store_id, NEW.action
    FROM store counterpart
    WHERE counterpart.id = NEW.counterpart_store_id
      AND counterpart.site_id <> 1
      AND counterpart.site_id IS NOT NEW.source_site_id
      AND counterpart.site_id IS NOT (SELECT site_id FROM store WHERE id = NEW.store_id);
    -- A transfer's delete also goes to the sites either store has left: one may still hold a copy from
    -- then, which would outlive the document. Deleting what a site does not hold changes nothing there.
    INSERT INTO sync_queue (site_id, table_name, record_id, store_id, action)
    SELECT DISTINCT m.from_site_id, NEW.table_name, NEW.record_id, NEW.store_id, 'delete'
    FROM store_move m
    WHERE NEW.action = 'delete' AND NEW.counterpart_store_id IS NOT NULL
      AND m.store_id IN (NEW.store_id, NEW.counterpart_store_id)
      AND m.from_site_id <> 1
      AND m.from_site_id IS NOT NEW.source_site_id
      AND NOT EXISTS (SELECT 1 FROM sync_queue q
          WHERE q.site_id = m.from_site_id AND q.table_name = NEW.table_name AND q.record_id = NEW.record_id);
END;

-- Where each site's transfer processing has got to in the change log: what comes after is looked at in the
-- transaction that wrote it. Transfers start with this version, so the log before it is not looked at.
CREATE TABLE transfer_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    cursor INTEGER NOT NULL
);
INSERT INTO transfer_state (singleton, cursor) SELECT 1, coalesce(max(cursor), 0) FROM changelog;
