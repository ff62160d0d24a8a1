-- What a client sends of a record beyond the fields this project keeps (legacy mSupply fields it does not
-- model, keys no table has), kept exactly as the latest copy of the record brought it and sent out with the
-- record again, so that the client gets back what it sent. A JSON object.
CREATE TABLE legacy_extra (
    table_name TEXT NOT NULL,
    record_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (table_name, record_id)
) WITHOUT ROWID;

-- A received record waiting in the buffer keeps its extras with it.
ALTER TABLE sync_buffer ADD COLUMN extra TEXT;

CREATE TRIGGER store_extra_remove AFTER DELETE ON store BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'store' AND record_id = OLD.id;
END;
CREATE TRIGGER unit_extra_remove AFTER DELETE ON unit BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'unit' AND record_id = OLD.id;
END;
CREATE TRIGGER currency_extra_remove AFTER DELETE ON currency BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'currency' AND record_id = OLD.id;
END;
CREATE TRIGGER item_extra_remove AFTER DELETE ON item BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'item' AND record_id = OLD.id;
END;
CREATE TRIGGER name_extra_remove AFTER DELETE ON name BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'name' AND record_id = OLD.id;
END;
CREATE TRIGGER master_list_extra_remove AFTER DELETE ON master_list BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'master_list' AND record_id = OLD.id;
END;
CREATE TRIGGER master_list_line_extra_remove AFTER DELETE ON master_list_line BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'master_list_line' AND record_id = OLD.id;
END;
CREATE TRIGGER name_store_join_extra_remove AFTER DELETE ON name_store_join BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'name_store_join' AND record_id = OLD.id;
END;
CREATE TRIGGER master_list_name_join_extra_remove AFTER DELETE ON master_list_name_join BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'master_list_name_join' AND record_id = OLD.id;
END;
CREATE TRIGGER invoice_extra_remove AFTER DELETE ON invoice BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'invoice' AND record_id = OLD.id;
END;
CREATE TRIGGER invoice_line_extra_remove AFTER DELETE ON invoice_line BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'invoice_line' AND record_id = OLD.id;
END;
CREATE TRIGGER stock_line_extra_remove AFTER DELETE ON stock_line BEGIN
    DELETE FROM legacy_extra WHERE table_name = 'stock_line' AND record_id = OLD.id;
END;
