package datafile_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// captureFixture is a central datafile with a store on the central site, a remote site with a store of its
// own, and one record of each table for new records to refer to.
type captureFixture struct {
	db      *datafile.DB
	central datafile.Store // on site 1
	remote  datafile.Store // on site 2
	site    datafile.Site  // site 2
}

const testCreatedAt = "2026-01-31T09:30:00Z"

func newCaptureFixture(t *testing.T) captureFixture {
	t.Helper()
	db := MustOpenUnlockedCentral(t)
	f := captureFixture{db: db}
	f.site = mustAddSite(t, db, "North", datafile.SiteStandalone)
	f.central = mustAddStore(t, db, "CS", "")
	f.remote = mustAddStore(t, db, "RS", "North")
	mustPut(t, db, "item", `{"id":"base-item","code":"I0","name":"Base item"}`, `{"id":"base-item2","code":"I00"}`)
	mustPut(t, db, "name", `{"id":"base-name","name":"Base name","is_supplier":true}`)
	mustPut(t, db, "master_list", `{"id":"base-ml","name":"Essentials"}`, `{"id":"base-ml2","name":"Extras"}`)
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "base-inv", "store_id": f.central.ID, "name_id": "base-name",
		"type": "supplier_invoice", "created_at": testCreatedAt}))
	mustPut(t, db, "requisition", obj(t, map[string]any{"id": "base-req", "store_id": f.central.ID, "name_id": "base-name",
		"type": "request", "created_at": testCreatedAt}))
	return f
}

// recordCase is, for one synced table, a new record, a change to it, and the store it belongs to.
type recordCase struct {
	table   string
	insert  string
	update  string
	storeID string
}

func (f captureFixture) recordCases(t *testing.T) []recordCase {
	return []recordCase{
		{"item", `{"id":"cap-item","code":"I1","name":"Paracetamol 500mg","unit":"tab"}`, `{"id":"cap-item","name":"Paracetamol 500 mg"}`, ""},
		{"name", `{"id":"cap-name","code":"N1","name":"Clinic","is_customer":true}`, `{"id":"cap-name","is_supplier":true}`, ""},
		{"master_list", `{"id":"cap-ml","code":"ML1","name":"List"}`, `{"id":"cap-ml","name":"List 2"}`, ""},
		{"master_list_line", `{"id":"cap-mll","master_list_id":"base-ml","item_id":"base-item"}`, `{"id":"cap-mll","item_id":"base-item2"}`, ""},
		{"unit", `{"id":"cap-unit","name":"Tab","order_number":2}`, `{"id":"cap-unit","comment":"tablets"}`, ""},
		{"currency", `{"id":"cap-cur","code":"EUR","rate":0.9}`, `{"id":"cap-cur","rate":0.95,"updated_on":"2026-11-30"}`, ""},
		{"name_store_join", obj(t, map[string]any{"id": "cap-nsj", "name_id": "base-name", "store_id": f.central.ID, "is_customer": true}),
			`{"id":"cap-nsj","is_active":false}`, ""},
		{"master_list_name_join", `{"id":"cap-mlnj","master_list_id":"base-ml","name_id":"base-name"}`, `{"id":"cap-mlnj","master_list_id":"base-ml2"}`, ""},
		{"invoice", obj(t, map[string]any{"id": "cap-inv", "store_id": f.central.ID, "name_id": "base-name", "type": "customer_invoice", "created_at": testCreatedAt}),
			`{"id":"cap-inv","status":"confirmed"}`, f.central.ID},
		{"invoice_line", `{"id":"cap-il","invoice_id":"base-inv","item_id":"base-item","batch":"B1","expiry":"2027-06-30","quantity":3}`,
			`{"id":"cap-il","quantity":4.5}`, f.central.ID},
		{"requisition", obj(t, map[string]any{"id": "cap-req", "store_id": f.central.ID, "name_id": "base-name", "type": "request", "created_at": testCreatedAt}),
			`{"id":"cap-req","status":"sent"}`, f.central.ID},
		{"requisition_line", `{"id":"cap-rql","requisition_id":"base-req","item_id":"base-item","requested_quantity":3}`,
			`{"id":"cap-rql","supplied_quantity":2}`, f.central.ID},
		{"stock_line", obj(t, map[string]any{"id": "cap-sl", "store_id": f.central.ID, "item_id": "base-item", "quantity": 10}),
			`{"id":"cap-sl","batch":"B2","expiry":null}`, f.central.ID},
	}
}

func TestChangeCaptureRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCaptureFixture(t)
	cases := f.recordCases(t)
	if len(cases) != len(datafile.Tables()) {
		t.Fatalf("the test covers %d tables, the package syncs %d", len(cases), len(datafile.Tables()))
	}
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			db := f.db
			recordID := recordIDOf(t, tc.insert)

			cursor := lastCursor(t, db)
			mustPut(t, db, tc.table, tc.insert)
			mustPut(t, db, tc.table, tc.update)
			// Writing what is already there is no change.
			mustPut(t, db, tc.table, tc.update)
			if err := db.ForceDeleteRecord(ctx, tc.table, recordID); err != nil {
				t.Fatal(err)
			}
			assertChanges(t, changesAfter(t, db, cursor), []change{
				{tc.table, recordID, "insert", tc.storeID, 0},
				{tc.table, recordID, "update", tc.storeID, 0},
				{tc.table, recordID, "delete", tc.storeID, 0},
			})
		})
	}
}

