package legacy

import (
	"encoding/json"
	"testing"
)

// FuzzFromLegacy reads arbitrary records of every legacy table: translation refuses what it cannot read,
// and never fails otherwise. What it reads goes back out without error once it holds what the datafile
// would add (an invoice's or a requisition's creation time).
func FuzzFromLegacy(f *testing.F) {
	for table := range byLegacy {
		f.Add(table, []byte(`{"ID":"x"}`))
	}
	f.Add("transact", []byte(`{"ID":"inv-1","type":"ci","status":"sg","om_status":"PICKED","entry_date":"2024-01-31T00:00:00","entry_time":"13:04:06","invoice_num":1.5}`))
	f.Add("trans_line", []byte(`{"ID":"l","transaction_ID":"inv-1","quantity":-3,"type":"stock_out","expiry_date":"2024-13-45"}`))
	f.Add("name_store_join", []byte(`{"ID":"n","inactive":1}`))
	f.Add("item_line", []byte(`{"ID":"s","available":"lots","quantity":null}`))
	f.Add("transact", []byte(`{"ID":"inv-2","type":"si","status":"cn","om_delivered_datetime":"2024-02-01T10:00:00.5","om_verified_datetime":"","linked_transaction_id":null,"pack_size":"1"}`))
	f.Add("requisition", []byte(`{"ID":"r","type":"request","status":"fn","om_status":"SENT","om_created_datetime":"2024-01-31T09:12:01.123456","serial_number":3}`))
	f.Add("requisition", []byte(`{"ID":"r","type":"response","status":"sg","om_status":"FINALISED","om_created_datetime":"2024-01-31T09:12:01","date_entered":"2024-01-31T00:00:00"}`))
	f.Add("requisition_line", []byte(`{"ID":"rl","requisition_ID":"req-1","Cust_stock_order":"10","actualQuan":null,"om_snapshot_datetime":""}`))
	f.Fuzz(func(t *testing.T, table string, data []byte) {
		var in Record
		if json.Unmarshal(data, &in) != nil {
			return
		}
		ours, rec, extra, err := FromLegacy(table, in, look)
		if err != nil {
			return
		}
		if ours == "invoice" || ours == "requisition" {
			rec["created_at"] = "2026-01-01T00:00:00Z"
		}
		if _, _, err := ToLegacy(ours, rec, extra, look); err != nil {
			t.Fatalf("%s %s read, but does not go back: %v", table, data, err)
		}
	})
}
