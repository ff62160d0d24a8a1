package legacyspec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minimalTables names the legacy table of each hand-made minimal record, which open-mSupply reads.
var minimalTables = map[string]string{
	"currency": "currency", "invoice": "transact", "invoice_line": "trans_line", "item": "item",
	"master_list": "list_master", "master_list_line": "list_master_line", "master_list_name_join": "list_master_name_join",
	"name": "name", "name_store_join": "name_store_join", "stock_line": "item_line", "store": "store", "unit": "unit",
	"requisition": "requisition", "requisition_line": "requisition_line",
}

// Minimal returns the minimal record of a legacy table, which open-mSupply reads.
func minimal(t *testing.T, legacyTable string) map[string]any {
	t.Helper()
	for file, table := range minimalTables {
		if table != legacyTable {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", "minimal", file+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	t.Fatalf("no minimal record of %s", legacyTable)
	return nil
}

func TestTheDocumentIsRead(t *testing.T) {
	for table, fields := range map[string]int{"item": 14, "name": 36, "transact": 48, "trans_line": 30, "item_line": 22, "store": 8, "Location": 7,
		"requisition": 27, "requisition_line": 23} {
		if got := len(Tables[table]); got != fields {
			t.Errorf("%s: %d fields read, the document lists %d", table, got, fields)
		}
	}
	if !Tables["transact"]["entry_date"].Required || Tables["transact"]["om_status"].Required {
		t.Error("which transact fields are required was misread")
	}
	// requisition_tables.md counts the keys open-mSupply requires: 18 of requisition, 22 of its lines.
	for table, want := range map[string]int{"requisition": 18, "requisition_line": 22} {
		required := 0
		for _, f := range Tables[table] {
			if f.Required {
				required++
			}
		}
		if required != want {
			t.Errorf("%s: %d fields read as required, the document says %d", table, required, want)
		}
	}
}

func TestMinimalRecordsConform(t *testing.T) {
	for _, table := range minimalTables {
		if problems := Check(table, minimal(t, table)); len(problems) > 0 {
			t.Errorf("the minimal %s record: %s", table, strings.Join(problems, "; "))
		}
	}
}

// TestCheckFindsWhatOpenMSupplyRefuses: each change makes a minimal record one open-mSupply cannot read
// as it should, and the check says so, naming the field.
func TestCheckFindsWhatOpenMSupplyRefuses(t *testing.T) {
	for _, tc := range []struct {
		table, field string
		value        any
	}{
		{"transact", "entry_date", "2024-01-31T00:00:00"},
		{"transact", "entry_date", "0000-00-00"},
		{"transact", "entry_time", "13:04:06"},
		{"transact", "entry_time", 90000.0},
		{"transact", "type", "CI"},
		{"transact", "status", "NW"},
		{"transact", "invoice_num", 1.5},
		{"transact", "currency_rate", nil},
		{"transact", "om_created_datetime", "2024-01-31T13:04:06Z"},
		{"transact", "om_created_datetime", "2024-01-31 13:04:06"},
		{"transact", "om_status", "RECEIVED"},
		{"transact", "confirm_date", "2024-01-31T00:00:00Z"},
		{"item", "item_name", nil},
		{"item", "is_vaccine", 0.0},
		{"item", "type_of", "medicine"},
		{"name", "om_gender", "female"},
		{"store", "sync_id_remote_site", "2"},
		{"list_master", "inactive", "no"},
		{"trans_line", "quantity", "10"},
		{"requisition", "date_entered", "2024-01-31T00:00:00"},
		{"requisition", "date_entered", "0000-00-00"},
		{"requisition", "type", "Request"},
		{"requisition", "status", "SG"},
		{"requisition", "serial_number", 1.5},
		{"requisition", "lastModifiedAt", nil},
		{"requisition", "thresholdMOS", ""},
		{"requisition", "authorisationStatus", "Authorised"},
		{"requisition", "om_status", "new"},
		{"requisition", "om_created_datetime", "2024-01-31T09:12:01Z"},
		{"requisition", "is_emergency", 0.0},
		{"requisition_line", "Cust_stock_order", nil},
		{"requisition_line", "itemName", nil},
		{"requisition_line", "om_snapshot_datetime", "2024-01-31 09:12:05"},
	} {
		rec := minimal(t, tc.table)
		rec[tc.field] = tc.value
		problems := Check(tc.table, rec)
		if len(problems) != 1 || !strings.HasPrefix(problems[0], tc.field+":") {
			t.Errorf("%s.%s = %#v: %v", tc.table, tc.field, tc.value, problems)
		}
	}
	rec := minimal(t, "transact")
	delete(rec, "user_ID")
	if problems := Check("transact", rec); len(problems) != 1 || problems[0] != "user_ID: required, missing" {
		t.Errorf("without user_ID: %v", problems)
	}
	rec = minimal(t, "transact")
	rec["om_status"], rec["tax_rate"], rec["whatever"] = nil, nil, 1.0
	if problems := Check("transact", rec); len(problems) != 0 {
		t.Errorf("optional nulls and an unknown key: %v", problems)
	}
	rec = minimal(t, "requisition_line")
	delete(rec, "om_snapshot_datetime")
	if problems := Check("requisition_line", rec); len(problems) != 1 || problems[0] != "om_snapshot_datetime: required, missing" {
		t.Errorf("without om_snapshot_datetime: %v", problems)
	}
	rec = minimal(t, "requisition")
	rec["om_status"], rec["om_created_datetime"], rec["requester_reference"], rec["oms_fields"] = "SENT", "2024-01-31T09:12:01.123456", nil, nil
	if problems := Check("requisition", rec); len(problems) != 0 {
		t.Errorf("a requisition with om_ fields and nulls: %v", problems)
	}
	rec = minimal(t, "trans_line")
	rec["oms_fields"] = ""
	if problems := Check("trans_line", rec); len(problems) != 0 {
		t.Errorf("oms_fields \"\", which the document says is none: %v", problems)
	}
}
