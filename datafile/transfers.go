package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// A transfer is a document one store makes out to another store's name: a customer invoice (a shipment)
// or a request requisition (an order). Central sends it, with its lines, to the site where the other store
// is active as well as to its own, read-only there. The site where the receiving store is active makes the
// other half: a supplier invoice from a shipment, a response from an order. Central does too, for its own
// stores, and so does a site that holds both stores.
//
// The other half is made in the transaction that wrote or integrated its source, from the change log after
// a cursor that moves in that same transaction: nothing written is ever missed, and a crash undoes the
// source and its other half together. Its id is derived from the source's, so a replay, a second site or a
// second path to the same source can only ever make the same record again.

// transferTables are the tables of transfer documents and their lines.
var transferTables = []string{"invoice", "invoice_line", "requisition", "requisition_line"}

// transferNamespace derives the ids of records made from transfers (UUIDv5).
var transferNamespace = uuid.MustParse("5c0f6a36-9d3e-4c59-8d4e-2f1b7f5a9c01")

// derivedID is the id of the record of kind made from the record source.
func derivedID(kind, source string) string {
	return uuid.NewSHA1(transferNamespace, []byte(kind+":"+source)).String()
}

// transferRounds bounds how often one transaction looks again at what its own transfer processing wrote:
// a supplier invoice made here is then linked from its customer invoice, if that is here too, and nothing
// more follows. What is left waits for the next transaction.
const transferRounds = 4

// processTransfers makes and updates the other halves of the transfers changed in tx since the cursor.
func (db *DB) processTransfers(ctx context.Context, tx *sql.Tx) error {
	var cursor int64
	var role string
	var site sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT t.cursor, s.role, s.this_site_id FROM transfer_state t, settings s`).Scan(&cursor, &role, &site)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // a datafile being made: nothing written yet
	}
	if err != nil {
		return fmt.Errorf("transfers: %w", err)
	}
	p := &transferProcessor{tx: tx, site: site.Int64, local: map[string]bool{}, now: time.Now().UTC().Format(time.RFC3339)}
	if Role(role) == RoleCentral {
		p.site = CentralSiteID
	}
	start := cursor
	for range transferRounds {
		var docs []transferDoc
		seen := map[transferDoc]bool{}
		// The round's changes are read a page at a time and only their documents kept: an import of a
		// million invoice lines would otherwise hold a million entries here, for a few thousand invoices.
		// Every page is read before any document is processed, as the round would read them at once.
		changed := false
		for {
			entries, err := transferChangesAfter(ctx, tx, cursor)
			if err != nil {
				return fmt.Errorf("transfers: %w", err)
			}
			if len(entries) == 0 {
				break
			}
			changed = true
			cursor = entries[len(entries)-1].cursor
			// A remote that has never synced holds no store: its cursor only moves on.
			if p.site != 0 {
				if docs, err = p.addDocumentsOf(ctx, entries, seen, docs); err != nil {
					return fmt.Errorf("transfers: %w", err)
				}
			}
			if len(entries) < transferPage {
				break
			}
		}
		if !changed {
			// Nothing more of interest: the cursor passes what else was written (items, stock), so that no
			// later transaction reads it again.
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(cursor), 0) FROM changelog`).Scan(&cursor); err != nil {
				return fmt.Errorf("transfers: %w", err)
			}
			break
		}
		if len(docs) == 0 {
			continue
		}
		// What is made here is this site's own writing, pushed and routed like any other.
		if _, err := tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = NULL`); err != nil {
			return err
		}
		for _, d := range docs {
			var err error
			if d.table == "invoice" {
				err = p.invoice(ctx, d.id)
			} else {
				err = p.requisition(ctx, d.id)
			}
			if err != nil {
				return fmt.Errorf("transfers: %s %s: %w", d.table, d.id, err)
			}
		}
	}
	p.close()
	if cursor == start {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE transfer_state SET cursor = ?`, cursor)
	return err
}

