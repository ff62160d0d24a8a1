package datafile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/msupply-foundation/msupply-sync/datafile"
)

// recordsFixture is a central datafile with two central stores (A and B), a remote site North holding
// store R, and master data and an invoice for new records to refer to.
type recordsFixture struct {
	db      *datafile.DB
	a, b, r datafile.Store
}

func newRecordsFixture(t *testing.T) recordsFixture {
	t.Helper()
	db := MustOpenUnlockedCentral(t)
	f := recordsFixture{db: db}
	mustAddSite(t, db, "North", datafile.SiteStandalone)
	f.a = mustAddStore(t, db, "A", "")
	f.b = mustAddStore(t, db, "B", "")
	f.r = mustAddStore(t, db, "R", "North")
	mustPut(t, db, "item", `{"id":"item-1","code":"PCM","name":"Paracetamol","unit":"tab"}`)
	mustPut(t, db, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`)
	mustPut(t, db, "master_list", `{"id":"ml-1"}`)
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "inv-a", "store_id": f.a.ID, "name_id": "name-1", "type": "supplier_invoice", "created_at": testCreatedAt}))
	return f
}

func TestPutRecordsValidation(t *testing.T) {
	t.Parallel()
	f := newRecordsFixture(t)
	a, b := f.a.ID, f.b.ID
	inv := func(extra map[string]any) string {
		m := map[string]any{"id": "inv-new", "store_id": a, "name_id": "name-1", "type": "customer_invoice", "created_at": testCreatedAt}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return obj(t, m)
	}
	sl := func(extra string) string {
		return fmt.Sprintf(`{"id":"sl-new","store_id":%q,"item_id":"item-1"%s}`, a, extra)
	}
	for _, tc := range []struct {
		name    string
		table   string
		record  string
		code    string
		message string
	}{
		{"unknown table", "items", `{"id":"x"}`, datafile.EINVALID, `unknown table "items"`},
		{"unknown field", "item", `{"id":"x","colour":"red"}`, datafile.EINVALID, `unknown field "colour"`},
		{"text given a number", "item", `{"id":"x","name":5}`, datafile.EINVALID, "field name: must be a string"},
		{"text given null", "item", `{"id":"x","name":null}`, datafile.EINVALID, "field name: must not be null"},
		{"text too long", "item", fmt.Sprintf(`{"id":"x","name":%q}`, strings.Repeat("a", datafile.MaxTextLength+1)), datafile.EINVALID, "at most 4096 bytes"},
		{"bool given a string", "name", `{"id":"x","is_customer":"yes"}`, datafile.EINVALID, "field is_customer: must be true or false"},
		{"bool given a number", "name", `{"id":"x","is_supplier":1}`, datafile.EINVALID, "field is_supplier: must be true or false"},
		{"number given a string", "stock_line", sl(`,"quantity":"3"`), datafile.EINVALID, "field quantity: must be a number"},
		{"negative quantity", "stock_line", sl(`,"quantity":-1`), datafile.EINVALID, "field quantity: must be a number from 0 to 1e12"},
		{"huge quantity", "stock_line", sl(`,"quantity":1e999`), datafile.EINVALID, "field quantity"},
		{"bad enum", "invoice", inv(map[string]any{"type": "credit_note"}), datafile.EINVALID, "field type: must be one of customer_invoice, supplier_invoice"},
		{"bad status", "invoice", inv(map[string]any{"status": "paid"}), datafile.EINVALID, "field status: must be one of new, confirmed, finalised"},
		{"bad date", "stock_line", sl(`,"expiry":"2026-13-01"`), datafile.EINVALID, "field expiry: must be a date as YYYY-MM-DD"},
		{"date in another format", "stock_line", sl(`,"expiry":"31/01/2026"`), datafile.EINVALID, "field expiry"},
		{"date with a time", "stock_line", sl(`,"expiry":"2026-01-31T00:00:00Z"`), datafile.EINVALID, "field expiry"},
		{"bad date and time", "invoice", inv(map[string]any{"created_at": "yesterday"}), datafile.EINVALID, "field created_at: must be a date and time"},
		{"missing required ref", "master_list_line", `{"id":"x","master_list_id":"ml-1"}`, datafile.EINVALID, "field item_id is required"},
		{"missing required enum", "invoice", inv(map[string]any{"type": nil}), datafile.EINVALID, "field type is required"},
		{"missing store", "stock_line", `{"id":"x","item_id":"item-1"}`, datafile.EINVALID, "field store_id is required"},
		{"id too long", "item", fmt.Sprintf(`{"id":%q}`, strings.Repeat("i", datafile.MaxIDLength+1)), datafile.EINVALID, "id must be 1 to 128 characters"},
		{"empty id", "item", `{"id":""}`, datafile.EINVALID, "id must be"},
		{"id with a control character", "item", `{"id":"a\nb","name":"a\nb"}`, datafile.EINVALID, "control characters"},
		{"id not a string", "item", `{"id":42}`, datafile.EINVALID, "id must be a string"},
		{"unknown item", "stock_line", fmt.Sprintf(`{"id":"x","store_id":%q,"item_id":"no-such-item"}`, a), datafile.EINVALID, `field item_id: no item with id "no-such-item"`},
		{"unknown name", "invoice", inv(map[string]any{"name_id": "no-such-name"}), datafile.EINVALID, `field name_id: no name with id "no-such-name"`},
		{"unknown master list", "master_list_line", `{"id":"x","master_list_id":"nope","item_id":"item-1"}`, datafile.EINVALID, `no master_list with id "nope"`},
		{"unknown store of a name", "name", `{"id":"x","store_id":"no-such-store"}`, datafile.EINVALID, `field store_id: no store with id "no-such-store"`},
		{"unknown store", "stock_line", `{"id":"x","store_id":"no-such-store","item_id":"item-1"}`, datafile.EINVALID, `no store with id "no-such-store"`},
		{"unknown invoice", "invoice_line", fmt.Sprintf(`{"id":"x","invoice_id":"nope","store_id":%q,"item_id":"item-1"}`, a), datafile.EINVALID, `no invoice with id "nope"`},
		{"line in another store than its invoice", "invoice_line", fmt.Sprintf(`{"id":"x","invoice_id":"inv-a","store_id":%q,"item_id":"item-1"}`, b),
			datafile.EINVALID, fmt.Sprintf("the line's invoice belongs to store %q", a)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cursor := lastCursor(t, f.db)
			before := checksum(t, f.db, "")
			ids, err := f.db.PutRecords(context.Background(), tc.table, objects(t, tc.record))
			wantCode(t, err, tc.code)
			wantErrContains(t, err, tc.message)
			if ids != nil {
				t.Errorf("ids = %v for a refused batch", ids)
			}
			if tc.table != "items" {
				wantErrContains(t, err, "record 1")
				var e *datafile.Error
				if errors.As(err, &e) && !strings.Contains(e.Hint, "nothing was written") {
					t.Errorf("hint %q does not say that nothing was written", e.Hint)
				}
			}
			assertChanges(t, changesAfter(t, f.db, cursor), nil)
			if after := checksum(t, f.db, ""); !reflect.DeepEqual(before, after) {
				t.Error("a refused record changed the datafile")
			}
		})
	}

	t.Run("non-finite numbers from Go callers", func(t *testing.T) {
		for _, v := range []any{math.NaN(), math.Inf(1), -0.5} {
			_, err := f.db.PutRecords(context.Background(), "stock_line", datafile.Records(map[string]any{"id": "x", "store_id": a, "item_id": "item-1", "quantity": v}))
			wantCode(t, err, datafile.EINVALID)
			wantErrContains(t, err, "field quantity")
		}
	})

	t.Run("no records", func(t *testing.T) {
		_, err := f.db.PutRecords(context.Background(), "item", datafile.Records())
		wantCode(t, err, datafile.EINVALID)
		wantErrContains(t, err, "no records given")
	})

	t.Run("source fails", func(t *testing.T) {
		calls := 0
		src := func() (map[string]any, error) {
			calls++
			if calls == 1 {
				return map[string]any{"id": "ok-before-failure", "name": "OK"}, nil
			}
			return nil, errors.New("unexpected end of input")
		}
		_, err := f.db.PutRecords(context.Background(), "item", src)
		wantErrContains(t, err, "record 2", "unexpected end of input")
		if _, err := f.db.GetRecord(context.Background(), "item", "ok-before-failure"); datafile.ErrorCode(err) != datafile.ENOTFOUND {
			t.Errorf("record before a failing source was kept: %v", err)
		}
	})
}

func checksum(t *testing.T, db *datafile.DB, storeID string) map[string]datafile.TableChecksum {
	t.Helper()
	sums, err := db.Checksum(context.Background(), storeID)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestPutRecordsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)
	for _, tc := range []struct {
		name  string
		table string
		batch []string
		bad   int
	}{
		{"bad field in the middle", "item", []string{`{"id":"b-1","name":"One"}`, `{"id":"b-2","unit":7}`, `{"id":"b-3","name":"Three"}`}, 2},
		{"bad reference at the end", "master_list_line", []string{`{"id":"b-4","master_list_id":"ml-1","item_id":"item-1"}`, `{"id":"b-4","master_list_id":"ml-1","item_id":"item-1"}`, `{"id":"b-6","master_list_id":"ml-1","item_id":"gone"}`}, 3},
		// The first record changes an existing one: that change must be undone too.
		{"update before a bad record", "item", []string{`{"id":"item-1","name":"Changed"}`, `{"id":"b-7","nope":1}`}, 2},
		// A record that refers to one made earlier in the same batch is fine, until the batch fails.
		{"invoice then a line in another store", "invoice_line", []string{
			`{"id":"b-8","invoice_id":"inv-a","item_id":"item-1"}`,
			fmt.Sprintf(`{"id":"b-9","invoice_id":"inv-a","store_id":%q,"item_id":"item-1"}`, f.b.ID),
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cursor := lastCursor(t, f.db)
			before := checksum(t, f.db, "")
			_, err := f.db.PutRecords(ctx, tc.table, objects(t, tc.batch...))
			wantErrContains(t, err, fmt.Sprintf("record %d", tc.bad))
			assertChanges(t, changesAfter(t, f.db, cursor), nil)
			if after := checksum(t, f.db, ""); !reflect.DeepEqual(before, after) {
				t.Error("a refused batch changed the datafile")
			}
		})
	}

	t.Run("a good batch writes every record in order", func(t *testing.T) {
		ids := mustPut(t, f.db, "item", `{"id":"g-2","name":"g-2"}`, `{"name":"no id"}`, `{"id":"g-1","name":"g-1"}`)
		if len(ids) != 3 || ids[0] != "g-2" || ids[2] != "g-1" {
			t.Fatalf("ids = %v", ids)
		}
		if _, err := uuid.Parse(ids[1]); err != nil {
			t.Errorf("generated id %q is not a UUID: %v", ids[1], err)
		}
		rec, err := f.db.GetRecord(ctx, "item", ids[1])
		if err != nil || rec.Values["name"] != "no id" {
			t.Errorf("record with a generated id = %v, %v", rec.Values, err)
		}
	})
}

// PutRecordsEach hands over each id as its record is written, before the next is read, so that an import
// need not hold its ids; an id it cannot pass on undoes the whole import.
func TestPutRecordsEach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)

	t.Run("each id as its record is written", func(t *testing.T) {
		var got []string
		read := 0
		src := func() (map[string]any, error) {
			if len(got) != read {
				t.Fatalf("record %d read with %d ids handed over", read+1, len(got))
			}
			if read == 3 {
				return nil, io.EOF
			}
			read++
			if read == 2 {
				return map[string]any{"name": "no id"}, nil
			}
			return map[string]any{"id": fmt.Sprintf("each-%d", read), "name": "Each"}, nil
		}
		n, err := f.db.PutRecordsEach(ctx, "item", src, func(id string) error {
			got = append(got, id)
			return nil
		})
		if err != nil || n != 3 || len(got) != 3 || got[0] != "each-1" || got[2] != "each-3" {
			t.Fatalf("PutRecordsEach = %d, %v; ids %v", n, err, got)
		}
		if rec, err := f.db.GetRecord(ctx, "item", got[1]); err != nil || rec.Values["name"] != "no id" {
			t.Errorf("the record with a made-up id: %v, %v", rec.Values, err)
		}
	})

	t.Run("an id that cannot be kept undoes the import", func(t *testing.T) {
		cursor := lastCursor(t, f.db)
		full := errors.New("no space left on device")
		calls := 0
		_, err := f.db.PutRecordsEach(ctx, "item", objects(t, `{"id":"kept-1","name":"One"}`, `{"id":"kept-2","name":"Two"}`), func(string) error {
			if calls++; calls == 2 {
				return full
			}
			return nil
		})
		if !errors.Is(err, full) {
			t.Fatalf("PutRecordsEach = %v, want the error of the id that could not be kept", err)
		}
		assertChanges(t, changesAfter(t, f.db, cursor), nil)
	})
}

func TestPutRecordsMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)
	mustPut(t, f.db, "stock_line", obj(t, map[string]any{"id": "sl-1", "store_id": f.a.ID, "item_id": "item-1", "batch": "B1", "expiry": "2027-01-31", "quantity": 10}))

	for _, tc := range []struct {
		name   string
		table  string
		update string
		want   map[string]any
	}{
		{"omitted fields are kept", "item", `{"id":"item-1","name":"Paracetamol 500mg"}`,
			map[string]any{"id": "item-1", "code": "PCM", "name": "Paracetamol 500mg", "unit": "tab", "is_active": true, "unit_id": nil}},
		{"an item is made inactive", "item", `{"id":"item-1","is_active":false}`,
			map[string]any{"id": "item-1", "code": "PCM", "name": "Paracetamol 500mg", "unit": "tab", "is_active": false, "unit_id": nil}},
		{"a bool can be cleared", "name", `{"id":"name-1","is_supplier":false,"is_customer":true}`,
			map[string]any{"id": "name-1", "code": "", "name": "Supplier", "is_customer": true, "is_supplier": false, "store_id": nil, "is_active": true}},
		{"a nullable field can be set to null", "stock_line", `{"id":"sl-1","expiry":null,"quantity":2.5}`,
			map[string]any{"id": "sl-1", "store_id": f.a.ID, "item_id": "item-1", "batch": "B1", "expiry": nil, "quantity": 2.5}},
		{"repeating the store is fine", "stock_line", obj(t, map[string]any{"id": "sl-1", "store_id": f.a.ID, "batch": "B2"}),
			map[string]any{"id": "sl-1", "store_id": f.a.ID, "item_id": "item-1", "batch": "B2", "expiry": nil, "quantity": 2.5}},
		{"date and time normalised to UTC", "invoice", `{"id":"inv-a","created_at":"2026-02-01T11:00:00+02:00","status":"finalised"}`,
			map[string]any{"id": "inv-a", "store_id": f.a.ID, "name_id": "name-1", "type": "supplier_invoice", "status": "finalised", "their_ref": "", "created_at": "2026-02-01T09:00:00Z", "invoice_number": float64(1),
				"linked_invoice_id": "", "requisition_id": "", "received_at": nil, "verified_at": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPut(t, f.db, tc.table, tc.update)
			rec, err := f.db.GetRecord(ctx, tc.table, tc.want["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec.Values, tc.want) {
				t.Errorf("record = %v, want %v", rec.Values, tc.want)
			}
		})
	}

	t.Run("defaults of a new record", func(t *testing.T) {
		mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": "inv-d", "store_id": f.a.ID, "name_id": "name-1", "type": "customer_invoice"}))
		rec, err := f.db.GetRecord(ctx, "invoice", "inv-d")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Values["status"] != "new" || rec.Values["their_ref"] != "" {
			t.Errorf("defaults = %v", rec.Values)
		}
		if _, err := json.Marshal(rec); err != nil {
			t.Error(err)
		}
		if s, _ := rec.Values["created_at"].(string); len(s) != len(testCreatedAt) || !strings.HasSuffix(s, "Z") {
			t.Errorf("created_at defaulted to %q, want an RFC 3339 UTC time", s)
		}
	})

	t.Run("a line takes its invoice's store", func(t *testing.T) {
		mustPut(t, f.db, "invoice_line", `{"id":"il-1","invoice_id":"inv-a","item_id":"item-1"}`)
		rec, err := f.db.GetRecord(ctx, "invoice_line", "il-1")
		if err != nil {
			t.Fatal(err)
		}
		if rec.StoreID() != f.a.ID {
			t.Errorf("line store = %q, want the invoice's %q", rec.StoreID(), f.a.ID)
		}
	})

	t.Run("JSON output is stable", func(t *testing.T) {
		rec, err := f.db.GetRecord(ctx, "stock_line", "sl-1")
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"id":"sl-1","store_id":%q,"item_id":"item-1","batch":"B2","expiry":null,"quantity":2.5}`, f.a.ID)
		if string(b) != want {
			t.Errorf("JSON = %s, want %s", b, want)
		}
	})
}

