package syncengine

import (
	"context"
	"testing"
)

// TestGenerateNewForOneSiteReachesOnlyIt checks 'sync generate --new --site North' end to end: North gets
// back master data it had lost, and West, syncing meanwhile, downloads nothing.
func TestGenerateNewForOneSiteReachesOnlyIt(t *testing.T) {
	ctx := context.Background()
	n := newTestNet(t)
	n.addSite("North", "north-password")
	n.addSite("West", "west-password")
	n.put(n.central, "master_list", `{"id":"ml-1","name":"Essential"}`)
	n.put(n.central, "master_list_line", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-2"}`)
	north := n.newRemote("North", "north-password", "hw-north")
	west := n.newRemote("West", "west-password", "hw-west")
	north.sync(t)
	west.sync(t)

	// North's copy loses records behind sync's back (a restored backup, a hand edit).
	for _, q := range []string{`DELETE FROM master_list_line`, `DELETE FROM item WHERE id = 'item-2'`} {
		if _, err := sqlOf(north.db).ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	site, err := n.central.FindSite(ctx, "North")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.central.GenerateForSites(ctx, site.ID, true); err != nil {
		t.Fatal(err)
	}

	res := west.sync(t)
	if got := res.Run.PullCentralDone + res.Run.PullQueueDone; got != 0 {
		t.Errorf("West pulled %d records after a generate for North only", got)
	}
	res = north.sync(t)
	if res.Run.PullQueueDone == 0 {
		t.Error("North pulled nothing after a generate for it")
	}
	sameChecksums(t, "North after generate", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
	if info, err := n.central.SiteSyncInfo(ctx, site.ID); err != nil || info.QueueLength != 0 {
		t.Errorf("North's queue after the cycle: %+v %v", info, err)
	}
	if sums := checksum(t, north.db, ""); sums["item"].Count != 2 {
		t.Errorf("North holds %d items, want 2", sums["item"].Count)
	}
}
