package legacy

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/legacy/legacyspec"
)

// fixedLookup answers from maps what a datafile would.
type fixedLookup struct {
	items, invoiceTypes, invoiceStores, requisitionStores map[string]string
}

func (l fixedLookup) ItemName(id string) (string, error)         { return l.items[id], nil }
func (l fixedLookup) InvoiceType(id string) (string, error)      { return l.invoiceTypes[id], nil }
func (l fixedLookup) InvoiceStore(id string) (string, error)     { return l.invoiceStores[id], nil }
func (l fixedLookup) RequisitionStore(id string) (string, error) { return l.requisitionStores[id], nil }

var look = fixedLookup{
	items:             map[string]string{"item-1": "Paracetamol 500mg"},
	invoiceTypes:      map[string]string{"inv-1": "customer_invoice", "inv-2": "supplier_invoice"},
	invoiceStores:     map[string]string{"inv-1": "store-1", "inv-2": "store-1"},
	requisitionStores: map[string]string{"req-1": "store-1", "REQ_A1": "S1"},
}

// ourRecords are full records of every table of ours, as the datafile reads them.
var ourRecords = map[string]Record{
	"unit":                  {"id": "unit-1", "name": "Tab", "comment": "tablets", "order_number": 2.0},
	"currency":              {"id": "cur-1", "code": "KES", "rate": 130.5, "is_home": true, "updated_on": "2026-11-30"},
	"item":                  {"id": "item-1", "code": "PCM", "name": "Paracetamol 500mg", "unit": "tab", "is_active": true, "unit_id": "unit-1"},
	"name":                  {"id": "name-1", "code": "CL", "name": "Clinic", "is_customer": true, "is_supplier": false, "store_id": nil, "is_active": true},
	"master_list":           {"id": "ml-1", "code": "EML", "name": "Essential medicines"},
	"master_list_line":      {"id": "mll-1", "master_list_id": "ml-1", "item_id": "item-1"},
	"name_store_join":       {"id": "nsj-1", "name_id": "name-1", "store_id": "store-1", "is_customer": true, "is_supplier": false, "is_active": false},
	"master_list_name_join": {"id": "mlnj-1", "master_list_id": "ml-1", "name_id": "name-store-1"},
	"store":                 {"id": "store-1", "code": "N1", "name_id": "name-store-1", "name": "North One", "site_id": 2.0, "moving_to_site_id": nil},
	"invoice": {"id": "inv-1", "store_id": "store-1", "name_id": "name-1", "type": "customer_invoice", "status": "confirmed",
		"their_ref": "PO-7", "created_at": "2026-01-31T13:04:06Z", "invoice_number": 12.0, "linked_invoice_id": "inv-2",
		"requisition_id": "req-2", "received_at": "2026-02-02T08:15:00Z", "verified_at": nil},
	"invoice_line": {"id": "line-1", "invoice_id": "inv-1", "store_id": "store-1", "item_id": "item-1", "batch": "B1",
		"expiry": "2027-06-30", "quantity": 10.0, "pack_size": 20.0, "cost_price": 1.25, "sell_price": 1.75},
	"requisition": {"id": "req-1", "store_id": "store-1", "name_id": "name-store-2", "type": "request", "status": "sent",
		"linked_requisition_id": "req-2", "their_ref": "PO-8", "created_at": "2026-01-31T09:30:00Z", "requisition_number": 3.0},
	"requisition_line": {"id": "rl-1", "requisition_id": "req-1", "store_id": "store-1", "item_id": "item-1",
		"requested_quantity": 100.0, "supplied_quantity": 40.0},
	"stock_line": {"id": "stock-1", "store_id": "store-1", "item_id": "item-1", "batch": "B1", "expiry": nil, "quantity": 7.5},
}