// transferPage is how many changes processTransfers reads at a time.
const transferPage = 4096

// transferChangesAfter returns up to transferPage changes after cursor of the tables transfers are made of,
// in cursor order. A line's change matters only when its document is a transfer, which the change log says
// (counterpart_store_id): the lines of every other invoice, most of what a site writes and pushes, are
// passed over by the index rather than each looked up.
func transferChangesAfter(ctx context.Context, tx *sql.Tx, cursor int64) ([]changeEntry, error) {
	entries := make([]changeEntry, 0, 64)
	err := queryEach(ctx, tx, func(rows *sql.Rows) error {
		var e changeEntry
		err := rows.Scan(&e.cursor, &e.table, &e.id)
		entries = append(entries, e)
		return err
	}, `SELECT cursor, table_name, record_id FROM changelog WHERE cursor > ?
		AND (table_name IN ('invoice', 'requisition', 'store')
			OR table_name IN ('invoice_line', 'requisition_line') AND counterpart_store_id IS NOT NULL)
		ORDER BY cursor LIMIT ?`, cursor, transferPage)
	return entries, err
}

type changeEntry struct {
	cursor    int64
	table, id string
}

// transferDoc is an invoice or a requisition whose transfer may need looking at.
type transferDoc struct{ table, id string }

type transferProcessor struct {
	tx     *sql.Tx
	site   int64
	local  map[string]bool
	now    string
	stores map[string]*recordStore
}

func (p *transferProcessor) close() {
	for _, rs := range p.stores {
		rs.close()
	}
}

func (p *transferProcessor) recordStore(ctx context.Context, table string) (*recordStore, error) {
	if rs, ok := p.stores[table]; ok {
		return rs, nil
	}
	if p.stores == nil {
		p.stores = map[string]*recordStore{}
	}
	rs, err := newRecordStore(ctx, p.tx, tablesByName[table])
	if err != nil {
		return nil, err
	}
	p.stores[table] = rs
	return rs, nil
}

// addDocumentsOf appends to docs the documents that entries may concern and seen does not hold yet, and
// marks them seen.
func (p *transferProcessor) addDocumentsOf(ctx context.Context, entries []changeEntry, seen map[transferDoc]bool, docs []transferDoc) ([]transferDoc, error) {
	for _, e := range entries {
		found, err := p.documentsOf(ctx, e)
		if err != nil {
			return docs, err
		}
		for _, doc := range found {
			if doc.id != "" && !seen[doc] {
				seen[doc] = true
				docs = append(docs, doc)
			}
		}
	}
	return docs, nil
}

// documentsOf are the documents a change may concern. A store that has become active here, by a move or
// by a move called off, brings every transfer made out to it or sent from it: what reached this datafile
// while it was elsewhere, or on its way, was left for its site then.
func (p *transferProcessor) documentsOf(ctx context.Context, e changeEntry) ([]transferDoc, error) {
	if e.table != "store" {
		doc, err := p.documentOf(ctx, e)
		return []transferDoc{doc}, err
	}
	p.local = map[string]bool{} // the change may be its move
	if local, err := p.isLocal(ctx, e.id); err != nil || !local {
		return nil, err
	}
	var out []transferDoc
	for _, table := range []string{"invoice", "requisition"} {
		ids, err := queryColumn[string](ctx, p.tx, `SELECT r.id FROM `+table+` r WHERE `+madeOutToSQL(table)+`
			UNION SELECT id FROM `+table+` WHERE store_id = ? AND name_id IN (SELECT id FROM name WHERE store_id IS NOT NULL AND store_id <> ?)
			ORDER BY 1`, e.id, e.id, e.id, e.id)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out = append(out, transferDoc{table, id})
		}
	}
	return out, nil
}

