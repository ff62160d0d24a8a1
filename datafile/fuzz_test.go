package datafile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// fuzzFixture is one central datafile shared by every input of a fuzz run: a central store A, a remote
// site North holding store R (with an invoice of its own, which central may not touch), and master data to
// refer to. Inputs may add to it; the invariants hold whatever earlier inputs wrote.
type fuzzFixture struct {
	db   *datafile.DB
	a, r datafile.Store
}

func newFuzzFixture(tb testing.TB) fuzzFixture {
	tb.Helper()
	db := MustOpenUnlockedCentral(tb)
	north := mustAddSite(tb, db, "North", datafile.SiteStandalone)
	f := fuzzFixture{db: db, a: mustAddStore(tb, db, "A", ""), r: mustAddStore(tb, db, "R", "North")}
	mustPut(tb, db, "item", `{"id":"item-1","code":"PCM","name":"Paracetamol","unit":"tab"}`)
	mustPut(tb, db, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`)
	mustPut(tb, db, "master_list", `{"id":"ml-1","name":"Essential"}`)
	mustPut(tb, db, "master_list_line", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-1"}`)
	mustPut(tb, db, "invoice", fmt.Sprintf(`{"id":"inv-a","store_id":%q,"name_id":"name-1","type":"supplier_invoice","created_at":%q}`, f.a.ID, testCreatedAt))
	mustPut(tb, db, "invoice_line", `{"id":"line-a","invoice_id":"inv-a","item_id":"item-1","quantity":2}`)
	mustPut(tb, db, "stock_line", fmt.Sprintf(`{"id":"stock-a","store_id":%q,"item_id":"item-1","quantity":5}`, f.a.ID))
	pushed, err := db.ReceivePush(context.Background(), north.ID, []datafile.InRecord{{
		SyncOutID: "1", Table: "invoice", RecordID: "inv-r", Action: "insert",
		Data: json.RawMessage(fmt.Sprintf(`{"id":"inv-r","store_id":%q,"name_id":"name-1","type":"customer_invoice","created_at":%q}`, f.r.ID, testCreatedAt)),
	}}, 0, nil)
	if err != nil || len(pushed.Rejections) > 0 {
		tb.Fatalf("push North's invoice: %v %+v", err, pushed.Rejections)
	}
	return f
}

// fuzzTables are the tables a fuzz input picks from; the last name is no table at all.
var fuzzTables = append(datafile.TableNames(), "no_such_table")

