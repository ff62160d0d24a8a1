package syncengine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestStoreMovedDuringACycleReachesItsNewSite moves a store to South at the worst moment of South's cycle:
// after South has read the master data (which still says the store is North's) and before it reads its
// queue (which already holds the store's data). The data must still end up on South.
func TestStoreMovedDuringACycleReachesItsNewSite(t *testing.T) {
	n, north := newNetWithSyncedNorth(t, "South")
	store := n.stores["North-store"].ID
	n.put(north.db, "stock_line", `{"id":"stock-n","store_id":"`+store+`","item_id":"item-1","quantity":9}`)
	north.sync(t)

	// South talks to the server through a hook that moves the store the first time South asks for
	// central_records or queued_records after having seen the master data: whichever South reads last
	// is read after the move, the other before it.
	var once sync.Once
	var seen []string
	hooked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == PathCentralRecords || r.URL.Path == PathQueuedRecords) {
			seen = append(seen, r.URL.Path)
			if len(seen) > 1 && seen[len(seen)-1] != seen[0] {
				once.Do(func() {
					if _, _, err := n.central.MoveStore(context.Background(), "North-store", "South", true); err != nil {
						t.Error(err)
					}
				})
			}
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(hooked.Close)
	south := n.newRemote("South", "south-password", "hw-south")
	south.client.base.Host = hooked.Listener.Addr().String()
	south.sync(t)
	south.sync(t)
	south.sync(t)

	if _, err := south.db.GetRecord(context.Background(), "stock_line", "stock-n"); err != nil {
		t.Fatalf("the store moved during South's cycle, and its data never reached South: %v", err)
	}
	sameChecksums(t, "moved store", checksum(t, n.central, store), checksum(t, south.db, store), "invoice", "invoice_line", "stock_line")
}

// TestSiteKeepsWhatItPushedOnceItsStoreIsBack: South changes its store after the store was forced away to
// North, and learns of the move before it pushes, so it keeps the change. The store comes back to South,
// and South pushes: central integrates the change as the store's own site's, and never sends it back. South
// then reads the master data a record at a time, so a page bringing another store comes before the page
// that says South's store is South's again. Judged on that first page, the store still looks North's and
// its pushed data would be purged, never to return.
func TestSiteKeepsWhatItPushedOnceItsStoreIsBack(t *testing.T) {
	ctx := context.Background()
	n, _ := newNetWithSyncedNorth(t, "South")
	south := n.newRemote("South", "south-password", "hw-south")
	south.sync(t)
	store := n.stores["South-store"].ID
	if _, _, err := n.central.MoveStore(ctx, "South-store", "North", true); err != nil {
		t.Fatal(err)
	}
	n.put(south.db, "stock_line", `{"id":"stock-late","store_id":"`+store+`","item_id":"item-1","quantity":4}`)
	if _, err := south.remote.Cycle(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := south.db.GetRecord(ctx, "stock_line", "stock-late"); err != nil {
		t.Fatalf("South dropped a change it had not pushed on learning that its store was forced away: %v", err)
	}
	n.addStore("Depot", "")
	if _, _, err := n.central.MoveStore(ctx, "South-store", "South", true); err != nil {
		t.Fatal(err)
	}

	onePerPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathCentralRecords {
			q := r.URL.Query()
			q.Set("limit", "1")
			r.URL.RawQuery = q.Encode()
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(onePerPage.Close)
	south.through(t, onePerPage.URL)
	south.sync(t)
	south.sync(t)

	if _, err := n.central.GetRecord(ctx, "stock_line", "stock-late"); err != nil {
		t.Fatalf("central did not integrate the change South pushed once its store was back: %v", err)
	}
	if _, err := south.db.GetRecord(ctx, "stock_line", "stock-late"); err != nil {
		t.Fatalf("South lost the change it pushed once its store was back, and central holds it: %v", err)
	}
	sameChecksums(t, "store back on South", checksum(t, n.central, store), checksum(t, south.db, store), "stock_line")
}
