package datafile_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// transferFixture is a warehouse and a clinic on one datafile, each allowed to deal with the other, and an
// item.
type transferFixture struct {
	db                *datafile.DB
	warehouse, clinic datafile.Store
}

func newTransferFixture(t *testing.T) (context.Context, transferFixture) {
	ctx, db := parallelUnlockedCentral(t)
	f := transferFixture{db: db, warehouse: mustAddStore(t, db, "WH", ""), clinic: mustAddStore(t, db, "CL", "")}
	mustPut(t, db, "name_store_join",
		obj(t, map[string]any{"name_id": f.clinic.NameID, "store_id": f.warehouse.ID, "is_customer": true}),
		obj(t, map[string]any{"name_id": f.warehouse.NameID, "store_id": f.clinic.ID, "is_supplier": true}))
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin"}`, `{"id":"item-2","name":"Paracetamol"}`)
	return ctx, f
}

func (f transferFixture) shipment(t *testing.T, id, status string, lines ...string) {
	t.Helper()
	mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": id, "store_id": f.warehouse.ID, "name_id": f.clinic.NameID,
		"type": "customer_invoice", "status": status}))
	for i, item := range lines {
		mustPut(t, f.db, "invoice_line", obj(t, map[string]any{"id": fmt.Sprintf("%s-line-%d", id, i+1), "invoice_id": id,
			"item_id": item, "batch": "B1", "expiry": "2027-01-31", "pack_size": 10, "quantity": 5, "sell_price": 2.5}))
	}
}

