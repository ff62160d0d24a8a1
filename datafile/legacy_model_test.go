package datafile_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestRecordIDsAreUniqueAcrossTables: open-mSupply keeps every record it receives in one buffer keyed by
// id alone, so an item and a name with one id would overwrite each other there.
func TestRecordIDsAreUniqueAcrossTables(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	st := mustAddStore(t, db, "C1", "")
	mustPut(t, db, "item", `{"id":"shared-id","name":"Amoxicillin"}`)
	_, err := db.PutRecords(ctx, "name", objects(t, `{"id":"shared-id","name":"Clinic"}`))
	wantCode(t, err, datafile.ECONFLICT)
	wantErrContains(t, err, `id "shared-id" is already used in table item`)
	_, err = db.PutRecords(ctx, "invoice", objects(t, `{"id":"`+st.ID+`","store_id":"`+st.ID+`","name_id":"x","type":"customer_invoice"}`))
	wantErrContains(t, err, "already used in table store")
	// The record's own table takes it as an update, and the id is free again once the record is gone.
	mustPut(t, db, "item", `{"id":"shared-id","name":"Amoxicillin 250mg"}`)
	if err := db.ForceDeleteRecord(ctx, "item", "shared-id"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "name", `{"id":"shared-id","name":"Clinic"}`)
	// What arrives by sync is held to it too: the schema refuses it, whoever writes.
	if _, err := db.SQL().Exec(`INSERT INTO master_list (id, code, name) VALUES ('shared-id', 'X', 'X')`); err == nil {
		t.Fatal("the schema let a master list take a name's id")
	}
}

func TestInvoicesAreNumberedWithinTheirStore(t *testing.T) {
	_, db := parallelUnlockedCentral(t)
	a := mustAddStore(t, db, "A1", "")
	b := mustAddStore(t, db, "B1", "")
	mustPut(t, db, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`)
	inv := func(id string, st datafile.Store, extra string) string {
		return `{"id":"` + id + `","store_id":"` + st.ID + `","name_id":"name-1","type":"supplier_invoice"` + extra + `}`
	}
	mustPut(t, db, "invoice", inv("a-1", a, ""), inv("a-2", a, ""), inv("b-1", b, ""), inv("a-given", a, `,"invoice_number":40`))
	mustPut(t, db, "invoice", inv("a-next", a, ""))
	mustPut(t, db, "invoice", `{"id":"a-1","their_ref":"PO-1"}`) // an update keeps the number
	for id, want := range map[string]float64{"a-1": 1, "a-2": 2, "b-1": 1, "a-given": 40, "a-next": 41} {
		rec, err := db.GetRecord(context.Background(), "invoice", id)
		if err != nil || rec.Values["invoice_number"] != want {
			t.Errorf("invoice %s is number %v (%v), want %v", id, rec.Values["invoice_number"], err, want)
		}
	}
}

func TestHomeCurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	if err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{SiteName: "Central", AuthCode: testAuthCode, Currency: "kes"}); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, path)
	db.SetAuthCode(testAuthCode)
	home, err := db.GetRecord(ctx, "currency", "currency-KES")
	if err != nil || home.Values["is_home"] != true || home.Values["rate"] != float64(1) {
		t.Fatalf("home currency %+v, %v", home.Values, err)
	}
	_, err = db.PutRecords(ctx, "currency", objects(t, `{"id":"cur-usd","code":"USD","rate":0.0077,"is_home":true}`))
	wantCode(t, err, datafile.ECONFLICT)
	wantErrContains(t, err, `currency "currency-KES" (KES) is already the home currency`)
	mustPut(t, db, "currency", `{"id":"cur-usd","code":"USD","rate":0.0077}`)

	err = datafile.CreateCentral(ctx, filepath.Join(t.TempDir(), "d.db"), datafile.CentralOptions{SiteName: "Central", AuthCode: testAuthCode, Currency: "dollars"})
	wantCode(t, err, datafile.EINVALID)
}

// TestStoreHasAName: open-mSupply takes a store in only with the name that stands for it.
func TestStoreHasAName(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	st := mustAddStore(t, db, "N1", "")
	var names []datafile.Record
	if err := db.EachRecord(ctx, "name", []datafile.Condition{{Field: "store_id", Value: st.ID}}, datafile.ListOptions{}, func(r datafile.Record) error {
		names = append(names, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0].Values["name"] != st.Name || names[0].Values["code"] != st.Code {
		t.Fatalf("names standing for the new store: %+v", names)
	}
	if _, err := db.DeleteStore(ctx, "N1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetRecord(ctx, "name", names[0].ID()); datafile.ErrorCode(err) != datafile.ENOTFOUND {
		t.Errorf("the store's name outlived it: %v", err)
	}
}

// TestTransferNeedsTheNameVisible: an invoice made out to another store's name is a transfer to that store,
// refused unless a name_store_join lets the invoicing store deal with that name.
func TestTransferNeedsTheNameVisible(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	warehouse := mustAddStore(t, db, "WH", "")
	clinic := mustAddStore(t, db, "CL", "")
	if warehouse.NameID == "" || clinic.NameID == "" {
		t.Fatalf("stores without names: %+v %+v", warehouse, clinic)
	}
	shipment := `{"id":"ci-1","store_id":"` + warehouse.ID + `","name_id":"` + clinic.NameID + `","type":"customer_invoice"}`
	_, err := db.PutRecords(ctx, "invoice", objects(t, shipment))
	wantCode(t, err, datafile.ECONFLICT)
	wantErrContains(t, err, `field name_id: name "`+clinic.NameID+`" stands for store CL, which this invoice's store may not deal with`)
	mustPut(t, db, "name_store_join", `{"id":"nsj-1","name_id":"`+clinic.NameID+`","store_id":"`+warehouse.ID+`","is_customer":true}`)
	mustPut(t, db, "invoice", shipment)
	// A join made inactive hides the name again; an invoice to an ordinary name needs no join.
	mustPut(t, db, "name_store_join", `{"id":"nsj-1","is_active":false}`)
	_, err = db.PutRecords(ctx, "invoice", objects(t, `{"id":"ci-2","store_id":"`+warehouse.ID+`","name_id":"`+clinic.NameID+`","type":"customer_invoice"}`))
	wantCode(t, err, datafile.ECONFLICT)
	mustPut(t, db, "name", `{"id":"name-sup","name":"Supplier","is_supplier":true}`)
	mustPut(t, db, "invoice", `{"id":"si-1","store_id":"`+warehouse.ID+`","name_id":"name-sup","type":"supplier_invoice"}`)
	if stores, err := db.Stores(ctx, ""); err != nil || len(stores) != 2 || stores[0].NameID == "" {
		t.Errorf("store list without names: %+v %v", stores, err)
	}
}
