package datafile_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestGenerateNewForOneSite checks that 'sync generate --new --site North' gives North all master data
// again, in its own queue, ahead of its store data, while other sites have nothing more to read: not in the
// change log every remote reads by cursor, and not in their own queues.
func TestGenerateNewForOneSite(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	west := mustAddSite(t, db, "West", datafile.SiteStandalone)
	n1 := mustAddStore(t, db, "N1", "North")
	w1 := mustAddStore(t, db, "W1", "West")
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin"}`, `{"id":"item-2","name":"Paracetamol"}`)
	mustPut(t, db, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`, `{"id":"name-n1","name":"North One","store_id":"`+n1.ID+`"}`)
	mustPut(t, db, "master_list", `{"id":"ml-1","name":"Essential"}`)
	mustPut(t, db, "master_list_line", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-1"}`)
	// Store data as each remote pushed it.
	syncWrite(t, db, north.ID, `INSERT INTO stock_line (id, store_id, item_id, quantity) VALUES ('stock-n', '`+n1.ID+`', 'item-1', 4)`)
	syncWrite(t, db, west.ID, `INSERT INTO stock_line (id, store_id, item_id, quantity) VALUES ('stock-w', '`+w1.ID+`', 'item-2', 5)`)

	_, masterCursor, err := db.CentralRecords(ctx, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	westBefore := siteQueue(t, db, west.ID)

	n, err := db.GenerateForSites(ctx, north.ID, true)
	if err != nil {
		t.Fatal(err)
	}

	if recs, maxCursor, err := db.CentralRecords(ctx, 0, masterCursor, 1000); err != nil || len(recs) != 0 || maxCursor != masterCursor {
		t.Errorf("the change log every remote reads gained %d master records (max cursor %d, was %d; %v)", len(recs), maxCursor, masterCursor, err)
	}
	if westAfter := siteQueue(t, db, west.ID); fmt.Sprint(westAfter) != fmt.Sprint(westBefore) {
		t.Errorf("West's queue changed:\n before %v\n after  %v", westBefore, westAfter)
	}

	got := siteQueue(t, db, north.ID)
	if int64(len(got)) != n {
		t.Errorf("GenerateForSites said %d queued, North's queue holds %d", n, len(got))
	}
	want := []string{
		"site 1", "site " + strconv.FormatInt(north.ID, 10), "site " + strconv.FormatInt(west.ID, 10),
		"store " + n1.ID, "store " + w1.ID,
		"item item-1", "item item-2", "name name-1", "name name-n1", "master_list ml-1", "master_list_line mll-1",
		"currency currency-USD",
	}
	// The names that stand for N1 and W1, which 'store add' made.
	for _, st := range []datafile.Store{n1, w1} {
		want = append(want, "name "+fmt.Sprint(queryValue(t, db, `SELECT id FROM name WHERE store_id = ? AND id <> 'name-n1'`, st.ID)))
	}
	position := map[string]int{}
	for i, r := range got {
		position[r.Table+" "+r.RecordID] = i
		if r.Table == "stock_line" && r.RecordID != "stock-n" {
			t.Errorf("North's queue holds %s %s of another store", r.Table, r.RecordID)
		}
		if r.Action == "delete" {
			t.Errorf("%s %s is queued as a delete", r.Table, r.RecordID)
		}
	}
	for _, key := range want {
		i, ok := position[key]
		if !ok {
			t.Errorf("North's queue lacks %s", key)
			continue
		}
		if stock, ok := position["stock_line stock-n"]; !ok || i > stock {
			t.Errorf("%s is queued after North's store data (or that is missing)", key)
		}
	}
	if len(got) != len(want)+1 {
		t.Errorf("North's queue holds %d records, want %d: %v", len(got), len(want)+1, position)
	}
	// An entry of master data is sent with the record's content, however the record changes meanwhile.
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin 250mg"}`)
	for _, r := range siteQueue(t, db, north.ID) {
		if r.Table == "item" && r.RecordID == "item-1" && r.Values["name"] != "Amoxicillin 250mg" {
			t.Errorf("item-1 is sent as %v", r.Values)
		}
	}

	if _, err := db.GenerateForSites(ctx, datafile.CentralSiteID, true); err == nil {
		t.Error("master data was queued for the central site")
	}

	// Without a site, every remote reads the copy from the change log, as before.
	if _, err := db.GenerateForSites(ctx, 0, true); err != nil {
		t.Fatal(err)
	}
	if recs, _, err := db.CentralRecords(ctx, 0, masterCursor, 1000); err != nil || len(recs) < len(want) {
		t.Errorf("generate for every site put %d master records in the change log (%v), want at least %d", len(recs), err, len(want))
	}
}

func siteQueue(tb testing.TB, db *datafile.DB, siteID int64) []datafile.OutRecord {
	tb.Helper()
	recs, _, err := db.QueuedRecords(context.Background(), siteID, 10000)
	if err != nil {
		tb.Fatal(err)
	}
	return recs
}