// receipts returns the supplier invoices made from a customer invoice.
func (f transferFixture) receipts(t *testing.T, ciID string) []*datafile.Record {
	t.Helper()
	recs, err := f.db.ListRecords(context.Background(), "invoice", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []*datafile.Record
	for i := range recs {
		if recs[i].Values["linked_invoice_id"] == ciID && recs[i].Values["type"] == "supplier_invoice" {
			out = append(out, &recs[i])
		}
	}
	return out
}

func TestShipmentBecomesAReceipt(t *testing.T) {
	ctx, f := newTransferFixture(t)
	f.shipment(t, "ci-1", "new", "item-1", "item-2")
	if got := f.receipts(t, "ci-1"); len(got) != 0 {
		t.Fatalf("a new shipment made receipts: %v", got)
	}
	mustPut(t, f.db, "invoice", `{"id":"ci-1","status":"confirmed"}`)
	got := f.receipts(t, "ci-1")
	if len(got) != 1 {
		t.Fatalf("a picked shipment made %d receipts, want 1", len(got))
	}
	si := got[0].Values
	number := queryValue(t, f.db, `SELECT invoice_number FROM invoice WHERE id = 'ci-1'`)
	if si["store_id"] != f.clinic.ID || si["name_id"] != f.warehouse.NameID || si["status"] != "new" ||
		si["their_ref"] != fmt.Sprintf("From invoice number %v", number) {
		t.Errorf("receipt = %v", si)
	}
	lines := queryInt(t, f.db, `SELECT count(*) FROM invoice_line WHERE invoice_id = ? AND store_id = ? AND cost_price = 2.5
		AND pack_size = 10 AND quantity = 5 AND batch = 'B1' AND expiry = '2027-01-31'`, si["id"], f.clinic.ID)
	if lines != 2 {
		t.Errorf("receipt has %d lines copied with the shipment's sell price as cost price, want 2", lines)
	}
	if linked := queryValue(t, f.db, `SELECT linked_invoice_id FROM invoice WHERE id = 'ci-1'`); linked != si["id"] {
		t.Errorf("shipment links %v, want its receipt %v", linked, si["id"])
	}

	// Finalised with a line changed and one gone while the receipt is new: its lines are made again.
	mustPut(t, f.db, "invoice_line", `{"id":"ci-1-line-1","quantity":7}`)
	if err := f.db.DeleteRecord(ctx, "invoice_line", "ci-1-line-2"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, f.db, "invoice", `{"id":"ci-1","status":"finalised"}`)
	if n := queryInt(t, f.db, `SELECT count(*) FROM invoice_line WHERE invoice_id = ?`, si["id"]); n != 1 {
		t.Errorf("receipt has %d lines after the shipment lost one, want 1", n)
	}
	if q := queryValue(t, f.db, `SELECT quantity FROM invoice_line WHERE invoice_id = ?`, si["id"]); q != 7.0 {
		t.Errorf("receipt line quantity %v, want 7", q)
	}

	// Received, then verified: the shipment says when.
	mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": si["id"], "status": "confirmed"}))
	if v := queryValue(t, f.db, `SELECT received_at IS NOT NULL AND verified_at IS NULL FROM invoice WHERE id = 'ci-1'`); v != int64(1) {
		t.Errorf("received receipt not mirrored on the shipment")
	}
	mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": si["id"], "status": "finalised"}))
	if v := queryValue(t, f.db, `SELECT verified_at IS NOT NULL FROM invoice WHERE id = 'ci-1'`); v != int64(1) {
		t.Errorf("verified receipt not mirrored on the shipment")
	}
	if got := f.receipts(t, "ci-1"); len(got) != 1 {
		t.Errorf("%d receipts after the round trip, want exactly 1", len(got))
	}
}

func TestShipmentDeletedTakesItsNewReceipt(t *testing.T) {
	ctx, f := newTransferFixture(t)
	f.shipment(t, "ci-1", "confirmed", "item-1")
	f.shipment(t, "ci-2", "confirmed", "item-2")
	if len(f.receipts(t, "ci-1")) != 1 || len(f.receipts(t, "ci-2")) != 1 {
		t.Fatal("picked shipments made no receipts")
	}
	received := f.receipts(t, "ci-2")[0].ID()
	mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": received, "status": "confirmed"}))
	for _, ci := range []string{"ci-1", "ci-2"} {
		if err := f.db.DeleteRecord(ctx, "invoice_line", ci+"-line-1"); err != nil {
			t.Fatal(err)
		}
		if err := f.db.DeleteRecord(ctx, "invoice", ci); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, f.db, `SELECT count(*) FROM invoice WHERE type = 'supplier_invoice'`); n != 1 {
		t.Errorf("%d receipts left, want only the one already received", n)
	}
	if n := queryInt(t, f.db, `SELECT count(*) FROM invoice_line WHERE store_id = ?`, f.clinic.ID); n != 1 {
		t.Errorf("%d receipt lines left, want the received receipt's one", n)
	}
}

func TestOrderBecomesAResponse(t *testing.T) {
	_, f := newTransferFixture(t)
	mustPut(t, f.db, "requisition", obj(t, map[string]any{"id": "req-1", "store_id": f.clinic.ID, "name_id": f.warehouse.NameID, "type": "request"}))
	mustPut(t, f.db, "requisition_line", `{"id":"req-1-line","requisition_id":"req-1","item_id":"item-1","requested_quantity":40}`)
	responses := func() int64 { return queryInt(t, f.db, `SELECT count(*) FROM requisition WHERE type = 'response'`) }
	if responses() != 0 {
		t.Fatal("a draft request made a response")
	}
	mustPut(t, f.db, "requisition", `{"id":"req-1","status":"sent"}`)
	mustPut(t, f.db, "requisition", `{"id":"req-1","status":"sent"}`)
	if responses() != 1 {
		t.Fatalf("a sent request made %d responses, want 1", responses())
	}
	respID := queryValue(t, f.db, `SELECT id FROM requisition WHERE type = 'response' AND store_id = ? AND status = 'new' AND linked_requisition_id = 'req-1'`, f.warehouse.ID)
	if respID == nil {
		t.Fatal("the response is not a new one in the warehouse linked to the request")
	}
	if n := queryInt(t, f.db, `SELECT count(*) FROM requisition_line WHERE requisition_id = ? AND requested_quantity = 40 AND supplied_quantity = 0`, respID); n != 1 {
		t.Errorf("response has %d copied lines, want 1", n)
	}
	if v := queryValue(t, f.db, `SELECT linked_requisition_id FROM requisition WHERE id = 'req-1'`); v != respID {
		t.Errorf("request links %v, want its response %v", v, respID)
	}

	// The warehouse ships against the response: the clinic's receipt names the request.
	mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": "ci-r", "store_id": f.warehouse.ID, "name_id": f.clinic.NameID,
		"type": "customer_invoice", "status": "finalised", "requisition_id": respID}))
	if v := queryValue(t, f.db, `SELECT requisition_id FROM invoice WHERE linked_invoice_id = 'ci-r' AND type = 'supplier_invoice'`); v != "req-1" {
		t.Errorf("receipt carries requisition %v, want the request req-1", v)
	}

	mustPut(t, f.db, "requisition", obj(t, map[string]any{"id": respID, "status": "finalised"}))
	if v := queryValue(t, f.db, `SELECT status FROM requisition WHERE id = 'req-1'`); v != "finalised" {
		t.Errorf("request is %v once its response is finalised, want finalised", v)
	}
}