// documentOf is the document a changed record belongs to. A line that is gone no longer says which: the
// line made from it, when there is one, leads to the document made from its document.
func (p *transferProcessor) documentOf(ctx context.Context, e changeEntry) (transferDoc, error) {
	doc, isLine := lineDocument[e.table]
	if !isLine {
		return transferDoc{e.table, e.id}, nil
	}
	var id string
	err := p.tx.QueryRowContext(ctx, `SELECT `+doc.field+` FROM `+e.table+` WHERE id = ?`, e.id).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		link := "linked_invoice_id"
		if doc.table == "requisition" {
			link = "linked_requisition_id"
		}
		err = p.tx.QueryRowContext(ctx, `SELECT d.`+link+` FROM `+e.table+` l JOIN `+doc.table+` d ON d.id = l.`+doc.field+` WHERE l.id = ?`,
			derivedID(e.table, e.id)).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return transferDoc{}, nil
	}
	return transferDoc{doc.table, id}, err
}

// isLocal reports whether a store is active on this site and staying: only there is anything made for it.
// A store moving away takes no more writes here; the site it moves to gets its transfers.
func (p *transferProcessor) isLocal(ctx context.Context, storeID string) (bool, error) {
	if storeID == "" {
		return false, nil
	}
	if v, ok := p.local[storeID]; ok {
		return v, nil
	}
	var local bool
	err := p.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM store WHERE id = ? AND site_id = ? AND moving_to_site_id IS NULL)`, storeID, p.site).Scan(&local)
	p.local[storeID] = local
	return local, err
}

// counterpart is the store a document is made out to: the store whose name it bears, when that is another
// store than its own.
func (p *transferProcessor) counterpart(ctx context.Context, nameID, ownStore string) (string, error) {
	var store sql.NullString
	err := p.tx.QueryRowContext(ctx, `SELECT store_id FROM name WHERE id = ?`, nameID).Scan(&store)
	if errors.Is(err, sql.ErrNoRows) || store.String == ownStore {
		return "", nil
	}
	return store.String, err
}

// storeName is the name that stands for a store; "" when it has none.
func (p *transferProcessor) storeName(ctx context.Context, storeID string) (string, error) {
	var id string
	err := p.tx.QueryRowContext(ctx, `SELECT id FROM name WHERE store_id = ? ORDER BY id LIMIT 1`, storeID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (p *transferProcessor) load(ctx context.Context, table, id string) (*Record, error) {
	if id == "" {
		return nil, nil
	}
	rs, err := p.recordStore(ctx, table)
	if err != nil {
		return nil, err
	}
	return rs.load(ctx, id)
}

// put writes a record made or changed here: fields over existing, or a new record when existing is nil.
func (p *transferProcessor) put(ctx context.Context, table string, existing *Record, fields map[string]any) error {
	rs, err := p.recordStore(ctx, table)
	if err != nil {
		return err
	}
	rec, err := rs.t.normalise(fields, existing)
	if err != nil {
		return fmt.Errorf("%s %v: %w", table, fields["id"], err)
	}
	return rs.write(ctx, rec)
}

func (p *transferProcessor) delete(ctx context.Context, table, id string) error {
	_, err := p.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
	return err
}

// nextNumber is the next number of a new document of table in a store, as mSupply numbers them.
func (p *transferProcessor) nextNumber(ctx context.Context, table, field, storeID string) (float64, error) {
	var last float64
	err := p.tx.QueryRowContext(ctx, `SELECT coalesce(max(`+field+`), 0) FROM `+table+` WHERE store_id = ?`, storeID).Scan(&last)
	return last + 1, err
}

// linkedTo returns the documents of table and type that name id as their other half.
func (p *transferProcessor) linkedTo(ctx context.Context, table, typ, id string) ([]*Record, error) {
	link := "linked_invoice_id"
	if table == "requisition" {
		link = "linked_requisition_id"
	}
	ids, err := queryColumn[string](ctx, p.tx, `SELECT id FROM `+table+` WHERE `+link+` = ? AND type = ? ORDER BY id`, id, typ)
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, id := range ids {
		r, err := p.load(ctx, table, id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func str(r *Record, field string) string {
	s, _ := r.Values[field].(string)
	return s
}

// invoice brings the transfer an invoice takes part in up to date with it.
func (p *transferProcessor) invoice(ctx context.Context, id string) error {
	inv, err := p.load(ctx, "invoice", id)
	if err != nil {
		return err
	}
	if inv == nil {
		return p.invoiceGone(ctx, id)
	}
	switch str(inv, "type") {
	case "customer_invoice":
		to, err := p.counterpart(ctx, str(inv, "name_id"), inv.StoreID())
		if err != nil {
			return err
		}
		if local, err := p.isLocal(ctx, to); err != nil || !local {
			if err != nil {
				return err
			}
		} else if err := p.receive(ctx, inv, to); err != nil {
			return err
		}
		return p.mirrorOnShipment(ctx, inv)
	case "supplier_invoice":
		shipment, err := p.load(ctx, "invoice", str(inv, "linked_invoice_id"))
		if err == nil && shipment == nil && str(inv, "linked_invoice_id") != "" {
			return p.receiptOfGoneShipment(ctx, inv)
		}
		if err != nil || shipment == nil || str(shipment, "type") != "customer_invoice" {
			return err
		}
		return p.mirrorOnShipment(ctx, shipment)
	}
	return nil
}

// invoiceGone deals with a deleted invoice: the supplier invoices made from a customer invoice go while
// still new (nothing has been received), and a customer invoice whose supplier invoice went forgets it.
func (p *transferProcessor) invoiceGone(ctx context.Context, id string) error {
	receipts, err := p.linkedTo(ctx, "invoice", "supplier_invoice", id)
	if err != nil {
		return err
	}
	for _, si := range receipts {
		local, err := p.isLocal(ctx, si.StoreID())
		if err != nil {
			return err
		}
		// Only the site the receipt's store is active on deletes it, central as any other: that site may be
		// changing the receipt at this moment, and a delete of central's crossing that change would leave
		// one of them without the other. The site sees the shipment's delete too, since shipments are
		// routed to it; a receipt whose store moves while the delete is on its way goes when the move
		// completes (dropOrphanReceipts).
		if !local {
			continue
		}
		if err := p.dropOrphan(ctx, si); err != nil {
			return err
		}
	}
	shipments, err := p.linkedTo(ctx, "invoice", "customer_invoice", id)
	if err != nil {
		return err
	}
	for _, ci := range shipments {
		if err := p.mirrorOnShipment(ctx, ci); err != nil {
			return err
		}
	}
	return nil
}

// receiptOfGoneShipment deletes a new receipt of a store here whose shipment this datafile has seen
// deleted (transfer_gone): the receipt arrived after the delete, with its store. A shipment merely not
// here yet leaves the receipt as it is.
func (p *transferProcessor) receiptOfGoneShipment(ctx context.Context, si *Record) error {
	if local, err := p.isLocal(ctx, si.StoreID()); err != nil || !local {
		return err
	}
	var gone bool
	if err := p.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM transfer_gone WHERE id = ?)`, str(si, "linked_invoice_id")).Scan(&gone); err != nil || !gone {
		return err
	}
	return p.dropOrphan(ctx, si)
}

