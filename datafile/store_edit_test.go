package datafile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func TestEditStore(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	mustAddSite(t, db, "North", datafile.SiteStandalone)
	n1 := mustAddStore(t, db, "N1", "North")
	mustAddStore(t, db, "C1", "")

	t.Run("name and code together, logged once for the remotes", func(t *testing.T) {
		cursor := lastCursor(t, db)
		st, err := db.EditStore(ctx, "n1", datafile.StoreUpdate{Name: ptr(" North District Hospital "), Code: ptr(" NDH ")})
		if err != nil {
			t.Fatal(err)
		}
		if st.ID != n1.ID || st.Name != "North District Hospital" || st.Code != "NDH" || st.SiteID != n1.SiteID {
			t.Errorf("store = %+v", st)
		}
		if got, err := db.FindStore(ctx, "NDH"); err != nil || got != st {
			t.Errorf("stored = %+v, %v", got, err)
		}
		assertChanges(t, changesAfter(t, db, cursor), []change{{Table: "store", RecordID: n1.ID, Action: "update"}})
	})

	t.Run("a case change of its own code", func(t *testing.T) {
		cursor := lastCursor(t, db)
		st, err := db.EditStore(ctx, n1.ID, datafile.StoreUpdate{Code: ptr("ndh")})
		if err != nil || st.Code != "ndh" {
			t.Fatalf("store = %+v, %v", st, err)
		}
		if got, err := db.FindStore(ctx, n1.ID); err != nil || got.Code != "ndh" {
			t.Errorf("stored = %+v, %v", got, err)
		}
		assertChanges(t, changesAfter(t, db, cursor), []change{{Table: "store", RecordID: n1.ID, Action: "update"}})
	})

	t.Run("an edit that changes nothing logs nothing", func(t *testing.T) {
		cursor := lastCursor(t, db)
		if _, err := db.EditStore(ctx, n1.ID, datafile.StoreUpdate{Name: ptr("North District Hospital")}); err != nil {
			t.Fatal(err)
		}
		assertChanges(t, changesAfter(t, db, cursor), nil)
	})

	for _, tc := range []struct {
		name    string
		ref     string
		u       datafile.StoreUpdate
		errCode string
		want    string
	}{
		{"another store's code, in another case", n1.ID, datafile.StoreUpdate{Name: ptr("Renamed"), Code: ptr("c1")}, datafile.ECONFLICT, `store C1 "Store C1" already has that code`},
		{"an empty name", n1.ID, datafile.StoreUpdate{Name: ptr(" ")}, datafile.EINVALID, "needs a name"},
		{"a control character", n1.ID, datafile.StoreUpdate{Name: ptr("North\tHospital"), Code: ptr("NEW")}, datafile.EINVALID, "control characters"},
		{"a terminal escape", n1.ID, datafile.StoreUpdate{Name: ptr("\x1b]0;pwned\x07")}, datafile.EINVALID, "control characters"},
		{"a name too long", n1.ID, datafile.StoreUpdate{Name: ptr(strings.Repeat("é", datafile.MaxStoreNameLength+1))}, datafile.EINVALID, "at most 100 characters"},
		{"an empty code", n1.ID, datafile.StoreUpdate{Code: ptr("")}, datafile.EINVALID, "store code"},
		{"no such store", "Z9", datafile.StoreUpdate{Name: ptr("X")}, datafile.ENOTFOUND, `no store with ID or code "Z9"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := storesOf(t, db)
			cursor := lastCursor(t, db)
			_, err := db.EditStore(ctx, tc.ref, tc.u)
			wantCode(t, err, tc.errCode)
			wantErrContains(t, err, tc.want)
			if after := storesOf(t, db); after != before {
				t.Errorf("a refused edit changed the stores:\n%s\n%s", before, after)
			}
			assertChanges(t, changesAfter(t, db, cursor), nil)
		})
	}

	t.Run("a name of exactly the longest length, counted in characters", func(t *testing.T) {
		name := strings.Repeat("é", datafile.MaxStoreNameLength)
		st, err := db.EditStore(ctx, "C1", datafile.StoreUpdate{Name: &name})
		if err != nil || utf8.RuneCountInString(st.Name) != datafile.MaxStoreNameLength {
			t.Fatalf("%+v %v", st, err)
		}
	})

	t.Run("locked", func(t *testing.T) {
		locked := mustOpen(t, db.Path())
		_, err := locked.EditStore(ctx, "C1", datafile.StoreUpdate{Name: ptr("X")})
		wantErrIs(t, err, datafile.ErrLocked)
	})

	t.Run("on a remote", func(t *testing.T) {
		remote := MustOpenRemote(t)
		remote.SetAuthCode(testAuthCode)
		_, err := remote.EditStore(ctx, "C1", datafile.StoreUpdate{Name: ptr("X")})
		wantCode(t, err, datafile.EFORBIDDEN)
		wantErrContains(t, err, "editing a store is done on the central server")
	})
}

func TestDeleteStore(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	mustPut(t, db, "item", `{"id":"item-1","name":"Amoxicillin"}`)
	mustPut(t, db, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`)

	t.Run("an empty store, its delete logged for the remotes", func(t *testing.T) {
		st := mustAddStore(t, db, "E1", "North")
		cursor := lastCursor(t, db)
		got, err := db.DeleteStore(ctx, "e1")
		if err != nil {
			t.Fatal(err)
		}
		if got != st {
			t.Errorf("deleted %+v, want %+v", got, st)
		}
		if _, err := db.FindStore(ctx, st.ID); datafile.ErrorCode(err) != datafile.ENOTFOUND {
			t.Errorf("the store is still there: %v", err)
		}
		// The name that stood for it, which nothing used, goes with it.
		var nameID string
		for _, c := range changesAfter(t, db, cursor) {
			if c.Table == "name" {
				nameID = c.RecordID
			}
		}
		assertChanges(t, changesAfter(t, db, cursor), []change{{Table: "name", RecordID: nameID, Action: "delete"}, {Table: "store", RecordID: st.ID, Action: "delete"}})
		// Its code is free again.
		mustAddStore(t, db, "E1", "")
	})

	c1 := mustAddStore(t, db, "C1", "")
	mustPut(t, db, "invoice", `{"id":"inv-1","store_id":"`+c1.ID+`","name_id":"name-1","type":"supplier_invoice"}`)
	mustPut(t, db, "invoice_line", `{"id":"line-1","invoice_id":"inv-1","item_id":"item-1","quantity":3}`,
		`{"id":"line-2","invoice_id":"inv-1","item_id":"item-1","quantity":4}`)
	c2 := mustAddStore(t, db, "C2", "")
	mustPut(t, db, "name", `{"id":"name-c2","name":"Store C2","store_id":"`+c2.ID+`"}`)
	mustPut(t, db, "master_list", `{"id":"ml-1","name":"Essentials"}`)
	mustPut(t, db, "master_list_name_join", `{"id":"mlnj-c2","master_list_id":"ml-1","name_id":"name-c2"}`)
	c3 := mustAddStore(t, db, "C3", "")
	mustPut(t, db, "name_store_join", `{"id":"nsj-c3","name_id":"name-1","store_id":"`+c3.ID+`"}`)
	n1 := mustAddStore(t, db, "N1", "North")
	syncWrite(t, db, north.ID, `INSERT INTO stock_line (id, store_id, item_id, quantity) VALUES ('stock-n1', '`+n1.ID+`', 'item-1', 4)`)
	n2 := mustAddStore(t, db, "N2", "North")
	mustExec(t, db, `INSERT INTO sync_buffer (source_site_id, table_name, record_id, action, data, received_at)
		VALUES (?, 'stock_line', 'stock-parked', 'upsert', ?, '2026-01-01T00:00:00Z')`,
		north.ID, `{"id":"stock-parked","store_id":"`+n2.ID+`","item_id":"item-gone","quantity":1}`)
	n3 := mustAddStore(t, db, "N3", "North")
	for _, tc := range []struct {
		name string
		ref  string
		code string
		want string
		hint string
	}{
		{"store data", c1.Code, datafile.ECONFLICT, "store C1 is not empty: 1 invoice record, 2 invoice_line records", "only an empty store can be deleted"},
		{"a name standing for it, in use", c2.Code, datafile.ECONFLICT, "store C2 is not empty: 1 name record standing for it, in use", ""},
		{"master data that refers to it", c3.Code, datafile.ECONFLICT, "store C3 is not empty: 1 name_store_join record", ""},
		{"store data on a remote", n1.Code, datafile.ECONFLICT, "store N1 is not empty: 1 stock_line record", ""},
		{"records received and not yet integrated", n2.Code, datafile.ECONFLICT, "store N2 is not empty: 1 received record waiting to be integrated", ""},
		{"no such store", "Z9", datafile.ENOTFOUND, `no store with ID or code "Z9"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := storesOf(t, db)
			cursor := lastCursor(t, db)
			_, err := db.DeleteStore(ctx, tc.ref)
			wantCode(t, err, tc.code)
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if de := (*datafile.Error)(nil); tc.hint != "" && (!errors.As(err, &de) || !strings.Contains(de.Hint, tc.hint)) {
				t.Errorf("hint of %v does not say %q", err, tc.hint)
			}
			if after := storesOf(t, db); after != before {
				t.Errorf("a refused delete changed the stores")
			}
			assertChanges(t, changesAfter(t, db, cursor), nil)
		})
	}

	t.Run("an empty store on a site with unsent changes", func(t *testing.T) {
		mustExec(t, db, `UPDATE site SET unsent_records = 3 WHERE id = ?`, north.ID)
		_, err := db.DeleteStore(ctx, n3.Code)
		wantCode(t, err, datafile.ECONFLICT)
		wantErrContains(t, err, `store N3 is on site "North", which last reported 3 changes not yet sent`)
		mustExec(t, db, `UPDATE site SET unsent_records = 0 WHERE id = ?`, north.ID)
		if _, err := db.DeleteStore(ctx, n3.Code); err != nil {
			t.Fatalf("once North has sent everything: %v", err)
		}
	})

	t.Run("locked", func(t *testing.T) {
		locked := mustOpen(t, db.Path())
		_, err := locked.DeleteStore(ctx, "E1")
		wantErrIs(t, err, datafile.ErrLocked)
	})

	t.Run("on a remote", func(t *testing.T) {
		remote := MustOpenRemote(t)
		remote.SetAuthCode(testAuthCode)
		_, err := remote.DeleteStore(ctx, "E1")
		wantCode(t, err, datafile.EFORBIDDEN)
	})
}

func storesOf(tb testing.TB, db *datafile.DB) string {
	tb.Helper()
	stores, err := db.Stores(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	for _, s := range stores {
		b.WriteString(s.ID + " " + s.Code + " " + s.Name + "\n")
	}
	return b.String()
}