// TestStoreArrivingTakesItsTransfers: a shipment made out to a store on another site waits for that site;
// when the store moves here, this datafile makes its receipt, once.
func TestStoreArrivingTakesItsTransfers(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	mustAddSite(t, db, "North", "")
	warehouse, clinic := mustAddStore(t, db, "WH", ""), mustAddStore(t, db, "CL", "North")
	mustPut(t, db, "name_store_join", obj(t, map[string]any{"name_id": clinic.NameID, "store_id": warehouse.ID, "is_customer": true}))
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin"}`)
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "ci-1", "store_id": warehouse.ID, "name_id": clinic.NameID,
		"type": "customer_invoice", "status": "confirmed"}))
	mustPut(t, db, "invoice_line", `{"id":"ci-1-line","invoice_id":"ci-1","item_id":"item-1","quantity":3}`)
	receipts := func() int64 {
		return queryInt(t, db, `SELECT count(*) FROM invoice WHERE type = 'supplier_invoice' AND linked_invoice_id = 'ci-1'`)
	}
	if receipts() != 0 {
		t.Fatal("central made the receipt of a store active on North")
	}
	if _, _, err := db.MoveStore(ctx, "CL", "", false); err != nil {
		t.Fatal(err)
	}
	if receipts() != 1 || queryInt(t, db, `SELECT count(*) FROM invoice_line WHERE store_id = ?`, clinic.ID) != 1 {
		t.Fatalf("after the clinic came to central: %d receipts, want 1 with its line", receipts())
	}
	mustExec(t, db, `UPDATE store SET name = 'Clinic' WHERE id = ?`, clinic.ID) // a later change to the store
	mustPut(t, db, "invoice", `{"id":"ci-1","their_ref":"again"}`)
	if receipts() != 1 {
		t.Errorf("%d receipts after the store changed again, want 1", receipts())
	}
}

// TestJoinsGoOnlyToTheirStoresSite: a store's joins to names and of its name to master lists reach the site
// the store is on and no other, and follow the store when it moves.
func TestJoinsGoOnlyToTheirStoresSite(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", "")
	mustAddSite(t, db, "South", "")
	n1, s1 := mustAddStore(t, db, "N1", "North"), mustAddStore(t, db, "S1", "South")
	mustPut(t, db, "name", `{"id":"name-cust","name":"Customer","is_customer":true}`)
	mustPut(t, db, "master_list", `{"id":"ml-1","name":"Essentials"}`)
	mustPut(t, db, "name_store_join",
		obj(t, map[string]any{"id": "nsj-n1", "name_id": "name-cust", "store_id": n1.ID}),
		obj(t, map[string]any{"id": "nsj-s1", "name_id": "name-cust", "store_id": s1.ID}))
	mustPut(t, db, "master_list_name_join",
		obj(t, map[string]any{"id": "mlnj-n1", "master_list_id": "ml-1", "name_id": n1.NameID}),
		obj(t, map[string]any{"id": "mlnj-s1", "master_list_id": "ml-1", "name_id": s1.NameID}),
		`{"id":"mlnj-cust","master_list_id":"ml-1","name_id":"name-cust"}`)
	for _, limit := range []int{1, 1000} {
		got := map[string]bool{}
		var cursor int64
		for {
			recs, maxCursor, err := db.CentralRecords(ctx, north.ID, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				got[r.RecordID] = true
				cursor = r.Cursor
			}
			if len(recs) == 0 || cursor >= maxCursor {
				break
			}
		}
		for id, want := range map[string]bool{"nsj-n1": true, "mlnj-n1": true, "mlnj-cust": true, "nsj-s1": false, "mlnj-s1": false, "name-cust": true} {
			if got[id] != want {
				t.Errorf("pages of %d: North reads %s: %v, want %v", limit, id, got[id], want)
			}
		}
	}
	if _, err := db.InitialiseSite(ctx, north.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.MoveStore(ctx, "S1", "North", true); err != nil {
		t.Fatal(err)
	}
	queued := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id IN ('nsj-s1', 'mlnj-s1')`, north.ID)
	if queued != 2 {
		t.Errorf("%d of S1's joins queued for North after S1 moved there, want 2", queued)
	}
}

// TestReceiptOfAShipmentDeletedOnTheWayGoes: a receipt made on the clinic's site whose shipment was deleted
// while the clinic moved goes once the clinic is here and the shipment is not.
func TestReceiptOfAShipmentDeletedOnTheWayGoes(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", "")
	warehouse, clinic := mustAddStore(t, db, "WH", ""), mustAddStore(t, db, "CL", "North")
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin"}`)
	// North made the receipt of a shipment, and the warehouse has deleted the shipment since.
	syncWrite(t, db, north.ID,
		fmt.Sprintf(`INSERT INTO invoice (id, store_id, name_id, type, status, created_at, linked_invoice_id)
			VALUES ('si-1', '%s', '%s', 'supplier_invoice', 'new', '2026-01-01T00:00:00Z', 'ci-gone')`, clinic.ID, warehouse.NameID),
		fmt.Sprintf(`INSERT INTO invoice_line (id, invoice_id, store_id, item_id, quantity) VALUES ('si-1-line', 'si-1', '%s', 'item-1', 4)`, clinic.ID),
		fmt.Sprintf(`INSERT INTO invoice (id, store_id, name_id, type, status, created_at, linked_invoice_id)
			VALUES ('si-2', '%s', '%s', 'supplier_invoice', 'confirmed', '2026-01-01T00:00:00Z', 'ci-gone-too')`, clinic.ID, warehouse.NameID))
	if _, _, err := db.MoveStore(ctx, "CL", "", false); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM invoice WHERE id = 'si-1'`) + queryInt(t, db, `SELECT count(*) FROM invoice_line WHERE id = 'si-1-line'`); n != 0 {
		t.Errorf("the new receipt of a deleted shipment is still here (%d records)", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM invoice WHERE id = 'si-2'`); n != 1 {
		t.Errorf("a receipt already received went with its deleted shipment")
	}
}