// dropOrphanReceipts deletes, on central, the supplier invoices of a store that are still new and whose
// customer invoice central no longer holds, as the store completes a move. Their shipment was deleted
// while the store was on its way, and so was never seen gone where the store was active: the site it left
// no longer makes anything for it, and the site it goes to never sees the shipment at all. Written as
// central's own change, the deletes reach both sites.
func dropOrphanReceipts(ctx context.Context, tx *sql.Tx, storeID string) error {
	orphans, err := queryColumn[string](ctx, tx, `SELECT id FROM invoice si WHERE store_id = ? AND type = 'supplier_invoice'
		AND status = 'new' AND linked_invoice_id <> '' AND NOT EXISTS (SELECT 1 FROM invoice ci WHERE ci.id = si.linked_invoice_id)`, storeID)
	if err != nil {
		return err
	}
	return deleteReceiptsAsOwn(ctx, tx, orphans)
}

// shipmentDeletedUnseen deals with the delete of an invoice this datafile does not hold: a shipment whose
// copy never reached this site before it was deleted (its entry in the site's queue became the delete),
// while a receipt of it did, made where the receiving store was before it moved here. The shipment is
// noted gone, and the new receipts of it in stores active here are deleted, as this site's own change.
func shipmentDeletedUnseen(ctx context.Context, tx *sql.Tx, thisSite int64, id string) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO transfer_gone (id) VALUES (?)`, id); err != nil {
		return err
	}
	receipts, err := queryColumn[string](ctx, tx, `SELECT si.id FROM invoice si JOIN store s ON s.id = si.store_id
		WHERE si.linked_invoice_id = ? AND si.type = 'supplier_invoice' AND si.status = 'new'
			AND s.site_id = ? AND s.moving_to_site_id IS NULL`, id, thisSite)
	if err != nil {
		return err
	}
	return deleteReceiptsAsOwn(ctx, tx, receipts)
}

// deleteReceiptsAsOwn deletes supplier invoices and their lines as this datafile's own change, which is
// pushed (or, on central, routed) like any other.
func deleteReceiptsAsOwn(ctx context.Context, tx *sql.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var source sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT source_site_id FROM change_context`).Scan(&source); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = NULL`); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM invoice_line WHERE invoice_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invoice WHERE id = ?`, id); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = ?`, source)
	return err
}

// dropOrphan deletes a supplier invoice, while new, whose customer invoice is gone.
func (p *transferProcessor) dropOrphan(ctx context.Context, si *Record) error {
	if str(si, "status") != "new" {
		return nil
	}
	return deleteReceiptsAsOwn(ctx, p.tx, []string{si.ID()})
}

// receive makes the supplier invoice of a customer invoice to store to, once it is confirmed (picked) or
// finalised (shipped), and makes its lines again from the customer invoice's while it is still new.
func (p *transferProcessor) receive(ctx context.Context, ci *Record, to string) error {
	if str(ci, "status") == "new" {
		return nil
	}
	receipts, err := p.linkedTo(ctx, "invoice", "supplier_invoice", ci.ID())
	if err != nil {
		return err
	}
	requestID, err := p.requestAnswered(ctx, str(ci, "requisition_id"))
	if err != nil {
		return err
	}
	var si *Record
	if len(receipts) > 0 {
		si = receipts[0]
		if str(si, "status") != "new" {
			return nil
		}
		if local, err := p.isLocal(ctx, si.StoreID()); err != nil || !local {
			return err
		}
		if str(si, "requisition_id") != requestID {
			if err := p.put(ctx, "invoice", si, map[string]any{"requisition_id": requestID}); err != nil {
				return err
			}
		}
	} else {
		from, err := p.storeName(ctx, ci.StoreID())
		if err != nil || from == "" {
			return err // a store without its name cannot be a supplier here; a later change tries again
		}
		number, err := p.nextNumber(ctx, "invoice", "invoice_number", to)
		if err != nil {
			return err
		}
		ciNumber, _ := ci.Values["invoice_number"].(float64)
		fields := map[string]any{
			"id": derivedID("supplier_invoice", ci.ID()), "store_id": to, "name_id": from,
			"type": "supplier_invoice", "status": "new", "their_ref": fmt.Sprintf("From invoice number %d", int64(ciNumber)),
			"created_at": p.now, "invoice_number": number, "linked_invoice_id": ci.ID(), "requisition_id": requestID,
		}
		if err := p.put(ctx, "invoice", nil, fields); err != nil {
			return err
		}
		if si, err = p.load(ctx, "invoice", fields["id"].(string)); err != nil {
			return err
		}
	}
	return p.copyLines(ctx, ci, si)
}

// requestAnswered is the request a response answers, for the supplier invoice of a customer invoice made
// from that response; "" when there is none here.
func (p *transferProcessor) requestAnswered(ctx context.Context, responseID string) (string, error) {
	response, err := p.load(ctx, "requisition", responseID)
	if err != nil || response == nil {
		return "", err
	}
	return str(response, "linked_requisition_id"), nil
}

// copyLines makes the supplier invoice's lines those of the customer invoice: what was shipped, at the
// price it was sold for.
func (p *transferProcessor) copyLines(ctx context.Context, ci, si *Record) error {
	ciLines, err := queryColumn[string](ctx, p.tx, `SELECT id FROM invoice_line WHERE invoice_id = ? ORDER BY id`, ci.ID())
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, lineID := range ciLines {
		line, err := p.load(ctx, "invoice_line", lineID)
		if err != nil || line == nil {
			return err
		}
		id := derivedID("invoice_line", lineID)
		want[id] = true
		existing, err := p.load(ctx, "invoice_line", id)
		if err != nil {
			return err
		}
		fields := map[string]any{"id": id, "invoice_id": si.ID(), "store_id": si.StoreID(), "item_id": line.Values["item_id"],
			"batch": line.Values["batch"], "expiry": line.Values["expiry"], "pack_size": line.Values["pack_size"],
			"quantity": line.Values["quantity"], "cost_price": line.Values["sell_price"], "sell_price": float64(0)}
		if existing != nil && existing.Values["invoice_id"] != si.ID() {
			continue // made for another supplier invoice of this shipment, which is not this site's to change
		}
		if err := p.put(ctx, "invoice_line", existing, fields); err != nil {
			return err
		}
	}
	siLines, err := queryColumn[string](ctx, p.tx, `SELECT id FROM invoice_line WHERE invoice_id = ?`, si.ID())
	if err != nil {
		return err
	}
	for _, id := range siLines {
		if !want[id] {
			if err := p.delete(ctx, "invoice_line", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// mirrorOnShipment records on a customer invoice of a store here which supplier invoice it became, and
// when that was received and verified.
func (p *transferProcessor) mirrorOnShipment(ctx context.Context, ci *Record) error {
	if local, err := p.isLocal(ctx, ci.StoreID()); err != nil || !local {
		return err
	}
	receipts, err := p.linkedTo(ctx, "invoice", "supplier_invoice", ci.ID())
	if err != nil {
		return err
	}
	linked, received, verified := "", any(nil), any(nil)
	if len(receipts) > 0 {
		si := receipts[0]
		linked = si.ID()
		status := str(si, "status")
		if status != "new" {
			received = p.keptOr(ci.Values["received_at"])
		}
		if status == "finalised" {
			verified = p.keptOr(ci.Values["verified_at"])
		}
	} else if str(ci, "linked_invoice_id") != "" {
		// Linked by the site that made it, which may have sent the link before the supplier invoice
		// itself: kept, whatever this site knows yet.
		linked, received, verified = str(ci, "linked_invoice_id"), ci.Values["received_at"], ci.Values["verified_at"]
	}
	if str(ci, "linked_invoice_id") == linked && ci.Values["received_at"] == received && ci.Values["verified_at"] == verified {
		return nil
	}
	return p.put(ctx, "invoice", ci, map[string]any{"linked_invoice_id": linked, "received_at": received, "verified_at": verified})
}

func (p *transferProcessor) keptOr(v any) any {
	if v == nil {
		return p.now
	}
	return v
}

// requisition brings the order a requisition takes part in up to date with it.
func (p *transferProcessor) requisition(ctx context.Context, id string) error {
	r, err := p.load(ctx, "requisition", id)
	if err != nil || r == nil {
		return err
	}
	switch str(r, "type") {
	case "request":
		to, err := p.counterpart(ctx, str(r, "name_id"), r.StoreID())
		if err != nil {
			return err
		}
		if local, err := p.isLocal(ctx, to); err != nil {
			return err
		} else if local {
			if err := p.respond(ctx, r, to); err != nil {
				return err
			}
		}
		return p.followResponse(ctx, r)
	case "response":
		request, err := p.load(ctx, "requisition", str(r, "linked_requisition_id"))
		if err != nil || request == nil || str(request, "type") != "request" {
			return err
		}
		return p.followResponse(ctx, request)
	}
	return nil
}

// respond makes the response of a sent request in the store it is made out to, with the request's lines.
// Lines that reach this site after the response was made are added to it; none is ever changed or taken
// away, since the supplying store works on them.
func (p *transferProcessor) respond(ctx context.Context, request *Record, to string) error {
	if str(request, "status") != "sent" {
		return nil
	}
	responses, err := p.linkedTo(ctx, "requisition", "response", request.ID())
	if err != nil {
		return err
	}
	var response *Record
	if len(responses) > 0 {
		response = responses[0]
		if str(response, "status") != "new" {
			return nil
		}
		if local, err := p.isLocal(ctx, response.StoreID()); err != nil || !local {
			return err
		}
	} else {
		from, err := p.storeName(ctx, request.StoreID())
		if err != nil || from == "" {
			return err
		}
		number, err := p.nextNumber(ctx, "requisition", "requisition_number", to)
		if err != nil {
			return err
		}
		requestNumber, _ := request.Values["requisition_number"].(float64)
		fields := map[string]any{
			"id": derivedID("response", request.ID()), "store_id": to, "name_id": from, "type": "response", "status": "new",
			"linked_requisition_id": request.ID(), "their_ref": fmt.Sprintf("From internal order %d", int64(requestNumber)),
			"created_at": p.now, "requisition_number": number,
		}
		if err := p.put(ctx, "requisition", nil, fields); err != nil {
			return err
		}
		if response, err = p.load(ctx, "requisition", fields["id"].(string)); err != nil {
			return err
		}
	}
	lines, err := queryColumn[string](ctx, p.tx, `SELECT id FROM requisition_line WHERE requisition_id = ? ORDER BY id`, request.ID())
	if err != nil {
		return err
	}
	for _, lineID := range lines {
		id := derivedID("requisition_line", lineID)
		if existing, err := p.load(ctx, "requisition_line", id); err != nil || existing != nil {
			if err != nil {
				return err
			}
			continue
		}
		line, err := p.load(ctx, "requisition_line", lineID)
		if err != nil {
			return err
		}
		if err := p.put(ctx, "requisition_line", nil, map[string]any{"id": id, "requisition_id": response.ID(), "store_id": response.StoreID(),
			"item_id": line.Values["item_id"], "requested_quantity": line.Values["requested_quantity"], "supplied_quantity": float64(0)}); err != nil {
			return err
		}
	}
	return nil
}

// followResponse records on a request of a store here the response it became, and finalises the request
// once the response is finalised.
func (p *transferProcessor) followResponse(ctx context.Context, request *Record) error {
	if local, err := p.isLocal(ctx, request.StoreID()); err != nil || !local {
		return err
	}
	responses, err := p.linkedTo(ctx, "requisition", "response", request.ID())
	if err != nil || len(responses) == 0 {
		return err
	}
	response := responses[0]
	fields := map[string]any{}
	if str(request, "linked_requisition_id") != response.ID() {
		fields["linked_requisition_id"] = response.ID()
	}
	if str(response, "status") == "finalised" && str(request, "status") != "finalised" {
		fields["status"] = "finalised"
	}
	if len(fields) == 0 {
		return nil
	}
	return p.put(ctx, "requisition", request, fields)
}
