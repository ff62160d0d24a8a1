-- Item codes and master list lines are checked for duplicates as they are written, which looks each one
-- up: without these indexes a bulk import would read the whole table once a record.
CREATE INDEX item_code ON item (code COLLATE NOCASE) WHERE code <> '';
CREATE INDEX master_list_line_list_item ON master_list_line (master_list_id, item_id);