// TestTransferCursorPassesOtherWrites: the transfer cursor moves past writes of no interest to transfers,
// so that no later transaction reads them again.
func TestTransferCursorPassesOtherWrites(t *testing.T) {
	_, db := parallelUnlockedCentral(t)
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin"}`, `{"id":"item-2","name":"Paracetamol"}`)
	if at, last := queryInt(t, db, `SELECT cursor FROM transfer_state`), queryInt(t, db, `SELECT max(cursor) FROM changelog`); at != last {
		t.Errorf("transfer cursor at %d after items were written up to %d", at, last)
	}
}

// TestTransfersReadEveryPageOfALargeWrite: the changes of a transaction are read a page at a time; a
// shipment's line written after many pages of other lines still reaches its receipt in that transaction.
func TestTransfersReadEveryPageOfALargeWrite(t *testing.T) {
	ctx, f := newTransferFixture(t)
	f.shipment(t, "ci-picked", "new", "item-1")
	mustPut(t, f.db, "invoice", `{"id":"ci-picked","status":"confirmed"}`)
	f.shipment(t, "ci-new", "new")
	const others = 5 * 4096 // more pages than a transaction has rounds of transfer processing
	n := 0
	_, err := f.db.PutRecords(ctx, "invoice_line", func() (map[string]any, error) {
		n++
		switch {
		case n <= others:
			return map[string]any{"id": fmt.Sprintf("new-line-%d", n), "invoice_id": "ci-new", "item_id": "item-2"}, nil
		case n == others+1:
			return map[string]any{"id": "picked-line-2", "invoice_id": "ci-picked", "item_id": "item-2", "quantity": 3.0}, nil
		}
		return nil, io.EOF
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.receipts(t, "ci-picked")
	if len(got) != 1 {
		t.Fatalf("the picked shipment has %d receipts, want 1", len(got))
	}
	if lines := queryInt(t, f.db, `SELECT count(*) FROM invoice_line WHERE invoice_id = ?`, got[0].Values["id"]); lines != 2 {
		t.Errorf("the receipt has %d lines, want 2: the line written last was missed", lines)
	}
	if got := f.receipts(t, "ci-new"); len(got) != 0 {
		t.Errorf("a new shipment made receipts: %v", got)
	}
}

// TestCentralRefusesATransferCopyPushedBack: the site a shipment is made out to holds it read-only; central
// refuses it from that site as it refuses any store data of another site.
func TestCentralRefusesATransferCopyPushedBack(t *testing.T) {
	ctx, db, north, warehouse, clinic := warehouseShipsToNorth(t)
	if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1'`, north.ID); n != 1 {
		t.Fatalf("the shipment is queued %d times for the clinic's site, want once", n)
	}
	pushed, err := db.ReceivePush(ctx, north.ID, []datafile.InRecord{{SyncOutID: "n:1", Table: "invoice", RecordID: "ci-1", Action: "update",
		Data: []byte(fmt.Sprintf(`{"id":"ci-1","store_id":%q,"name_id":%q,"type":"customer_invoice","status":"finalised","created_at":%q}`,
			warehouse.ID, clinic.NameID, testCreatedAt))}}, 0, nil)
	if err != nil || len(pushed.Rejections) != 1 {
		t.Fatalf("North pushing the warehouse's shipment: %+v %v, want it refused", pushed, err)
	}
	if v := queryValue(t, db, `SELECT status FROM invoice WHERE id = 'ci-1'`); v != "confirmed" {
		t.Errorf("the shipment is %v on central after North pushed it, want confirmed", v)
	}
}

// TestShipmentDeletedOnCentralLeavesARemoteReceiptToItsSite: central does not delete the new receipt a
// remote made of a shipment that is deleted, since that site may be changing it meanwhile; it sends the
// shipment's delete there, and the site deletes its own receipt.
func TestShipmentDeletedOnCentralLeavesARemoteReceiptToItsSite(t *testing.T) {
	ctx, db, north, warehouse, clinic := warehouseShipsToNorth(t)
	northPushesItsReceipt(t, db, north, warehouse, clinic)
	if v := queryValue(t, db, `SELECT linked_invoice_id FROM invoice WHERE id = 'ci-1'`); v != "si-1" {
		t.Fatalf("the shipment links %v, want North's receipt", v)
	}
	if err := db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM invoice WHERE id = 'si-1'`); n != 1 {
		t.Error("central deleted North's receipt, which only North may do")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'si-1'`, north.ID); n != 0 {
		t.Error("central queued a change of North's receipt for North")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1' AND action = 'delete'`, north.ID); n != 1 {
		t.Error("North is not sent the delete of the shipment")
	}
}