func TestChangeCaptureIdenticalWriteLeavesNoEntry(t *testing.T) {
	t.Parallel()
	f := newCaptureFixture(t)
	for _, tc := range f.recordCases(t) {
		t.Run(tc.table, func(t *testing.T) {
			mustPut(t, f.db, tc.table, tc.insert)
			mustPut(t, f.db, tc.table, tc.update)
			cursor := lastCursor(t, f.db)
			// The same content again, as a replayed sync or a re-run import would write it: the whole
			// record, the part that changed, or the same record twice in one batch.
			rec, err := f.db.GetRecord(context.Background(), tc.table, recordIDOf(t, tc.insert))
			if err != nil {
				t.Fatal(err)
			}
			whole, err := rec.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			mustPut(t, f.db, tc.table, string(whole))
			mustPut(t, f.db, tc.table, tc.update)
			mustPut(t, f.db, tc.table, tc.update, string(whole))
			assertChanges(t, changesAfter(t, f.db, cursor), nil)
		})
	}
}

func TestChangeCaptureSitesAndStores(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)

	t.Run("site", func(t *testing.T) {
		cursor := lastCursor(t, db)
		s := mustAddSite(t, db, "East", datafile.SiteStandalone)
		id := fmt.Sprint(s.ID)
		if _, err := db.EditSite(ctx, id, datafile.SiteUpdate{Code: ptr("EST")}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EditSite(ctx, id, datafile.SiteUpdate{Type: ptr(datafile.SiteMobile)}); err != nil {
			t.Fatal(err)
		}
		// What is not synced (the password hash, hardware binding, block state) leaves no entry, and
		// neither does an edit that changes nothing.
		if _, err := db.EditSite(ctx, id, datafile.SiteUpdate{Password: ptr("another-password")}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EditSite(ctx, id, datafile.SiteUpdate{Code: ptr("EST")}); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `UPDATE site SET hardware_id = 'hw', failed_logins = 3, blocked = 1, last_sync_at = '2026-01-01T00:00:00Z', unsent_records = 7 WHERE id = ?`, s.ID)
		if _, err := db.ResetHardwareID(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UnblockSite(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DeleteSite(ctx, id); err != nil {
			t.Fatal(err)
		}
		assertChanges(t, changesAfter(t, db, cursor), []change{
			{"site", id, "insert", "", 0},
			{"site", id, "update", "", 0},
			{"site", id, "update", "", 0},
			{"site", id, "delete", "", 0},
		})
	})

	t.Run("store", func(t *testing.T) {
		mustAddSite(t, db, "West", datafile.SiteStandalone)
		cursor := lastCursor(t, db)
		st := mustAddStore(t, db, "W1", "")
		if _, _, err := db.MoveStore(ctx, "W1", "West", true); err != nil {
			t.Fatal(err)
		}
		// Whatever deletes a store, not only 'store remove', must still be captured. (The name that stands
		// for it, which 'store add' made, goes first.)
		nameID := fmt.Sprint(queryValue(t, db, `SELECT id FROM name WHERE store_id = ?`, st.ID))
		mustExec(t, db, `DELETE FROM name WHERE store_id = ?`, st.ID)
		mustExec(t, db, `DELETE FROM store WHERE id = ?`, st.ID)
		assertChanges(t, changesAfter(t, db, cursor), []change{
			{"store", st.ID, "insert", "", 0},
			{"name", nameID, "insert", "", 0},
			{"store", st.ID, "update", "", 0},
			{"name", nameID, "delete", "", 0},
			{"store", st.ID, "delete", "", 0},
		})
	})
}

func TestChangeCaptureSourceSite(t *testing.T) {
	t.Parallel()
	t.Run("store data received on central", func(t *testing.T) {
		f := newCaptureFixture(t)
		cursor := lastCursor(t, f.db)
		syncWrite(t, f.db, f.site.ID,
			fmt.Sprintf(`INSERT INTO stock_line (id, store_id, item_id, quantity) VALUES ('sync-sl', '%s', 'base-item', 5)`, f.remote.ID),
			`UPDATE stock_line SET quantity = 4 WHERE id = 'sync-sl'`,
			`DELETE FROM stock_line WHERE id = 'sync-sl'`,
		)
		mustPut(t, f.db, "item", `{"id":"local-after-sync","name":"local-after-sync"}`)
		assertChanges(t, changesAfter(t, f.db, cursor), []change{
			{"stock_line", "sync-sl", "insert", f.remote.ID, f.site.ID},
			{"stock_line", "sync-sl", "update", f.remote.ID, f.site.ID},
			{"stock_line", "sync-sl", "delete", f.remote.ID, f.site.ID},
			// change_context was cleared: the next local write is local again.
			{"item", "local-after-sync", "insert", "", 0},
		})
	})

	t.Run("master data received on a remote", func(t *testing.T) {
		db := MustOpenRemote(t)
		cursor := lastCursor(t, db)
		syncWrite(t, db, datafile.CentralSiteID,
			`INSERT INTO site (id, code, name, type) VALUES (1, 'CTL', 'Central', 'standalone')`,
			`INSERT INTO item (id, code, name) VALUES ('from-central', 'I9', 'Amoxicillin')`,
		)
		assertChanges(t, changesAfter(t, db, cursor), []change{
			{"site", "1", "insert", "", datafile.CentralSiteID},
			{"item", "from-central", "insert", "", datafile.CentralSiteID},
		})
	})
}

// TestChangeCaptureRawSQL shows that the capture lives in the schema: a write that goes around the package
// (another tool, a hand-run script) is still logged.
func TestChangeCaptureRawSQL(t *testing.T) {
	t.Parallel()
	f := newCaptureFixture(t)
	s := f.central.ID
	for _, tc := range []struct {
		table, id, storeID string
		insert, update     string
	}{
		{"item", "raw-item", "", `INSERT INTO item (id, name) VALUES ('raw-item', 'Raw')`, `UPDATE item SET unit = 'box' WHERE id = 'raw-item'`},
		{"name", "raw-name", "", `INSERT INTO name (id, name) VALUES ('raw-name', 'Raw')`, `UPDATE name SET is_customer = 1 WHERE id = 'raw-name'`},
		{"master_list", "raw-ml", "", `INSERT INTO master_list (id) VALUES ('raw-ml')`, `UPDATE master_list SET code = 'X' WHERE id = 'raw-ml'`},
		{"master_list_line", "raw-mll", "", `INSERT INTO master_list_line (id, master_list_id, item_id) VALUES ('raw-mll', 'base-ml', 'base-item')`,
			`UPDATE master_list_line SET item_id = 'base-item2' WHERE id = 'raw-mll'`},
		{"invoice", "raw-inv", s, fmt.Sprintf(`INSERT INTO invoice (id, store_id, name_id, type, created_at) VALUES ('raw-inv', '%s', 'base-name', 'customer_invoice', '%s')`, s, testCreatedAt),
			`UPDATE invoice SET status = 'finalised' WHERE id = 'raw-inv'`},
		{"invoice_line", "raw-il", s, fmt.Sprintf(`INSERT INTO invoice_line (id, invoice_id, store_id, item_id) VALUES ('raw-il', 'base-inv', '%s', 'base-item')`, s),
			`UPDATE invoice_line SET quantity = 2 WHERE id = 'raw-il'`},
		{"stock_line", "raw-sl", s, fmt.Sprintf(`INSERT INTO stock_line (id, store_id, item_id) VALUES ('raw-sl', '%s', 'base-item')`, s),
			`UPDATE stock_line SET quantity = 2 WHERE id = 'raw-sl'`},
		{"site", "", "", `INSERT INTO site (name) VALUES ('Raw site')`, `UPDATE site SET code = 'RAW' WHERE name = 'Raw site'`},
		{"store", "raw-store", "", `INSERT INTO store (id, code, name, site_id) VALUES ('raw-store', 'RAWS', 'Raw', 1)`, `UPDATE store SET name = 'Raw 2' WHERE id = 'raw-store'`},
	} {
		t.Run(tc.table, func(t *testing.T) {
			cursor := lastCursor(t, f.db)
			mustExec(t, f.db, tc.insert)
			mustExec(t, f.db, tc.update)
			id := tc.id
			if tc.table == "site" {
				id = fmt.Sprint(queryInt(t, f.db, `SELECT id FROM site WHERE name = 'Raw site'`))
				mustExec(t, f.db, `DELETE FROM site WHERE id = ?`, id)
			} else {
				mustExec(t, f.db, `DELETE FROM `+tc.table+` WHERE id = ?`, id)
			}
			assertChanges(t, changesAfter(t, f.db, cursor), []change{
				{tc.table, id, "insert", tc.storeID, 0},
				{tc.table, id, "update", tc.storeID, 0},
				{tc.table, id, "delete", tc.storeID, 0},
			})
		})
	}
}

func TestChangesPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpenCentral(t)
	start := lastCursor(t, db)
	for i := 0; i < 5; i++ {
		mustPut(t, db, "item", fmt.Sprintf(`{"id":"page-%d","name":"Page %d"}`, i, i))
	}
	var got []string
	cursor := start
	for {
		page, err := db.Changes(ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d entries, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			got = append(got, c.RecordID)
		}
		cursor = page[len(page)-1].Cursor
	}
	if fmt.Sprint(got) != "[page-0 page-1 page-2 page-3 page-4]" {
		t.Errorf("paged through %v", got)
	}
}

func recordIDOf(t *testing.T, jsonObject string) string {
	t.Helper()
	raw, err := datafile.DecodeObject([]byte(jsonObject))
	if err != nil {
		t.Fatal(err)
	}
	return raw["id"].(string)
}
