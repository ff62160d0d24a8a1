package datafile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestPushWithOneIDTwice pushes a new record and a later version of it in the same batch: the check that
// finds the id free runs before either is written, and the second copy must still update the first rather
// than fail or be taken for a new record.
func TestPushWithOneIDTwice(t *testing.T) {
	fx := newFuzzFixture(t)
	north, err := fx.db.FindSite(context.Background(), "North")
	if err != nil {
		t.Fatal(err)
	}
	line := func(seq int, qty int) datafile.InRecord {
		return datafile.InRecord{
			SyncOutID: fmt.Sprintf("twice:%d", seq), Table: "invoice_line", RecordID: "line-twice", Action: "insert",
			Data: json.RawMessage(fmt.Sprintf(`{"id":"line-twice","invoice_id":"inv-r","item_id":"item-1","store_id":%q,"quantity":%d}`, fx.r.ID, qty)),
		}
	}
	pushed, err := fx.db.ReceivePush(context.Background(), north.ID, []datafile.InRecord{line(1, 3), line(2, 7)}, 0, nil)
	if err != nil || len(pushed.Rejections) > 0 {
		t.Fatalf("push: %v %+v", err, pushed.Rejections)
	}
	if pushed.Integration.Integrated != 2 || pushed.Integration.Failed != 0 {
		t.Fatalf("integration: %+v, want both copies written", pushed.Integration)
	}
	rec, err := fx.db.GetRecord(context.Background(), "invoice_line", "line-twice")
	if err != nil {
		t.Fatal(err)
	}
	if q := fmt.Sprint(rec.Values["quantity"]); q != "7" {
		t.Fatalf("quantity %s, want the later copy's 7", q)
	}
}

// TestCancelledImportWritesNothing cancels a bulk import part way: it must stop with the cancellation and
// leave nothing of the import behind.
func TestCancelledImportWritesNothing(t *testing.T) {
	db := MustOpenCentral(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, err := db.PutRecords(ctx, "item", func() (map[string]any, error) {
		n++
		if n == 500 {
			cancel()
		}
		if n > 1000 {
			return nil, io.EOF
		}
		return map[string]any{"id": fmt.Sprintf("cancelled-%04d", n), "name": "Item"}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import after cancel: %v, want context.Canceled", err)
	}
	if n > 501 {
		t.Fatalf("the import read %d records after it was cancelled at 500", n-500)
	}
	if _, err := db.GetRecord(context.Background(), "item", "cancelled-0001"); err == nil {
		t.Fatal("a record of the cancelled import was written")
	}
}

// TestPushedLineForAMissingItemWaitsWithAReason pushes a line whose item does not exist: SQLite's own
// foreign key check refuses it, and the buffer keeps it with a reason that names the field, not SQLite's.
func TestPushedLineForAMissingItemWaitsWithAReason(t *testing.T) {
	fx := newFuzzFixture(t)
	north, err := fx.db.FindSite(context.Background(), "North")
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := fx.db.ReceivePush(context.Background(), north.ID, []datafile.InRecord{{
		SyncOutID: "ghost:1", Table: "invoice_line", RecordID: "line-ghost", Action: "insert",
		Data: json.RawMessage(fmt.Sprintf(`{"id":"line-ghost","invoice_id":"inv-r","item_id":"ghost","store_id":%q,"quantity":1}`, fx.r.ID)),
	}}, 0, nil)
	if err != nil || len(pushed.Rejections) > 0 {
		t.Fatalf("push: %v %+v", err, pushed.Rejections)
	}
	if pushed.Integration.Integrated != 0 {
		t.Fatalf("integration: %+v, want the line waiting", pushed.Integration)
	}
	// The reason is recorded when the buffer is tried again, after the site's next push.
	again, err := fx.db.ReceivePush(context.Background(), north.ID, nil, 0, nil)
	if err != nil || again.Integration.Failed != 1 {
		t.Fatalf("next push: %+v %v, want the line still waiting", again.Integration, err)
	}
	var reason string
	if err := fx.db.SQL().QueryRow(`SELECT error FROM sync_buffer WHERE record_id = 'line-ghost'`).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if reason != `field item_id: no item with id "ghost"` {
		t.Fatalf("buffered with reason %q", reason)
	}
}

// TestPreparedRecordsIntegrateAsUnprepared integrates the same page of master data with and without
// Prepare: records that do not decode or validate must meet the same fate either way.
func TestPreparedRecordsIntegrateAsUnprepared(t *testing.T) {
	page := func() []datafile.InRecord {
		return []datafile.InRecord{
			{Table: "item", RecordID: "item-good", Action: "insert", Data: json.RawMessage(`{"id":"item-good","name":"Good"}`)},
			{Table: "item", RecordID: "item-other", Action: "insert", Data: json.RawMessage(`{"id":"item-mismatch","name":"Bad"}`)},
			{Table: "item", RecordID: "item-unknown", Action: "update", Data: json.RawMessage(`{"id":"item-unknown","colour":"red"}`)},
			{Table: "item", RecordID: "item-broken", Action: "insert", Data: json.RawMessage(`{"id":`)},
			{Table: "master_list_line", RecordID: "mll-x", Action: "insert", Data: json.RawMessage(`{"id":"mll-x","master_list_id":"ml-none","item_id":"item-good"}`)},
		}
	}
	results := map[bool]datafile.IntegrationResult{}
	checksums := map[bool]string{}
	for _, prepared := range []bool{false, true} {
		db := MustOpenRemote(t)
		recs := page()
		if prepared {
			datafile.Prepare(recs)
		}
		res, err := db.IntegrateBatch(context.Background(), datafile.CentralSiteID, recs, 5)
		if err != nil {
			t.Fatalf("prepared=%v: %v", prepared, err)
		}
		results[prepared] = res
		sums, err := db.Checksum(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		checksums[prepared] = fmt.Sprint(sums)
	}
	if !reflect.DeepEqual(results[true], results[false]) || checksums[true] != checksums[false] {
		t.Fatalf("prepared: %+v %s\nunprepared: %+v %s", results[true], checksums[true], results[false], checksums[false])
	}
	if results[true].Integrated != 1 {
		t.Fatalf("integrated %d records, want only the good item", results[true].Integrated)
	}
}