// TestSiteInitialisingIsSentTheDeleteOfAGoneShipment: a site took the delete of a shipment, and then
// starts afresh from a new datafile before it pushed the delete of its receipt. Central hands it the
// receipt again, and the shipment's delete after it, which tells the site to delete the receipt again.
func TestSiteInitialisingIsSentTheDeleteOfAGoneShipment(t *testing.T) {
	ctx, db, north, warehouse, clinic := warehouseShipsToNorth(t)
	northPushesItsReceipt(t, db, north, warehouse, clinic)
	// A shipment still there: it is not one of the deletes.
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "ci-2", "store_id": warehouse.ID, "name_id": clinic.NameID,
		"type": "customer_invoice", "status": "confirmed"}))
	if err := db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
		t.Fatal(err)
	}
	taken := queryInt(t, db, `SELECT id FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1'`, north.ID)
	if _, err := db.Acknowledge(ctx, north.ID, []string{fmt.Sprint(taken)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InitialiseSite(ctx, north.ID); err != nil {
		t.Fatal(err)
	}
	receipt := queryInt(t, db, `SELECT coalesce(max(id), 0) FROM sync_queue WHERE site_id = ? AND record_id = 'si-1'`, north.ID)
	gone := queryInt(t, db, `SELECT coalesce(max(id), 0) FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1' AND action = 'delete'`, north.ID)
	if receipt == 0 || gone <= receipt {
		t.Errorf("North initialising: the receipt is queued at %d and the delete of its shipment at %d, want the delete after the receipt", receipt, gone)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND action = 'delete'`, north.ID); n != 1 {
		t.Errorf("North initialising is sent %d deletes, want only the gone shipment's", n)
	}
}

// TestStoreDataQueuedAgainKeepsTheSitesDeletes: queueing a site's store data again (it initialises, or an
// administrator generates it) queues the records that exist; the deletes already queued for the site stay,
// or a site that syncs on with its datafile would keep a shipment deleted since, and its new receipt.
func TestStoreDataQueuedAgainKeepsTheSitesDeletes(t *testing.T) {
	for _, how := range []string{"initialise", "generate"} {
		t.Run(how, func(t *testing.T) {
			ctx, db, north, _, _ := warehouseShipsToNorth(t)
			if err := db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
				t.Fatal(err)
			}
			var err error
			if how == "initialise" {
				_, err = db.InitialiseSite(ctx, north.ID)
			} else {
				_, err = db.GenerateForSites(ctx, north.ID, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1' AND action = 'delete'`, north.ID); n != 1 {
				t.Errorf("North is sent the shipment's delete %d times once its store data is queued again, want once", n)
			}
		})
	}
}

