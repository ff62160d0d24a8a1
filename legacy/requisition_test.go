package legacy

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/legacy/legacyspec"
)

// TestRequisitionStatusesOut: each status of ours goes out as the legacy status requisition_tables.md asks
// of requisitions made here, with om_created_datetime and a matching om_status, so that a sent request and
// a finalised one, both "fn", come back apart.
func TestRequisitionStatusesOut(t *testing.T) {
	for _, tc := range []struct {
		typ, status, legacyStatus, omStatus string
	}{
		{"request", "draft", "sg", "DRAFT"},
		{"request", "sent", "fn", "SENT"},
		{"request", "finalised", "fn", "FINALISED"},
		{"response", "new", "sg", "NEW"},
		{"response", "finalised", "fn", "FINALISED"},
	} {
		t.Run(tc.typ+" "+tc.status, func(t *testing.T) {
			rec := maps.Clone(ourRecords["requisition"])
			rec["type"], rec["status"] = tc.typ, tc.status
			_, out, err := ToLegacy("requisition", rec, nil, look)
			if err != nil {
				t.Fatal(err)
			}
			out = wire(t, out)
			if out["type"] != tc.typ || out["status"] != tc.legacyStatus || out["om_status"] != tc.omStatus ||
				out["om_created_datetime"] != "2026-01-31T09:30:00" || out["date_entered"] != "2026-01-31" {
				t.Errorf("sent as %v", out)
			}
			if problems := legacyspec.Check("requisition", out); len(problems) > 0 {
				t.Errorf("does not conform: %s", strings.Join(problems, "; "))
			}
			_, back, _, err := FromLegacy("requisition", out, look)
			if err != nil || back["status"] != tc.status {
				t.Errorf("came back %v (%v), want status %s", back, err, tc.status)
			}
		})
	}
}

// TestRequisitionStatusOutReplacesWhatWasKept: om_status kept from a site's record does not outlive a change
// of ours, and a status a type does not have still goes out as one open-mSupply reads.
func TestRequisitionStatusOutReplacesWhatWasKept(t *testing.T) {
	rec := maps.Clone(ourRecords["requisition"])
	rec["status"] = "finalised"
	_, out, err := ToLegacy("requisition", rec, Record{"om_status": "SENT", "status": "fn", "om_sent_datetime": "2026-01-31T10:00:00"}, look)
	if err != nil {
		t.Fatal(err)
	}
	if out["om_status"] != "FINALISED" || out["status"] != "fn" || out["om_sent_datetime"] != "2026-01-31T10:00:00" {
		t.Errorf("sent as %v", out)
	}
	for typ, want := range map[string][2]string{"request": {"sg", "DRAFT"}, "response": {"sg", "NEW"}} {
		rec["type"], rec["status"] = typ, map[string]string{"request": "new", "response": "sent"}[typ]
		_, out, err := ToLegacy("requisition", rec, nil, look)
		if err != nil {
			t.Fatal(err)
		}
		if out["status"] != want[0] || out["om_status"] != want[1] {
			t.Errorf("a %s %s sent as %v, %v", typ, rec["status"], out["status"], out["om_status"])
		}
		if problems := legacyspec.Check("requisition", wire(t, out)); len(problems) > 0 {
			t.Errorf("a %s %s does not conform: %s", typ, rec["status"], strings.Join(problems, "; "))
		}
	}
}

