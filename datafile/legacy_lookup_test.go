package datafile_test

import (
	"context"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestLegacyLookupPreload checks that a preloaded lookup answers, without asking the datafile again, what
// asking one by one would have: renaming the item and retyping the invoice after the preload must not
// change its answers, and an unknown item or invoice is "" as it would be asked alone.
func TestLegacyLookupPreload(t *testing.T) {
	fx := newFuzzFixture(t)
	ctx := context.Background()
	recs := []datafile.OutRecord{
		{Table: "invoice_line", Values: map[string]any{"id": "l1", "invoice_id": "inv-a", "item_id": "item-1"}},
		{Table: "invoice_line", Values: map[string]any{"id": "l2", "invoice_id": "inv-r", "item_id": "item-unknown"}},
		{Table: "invoice_line", Values: map[string]any{"id": "l3", "invoice_id": "inv-unknown", "item_id": "item-1"}},
		{Table: "requisition_line", Values: map[string]any{"id": "r1", "item_id": "item-1"}},
		{Table: "item", Values: map[string]any{"id": "item-1"}},
		{Table: "invoice_line", Action: "delete"},
	}
	type answers struct{ names, types map[string]string }
	ask := func(l *datafile.LegacyLookup) answers {
		t.Helper()
		a := answers{names: map[string]string{}, types: map[string]string{}}
		for _, id := range []string{"item-1", "item-unknown"} {
			n, err := l.ItemName(id)
			if err != nil {
				t.Fatal(err)
			}
			a.names[id] = n
		}
		for _, id := range []string{"inv-a", "inv-r", "inv-unknown"} {
			typ, err := l.InvoiceType(id)
			if err != nil {
				t.Fatal(err)
			}
			a.types[id] = typ
		}
		return a
	}
	want := ask(fx.db.LegacyLookup(ctx))
	if want.names["item-1"] != "Paracetamol" || want.types["inv-r"] != "customer_invoice" || want.names["item-unknown"] != "" {
		t.Fatalf("asked one by one: %+v", want)
	}

	preloaded := fx.db.LegacyLookup(ctx)
	if err := preloaded.Preload(recs); err != nil {
		t.Fatal(err)
	}
	mustExec(t, fx.db, `UPDATE item SET name = 'Renamed' WHERE id = 'item-1'`)
	mustExec(t, fx.db, `UPDATE invoice SET type = 'customer_invoice' WHERE id = 'inv-a'`)
	got := ask(preloaded)
	for id, n := range want.names {
		if got.names[id] != n {
			t.Errorf("item %s: preloaded name %q, want %q as it was when preloaded", id, got.names[id], n)
		}
	}
	for id, typ := range want.types {
		if got.types[id] != typ {
			t.Errorf("invoice %s: preloaded type %q, want %q as it was when preloaded", id, got.types[id], typ)
		}
	}
	if now := ask(fx.db.LegacyLookup(ctx)); now.names["item-1"] != "Renamed" {
		t.Fatalf("the rename did not take: %+v", now)
	}
}