// wire is what encoding/json makes of v on the other side of the wire.
func wire(t *testing.T, v Record) Record {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out Record
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryTableOfOursIsTranslated(t *testing.T) {
	if len(ourRecords) != len(translators) {
		t.Fatalf("%d records for %d translators", len(ourRecords), len(translators))
	}
	for ours := range translators {
		if _, ok := ourRecords[ours]; !ok {
			t.Errorf("no test record of %s", ours)
		}
	}
}

// TestOurRecordsConformAndComeBack: every record of ours goes out in a form open-mSupply reads (checked
// against legacy_tables.md), and this project's own remotes read it back exactly, with nothing extra to
// keep.
func TestOurRecordsConformAndComeBack(t *testing.T) {
	for ours, rec := range ourRecords {
		t.Run(ours, func(t *testing.T) {
			table, out, err := ToLegacy(ours, rec, nil, look)
			if err != nil {
				t.Fatal(err)
			}
			out = wire(t, out)
			if problems := legacyspec.Check(table, out); len(problems) > 0 {
				t.Errorf("%s as %s does not conform: %s\n%v", ours, table, strings.Join(problems, "; "), out)
			}
			back, got, extra, err := FromLegacy(table, out, look)
			if err != nil {
				t.Fatal(err)
			}
			if back != ours || !reflect.DeepEqual(got, rec) {
				t.Errorf("came back as %s %v, want %v", back, got, rec)
			}
			if len(extra) > 0 {
				t.Errorf("a record of ours came back with extras to keep: %v", extra)
			}
		})
	}
}

// richRecord fills every field legacy_tables.md lists for a table with a value of its format that is not
// a default, then sets the fields our model reads to values it keeps.
func richRecord(table string, ours Record) Record {
	rec := Record{"a_key_no_table_has": map[string]any{"nested": []any{1.0, "two"}}}
	for name, f := range legacyspec.Tables[table] {
		switch format := f.Format; {
		case strings.HasPrefix(format, "string"):
			rec[name] = "kept " + name
		case strings.HasPrefix(format, "true/false"):
			rec[name] = true
		case strings.HasPrefix(format, "number"):
			rec[name] = 2.5
		case strings.HasPrefix(format, "integer seconds"):
			rec[name] = 3600.0
		case strings.HasPrefix(format, "integer"):
			rec[name] = 3.0
		case strings.HasPrefix(format, "datetime"):
			rec[name] = "2024-02-03T04:05:06.123456"
		case strings.HasPrefix(format, "date"):
			rec[name] = "2024-02-03"
		case strings.HasPrefix(format, "object"):
			rec[name] = map[string]any{"charges_local_currency": 1.5}
		case strings.HasPrefix(format, "any JSON"):
			rec[name] = map[string]any{"custom": true}
		default: // an enum: its first value
			rec[name] = strings.Trim(strings.SplitN(strings.SplitN(format, `"`, 2)[1], `"`, 2)[0], "…")
		}
	}
	maps.Copy(rec, ours)
	return rec
}

// TestRichLegacyRecordsComeBackUnchanged: a record a client sent, with every field it may have and keys
// no table has, goes back to it exactly as it came, the fields we keep made again from ours.
func TestRichLegacyRecordsComeBackUnchanged(t *testing.T) {
	for table, ours := range map[string]Record{
		"item": {"ID": "item-1", "unit_ID": "unit-1"},
		"name": {"ID": "name-1", "type": "facility"},
		"transact": {"ID": "inv-1", "store_ID": "store-1", "name_ID": "name-1", "type": "ci", "status": "cn",
			"om_type": "OUTBOUND_SHIPMENT", "om_status": "PICKED", "entry_date": "2024-02-03", "entry_time": 14706.0,
			"om_created_datetime": "2024-02-03T04:05:06", "mode": "store"},
		"trans_line":      {"ID": "line-1", "transaction_ID": "inv-1", "item_ID": "item-1", "item_name": "Paracetamol 500mg", "type": "stock_out"},
		"item_line":       {"ID": "stock-1", "store_ID": "store-1", "item_ID": "item-1", "available": 2.0},
		"store":           {"ID": "store-1", "name_ID": "name-store-1"},
		"name_store_join": {"ID": "nsj-1", "name_ID": "name-1", "store_ID": "store-1", "inactive": false},
		"list_master":     {"ID": "ml-1", "inactive": false},
		"currency":        {"ID": "cur-1"},
		"unit":            {"ID": "unit-1"},
		"requisition": {"ID": "req-1", "store_ID": "store-1", "name_ID": "name-store-2", "type": "request", "status": "fn",
			"om_status": "SENT", "om_created_datetime": "2024-02-03T04:05:06.123456", "date_entered": "2024-02-03"},
		"requisition_line": {"ID": "rl-1", "requisition_ID": "req-1", "item_ID": "item-1", "itemName": "Paracetamol 500mg"},
	} {
		t.Run(table, func(t *testing.T) {
			sent := richRecord(table, ours)
			oursTable, rec, extra, err := FromLegacy(table, wire(t, sent), look)
			if err != nil {
				t.Fatal(err)
			}
			_, back, err := ToLegacy(oursTable, rec, wire(t, extra), look)
			if err != nil {
				t.Fatal(err)
			}
			back = wire(t, back)
			for k, v := range wire(t, sent) {
				if !reflect.DeepEqual(back[k], v) {
					t.Errorf("%s: sent %#v, got back %#v", k, v, back[k])
				}
			}
			if problems := legacyspec.Check(table, back); len(problems) > 0 {
				t.Errorf("what goes back does not conform: %s", strings.Join(problems, "; "))
			}
		})
	}
}

// TestOpenMSupplyPushShapes: what open-mSupply pushes differs from what it reads (null for "", dates with a
// time, times as "HH:MM:SS", floats for integers, om_status and om_type over status and type).
func TestOpenMSupplyPushShapes(t *testing.T) {
	pushed := Record{
		"ID": "inv-9", "name_ID": "name-1", "store_ID": "store-1", "invoice_num": 4.0, "type": "ci", "status": "sg",
		"om_type": "OUTBOUND_SHIPMENT", "om_status": "SHIPPED", "their_ref": nil, "comment": nil,
		"entry_date": "2024-01-31T00:00:00", "entry_time": "13:04:06", "confirm_date": nil, "confirm_time": "00:00:00",
		"currency_rate": 1.0, "mode": "store", "oms_fields": map[string]any{"charges_local_currency": 0.0},
		"linked_transaction_id": nil, "requisition_ID": nil, "om_delivered_datetime": nil, "om_verified_datetime": nil,
	}
	table, rec, extra, err := FromLegacy("transact", pushed, look)
	if err != nil {
		t.Fatal(err)
	}
	want := Record{"id": "inv-9", "name_id": "name-1", "store_id": "store-1", "invoice_number": 4.0, "type": "customer_invoice",
		"status": "finalised", "their_ref": "", "created_at": "2024-01-31T13:04:06Z", "linked_invoice_id": "", "requisition_id": "",
		"received_at": nil, "verified_at": nil}
	if table != "invoice" || !reflect.DeepEqual(rec, want) {
		t.Errorf("pushed transact read as %s %v, want %v", table, rec, want)
	}
	if extra["om_status"] != "SHIPPED" || extra["comment"] != nil || extra["oms_fields"] == nil {
		t.Errorf("extras %v", extra)
	}
	// Sent back, its formats are those open-mSupply reads.
	_, out, err := ToLegacy("invoice", rec, extra, look)
	if err != nil {
		t.Fatal(err)
	}
	if problems := legacyspec.Check("transact", wire(t, out)); len(problems) > 0 {
		t.Errorf("sent back: %s", strings.Join(problems, "; "))
	}
	if out["entry_date"] != "2024-01-31" || out["entry_time"] != 47046 || out["status"] != "fn" || out["om_status"] != "SHIPPED" {
		t.Errorf("sent back %v", out)
	}

	line := Record{"ID": "line-9", "transaction_ID": "inv-2", "item_ID": "item-1", "item_name": "x", "batch": nil,
		"expiry_date": "2026-12-31T00:00:00", "quantity": 5.0, "type": "stock_in", "pack_size": 1.0, "cost_price": 0.5, "sell_price": 0.0}
	_, rec, _, err = FromLegacy("trans_line", line, look)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Record{"id": "line-9", "invoice_id": "inv-2", "item_id": "item-1", "batch": "", "expiry": "2026-12-31", "quantity": 5.0,
		"pack_size": 1.0, "cost_price": 0.5, "sell_price": 0.0, "store_id": "store-1"}); !reflect.DeepEqual(rec, want) {
		t.Errorf("pushed line read as %v, want %v", rec, want)
	}
}

