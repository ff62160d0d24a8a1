-- Items and names in use are made inactive rather than deleted, the mSupply way: a remote may hold records
-- that use them and has not pushed them yet.
ALTER TABLE item ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE name ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
