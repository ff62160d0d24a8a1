package datafile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// handoverFixture is a central datafile with store R on North, which has initialised, and South.
type handoverFixture struct {
	fuzzFixture
	north, south datafile.Site
}

func newHandoverFixture(t *testing.T) handoverFixture {
	t.Helper()
	fx := handoverFixture{fuzzFixture: newFuzzFixture(t)}
	fx.south = mustAddSite(t, fx.db, "South", datafile.SiteStandalone)
	var err error
	if fx.north, err = fx.db.FindSite(context.Background(), "North"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.db.InitialiseSite(context.Background(), fx.north.ID); err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx handoverFixture) stockLine(seq int, id string, qty int) datafile.InRecord {
	return datafile.InRecord{
		SyncOutID: fmt.Sprintf("src:%d", seq), Table: "stock_line", RecordID: id, Action: "insert",
		Data: json.RawMessage(fmt.Sprintf(`{"id":%q,"store_id":%q,"item_id":"item-1","quantity":%d}`, id, fx.r.ID, qty)),
	}
}

func (fx handoverFixture) store(t *testing.T) datafile.Store {
	t.Helper()
	st, err := fx.db.FindStore(context.Background(), "R")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMoveFromAnInitialisedRemoteWaitsForItsHandover(t *testing.T) {
	ctx := context.Background()
	fx := newHandoverFixture(t)
	plan, st, err := fx.db.MoveStore(ctx, "R", "South", false)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Handover || st.SiteID != fx.north.ID || st.MovingToSiteID == nil || *st.MovingToSiteID != fx.south.ID {
		t.Fatalf("plan %+v, store %+v: want the move pending, the store still on North", plan, st)
	}
	if n := queryInt(t, fx.db, `SELECT count(*) FROM sync_queue WHERE site_id = ?`, fx.south.ID); n != 0 {
		t.Fatalf("%d records queued for South before the handover", n)
	}
	wantCode(t, second(fx.db.DeleteSite(ctx, "South")), datafile.ECONFLICT)

	// North's last changes, made while the store was its own, are integrated, and a push that names a
	// store it does not own hands nothing over.
	pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, []datafile.InRecord{fx.stockLine(1, "late", 4)}, 0, []string{fx.a.ID})
	if err != nil || pushed.Integration.Integrated != 1 || pushed.HandedOver != 0 {
		t.Fatalf("push before the handover: %+v %v", pushed, err)
	}
	if st := fx.store(t); st.SiteID != fx.north.ID {
		t.Fatalf("store moved without its handover: %+v", st)
	}

	pushed, err = fx.db.ReceivePush(ctx, fx.north.ID, nil, 0, []string{fx.r.ID})
	if err != nil || pushed.HandedOver != 1 {
		t.Fatalf("handover: %+v %v", pushed, err)
	}
	if st := fx.store(t); st.SiteID != fx.south.ID || st.MovingToSiteID != nil {
		t.Fatalf("after the handover the store is %+v, want it on South", st)
	}
	if n := queryInt(t, fx.db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'late'`, fx.south.ID); n != 1 {
		t.Fatalf("North's last change is not queued for South (%d)", n)
	}
	// North's cycle died after central committed the handover batch: it pushes the batch again, under a new
	// source. Central has those changes already and must not write them over the new site's.
	resent := fx.stockLine(9, "late", 4)
	resent.SyncOutID = "other-source:1"
	if _, err := fx.db.ReceivePush(ctx, fx.south.ID, []datafile.InRecord{{SyncOutID: "s:1", Table: "stock_line", RecordID: "late", Action: "update",
		Data: json.RawMessage(fmt.Sprintf(`{"id":"late","store_id":%q,"item_id":"item-1","quantity":40}`, fx.r.ID))}}, 0, nil); err != nil {
		t.Fatal(err)
	}
	again, err := fx.db.ReceivePush(ctx, fx.north.ID, []datafile.InRecord{resent}, 0, []string{fx.r.ID})
	if err != nil || len(again.Parked) != 0 || len(again.Rejections) != 0 || again.Integration.Integrated != 0 {
		t.Fatalf("resent handover batch: %+v %v, want it taken as already had", again, err)
	}
	if rec, err := fx.db.GetRecord(ctx, "stock_line", "late"); err != nil || rec.Values["quantity"] != float64(40) {
		t.Fatalf("South's change after the handover: %v %v", rec.Values, err)
	}
	// A replay of the handover changes nothing.
	if again, err := fx.db.ReceivePush(ctx, fx.north.ID, nil, 0, []string{fx.r.ID}); err != nil || again.HandedOver != 0 {
		t.Fatalf("replayed handover: %+v %v", again, err)
	}
}

func TestChangesBufferedBeforeAHandoverAreStillIntegrated(t *testing.T) {
	ctx := context.Background()
	fx := newHandoverFixture(t)
	// A line for an item central does not have yet waits in the buffer from before the move.
	line := datafile.InRecord{SyncOutID: "src:1", Table: "invoice_line", RecordID: "line-wait", Action: "insert",
		Data: json.RawMessage(fmt.Sprintf(`{"id":"line-wait","invoice_id":"inv-r","item_id":"item-later","store_id":%q,"quantity":1}`, fx.r.ID))}
	if pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, []datafile.InRecord{line}, 0, nil); err != nil || len(pushed.Parked) != 1 {
		t.Fatalf("push: %+v %v", pushed, err)
	}
	if _, _, err := fx.db.MoveStore(ctx, "R", "South", false); err != nil {
		t.Fatal(err)
	}
	if pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, nil, 0, []string{fx.r.ID}); err != nil || pushed.HandedOver != 1 {
		t.Fatalf("handover: %+v %v", pushed, err)
	}
	// The store comes back to North before the line's item arrives: North dropped the line when it handed
	// the store over, so once central can write it, it is queued to North again.
	if _, st, err := fx.db.MoveStore(ctx, "R", "North", false); err != nil || st.SiteID != fx.north.ID {
		t.Fatalf("move back from South, which never synced: %+v %v", st, err)
	}
	mustPut(t, fx.db, "item", `{"id":"item-later","name":"item-later"}`)
	res, err := fx.db.RetryParked(ctx)
	if err != nil || res.Integrated != 1 {
		t.Fatalf("retry: %+v %v, want the line North wrote before handing over integrated", res, err)
	}
	if n := queryInt(t, fx.db, `SELECT count(*) FROM sync_queue WHERE site_id = ? AND record_id = 'line-wait'`, fx.north.ID); n != 1 {
		t.Fatalf("the line is not queued back to North (%d)", n)
	}
}

func TestLateChangesAfterAForcedMoveAreParked(t *testing.T) {
	ctx := context.Background()
	fx := newHandoverFixture(t)
	if _, st, err := fx.db.MoveStore(ctx, "R", "South", true); err != nil || st.SiteID != fx.south.ID {
		t.Fatalf("forced move: %+v %v", st, err)
	}
	pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, []datafile.InRecord{fx.stockLine(1, "late", 4)}, 0, nil)
	if err != nil || len(pushed.Rejections) != 0 || len(pushed.Parked) != 1 || pushed.Parked[0].Code != datafile.ParkedCode {
		t.Fatalf("late push: %+v %v, want it parked", pushed, err)
	}
	if _, err := fx.db.GetRecord(ctx, "stock_line", "late"); datafile.ErrorCode(err) != datafile.ENOTFOUND {
		t.Fatalf("a parked change was integrated over the new site's data: %v", err)
	}
	parked, err := fx.db.ParkedRecords(ctx)
	if err != nil || len(parked) != 1 || parked[0].Site != "North" || parked[0].RecordID != "late" {
		t.Fatalf("parked: %+v %v", parked, err)
	}
	if res, err := fx.db.RetryParked(ctx); err != nil || res.Integrated != 0 {
		t.Fatalf("retry integrated a change the store's new site never saw: %+v %v", res, err)
	}
	// Back on North, the store's late change stays with the administrator: North dropped its copy when it
	// learnt of the move, so writing it now would leave central and North apart.
	if _, st, err := fx.db.MoveStore(ctx, "R", "North", true); err != nil || st.SiteID != fx.north.ID {
		t.Fatalf("move back: %+v %v", st, err)
	}
	if pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, nil, 0, nil); err != nil || pushed.Integration.Integrated != 0 {
		t.Fatalf("push after the store came back: %+v %v", pushed, err)
	}
	if res, err := fx.db.RetryParked(ctx); err != nil || res.Integrated != 0 {
		t.Fatalf("retry after the store came back: %+v %v", res, err)
	}
	if _, err := fx.db.GetRecord(ctx, "stock_line", "late"); datafile.ErrorCode(err) != datafile.ENOTFOUND {
		t.Fatalf("a held change was integrated once its store came back: %v", err)
	}
	if parked, err := fx.db.ParkedRecords(ctx); err != nil || len(parked) != 1 {
		t.Fatalf("parked after the store came back: %+v %v", parked, err)
	}
	// North may still hold its copy: it is sent central's state of the record, here its delete, so that
	// the two agree while the change waits for an administrator.
	queued, _, err := fx.db.QueuedRecords(ctx, fx.north.ID, 5000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range queued {
		if q.RecordID == "late" {
			found = q.Action == "delete"
		}
	}
	if !found {
		t.Fatalf("North is not sent central's state of its held change: %+v", queued)
	}
	// South, which never held the store before, is still refused outright for another store.
	other := mustAddStore(t, fx.db, "X", "North")
	pushed, err = fx.db.ReceivePush(ctx, fx.south.ID, []datafile.InRecord{{SyncOutID: "s:1", Table: "stock_line", RecordID: "steal", Action: "insert",
		Data: json.RawMessage(fmt.Sprintf(`{"id":"steal","store_id":%q,"item_id":"item-1","quantity":1}`, other.ID))}}, 0, nil)
	if err != nil || len(pushed.Rejections) != 1 || pushed.Rejections[0].Code != datafile.RejectNotPermitted {
		t.Fatalf("push for another site's store: %+v %v", pushed, err)
	}
}

func TestMovesThatNeedNoHandover(t *testing.T) {
	ctx := context.Background()
	fx := newHandoverFixture(t)
	// South has never initialised: it holds nothing of a store, which moves away from it at once.
	if _, st, err := fx.db.MoveStore(ctx, "A", "South", false); err != nil || st.SiteID != fx.south.ID || st.MovingToSiteID != nil {
		t.Fatalf("move from central: %+v %v", st, err)
	}
	if _, st, err := fx.db.MoveStore(ctx, "A", "North", false); err != nil || st.SiteID != fx.north.ID {
		t.Fatalf("move from a site that never synced: %+v %v", st, err)
	}
	// Moving a pending store back to its site cancels the move.
	if _, _, err := fx.db.MoveStore(ctx, "R", "South", false); err != nil {
		t.Fatal(err)
	}
	plan, st, err := fx.db.MoveStore(ctx, "R", "North", false)
	if err != nil || !plan.Cancels || st.SiteID != fx.north.ID || st.MovingToSiteID != nil {
		t.Fatalf("cancel: %+v %+v %v", plan, st, err)
	}
	if pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, nil, 0, []string{fx.r.ID}); err != nil || pushed.HandedOver != 0 {
		t.Fatalf("a handover after the cancel moved the store: %+v %v", pushed, err)
	}
}

// TestParkedTransferIsSentBackAsCentralHasIt: a shipment a site wrote for a store forced away from it is
// parked; the site also holds it as a transfer made out to a store of its own, so central sends it what it
// holds of that shipment (nothing: a delete), and the site's copy cannot outlive the parked change.
func TestParkedTransferIsSentBackAsCentralHasIt(t *testing.T) {
	ctx := context.Background()
	fx := newHandoverFixture(t)
	clinic := mustAddStore(t, fx.db, "CL", "North")
	if _, st, err := fx.db.MoveStore(ctx, "R", "South", true); err != nil || st.SiteID != fx.south.ID {
		t.Fatalf("forced move: %+v %v", st, err)
	}
	pushed, err := fx.db.ReceivePush(ctx, fx.north.ID, []datafile.InRecord{{
		SyncOutID: "late:1", Table: "invoice", RecordID: "ci-late", Action: "insert",
		Data: json.RawMessage(fmt.Sprintf(`{"id":"ci-late","store_id":%q,"name_id":%q,"type":"customer_invoice","status":"confirmed","created_at":%q}`,
			fx.r.ID, clinic.NameID, testCreatedAt)),
	}}, 0, nil)
	if err != nil || len(pushed.Parked) != 1 {
		t.Fatalf("late shipment: %+v %v, want it parked", pushed, err)
	}
	recs, _, err := fx.db.QueuedRecords(ctx, fx.north.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sent := ""
	for _, r := range recs {
		if r.RecordID == "ci-late" {
			sent = r.Action
		}
	}
	if sent != "delete" {
		t.Errorf("North is sent %q for its parked shipment, want delete", sent)
	}
}