func TestPutRecordsOwnership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)

	t.Run("central refuses store data of a remote's store", func(t *testing.T) {
		for _, tc := range []struct{ table, record string }{
			{"stock_line", obj(t, map[string]any{"id": "x", "store_id": f.r.ID, "item_id": "item-1"})},
			{"invoice", obj(t, map[string]any{"id": "x", "store_id": f.r.ID, "name_id": "name-1", "type": "customer_invoice"})},
		} {
			_, err := f.db.PutRecords(ctx, tc.table, objects(t, tc.record))
			wantCode(t, err, datafile.EFORBIDDEN)
			wantErrContains(t, err, "not active on this site")
		}
	})

	t.Run("central refuses to change or delete a remote store's record", func(t *testing.T) {
		// The record arrived from North by sync.
		syncWrite(t, f.db, 2, stockLineSQL("sl-r", f.r.ID, 1))
		_, err := f.db.PutRecords(ctx, "stock_line", objects(t, `{"id":"sl-r","quantity":99}`))
		wantCode(t, err, datafile.EFORBIDDEN)
		// Claiming the record for a store that is active here does not help either.
		_, err = f.db.PutRecords(ctx, "stock_line", objects(t, obj(t, map[string]any{"id": "sl-r", "store_id": f.a.ID})))
		wantCode(t, err, datafile.EFORBIDDEN)
		wantCode(t, f.db.DeleteRecord(ctx, "stock_line", "sl-r"), datafile.EFORBIDDEN)
		rec, err := f.db.GetRecord(ctx, "stock_line", "sl-r")
		if err != nil || rec.Values["quantity"] != float64(1) || rec.StoreID() != f.r.ID {
			t.Errorf("refused writes changed the record: %v, %v", rec.Values, err)
		}
	})

	t.Run("a record cannot change store", func(t *testing.T) {
		mustPut(t, f.db, "stock_line", obj(t, map[string]any{"id": "sl-a", "store_id": f.a.ID, "item_id": "item-1"}))
		for _, tc := range []struct{ table, record string }{
			{"stock_line", obj(t, map[string]any{"id": "sl-a", "store_id": f.b.ID})},
			{"invoice", obj(t, map[string]any{"id": "inv-a", "store_id": f.b.ID})},
		} {
			_, err := f.db.PutRecords(ctx, tc.table, objects(t, tc.record))
			wantErrContains(t, err, "cannot move to another store")
		}
		if rec, _ := f.db.GetRecord(ctx, "stock_line", "sl-a"); rec.StoreID() != f.a.ID {
			t.Errorf("stock line moved to store %q", rec.StoreID())
		}
	})

	t.Run("a remote refuses master data", func(t *testing.T) {
		remote := MustOpenRemote(t)
		becomeSite(t, remote, 2, "north-store")
		for _, tc := range []struct{ table, record string }{
			{"item", `{"id":"new-item","name":"new-item"}`},
			{"item", `{"id":"item-1","name":"renamed here"}`},
			{"name", `{"id":"new-name"}`},
			{"master_list", `{"id":"new-ml"}`},
		} {
			_, err := remote.PutRecords(ctx, tc.table, objects(t, tc.record))
			wantCode(t, err, datafile.EFORBIDDEN)
			wantErrContains(t, err, "master data")
		}
		wantCode(t, remote.DeleteRecord(ctx, "item", "item-1"), datafile.EFORBIDDEN)
	})

	t.Run("a remote writes only its own stores", func(t *testing.T) {
		remote := MustOpenRemote(t)
		// Before its first sync a remote is no site yet, and may write no store's data.
		_, err := remote.PutRecords(ctx, "stock_line", objects(t, `{"id":"x","store_id":"north-store","item_id":"item-1"}`))
		wantCode(t, err, datafile.EINVALID) // there is no such store yet
		becomeSite(t, remote, 2, "north-store")
		mustExec(t, remote, `UPDATE settings SET this_site_id = NULL`)
		_, err = remote.PutRecords(ctx, "stock_line", objects(t, `{"id":"x","store_id":"north-store","item_id":"item-1"}`))
		wantCode(t, err, datafile.EFORBIDDEN)
		mustExec(t, remote, `UPDATE settings SET this_site_id = 2`)

		mustPut(t, remote, "stock_line", `{"id":"own","store_id":"north-store","item_id":"item-1"}`)
		mustPut(t, remote, "invoice", `{"id":"own-inv","store_id":"north-store","name_id":"name-1","type":"customer_invoice"}`)
		mustPut(t, remote, "invoice_line", `{"id":"own-il","invoice_id":"own-inv","item_id":"item-1","quantity":1}`)
		for _, store := range []string{"other-store", "central-store"} {
			_, err := remote.PutRecords(ctx, "stock_line", objects(t, fmt.Sprintf(`{"id":"x","store_id":%q,"item_id":"item-1"}`, store)))
			wantCode(t, err, datafile.EFORBIDDEN)
		}
		if err := remote.DeleteRecord(ctx, "stock_line", "own"); err != nil {
			t.Error(err)
		}
	})
}

func TestDeleteRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)
	a := f.a.ID
	mustPut(t, f.db, "invoice_line", `{"id":"il-1","invoice_id":"inv-a","item_id":"item-1"}`)
	mustPut(t, f.db, "stock_line", obj(t, map[string]any{"id": "sl-1", "store_id": a, "item_id": "item-1"}))
	mustPut(t, f.db, "item", `{"id":"item-2","name":"item-2"}`)
	mustPut(t, f.db, "master_list_line", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-2"}`)

	for _, tc := range []struct {
		table, id, referrer string
	}{
		{"item", "item-1", "invoice_line"},
		{"item", "item-2", "master_list_line"},
		{"invoice", "inv-a", "invoice_line"},
		{"name", "name-1", "invoice"},
		{"master_list", "ml-1", "master_list_line"},
	} {
		t.Run("refused while "+tc.referrer+" refers to "+tc.table, func(t *testing.T) {
			cursor := lastCursor(t, f.db)
			err := f.db.DeleteRecord(ctx, tc.table, tc.id)
			wantCode(t, err, datafile.ECONFLICT)
			wantErrContains(t, err, tc.referrer)
			if _, err := f.db.GetRecord(ctx, tc.table, tc.id); err != nil {
				t.Errorf("refused delete removed the record: %v", err)
			}
			assertChanges(t, changesAfter(t, f.db, cursor), nil)
		})
	}

	t.Run("an item or a name that remote sites may use is made inactive, not deleted", func(t *testing.T) {
		for _, step := range []struct{ table, id string }{{"item", "item-unused"}, {"name", "name-unused"}} {
			mustPut(t, f.db, step.table, `{"id":"`+step.id+`","name":"`+step.id+`"}`)
			err := f.db.DeleteRecord(ctx, step.table, step.id)
			wantCode(t, err, datafile.ECONFLICT)
			wantErrContains(t, err, "may be in use on remote sites")
			if _, err := f.db.GetRecord(ctx, step.table, step.id); err != nil {
				t.Errorf("refused delete removed %s %s: %v", step.table, step.id, err)
			}
			mustPut(t, f.db, step.table, `{"id":"`+step.id+`","is_active":false}`)
			rec, err := f.db.GetRecord(ctx, step.table, step.id)
			if err != nil || rec.Values["is_active"] != false {
				t.Errorf("%s %s after making it inactive: %v %v", step.table, step.id, rec.Values, err)
			}
		}
	})

	t.Run("allowed once nothing refers to it", func(t *testing.T) {
		for _, step := range []struct{ table, id string }{
			{"invoice_line", "il-1"}, {"invoice", "inv-a"}, {"stock_line", "sl-1"}, {"item", "item-1"},
			{"master_list_line", "mll-1"}, {"master_list", "ml-1"}, {"item", "item-2"}, {"name", "name-1"},
		} {
			if err := f.db.ForceDeleteRecord(ctx, step.table, step.id); err != nil {
				t.Fatalf("delete %s %s: %v", step.table, step.id, err)
			}
			_, err := f.db.GetRecord(ctx, step.table, step.id)
			wantCode(t, err, datafile.ENOTFOUND)
		}
	})

	t.Run("missing record", func(t *testing.T) {
		wantCode(t, f.db.DeleteRecord(ctx, "item", "never-existed"), datafile.ENOTFOUND)
		wantCode(t, f.db.DeleteRecord(ctx, "widgets", "x"), datafile.EINVALID)
	})
}