// TestOnlyWhatIsKeptHereTranslates: records this project does not model are refused by translation, with
// the reason, for central to park.
func TestOnlyWhatIsKeptHereTranslates(t *testing.T) {
	base := richRecord("transact", Record{"ID": "inv-1", "type": "ci", "status": "nw", "entry_date": "2024-01-01", "om_type": "", "om_status": ""})
	for _, tc := range []struct {
		table  string
		change Record
		want   string
	}{
		{"transact", Record{"om_type": "PRESCRIPTION"}, "invoices of type PRESCRIPTION are not kept here"},
		{"transact", Record{"om_type": "REPACK"}, "invoices of type REPACK"},
		{"transact", Record{"type": "sc"}, "field type: invoices of type sc are not kept here"},
		{"transact", Record{"mode": "dispensary"}, "prescriptions are not kept here"},
		{"transact", Record{"status": "NW"}, "field status: NW is not a status kept here"},
		{"transact", Record{"om_status": "LOST"}, `field om_status: "LOST" is not a status`},
		{"transact", Record{"entry_date": "31/01/2024", "om_created_datetime": ""}, "field entry_date"},
		{"transact", Record{"their_ref": 7.0}, "field their_ref: must be a string"},
		{"name", Record{"type": "patient"}, "names of type patient are not kept here"},
		{"trans_line", Record{"type": "placeholder"}, "invoice lines of type placeholder"},
		{"name_store_join", Record{"inactive": "yes"}, "field inactive: must be true or false"},
		{"Location", nil, `table "Location" is not one this server keeps`},
		{"requisition", Record{"type": "im"}, "field type: requisitions of type im are not kept here"},
		{"requisition", Record{"type": "supply"}, "requisitions of type supply are not kept here"},
		{"requisition", Record{"type": "Request"}, "requisitions of type Request are not kept here"},
		{"requisition", Record{"status": "wp", "om_created_datetime": nil}, "field status: wp is not a status kept here"},
		{"requisition", Record{"om_status": nil}, "field om_status: required when om_created_datetime is set"},
		{"requisition", Record{"om_status": "new"}, `field om_status: "new" is not a status`},
		{"requisition", Record{"om_created_datetime": "2024-02-03T04:05:06Z"}, "field om_created_datetime"},
		{"requisition", Record{"date_entered": "31/01/2024", "om_created_datetime": ""}, "field date_entered"},
		{"requisition", Record{"serial_number": "three"}, "field serial_number: must be a number"},
		{"requisition_line", Record{"Cust_stock_order": "ten"}, "field Cust_stock_order: must be a number"},
	} {
		rec := Record{}
		if tc.table == "transact" {
			maps.Copy(rec, base)
		} else {
			rec = richRecord(tc.table, Record{"ID": "x"})
		}
		maps.Copy(rec, tc.change)
		_, _, _, err := FromLegacy(tc.table, rec, look)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.table, tc.change, err, tc.want)
		}
	}
}