// FuzzPutRecords feeds the record validator arbitrary JSON for every table: one object, or an array of them
// written as one batch. Whatever the input, PutRecords must not panic, and either refuses with one line of
// error and writes nothing, or writes records that read back as the input implies and that survive a trip
// through their own JSON (what sync sends) unchanged.
func FuzzPutRecords(f *testing.F) {
	fx := newFuzzFixture(f)
	a, r := fx.a.ID, fx.r.ID
	index := map[string]uint8{}
	for i, name := range fuzzTables {
		index[name] = uint8(i)
	}
	seeds := []struct{ table, data string }{
		{"item", `{"id":"item-2","code":"AMX","name":"Amoxicillin","unit":"cap"}`},
		{"item", `{"name":"no id yet"}`},
		{"item", `{"id":"item-1","name":"Paracetamol 500mg"}`},
		{"item", `{"id":"item-3","name":"tab\u0000nul","unit":"\u00e9\u4e2d"}`},
		{"item", `{"id":"item-4","name":5}`},
		{"item", `{"id":"item-5","colour":"red"}`},
		{"item", `{"id":"","name":"x"}`},
		{"item", `{"id":7,"name":"x"}`},
		{"item", `{"id":"a\u0007b"}`},
		{"item", `{"id":"x"}]`},
		{"item", `{"id":"x"} {"id":"y"}`},
		{"item", `[{"id":"b-1"},{"id":"b-2","name":"two"},{"id":"b-1","unit":"box"}]`},
		{"item", `[{"id":"b-3"},{"id":"b-4","name":null}]`},
		{"item", `null`},
		{"item", `[]`},
		{"name", `{"id":"name-2","name":"Clinic","is_customer":true,"store_id":"` + a + `"}`},
		{"name", `{"id":"name-3","is_supplier":"yes"}`},
		{"name", `{"id":"name-4","store_id":null}`},
		{"name", `{"id":"name-5","store_id":"no-such-store"}`},
		{"master_list", `{"id":"ml-2","code":"EML","name":"Essential medicines"}`},
		{"master_list_line", `{"id":"mll-2","master_list_id":"ml-1","item_id":"item-1"}`},
		{"master_list_line", `{"id":"mll-3","master_list_id":"ml-1"}`},
		{"master_list_line", `{"id":"mll-4","master_list_id":"ml-404","item_id":"item-1"}`},
		{"invoice", `{"id":"inv-1","store_id":"` + a + `","name_id":"name-1","type":"customer_invoice","status":"confirmed","their_ref":"PO-1","created_at":"2026-01-31T09:30:00+02:00"}`},
		{"invoice", `{"id":"inv-2","store_id":"` + a + `","name_id":"name-1","type":"supplier_invoice"}`},
		{"invoice", `{"id":"inv-3","store_id":"` + a + `","name_id":"name-1","type":"customer_invoice","created_at":"9999-12-31T23:59:59-01:00"}`},
		{"invoice", `{"id":"inv-4","store_id":"` + a + `","name_id":"name-1","type":"customer_invoice","created_at":"0000-01-01T00:00:00+01:00"}`},
		{"invoice", `{"id":"inv-5","store_id":"` + a + `","name_id":"name-1","type":"customer_invoice","created_at":"2026-01-31T09:30:00.999999999Z"}`},
		{"invoice", `{"id":"inv-6","store_id":"` + a + `","name_id":"name-1","type":"credit_note"}`},
		{"invoice", `{"id":"inv-7","store_id":"` + r + `","name_id":"name-1","type":"customer_invoice"}`},
		{"invoice", `{"id":"inv-r","their_ref":"taken over"}`},
		{"invoice", `{"id":"inv-a","store_id":"` + r + `"}`},
		{"invoice", `{"id":"inv-a","status":"finalised","their_ref":"done"}`},
		{"invoice_line", `{"id":"line-1","invoice_id":"inv-a","item_id":"item-1","batch":"B1","expiry":"2027-06-30","quantity":12.5}`},
		{"invoice_line", `{"id":"line-2","invoice_id":"inv-a","store_id":"` + a + `","item_id":"item-1","quantity":1e308}`},
		{"invoice_line", `{"id":"line-3","invoice_id":"inv-r","item_id":"item-1"}`},
		{"invoice_line", `{"id":"line-4","invoice_id":"inv-a","store_id":"` + r + `","item_id":"item-1"}`},
		{"invoice_line", `{"id":"line-5","invoice_id":"inv-a","item_id":"item-1","expiry":"2026-02-30"}`},
		{"invoice_line", `{"id":"line-a","quantity":-0}`},
		{"stock_line", `{"id":"stock-1","store_id":"` + a + `","item_id":"item-1","quantity":0.1,"expiry":null}`},
		{"stock_line", `{"id":"stock-2","store_id":"` + a + `","item_id":"item-1","quantity":1e999}`},
		{"stock_line", `{"id":"stock-3","store_id":"` + a + `","item_id":"item-1","quantity":-1}`},
		{"stock_line", `{"id":"stock-4","store_id":"` + a + `","item_id":"item-1","quantity":"3"}`},
		{"stock_line", `{"id":"stock-5","store_id":"` + a + `","item_id":"item-1","quantity":123456789012345678901234567890}`},
		{"stock_line", `[{"id":"stock-6","store_id":"` + a + `","item_id":"item-1"},{"id":"stock-7","store_id":"` + r + `","item_id":"item-1"}]`},
		{"no_such_table", `{"id":"x"}`},
	}
	for _, s := range seeds {
		f.Add(index[s.table], []byte(s.data))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tableIndex uint8, data []byte) {
		table := fuzzTables[int(tableIndex)%len(fuzzTables)]
		raws, err := decodeBatch(data)
		if err != nil {
			if datafile.ErrorCode(err) != datafile.EINVALID {
				t.Fatalf("malformed input refused with %v, not an invalid error", err)
			}
			return
		}
		// What each given id holds now, to tell an update from an insert.
		bases := map[string]*datafile.Record{}
		if _, known := datafileTable(table); known {
			for _, raw := range raws {
				if id, ok := raw["id"].(string); ok {
					if rec, err := fx.db.GetRecord(ctx, table, id); err == nil {
						bases[id] = &rec
					}
				}
			}
		}
		before, beforeCursor := checksums(t, fx.db), lastCursor(t, fx.db)

		ids, err := fx.db.PutRecords(ctx, table, datafile.Records(raws...))
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			if after := checksums(t, fx.db); !reflect.DeepEqual(before, after) {
				t.Fatalf("refused input (%v) changed the records", err)
			}
			if c := lastCursor(t, fx.db); c != beforeCursor {
				t.Fatalf("refused input (%v) added change-log entries", err)
			}
			return
		}
		tbl, _ := datafileTable(table)
		if len(ids) != len(raws) {
			t.Fatalf("%d records in, %d ids out", len(raws), len(ids))
		}
		// PutRecords fills in what it derives (a new id, a line's store) in the maps it is given, so the
		// expected state is the given fields applied in order over what was there.
		want := map[string]map[string]any{}
		given := map[string]map[string]bool{}
		for i, raw := range raws {
			id := ids[i]
			if raw["id"] != id {
				t.Fatalf("record %d: id %q written, %v given", i+1, id, raw["id"])
			}
			cur, ok := want[id]
			if !ok {
				cur = map[string]any{}
				given[id] = map[string]bool{}
				if b := bases[id]; b != nil {
					for k, v := range b.Values {
						cur[k] = v
						given[id][k] = true
					}
				}
				want[id] = cur
			}
			for k, v := range raw {
				cur[k] = expectedValue(t, tbl, k, v)
				given[id][k] = true
			}
		}
		for id, fields := range want {
			rec, err := fx.db.GetRecord(ctx, table, id)
			if err != nil {
				t.Fatalf("record %q was accepted but cannot be read: %v", id, err)
			}
			for _, col := range tbl.Columns() {
				got := rec.Values[col]
				if !given[id][col] {
					checkDefault(t, tbl, col, got)
					continue
				}
				if !reflect.DeepEqual(got, fields[col]) {
					t.Fatalf("record %q field %s reads back %#v, want %#v", id, col, got, fields[col])
				}
			}
			if tbl.Kind == datafile.StoreData && rec.StoreID() != a {
				t.Fatalf("record %q was written into store %q, which is not active on this site", id, rec.StoreID())
			}
		}
		// What sync sends is the record's JSON; writing it again must be accepted and change nothing.
		settled, settledCursor := checksums(t, fx.db), lastCursor(t, fx.db)
		for id := range want {
			rec, _ := fx.db.GetRecord(ctx, table, id)
			js, err := rec.MarshalJSON()
			if err != nil {
				t.Fatalf("record %q cannot be written as JSON: %v", id, err)
			}
			again, err := datafile.DecodeObject(js)
			if err != nil {
				t.Fatalf("record %q's own JSON %s does not decode: %v", id, js, err)
			}
			if _, err := fx.db.PutRecords(ctx, table, datafile.Records(again)); err != nil {
				t.Fatalf("record %q's own JSON %s is refused: %v", id, js, err)
			}
		}
		if after := checksums(t, fx.db); !reflect.DeepEqual(settled, after) {
			t.Fatal("writing records' own JSON back changed them")
		}
		if c := lastCursor(t, fx.db); c != settledCursor {
			t.Fatal("writing records' own JSON back added change-log entries")
		}
	})
}

