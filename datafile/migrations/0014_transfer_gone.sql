-- Shipments seen deleted on this datafile. A new receipt can reach a site after the shipment it was made
-- from was deleted there: the receiving store moved to the site that had deleted its own shipment, and
-- the receipt, made where the store was before, came with the store. The site then knows from this table
-- that the shipment is gone for good, and not merely not yet here, and deletes the receipt as it would
-- have had it been here at the time. Kept for customer invoices made out to another store's name only.
CREATE TABLE transfer_gone (
    id TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TRIGGER invoice_transfer_gone AFTER DELETE ON invoice
WHEN OLD.type = 'customer_invoice'
    AND EXISTS (SELECT 1 FROM name WHERE id = OLD.name_id AND store_id IS NOT NULL AND store_id <> OLD.store_id)
BEGIN
    INSERT OR IGNORE INTO transfer_gone (id) VALUES (OLD.id);
END;
CREATE TRIGGER invoice_transfer_back AFTER INSERT ON invoice
WHEN NEW.type = 'customer_invoice'
BEGIN
    DELETE FROM transfer_gone WHERE id = NEW.id;
END;