func TestTableNames(t *testing.T) {
	want := []string{"currency", "item", "item_line", "list_master", "list_master_line", "list_master_name_join", "name",
		"name_store_join", "requisition", "requisition_line", "store", "trans_line", "transact", "unit"}
	if got := LegacyTables(); !slices.Equal(got, want) {
		t.Errorf("legacy tables %v, want %v", got, want)
	}
	for _, legacyTable := range want {
		ours, ok := OurTable(legacyTable)
		if back, _ := LegacyTable(ours); !ok || back != legacyTable {
			t.Errorf("%s ↔ %s ↔ %s", legacyTable, ours, back)
		}
		if _, documented := legacyspec.Tables[legacyTable]; !documented {
			t.Errorf("%s is not in legacy_tables.md", legacyTable)
		}
	}
	if _, ok := LegacyTable("site"); ok {
		t.Error("sites have a legacy form")
	}
	// The fields of ours sent under their own names must not be legacy fields of the same table.
	for _, tr := range translators {
		for _, k := range tr.oursOnly {
			if _, clash := legacyspec.Tables[tr.legacy][k]; clash {
				t.Errorf("%s.%s is a legacy field", tr.legacy, k)
			}
		}
	}
}

// TestMinimalRecordsTranslate: the smallest records open-mSupply reads are read here too, and go back out
// as open-mSupply reads them.
func TestMinimalRecordsTranslate(t *testing.T) {
	for file, table := range map[string]string{
		"currency": "currency", "invoice": "transact", "invoice_line": "trans_line", "item": "item",
		"master_list": "list_master", "master_list_line": "list_master_line", "master_list_name_join": "list_master_name_join",
		"name": "name", "name_store_join": "name_store_join", "stock_line": "item_line", "store": "store", "unit": "unit",
		"requisition": "requisition", "requisition_line": "requisition_line",
	} {
		b, err := os.ReadFile(filepath.Join("legacyspec", "testdata", "minimal", file+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var in Record
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		ours, rec, extra, err := FromLegacy(table, in, look)
		if err != nil {
			t.Errorf("minimal %s: %v", table, err)
			continue
		}
		_, out, err := ToLegacy(ours, rec, extra, look)
		if err != nil {
			t.Errorf("minimal %s back: %v", table, err)
			continue
		}
		if problems := legacyspec.Check(table, wire(t, out)); len(problems) > 0 {
			t.Errorf("minimal %s back: %s", table, strings.Join(problems, "; "))
		}
	}
}
