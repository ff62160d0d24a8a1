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
	for table, fields := range map[string]int{"item": 14, "name": 36, "transact": 48, "trans_line": 30, "item_line": 22, "store": 8, "Location": 7} {
		if got := len(Tables[table]); got != fields {
			t.Errorf("%s: %d fields read, the document lists %d", table, got, fields)
		}
	}
	if !Tables["transact"]["entry_date"].Required || Tables["transact"]["om_status"].Required {
		t.Error("which transact fields are required was misread")
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
}
