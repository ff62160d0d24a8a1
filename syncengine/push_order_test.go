package syncengine

import (
	"context"
	"fmt"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestInvoiceEditedThenDeletedGoesOutAfterItsLines: a site edits an invoice, then deletes its lines and the
// invoice, and its push is split over several batches. The edit, read once the invoice is gone, would go
// out as a delete in the first batch, ahead of its lines' deletes, and central could not apply it.
// Pending changes that only delete what a later change deletes again are passed over, even a batch of them.
func TestInvoiceEditedThenDeletedGoesOutAfterItsLines(t *testing.T) {
	ctx := context.Background()
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"]
	const lines = 3 * datafile.MinRequestSize
	n.put(north.db, "invoice", fmt.Sprintf(`{"id":"ci-1","store_id":%q,"name_id":"name-1","type":"customer_invoice","status":"new","created_at":"2026-01-01T00:00:00Z"}`, store.ID))
	for i := range lines {
		n.put(north.db, "invoice_line", fmt.Sprintf(`{"id":"ci-1-line-%02d","invoice_id":"ci-1","item_id":"item-1","quantity":%d}`, i, i+1))
	}
	north.sync(t)

	n.put(north.db, "invoice", fmt.Sprintf(`{"id":"ci-1","store_id":%q,"name_id":"name-1","type":"customer_invoice","status":"confirmed","created_at":"2026-01-01T00:00:00Z"}`, store.ID))
	// Edited lines too: the first batches read are then all edits of deleted records, with nothing to send.
	for i := range lines {
		n.put(north.db, "invoice_line", fmt.Sprintf(`{"id":"ci-1-line-%02d","invoice_id":"ci-1","item_id":"item-1","quantity":%d}`, i, i+100))
	}
	for i := range lines {
		if err := north.db.DeleteRecord(ctx, "invoice_line", fmt.Sprintf("ci-1-line-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := north.db.DeleteRecord(ctx, "invoice", "ci-1"); err != nil {
		t.Fatal(err)
	}
	if err := north.db.SetRequestSize(ctx, datafile.MinRequestSize); err != nil {
		t.Fatal(err)
	}
	res := north.sync(t)
	if len(res.Parked) > 0 || len(res.Rejections) > 0 {
		t.Fatalf("central parked %+v and refused %+v", res.Parked, res.Rejections)
	}
	var left int
	if err := sqlOf(n.central).QueryRow(`SELECT (SELECT count(*) FROM invoice WHERE id = 'ci-1') + (SELECT count(*) FROM invoice_line WHERE invoice_id = 'ci-1')`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("central still holds %d of the invoice and its lines", left)
	}
	if unsent, err := north.db.UnsentCount(ctx); err != nil || unsent != 0 {
		t.Errorf("%d changes left unsent (%v)", unsent, err)
	}
}