// TestRequisitionStatusesIn: om_status decides whenever om_created_datetime is set, else the legacy status
// as open-mSupply maps it; a response whose om_status disagrees with its status loses its om_ fields, as
// open-mSupply sanitises it.
func TestRequisitionStatusesIn(t *testing.T) {
	const om, day = "2024-01-31T09:12:01.5", "2024-01-30"
	for _, tc := range []struct {
		name                                 string
		typ, status, omStatus, omCreatedDate any
		wantStatus, wantCreated              string
	}{
		{"request sg", "request", "sg", nil, nil, "draft", "2024-01-30T00:00:00Z"},
		{"request nw", "request", "nw", nil, nil, "draft", "2024-01-30T00:00:00Z"},
		{"request cn", "request", "cn", nil, nil, "sent", "2024-01-30T00:00:00Z"},
		{"request fn without om_ fields is sent", "request", "fn", nil, nil, "sent", "2024-01-30T00:00:00Z"},
		{"request fn FINALISED", "request", "fn", "FINALISED", om, "finalised", "2024-01-31T09:12:01Z"},
		{"request fn SENT", "request", "fn", "SENT", om, "sent", "2024-01-31T09:12:01Z"},
		{"request sg DRAFT", "request", "sg", "DRAFT", om, "draft", "2024-01-31T09:12:01Z"},
		{"request NEW is a draft", "request", "sg", "NEW", om, "draft", "2024-01-31T09:12:01Z"},
		{"request om_status over status", "request", "sg", "FINALISED", om, "finalised", "2024-01-31T09:12:01Z"},
		{"request status unread with om_ fields", "request", "wp", "SENT", om, "sent", "2024-01-31T09:12:01Z"},
		{"request om_status unread without om_created_datetime", "request", "fn", "FINALISED", "", "sent", "2024-01-30T00:00:00Z"},
		{"response sg", "response", "sg", nil, nil, "new", "2024-01-30T00:00:00Z"},
		{"response cn", "response", "cn", nil, nil, "new", "2024-01-30T00:00:00Z"},
		{"response nw", "response", "nw", nil, nil, "new", "2024-01-30T00:00:00Z"},
		{"response fn", "response", "fn", nil, nil, "finalised", "2024-01-30T00:00:00Z"},
		{"response cn NEW", "response", "cn", "NEW", om, "new", "2024-01-31T09:12:01Z"},
		{"response fn FINALISED", "response", "fn", "FINALISED", om, "finalised", "2024-01-31T09:12:01Z"},
		{"response sg FINALISED is sanitised", "response", "sg", "FINALISED", om, "new", "2024-01-30T00:00:00Z"},
		{"response fn NEW is sanitised", "response", "fn", "NEW", om, "finalised", "2024-01-30T00:00:00Z"},
		{"response sg SENT is sanitised", "response", "sg", "SENT", om, "new", "2024-01-30T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := wire(t, minimalRequisition(t))
			in["type"], in["status"], in["om_status"], in["om_created_datetime"], in["date_entered"] =
				tc.typ, tc.status, tc.omStatus, tc.omCreatedDate, day
			_, rec, _, err := FromLegacy("requisition", in, look)
			if err != nil {
				t.Fatal(err)
			}
			if rec["status"] != tc.wantStatus || rec["created_at"] != tc.wantCreated {
				t.Errorf("read as %v at %v, want %s at %s", rec["status"], rec["created_at"], tc.wantStatus, tc.wantCreated)
			}
		})
	}
	for _, tc := range []struct {
		typ, status, omStatus, want string
	}{
		{"response", "wp", "NEW", "field status: wp is not a status kept here"},
		{"response", "wp", "DRAFT", "field status: wp is not a status kept here"},
		{"response", "sg", "", "field om_status: required when om_created_datetime is set"},
		{"request", "fn", "LOST", `field om_status: "LOST" is not a status`},
	} {
		in := wire(t, minimalRequisition(t))
		in["type"], in["status"], in["om_status"], in["om_created_datetime"] = tc.typ, tc.status, tc.omStatus, om
		if _, _, _, err := FromLegacy("requisition", in, look); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s %s: %v, want %q", tc.typ, tc.status, tc.omStatus, err, tc.want)
		}
	}
}

