package syncengine

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// progressLog records what a cycle reports, step by step.
type progressLog struct {
	mu    sync.Mutex
	calls map[string][][2]int64
}

func (p *progressLog) hear(step string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.calls == nil {
		p.calls = map[string][][2]int64{}
	}
	p.calls[step] = append(p.calls[step], [2]int64{done, total})
}

// check fails t for a report whose count is above its total, and returns the step's last report.
func (p *progressLog) check(t *testing.T, step string) [2]int64 {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := p.calls[step]
	if len(calls) == 0 {
		t.Fatalf("no progress reported for %q", step)
	}
	for _, c := range calls {
		if c[0] > c[1] {
			t.Errorf("%s %d/%d: done above total (all reports %v)", step, c[0], c[1], calls)
		}
	}
	return calls[len(calls)-1]
}

// TestMasterDataProgressCountsRecords: on a central whose change log is mostly store data, the cursor
// runs far ahead of the master records it holds; progress counts the records, as the summary does.
func TestMasterDataProgressCountsRecords(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	hq := n.stores["HQ"].ID
	for i := 0; i < 60; i++ {
		n.put(n.central, "invoice", fmt.Sprintf(`{"id":"inv-%d","store_id":"%s","name_id":"name-1","type":"supplier_invoice"}`, i, hq))
	}
	// Master data written after the store data sits at cursors far past the records before it.
	n.put(n.central, "item", `{"id":"item-late","name":"Ibuprofen"}`)
	north := n.newRemote("North", "north-password", "hw-north")
	var heard progressLog
	north.remote.Progress = heard.hear
	res := north.sync(t)
	last := heard.check(t, StepPullCentral)
	if last[0] != res.Run.PullCentralDone || last[1] != res.Run.PullCentralDone {
		t.Errorf("last master data progress %d/%d, want %d/%d as in the summary", last[0], last[1], res.Run.PullCentralDone, res.Run.PullCentralDone)
	}
}

// growingPush adds changes here after the first batch is pushed, as a person entering data during a sync does.
type growingPush struct {
	*datafile.DB
	add   func()
	added bool
}

func (g *growingPush) AdvancePushCursor(ctx context.Context, cursor int64) error {
	if err := g.DB.AdvancePushCursor(ctx, cursor); err != nil {
		return err
	}
	if !g.added {
		g.added = true
		g.add()
	}
	return nil
}

// TestPushProgressGrowsWithChangesMadeDuringIt: changes made while a push runs join it, and the total
// grows with them rather than being passed.
func TestPushProgressGrowsWithChangesMadeDuringIt(t *testing.T) {
	ctx := context.Background()
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	invoices := func(from, to int) {
		for i := from; i < to; i++ {
			n.put(north.db, "invoice", fmt.Sprintf(`{"id":"inv-%d","store_id":"%s","name_id":"name-1","type":"customer_invoice"}`, i, store))
		}
	}
	invoices(0, 30)
	north.db.SetAuthCode(testAuthCode)
	if err := north.db.UpdatePrefs(ctx, datafile.PrefsUpdate{RequestSize: ptr(datafile.MinRequestSize)}); err != nil {
		t.Fatal(err)
	}
	var heard progressLog
	north.remote.Progress = heard.hear
	north.remote.DB = &growingPush{DB: north.db, add: func() { invoices(30, 55) }}
	res := north.sync(t)
	if res.Run.PushDone != 55 {
		t.Fatalf("pushed %d, want all 55", res.Run.PushDone)
	}
	if last := heard.check(t, StepPush); last != [2]int64{55, 55} {
		t.Errorf("last push progress %d/%d, want 55/55", last[0], last[1])
	}
}

func ptr[T any](v T) *T { return &v }