func TestRecordsStoredLiterally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)
	hostile := []string{
		`Robert'); DROP TABLE item;--`,
		`x' OR '1'='1`,
		`"; DELETE FROM changelog; --`,
		`100% _wild_ \ back\slash`,
		`naïve ☃ 名前`,
		`line one` + "\n" + `line two`,
	}
	for i, s := range hostile {
		t.Run(fmt.Sprintf("value %d", i), func(t *testing.T) {
			id := fmt.Sprintf("%s-%d", strings.ReplaceAll(s, "\n", " "), i)
			mustPut(t, f.db, "item", obj(t, map[string]any{"id": id, "name": s, "code": s}))
			rec, err := f.db.GetRecord(ctx, "item", id)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Values["name"] != s || rec.Values["code"] != s || rec.ID() != id {
				t.Errorf("stored %v, want name and code %q", rec.Values, s)
			}
			got, err := f.db.ListRecords(ctx, "item", []datafile.Condition{{Field: "name", Value: s}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID() != id {
				t.Errorf("list where name = %q gave %d records", s, len(got))
			}
		})
	}
	// Everything is still there.
	if n := checksum(t, f.db, "")["item"].Count; n != 1+len(hostile) {
		t.Errorf("%d items, want %d", n, 1+len(hostile))
	}
	if n := len(changesAfter(t, f.db, 0)); n == 0 {
		t.Error("the change log was emptied")
	}
}

func TestListRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecordsFixture(t)
	a := f.a.ID
	mustPut(t, f.db, "stock_line",
		obj(t, map[string]any{"id": "sl-3", "store_id": a, "item_id": "item-1", "quantity": 3, "expiry": "2027-01-01"}),
		obj(t, map[string]any{"id": "sl-1", "store_id": a, "item_id": "item-1", "quantity": 1}),
		obj(t, map[string]any{"id": "sl-2", "store_id": f.b.ID, "item_id": "item-1", "quantity": 3}),
	)
	mustPut(t, f.db, "name", `{"id":"name-2","is_customer":true}`)
	for _, tc := range []struct {
		name  string
		table string
		where []datafile.Condition
		want  string
		code  string
	}{
		{"all in id order", "stock_line", nil, "[sl-1 sl-2 sl-3]", ""},
		{"by store", "stock_line", []datafile.Condition{{Field: "store_id", Value: a}}, "[sl-1 sl-3]", ""},
		{"by number", "stock_line", []datafile.Condition{{Field: "quantity", Value: "3"}}, "[sl-2 sl-3]", ""},
		{"by two fields", "stock_line", []datafile.Condition{{Field: "quantity", Value: "3"}, {Field: "store_id", Value: a}}, "[sl-3]", ""},
		{"null date", "stock_line", []datafile.Condition{{Field: "expiry", Value: ""}}, "[sl-1 sl-2]", ""},
		{"by id", "stock_line", []datafile.Condition{{Field: "id", Value: "sl-2"}}, "[sl-2]", ""},
		{"by bool", "name", []datafile.Condition{{Field: "is_customer", Value: "true"}}, "[name-2]", ""},
		{"no match", "stock_line", []datafile.Condition{{Field: "batch", Value: "nope"}}, "[]", ""},
		{"unknown field", "stock_line", []datafile.Condition{{Field: "colour", Value: "x"}}, "", datafile.EINVALID},
		{"bad bool", "name", []datafile.Condition{{Field: "is_customer", Value: "perhaps"}}, "", datafile.EINVALID},
		{"bad number", "stock_line", []datafile.Condition{{Field: "quantity", Value: "lots"}}, "", datafile.EINVALID},
		{"unknown table", "stock", nil, "", datafile.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := f.db.ListRecords(ctx, tc.table, tc.where)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, r := range recs {
				ids = append(ids, r.ID())
			}
			if fmt.Sprint(ids) != tc.want {
				t.Errorf("ids = %v, want %s", ids, tc.want)
			}
		})
	}
	_, err := f.db.GetRecord(ctx, "stock_line", "nope")
	wantCode(t, err, datafile.ENOTFOUND)
}