// TestTransferDeleteReachesTheSitesItsStoresLeft: a site a store has left may still hold a copy of a
// transfer made out to it; the transfer's delete goes there too.
func TestTransferDeleteReachesTheSitesItsStoresLeft(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north, south := mustAddSite(t, db, "North", ""), mustAddSite(t, db, "South", "")
	warehouse, clinic := mustAddStore(t, db, "WH", ""), mustAddStore(t, db, "CL", "North")
	mustPut(t, db, "name_store_join", obj(t, map[string]any{"name_id": clinic.NameID, "store_id": warehouse.ID, "is_customer": true}))
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "ci-1", "store_id": warehouse.ID, "name_id": clinic.NameID,
		"type": "customer_invoice", "status": "new"}))
	if _, _, err := db.MoveStore(ctx, "CL", "South", false); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
		t.Fatal(err)
	}
	for _, site := range []datafile.Site{north, south} {
		if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1' AND action = 'delete'`, site.ID); n != 1 {
			t.Errorf("%s is sent the shipment's delete %d times, want once", site.Name, n)
		}
	}
}

// TestStoreMoveKeepsCopiesQueued: a store's data queued for a site as its own, then the store moves on: what
// of it is a transfer made out to a store of that site stays queued there, as a copy.
func TestStoreMoveKeepsCopiesQueued(t *testing.T) {
	ctx, db, north, warehouse, clinic := warehouseShipsToNorth(t)
	mustPut(t, db, "invoice", `{"id":"inv-own","store_id":"`+warehouse.ID+`","name_id":"`+warehouse.NameID+`","type":"customer_invoice"}`)
	for _, to := range []string{"North", ""} {
		if _, _, err := db.MoveStore(ctx, "WH", to, false); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'ci-1' AND store_id = ?`, north.ID, clinic.ID); n != 1 {
		t.Errorf("the shipment to CL is queued %d times for North as its copy once WH has left, want once", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'inv-own'`, north.ID); n != 0 {
		t.Errorf("WH's own invoice stays queued for North after WH left it")
	}
}

// northPushesItsReceipt has North push si-1, the new receipt it made of ci-1 in the clinic, and central take it.
func northPushesItsReceipt(t *testing.T, db *datafile.DB, north datafile.Site, warehouse, clinic datafile.Store) {
	t.Helper()
	pushed, err := db.ReceivePush(context.Background(), north.ID, []datafile.InRecord{{SyncOutID: "n:1", Table: "invoice", RecordID: "si-1", Action: "insert",
		Data: []byte(fmt.Sprintf(`{"id":"si-1","store_id":%q,"name_id":%q,"type":"supplier_invoice","status":"new","linked_invoice_id":"ci-1","created_at":%q}`,
			clinic.ID, warehouse.NameID, testCreatedAt))}}, 0, nil)
	if err != nil || len(pushed.Rejections)+len(pushed.Parked) != 0 {
		t.Fatalf("North's receipt: %+v %v", pushed, err)
	}
}

// warehouseShipsToNorth is central with a warehouse on it that has picked shipment ci-1 for a clinic on the
// remote North: the opening of the tests of what central does with a transfer between two sites.
func warehouseShipsToNorth(t *testing.T) (context.Context, *datafile.DB, datafile.Site, datafile.Store, datafile.Store) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", "")
	warehouse, clinic := mustAddStore(t, db, "WH", ""), mustAddStore(t, db, "CL", "North")
	mustPut(t, db, "name_store_join", obj(t, map[string]any{"name_id": clinic.NameID, "store_id": warehouse.ID, "is_customer": true}))
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "ci-1", "store_id": warehouse.ID, "name_id": clinic.NameID,
		"type": "customer_invoice", "status": "confirmed"}))
	return ctx, db, north, warehouse, clinic
}