// minimalRequisition is the smallest requisition open-mSupply reads, a request in "fn".
func minimalRequisition(t *testing.T) Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("legacyspec", "testdata", "minimal", "requisition.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// The example records of requisition_tables.md, as open-mSupply pushes them.
const (
	pushedRequest = `{"ID":"REQ_A1","serial_number":3,"name_ID":"N_STORE2","store_ID":"S1","type":"request","status":"fn","user_ID":"U1","date_entered":"2024-01-31T00:00:00","lastModifiedAt":1706695200,"requester_reference":null,"linked_requisition_id":null,"thresholdMOS":3.0,"daysToSupply":180,"comment":null,"om_created_datetime":"2024-01-31T09:12:01.123456","om_sent_datetime":"2024-01-31T10:00:00","om_finalised_datetime":null,"om_expected_delivery_date":null,"om_max_months_of_stock":6.0,"om_status":"SENT","om_colour":null,"authorisationStatus":null,"orderType":null,"periodID":null,"programID":null,"is_emergency":false,"oms_fields":null}`
	pushedLine    = `{"ID":"RL_A1","requisition_ID":"REQ_A1","item_ID":"I1","Cust_stock_order":100.0,"suggested_quantity":90.0,"actualQuan":0.0,"stock_on_hand":20.0,"daily_usage":1.5,"approved_quantity":0.0,"authoriser_comment":null,"comment":null,"om_snapshot_datetime":"2024-01-31T09:12:05","itemName":"Paracetamol","Cust_prev_stock_balance":20.0,"Cust_stock_received":0.0,"Cust_stock_issued":0.0,"stockLosses":0.0,"stockAdditions":0.0,"stockExpiring":0.0,"days_out_or_new_demand":0.0,"optionID":null,"Cust_loss_adjust":0.0,"oms_fields":{"rnr_form_line_id":null,"expiry_date":null,"price_per_unit":null,"available_volume":null,"location_type_id":null,"forecast_total_units":null,"forecast_total_doses":null,"vaccine_courses":null}}`
)

// TestOpenMSupplyRequisitionPush: a sent request and its line as open-mSupply pushes them are read, and go
// back as open-mSupply reads them: date_entered without its time, every other key as it came.
func TestOpenMSupplyRequisitionPush(t *testing.T) {
	pushLook := look
	pushLook.items = map[string]string{"I1": "Paracetamol"}
	for _, tc := range []struct {
		table, pushed, ours string
		want                Record
		rewritten           Record // keys that go back otherwise than they came
	}{
		{"requisition", pushedRequest, "requisition",
			Record{"id": "REQ_A1", "requisition_number": 3.0, "name_id": "N_STORE2", "store_id": "S1", "type": "request",
				"status": "sent", "their_ref": "", "linked_requisition_id": "", "created_at": "2024-01-31T09:12:01Z"},
			Record{"date_entered": "2024-01-31", "requester_reference": "", "linked_requisition_id": ""}},
		{"requisition_line", pushedLine, "requisition_line",
			Record{"id": "RL_A1", "requisition_id": "REQ_A1", "item_id": "I1", "requested_quantity": 100.0,
				"supplied_quantity": 0.0, "store_id": "S1"},
			Record{}},
	} {
		t.Run(tc.table, func(t *testing.T) {
			var pushed Record
			if err := json.Unmarshal([]byte(tc.pushed), &pushed); err != nil {
				t.Fatal(err)
			}
			ours, rec, extra, err := FromLegacy(tc.table, pushed, pushLook)
			if err != nil {
				t.Fatal(err)
			}
			if ours != tc.ours || !reflect.DeepEqual(rec, tc.want) {
				t.Errorf("read as %s %v, want %v", ours, rec, tc.want)
			}
			_, out, err := ToLegacy(ours, rec, wire(t, extra), pushLook)
			if err != nil {
				t.Fatal(err)
			}
			out = wire(t, out)
			if problems := legacyspec.Check(tc.table, out); len(problems) > 0 {
				t.Errorf("sent back: %s", strings.Join(problems, "; "))
			}
			for k, v := range pushed {
				want, rewritten := tc.rewritten[k]
				if !rewritten {
					want = v
				}
				if !reflect.DeepEqual(out[k], want) {
					t.Errorf("%s: pushed %#v, sent back %#v, want %#v", k, v, out[k], want)
				}
			}
		})
	}
}

// TestRequisitionDateEntered: open-mSupply pushes date_entered with a time, which it cannot read back; a
// requisition without om_ fields is read either way, and date_entered always goes out as a bare date.
func TestRequisitionDateEntered(t *testing.T) {
	for _, entered := range []string{"2024-01-31", "2024-01-31T00:00:00"} {
		in := minimalRequisition(t)
		in["type"], in["status"], in["date_entered"] = "response", "cn", entered
		_, rec, extra, err := FromLegacy("requisition", in, look)
		if err != nil {
			t.Fatal(err)
		}
		if rec["created_at"] != "2024-01-31T00:00:00Z" || rec["status"] != "new" {
			t.Errorf("%s read as %v", entered, rec)
		}
		_, out, err := ToLegacy("requisition", rec, extra, look)
		if err != nil {
			t.Fatal(err)
		}
		if out["date_entered"] != "2024-01-31" || out["om_created_datetime"] != "2024-01-31T00:00:00" || out["om_status"] != "NEW" || out["status"] != "sg" {
			t.Errorf("%s sent back as %v", entered, out)
		}
		if problems := legacyspec.Check("requisition", wire(t, out)); len(problems) > 0 {
			t.Errorf("%s sent back: %s", entered, strings.Join(problems, "; "))
		}
	}
}

// TestRequisitionLineStore: a line finds its store through its requisition, which may be one met earlier
// in the same batch, and keeps the store it was sent with by this project's remotes.
func TestRequisitionLineStore(t *testing.T) {
	line := Record{"ID": "rl-9", "requisition_ID": "req-1", "item_ID": "item-1", "Cust_stock_order": 5.0, "actualQuan": 2.0}
	_, rec, _, err := FromLegacy("requisition_line", line, look)
	if err != nil || rec["store_id"] != "store-1" || rec["requested_quantity"] != 5.0 || rec["supplied_quantity"] != 2.0 {
		t.Errorf("read as %v (%v)", rec, err)
	}
	line["requisition_ID"] = "req-unknown"
	if _, rec, _, err = FromLegacy("requisition_line", line, look); err != nil || rec["store_id"] != nil {
		t.Errorf("with its requisition unknown, read as %v (%v)", rec, err)
	}
	line["store_id"] = "store-2"
	if _, rec, _, err = FromLegacy("requisition_line", line, look); err != nil || rec["store_id"] != "store-2" {
		t.Errorf("with a store of its own, read as %v (%v)", rec, err)
	}
}