func TestChecksum(t *testing.T) {
	t.Parallel()
	// Two central datafiles given the same records in different orders, batches and spellings, one of them
	// with extra history (a change made and undone), must agree.
	fill := func(t *testing.T, db *datafile.DB, reverse bool) {
		t.Helper()
		// The same store IDs in both, as sync would make them.
		mustExec(t, db, `INSERT INTO store (id, code, name, site_id) VALUES ('store-a', 'A', 'Store A', 1), ('store-b', 'B', 'Store B', 1)`)
		items := []string{`{"id":"i-1","name":"One"}`, `{"id":"i-2","name":"Two","unit":"box"}`, `{"id":"i-3","code":"3"}`}
		lines := []string{
			`{"id":"sl-1","store_id":"store-a","item_id":"i-1","quantity":5}`,
			`{"id":"sl-2","store_id":"store-a","item_id":"i-2","quantity":5.0,"expiry":"2027-03-31"}`,
			`{"id":"sl-3","store_id":"store-b","item_id":"i-3"}`,
		}
		invoice := `{"id":"inv-1","store_id":"store-a","name_id":"n-1","type":"customer_invoice","created_at":"2026-01-31T09:30:00Z"}`
		if reverse {
			for i := len(items) - 1; i >= 0; i-- {
				mustPut(t, db, "item", items[i])
			}
			mustPut(t, db, "item", `{"id":"i-2","name":"Temporary"}`)
			mustPut(t, db, "item", `{"id":"i-2","name":"Two"}`)
			mustPut(t, db, "name", `{"id":"n-1","is_customer":true}`)
			mustPut(t, db, "stock_line", lines[2], lines[1], lines[0])
			invoice = `{"id":"inv-1","store_id":"store-a","name_id":"n-1","type":"customer_invoice","created_at":"2026-01-31T11:30:00+02:00"}`
		} else {
			mustPut(t, db, "item", items...)
			mustPut(t, db, "name", `{"id":"n-1","is_customer":true}`)
			mustPut(t, db, "stock_line", lines...)
		}
		mustPut(t, db, "invoice", invoice)
	}
	one, two := MustOpenCentral(t), MustOpenCentral(t)
	fill(t, one, false)
	fill(t, two, true)

	sumOne, sumTwo := checksum(t, one, ""), checksum(t, two, "")
	if len(sumOne) != len(datafile.Tables()) {
		t.Errorf("checksum covers %d tables, want every synced table (%d)", len(sumOne), len(datafile.Tables()))
	}
	if !reflect.DeepEqual(sumOne, sumTwo) {
		t.Fatalf("same records, different checksums:\n%v\n%v", sumOne, sumTwo)
	}
	if sumOne["item"].Count != 3 || sumOne["stock_line"].Count != 3 || sumOne["invoice_line"].Count != 0 {
		t.Errorf("counts = %v", sumOne)
	}
	if sumOne["item"].Digest == sumOne["master_list"].Digest || sumOne["master_list"].Digest != sumOne["invoice_line"].Digest {
		t.Errorf("digests of empty and non-empty tables mixed up: %v", sumOne)
	}

	t.Run("different content differs", func(t *testing.T) {
		for _, tc := range []struct{ table, change string }{
			{"item", `{"id":"i-3","code":"3 "}`},
			{"stock_line", `{"id":"sl-1","quantity":5.0001}`},
		} {
			before := checksum(t, two, "")
			mustPut(t, two, tc.table, tc.change)
			after := checksum(t, two, "")
			for table := range before {
				if changed := before[table] != after[table]; changed != (table == tc.table) {
					t.Errorf("after changing %s, %s changed = %v", tc.table, table, changed)
				}
			}
		}
	})

	t.Run("limited to a store", func(t *testing.T) {
		a := checksum(t, one, "store-a")
		if len(a) != 5 {
			t.Errorf("store checksum covers %v, want only the store tables", a)
		}
		for _, table := range []string{"invoice", "invoice_line", "stock_line"} {
			if _, ok := a[table]; !ok {
				t.Errorf("store checksum lacks %s", table)
			}
		}
		if a["stock_line"].Count != 2 || a["invoice"].Count != 1 {
			t.Errorf("store A checksum = %v, want 2 stock lines and 1 invoice", a)
		}
		b := checksum(t, one, "store-b")
		if b["stock_line"].Count != 1 || b["invoice"].Count != 0 || b["stock_line"].Digest == a["stock_line"].Digest {
			t.Errorf("store B checksum = %v", b)
		}
		// A change in store B leaves store A's checksum alone.
		mustPut(t, one, "stock_line", `{"id":"sl-3","batch":"X"}`)
		if got := checksum(t, one, "store-a"); !reflect.DeepEqual(got, a) {
			t.Errorf("store A checksum changed by a write to store B")
		}
		if got := checksum(t, one, "no-such-store"); got["stock_line"].Count != 0 {
			t.Errorf("unknown store checksum = %v", got)
		}
	})
}

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, err string
	}{
		{`{"id":"x","quantity":12345678901234567890}`, ""},
		{``, "invalid JSON"},
		{`[{"id":"x"}]`, "invalid JSON"},
		{`null`, "expected an object"},
		{`"id"`, "invalid JSON"},
		{`{"id":"x"} {"id":"y"}`, "more than one value"},
		{`{"id":"x"} trailing`, "more than one value"},
		{`{"id":"x"`, "invalid JSON"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			m, err := datafile.DecodeObject([]byte(tc.in))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				// Numbers stay exact until a field's type decides what they are.
				if n, ok := m["quantity"].(json.Number); !ok || n.String() != "12345678901234567890" {
					t.Errorf("quantity = %#v", m["quantity"])
				}
				return
			}
			wantCode(t, err, datafile.EINVALID)
			wantErrContains(t, err, tc.err)
		})
	}
}