// FuzzDecodeObject: any bytes either decode to one JSON object or give an invalid error.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"x","n":1.5e3}`, `[]`, `null`, `"s"`, `{"a":1} {"b":2}`, `{"a":1}}`, `{"a":1}]`,
		`{"a":`, `{"a":1,"a":2}`, ` {"a":[1,{"b":null}]} `, "{\"a\":\"\xff\"}", `{"a":123456789012345678901234567890}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := datafile.DecodeObject(data)
		if err != nil {
			if m != nil || datafile.ErrorCode(err) != datafile.EINVALID {
				t.Fatalf("DecodeObject = %v, %v", m, err)
			}
			return
		}
		if m == nil {
			t.Fatal("no error and no object")
		}
		// The input was exactly one JSON object, nothing before or after it.
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("DecodeObject accepted %q, which is not one JSON value: %v", data, err)
		}
		if _, ok := v.(map[string]any); !ok {
			t.Fatalf("DecodeObject accepted %q, which is not an object", data)
		}
	})
}

// decodeBatch reads an input the way 'record put' does: one object, or an array of objects.
func decodeBatch(data []byte) ([]map[string]any, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return nil, &datafile.Error{Code: datafile.EINVALID, Message: err.Error()}
		}
		out := make([]map[string]any, 0, len(elems))
		for _, e := range elems {
			m, err := datafile.DecodeObject(e)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	m, err := datafile.DecodeObject(data)
	if err != nil {
		return nil, err
	}
	return []map[string]any{m}, nil
}

func datafileTable(name string) (*datafile.Table, bool) {
	t, err := datafile.LookupTable(name)
	return t, err == nil
}

func checksums(tb testing.TB, db *datafile.DB) map[string]datafile.TableChecksum {
	tb.Helper()
	sums, err := db.Checksum(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	return sums
}

// expectedValue is what a value that the validator accepted must read back as. It is worked out here from
// the documented types, not by the validator's own code.
func expectedValue(tb testing.TB, t *datafile.Table, field string, v any) any {
	tb.Helper()
	if field == "id" || v == nil {
		return v
	}
	f, _ := t.Field(field)
	switch f.Type {
	case datafile.Number:
		n, err := v.(json.Number).Float64()
		if err != nil {
			tb.Fatalf("field %s: %v accepted as a number: %v", field, v, err)
		}
		return n
	case datafile.DateTime:
		ts, err := time.Parse(time.RFC3339, v.(string))
		if err != nil {
			tb.Fatalf("field %s: %q accepted as a date and time: %v", field, v, err)
		}
		return ts.UTC().Format(time.RFC3339)
	}
	return v
}

// checkDefault checks a field a new record was not given.
func checkDefault(tb testing.TB, t *datafile.Table, col string, got any) {
	tb.Helper()
	f, _ := t.Field(col)
	var want any
	switch f.Type {
	case datafile.Text:
		want = ""
	case datafile.Bool:
		want = f.DefaultTrue
	case datafile.Number:
		want = float64(0)
		if f.DefaultOne {
			want = float64(1)
		}
		if t.Name == "invoice" && col == "invoice_number" {
			// A new invoice is numbered within its store, from 1.
			if n, ok := got.(float64); !ok || n < 1 || n != float64(int64(n)) {
				tb.Fatalf("a new invoice is numbered %#v, want a whole number from 1", got)
			}
			return
		}
	case datafile.Enum:
		want = f.Enum[0]
	case datafile.Date, datafile.Ref:
		want = nil
	case datafile.DateTime:
		if f.Nullable {
			want = nil
			break
		}
		ts, err := time.Parse(time.RFC3339, fmt.Sprint(got))
		if err != nil || time.Since(ts).Abs() > time.Hour {
			tb.Fatalf("field %s defaults to %v, want about now", col, got)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("field %s defaults to %#v, want %#v", col, got, want)
	}
}

// TestDateTimeBeyondRFC3339Refused is the regression test for a date and time that parsed but whose UTC
// form (year -1 or 10000) could not be parsed again: the datafile stored it, and then sync carried a record
// that every other datafile refused, so it never arrived.
func TestDateTimeBeyondRFC3339Refused(t *testing.T) {
	fx := newFuzzFixture(t)
	for _, at := range []string{"9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00"} {
		rec := fmt.Sprintf(`{"id":"inv-edge","store_id":%q,"name_id":"name-1","type":"customer_invoice","created_at":%q}`, fx.a.ID, at)
		_, err := fx.db.PutRecords(context.Background(), "invoice", objects(t, rec))
		wantErrContains(t, err, "field created_at")
	}
	for _, at := range []string{"9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59+01:00"} {
		rec := fmt.Sprintf(`{"id":"inv-edge","store_id":%q,"name_id":"name-1","type":"customer_invoice","created_at":%q}`, fx.a.ID, at)
		mustPut(t, fx.db, "invoice", rec)
	}
}

// TestDecodeObjectRefusesTrailingData is the regression test for a stray closing bracket after an object
// being taken as valid JSON.
func TestDecodeObjectRefusesTrailingData(t *testing.T) {
	for _, in := range []string{`{"id":"x"}}`, `{"id":"x"}]`, `{"id":"x"} 1`, `{"id":"x"} {}`} {
		if _, err := datafile.DecodeObject([]byte(in)); datafile.ErrorCode(err) != datafile.EINVALID {
			t.Errorf("DecodeObject(%s) = %v, want an invalid error", in, err)
		}
	}
	if _, err := datafile.DecodeObject([]byte(" {\"id\":\"x\"} \n")); err != nil {
		t.Errorf("surrounding white space refused: %v", err)
	}
}
