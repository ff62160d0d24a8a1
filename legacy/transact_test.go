package legacy

import (
	"maps"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/legacy/legacyspec"
)

// TestInvoiceTransferFields: the links of a transfer and the times its supplier invoice was received and
// verified are read from open-mSupply's keys and sent back in them; a time keeps its fraction while ours
// says the same second, and none goes as null.
func TestInvoiceTransferFields(t *testing.T) {
	pushed := maps.Clone(ourRecordAsLegacy(t, "invoice"))
	pushed["linked_transaction_id"], pushed["requisition_ID"] = "inv-2", "req-2"
	pushed["om_delivered_datetime"], pushed["om_verified_datetime"] = "2026-02-01T10:00:00.5", ""
	_, rec, extra, err := FromLegacy("transact", pushed, look)
	if err != nil {
		t.Fatal(err)
	}
	if rec["linked_invoice_id"] != "inv-2" || rec["requisition_id"] != "req-2" || rec["received_at"] != "2026-02-01T10:00:00Z" ||
		rec["verified_at"] != nil {
		t.Errorf("read as %v", rec)
	}
	_, out, err := ToLegacy("invoice", rec, wire(t, extra), look)
	if err != nil {
		t.Fatal(err)
	}
	if out["linked_transaction_id"] != "inv-2" || out["requisition_ID"] != "req-2" ||
		out["om_delivered_datetime"] != "2026-02-01T10:00:00.5" || out["om_verified_datetime"] != nil {
		t.Errorf("sent back as %v", out)
	}

	changed := maps.Clone(rec)
	changed["received_at"], changed["verified_at"], changed["linked_invoice_id"] = "2026-02-01T11:00:00Z", "2026-02-03T12:30:00Z", ""
	_, out, err = ToLegacy("invoice", changed, wire(t, extra), look)
	if err != nil {
		t.Fatal(err)
	}
	if out["om_delivered_datetime"] != "2026-02-01T11:00:00" || out["om_verified_datetime"] != "2026-02-03T12:30:00" || out["linked_transaction_id"] != "" {
		t.Errorf("changed, sent as %v", out)
	}
	if problems := legacyspec.Check("transact", wire(t, out)); len(problems) > 0 {
		t.Errorf("changed, does not conform: %s", strings.Join(problems, "; "))
	}
	changed["received_at"] = nil
	if _, out, err = ToLegacy("invoice", changed, wire(t, extra), look); err != nil || out["om_delivered_datetime"] != nil {
		t.Errorf("no longer received, sent as %v (%v)", out["om_delivered_datetime"], err)
	}

	pushed["linked_transaction_id"], pushed["requisition_ID"], pushed["om_delivered_datetime"] = nil, nil, nil
	if _, rec, _, err = FromLegacy("transact", pushed, look); err != nil || rec["linked_invoice_id"] != "" || rec["requisition_id"] != "" || rec["received_at"] != nil {
		t.Errorf("nulls read as %v (%v)", rec, err)
	}
	for value, want := range map[any]string{
		"2026-02-01T10:00:00Z": `field om_delivered_datetime: "2026-02-01T10:00:00Z" is not a date-time`,
		"2026-02-01 10:00:00":  `field om_delivered_datetime: "2026-02-01 10:00:00" is not a date-time`,
		7.0:                    "field om_delivered_datetime: a date-time must be a string, not a number",
	} {
		pushed["om_delivered_datetime"] = value
		if _, _, _, err := FromLegacy("transact", pushed, look); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("om_delivered_datetime %#v: %v, want %q", value, err, want)
		}
	}
}

// TestInvoiceLinePrices: a line's pack size and prices are ours both ways, no longer the defaults.
func TestInvoiceLinePrices(t *testing.T) {
	line := ourRecordAsLegacy(t, "invoice_line")
	if line["pack_size"] != 20.0 || line["cost_price"] != 1.25 || line["sell_price"] != 1.75 {
		t.Errorf("sent as %v", line)
	}
	line["pack_size"], line["cost_price"], line["sell_price"] = 12.0, 0.5, 0.0
	_, rec, extra, err := FromLegacy("trans_line", line, look)
	if err != nil {
		t.Fatal(err)
	}
	if rec["pack_size"] != 12.0 || rec["cost_price"] != 0.5 || rec["sell_price"] != 0.0 || len(extra) > 0 {
		t.Errorf("read as %v, extras %v", rec, extra)
	}
}

// ourRecordAsLegacy is the test record of one of our tables as it goes on the wire.
func ourRecordAsLegacy(t *testing.T, ours string) Record {
	t.Helper()
	_, out, err := ToLegacy(ours, ourRecords[ours], nil, look)
	if err != nil {
		t.Fatal(err)
	}
	return wire(t, out)
}
