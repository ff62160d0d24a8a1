package syncengine

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestRemoteRestoredFromBackupLosesNothing: a remote datafile restored from a copy taken before its last
// sync counts its change log from the copy's point again, so the syncOutIds of its new records repeat
// numbers central has already seen from that datafile. Those records must still reach central.
// It is the regression test for central skipping such records as replays while the remote moved its push
// cursor past them: central now reports its high-water mark and the remote pushes under a new id.
func TestRemoteRestoredFromBackupLosesNothing(t *testing.T) {
	n, north := newNetWithSyncedNorth(t)
	ctx := context.Background()
	store := n.stores["North-store"].ID
	path := filepath.Join(n.dir, "North.db")
	reopen := func() {
		db, err := datafile.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		north.db, north.remote.DB = db, db
	}
	// The backup: a copy of the closed datafile.
	north.db.Close()
	backup, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reopen()
	n.put(north.db, "stock_line", `{"id":"stock-before","store_id":"`+store+`","item_id":"item-1","quantity":1}`)
	north.sync(t)
	// The disk fails; the backup is restored and work goes on.
	north.db.Close()
	if err := os.WriteFile(path, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	reopen()
	n.put(north.db, "stock_line", `{"id":"stock-after","store_id":"`+store+`","item_id":"item-2","quantity":2}`)
	if res := north.sync(t); len(res.Rejections) > 0 {
		t.Fatalf("refused: %+v", res.Rejections)
	}
	if _, err := n.central.GetRecord(ctx, "stock_line", "stock-after"); err != nil {
		t.Fatalf("a record written after the restore never reached central: %v", err)
	}
}
