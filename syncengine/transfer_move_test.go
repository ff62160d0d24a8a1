package syncengine

import (
	"context"
	"fmt"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestReceiptComesToTheSiteThatDeletedItsShipment: North ships to South's store, South makes the receipt,
// North deletes the shipment and, before it syncs, the receiving store is moved to North by force. The
// receipt reaches North with the store, after North's own delete: North deletes the new receipt, and so
// does central once North has pushed, rather than keep a receipt of goods that never left.
func TestReceiptComesToTheSiteThatDeletedItsShipment(t *testing.T) {
	ctx := context.Background()
	n, north, _, to := northShipsToSouth(t)
	si := southsReceiptDeletedOnNorth(t, n, north)
	if _, _, err := n.central.MoveStore(ctx, "South-store", "North", true); err != nil {
		t.Fatal(err)
	}
	north.sync(t) // pushes the delete, takes the store and its receipt
	if _, err := north.db.GetRecord(ctx, "invoice", si); err == nil {
		t.Fatal("North keeps the new receipt of a shipment it deleted")
	}
	north.sync(t)
	if _, err := n.central.GetRecord(ctx, "invoice", si); err == nil {
		t.Fatal("central keeps the new receipt of a deleted shipment after North pushed")
	}
	sameChecksums(t, "the store after the move", checksum(t, n.central, to.ID), checksum(t, north.db, to.ID), "invoice", "invoice_line")
}

// TestDeleteOfAShipmentNeverHeldTakesItsReceipt: a shipment whose copy never reached the receiving site
// before it was deleted (the site's queue held its delete by then) still takes with it the new receipt
// that came to the site with its store.
func TestDeleteOfAShipmentNeverHeldTakesItsReceipt(t *testing.T) {
	ctx := context.Background()
	n, north, _, to := northShipsToSouth(t)
	// The receiving store moves to a third site, which never sees the shipment: it is deleted before that
	// site next syncs.
	n.addSite("East", "east-password")
	east := n.newRemote("East", "east-password", "hw-east")
	east.sync(t)
	if _, _, err := n.central.MoveStore(ctx, "South-store", "East", true); err != nil {
		t.Fatal(err)
	}
	if err := north.db.DeleteRecord(ctx, "invoice_line", "ci-1-line"); err != nil {
		t.Fatal(err)
	}
	if err := north.db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
		t.Fatal(err)
	}
	north.sync(t)
	east.sync(t)
	east.sync(t)
	receipts, err := east.db.ListRecords(ctx, "invoice", []datafile.Condition{{Field: "linked_invoice_id", Value: "ci-1"}})
	if err != nil || len(receipts) != 0 {
		t.Fatalf("East holds %d receipts of a deleted shipment (%v), want none", len(receipts), err)
	}
	sameChecksums(t, "the store on East", checksum(t, n.central, to.ID), checksum(t, east.db, to.ID), "invoice", "invoice_line")
}

// TestSiteStartingAfreshDropsTheReceiptOfAGoneShipment: South starts again from a new datafile after North
// deleted the shipment South had made a new receipt of. Central hands South its store's data afresh, the
// receipt among it but not the shipment; the shipment's delete, queued for South before, must follow, or
// South would keep a receipt of goods that never left, and central with it.
func TestSiteStartingAfreshDropsTheReceiptOfAGoneShipment(t *testing.T) {
	n, north, _, to := northShipsToSouth(t)
	si := southsReceiptDeletedOnNorth(t, n, north)
	north.sync(t)
	southStartsAfreshAndDropsTheReceipt(t, n, si, to)
}

// TestSiteLosingItsDatafileAfterADeleteDropsTheReceiptAgain: South takes the delete of a shipment and
// deletes its new receipt, then loses its datafile before it pushes that. Started afresh, it is handed the
// receipt again by central, and with it the shipment's delete once more.
func TestSiteLosingItsDatafileAfterADeleteDropsTheReceiptAgain(t *testing.T) {
	ctx := context.Background()
	n, north, south, to := northShipsToSouth(t)
	si := southsReceiptDeletedOnNorth(t, n, north)
	north.sync(t)
	if _, err := south.remote.Cycle(ctx, false); err != nil { // takes the delete, pushes nothing
		t.Fatal(err)
	}
	if _, err := south.db.GetRecord(ctx, "invoice", si); err == nil {
		t.Fatal("South keeps its new receipt after the shipment's delete")
	}
	if _, err := n.central.GetRecord(ctx, "invoice", si); err != nil {
		t.Fatalf("central lost the receipt before South pushed its delete: %v", err)
	}
	southStartsAfreshAndDropsTheReceipt(t, n, si, to)
}

// southsReceiptDeletedOnNorth returns the id of South's receipt of ci-1, which central holds, once North has
// deleted the shipment (not synced yet).
func southsReceiptDeletedOnNorth(t *testing.T, n *testNet, north *testRemote) string {
	t.Helper()
	ctx := context.Background()
	receipts, err := n.central.ListRecords(ctx, "invoice", []datafile.Condition{{Field: "linked_invoice_id", Value: "ci-1"}})
	if err != nil || len(receipts) != 1 {
		t.Fatalf("central holds %d receipts of the shipment (%v), want South's", len(receipts), err)
	}
	if err := north.db.DeleteRecord(ctx, "invoice_line", "ci-1-line"); err != nil {
		t.Fatal(err)
	}
	if err := north.db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
		t.Fatal(err)
	}
	return receipts[0].ID()
}

// southStartsAfreshAndDropsTheReceipt starts South from a new datafile: its first sync initialises it, with
// the store's data and then the shipment's delete, and must leave it without the new receipt si; its second
// pushes that delete, and central must then be without it too.
func southStartsAfreshAndDropsTheReceipt(t *testing.T, n *testNet, si string, to datafile.Store) {
	t.Helper()
	ctx := context.Background()
	afresh := n.newRemoteAs("South", "south-afresh", "south-password", "hw-south")
	afresh.sync(t)
	if _, err := afresh.db.GetRecord(ctx, "invoice", si); err == nil {
		t.Fatal("South, started afresh, keeps the new receipt of a deleted shipment that central handed it")
	}
	afresh.sync(t)
	if _, err := n.central.GetRecord(ctx, "invoice", si); err == nil {
		t.Fatal("central keeps the new receipt of a deleted shipment after South pushed")
	}
	sameChecksums(t, "South's store", checksum(t, n.central, to.ID), checksum(t, afresh.db, to.ID), "invoice", "invoice_line")
}

// northShipsToSouth sets up a shipment ci-1 with one line from North's store to South's, received by South
// (a new receipt, on central too).
func northShipsToSouth(t *testing.T) (n *testNet, north, south *testRemote, to datafile.Store) {
	t.Helper()
	n, north, south = newNorthAndSouth(t)
	from := n.stores["North-store"]
	to = n.stores["South-store"]
	n.put(n.central, "name_store_join", fmt.Sprintf(`{"id":"nsj-1","name_id":%q,"store_id":%q,"is_customer":true}`, to.NameID, from.ID))
	north.sync(t)
	south.sync(t)
	n.put(north.db, "invoice", fmt.Sprintf(`{"id":"ci-1","store_id":%q,"name_id":%q,"type":"customer_invoice","status":"confirmed","created_at":"2026-01-01T00:00:00Z"}`, from.ID, to.NameID))
	n.put(north.db, "invoice_line", `{"id":"ci-1-line","invoice_id":"ci-1","item_id":"item-1","quantity":4}`)
	north.sync(t)
	south.sync(t) // takes the shipment, makes its receipt
	south.sync(t) // pushes the receipt
	return n, north, south, to
}
