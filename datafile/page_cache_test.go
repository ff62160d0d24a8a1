package datafile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestPageCacheByRole checks that only the bulk writers (an import, a received push) give their connection
// the large page cache, and that a remote's pull, whose two connections would otherwise each cache the
// same pages, leaves its connection with the small one. Each case runs on a pool of one connection, so
// that the connection asked afterwards is the one that wrote.
func TestPageCacheByRole(t *testing.T) {
	const small, large = -8 * 1024, -32 * 1024
	cacheSize := func(t *testing.T, db *datafile.DB) int64 {
		t.Helper()
		var n int64
		if err := db.SQL().QueryRow(`PRAGMA cache_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	onOneConnection := func(t *testing.T, db *datafile.DB) {
		t.Helper()
		// Closes the connections the set-up used, so the one left has seen only what the case does.
		db.SQL().SetMaxIdleConns(0)
		db.SQL().SetMaxIdleConns(1)
		db.SQL().SetMaxOpenConns(1)
		if got := cacheSize(t, db); got != small {
			t.Fatalf("a new connection's cache_size is %d, want %d", got, small)
		}
	}

	t.Run("a remote's pull keeps the small cache", func(t *testing.T) {
		db := MustOpenRemote(t)
		onOneConnection(t, db)
		page := make([]datafile.InRecord, 0, 50)
		for i := range 50 {
			id := fmt.Sprintf("item-%d", i)
			page = append(page, datafile.InRecord{Table: "item", RecordID: id, Action: "insert",
				Data: json.RawMessage(fmt.Sprintf(`{"id":%q,"code":"C%d","name":"Item %d"}`, id, i, i))})
		}
		datafile.Prepare(page)
		if _, err := db.IntegrateBatch(context.Background(), datafile.CentralSiteID, page, 50); err != nil {
			t.Fatal(err)
		}
		if got := cacheSize(t, db); got != small {
			t.Fatalf("after a pulled page, cache_size is %d, want the reading connections' %d", got, small)
		}
	})

	t.Run("an import widens it", func(t *testing.T) {
		db := MustOpenUnlockedCentral(t)
		onOneConnection(t, db)
		mustPut(t, db, "item", `{"id":"item-imported","code":"IMP","name":"Imported"}`)
		if got := cacheSize(t, db); got != large {
			t.Fatalf("after an import, cache_size is %d, want the bulk writers' %d", got, large)
		}
	})

	t.Run("a received push widens it", func(t *testing.T) {
		fx := newFuzzFixture(t)
		north, err := fx.db.FindSite(context.Background(), "North")
		if err != nil {
			t.Fatal(err)
		}
		onOneConnection(t, fx.db)
		line := datafile.InRecord{SyncOutID: "cache:1", Table: "invoice_line", RecordID: "line-cache", Action: "insert",
			Data: json.RawMessage(fmt.Sprintf(`{"id":"line-cache","invoice_id":"inv-r","item_id":"item-1","store_id":%q,"quantity":1}`, fx.r.ID))}
		pushed, err := fx.db.ReceivePush(context.Background(), north.ID, []datafile.InRecord{line}, 0, nil)
		if err != nil || len(pushed.Rejections) > 0 {
			t.Fatalf("push: %v %+v", err, pushed.Rejections)
		}
		if got := cacheSize(t, fx.db); got != large {
			t.Fatalf("after a push, cache_size is %d, want the bulk writers' %d", got, large)
		}
	})
}
