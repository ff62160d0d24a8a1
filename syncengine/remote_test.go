package syncengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

var masterTables = []string{"item", "name", "master_list", "master_list_line"}

func TestInitialisationKeepsSitesApart(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	n.addSite("South", "south-password")
	n.put(n.central, "invoice", `{"id":"inv-hq","store_id":"`+n.stores["HQ"].ID+`","name_id":"name-1","type":"supplier_invoice"}`)
	north := n.newRemote("North", "north-password", "hw-north")
	south := n.newRemote("South", "south-password", "hw-south")
	res := north.sync(t)
	if !res.Initialising {
		t.Error("the first cycle did not initialise")
	}
	south.sync(t)
	ctx := context.Background()

	n.put(north.db, "invoice", `{"id":"inv-n","store_id":"`+n.stores["North-store"].ID+`","name_id":"name-1","type":"customer_invoice"}`)
	n.put(north.db, "invoice_line", `{"id":"line-n","invoice_id":"inv-n","item_id":"item-2","quantity":7}`)
	n.put(south.db, "stock_line", `{"id":"stock-s","store_id":"`+n.stores["South-store"].ID+`","item_id":"item-1","quantity":50}`)
	north.sync(t)
	south.sync(t)
	north.sync(t)

	for _, c := range []struct {
		r     *testRemote
		store string
		other string
	}{{north, "North-store", "South-store"}, {south, "South-store", "North-store"}} {
		sameChecksums(t, c.store+" master data", checksum(t, n.central, ""), checksum(t, c.r.db, ""), masterTables...)
		sameChecksums(t, c.store+" store data", checksum(t, n.central, n.stores[c.store].ID), checksum(t, c.r.db, n.stores[c.store].ID), "invoice", "invoice_line", "stock_line")
		for _, store := range []string{c.other, "HQ"} {
			if sums := checksum(t, c.r.db, n.stores[store].ID); sums["invoice"].Count+sums["stock_line"].Count+sums["invoice_line"].Count != 0 {
				t.Errorf("%s holds store data of %s: %+v", c.store, store, sums)
			}
		}
	}
	if _, err := n.central.GetRecord(ctx, "invoice_line", "line-n"); err != nil {
		t.Errorf("North's line did not reach central: %v", err)
	}
}

func TestMasterDataEditsAndDeletesReachRemotes(t *testing.T) {
	n, north := newNetWithSyncedNorth(t)
	ctx := context.Background()
	n.put(n.central, "item", `{"id":"item-1","name":"Amoxicillin 250mg"}`)
	if err := n.central.ForceDeleteRecord(ctx, "item", "item-2"); err != nil {
		t.Fatal(err)
	}
	n.put(n.central, "master_list", `{"id":"ml-1","name":"Essential"}`)
	n.put(n.central, "master_list_line", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-1"}`)
	north.sync(t)
	rec, err := north.db.GetRecord(ctx, "item", "item-1")
	if err != nil || rec.Values["name"] != "Amoxicillin 250mg" {
		t.Fatalf("edit did not arrive: %v %v", rec.Values, err)
	}
	if _, err := north.db.GetRecord(ctx, "item", "item-2"); err == nil {
		t.Fatal("deleted item is still on the remote")
	}
	sameChecksums(t, "master data", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
}

func TestStoreMoveBringsItsDataAlong(t *testing.T) {
	n, north, south := newNorthAndSouth(t)
	north.sync(t)
	south.sync(t)
	store := n.stores["North-store"].ID
	n.put(north.db, "stock_line", `{"id":"stock-n","store_id":"`+store+`","item_id":"item-1","quantity":9}`)
	north.sync(t)
	if _, _, err := n.central.MoveStore(context.Background(), "North-store", "South", true); err != nil {
		t.Fatal(err)
	}
	south.sync(t)
	north.sync(t)
	if _, err := south.db.GetRecord(context.Background(), "stock_line", "stock-n"); err != nil {
		t.Fatalf("the moved store's data did not reach South: %v", err)
	}
	if _, err := north.db.GetRecord(context.Background(), "stock_line", "stock-n"); err == nil {
		t.Fatal("North still holds the data of a store it no longer has")
	}
	// North may no longer write to the store; South may.
	if _, err := north.db.PutRecords(context.Background(), "stock_line", sourceOf(t, `{"store_id":"`+store+`","item_id":"item-1"}`)); datafile.ErrorCode(err) != datafile.EFORBIDDEN {
		t.Fatalf("North wrote to a store it lost: %v", err)
	}
	n.put(south.db, "stock_line", `{"id":"stock-s","store_id":"`+store+`","item_id":"item-2","quantity":1}`)
	south.sync(t)
	sameChecksums(t, "moved store", checksum(t, n.central, store), checksum(t, south.db, store), "invoice", "invoice_line", "stock_line")
}

func TestInterruptedCyclesConverge(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	n.putItems(300, numberedItem("bulk"))
	north := n.newRemote("North", "north-password", "hw-north")
	if err := north.db.SetRequestSize(context.Background(), datafile.MinRequestSize); err != nil {
		t.Fatal(err)
	}
	// Stop each cycle after a few batches, as SIGTERM does, until a cycle completes.
	completed := false
	for attempt := 0; attempt < 100 && !completed; attempt++ {
		stop := make(chan struct{})
		batches := 0
		north.remote.Stop = stop
		north.remote.Progress = func(string, int64, int64) {
			if batches++; batches == 3 {
				close(stop)
			}
		}
		_, err := north.remote.Cycle(context.Background(), true)
		switch {
		case err == nil:
			completed = true
		case !errors.Is(err, ErrStopped):
			t.Fatalf("cycle %d: %v", attempt, err)
		}
		north.db.SetRequestSize(context.Background(), datafile.MinRequestSize)
	}
	if !completed {
		t.Fatal("no cycle completed")
	}
	sameChecksums(t, "after interrupted cycles", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
}

func TestRequestSizeAdapts(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	var failures atomic.Int32
	failures.Store(2)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathCentralRecords && failures.Add(-1) >= 0 {
			writeError(w, http.StatusServiceUnavailable, "busy", "try later", nil)
			return
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	defer flaky.Close()
	north := n.newRemote("North", "north-password", "hw-north")
	north.through(t, flaky.URL)
	north.remote.Retries = 3
	if err := north.db.SetRequestSize(context.Background(), 400); err != nil {
		t.Fatal(err)
	}
	north.sync(t)
	s, _ := north.db.Settings(context.Background())
	// Two failures halve it twice (100); the successful requests after them grow it again, a little.
	if s.RequestSize >= 400 || s.RequestSize < 100 {
		t.Fatalf("request size after two failures and some successes = %d", s.RequestSize)
	}
	sameChecksums(t, "after retries", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
}

// TestRetriedPullsAskForLess: a page of master data or of the site's queue that fails is asked for again
// with a smaller limit, as a push is sent again smaller: on a link that cuts long answers off, asking again
// for the same would fail the same way.
func TestRetriedPullsAskForLess(t *testing.T) {
	for _, path := range []string{PathCentralRecords, PathQueuedRecords} {
		t.Run(path, func(t *testing.T) {
			n := newTestNet(t)
			n.addSite("North", "north-password")
			var limits []int
			var failed atomic.Bool
			flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && r.URL.Path == path {
					limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
					limits = append(limits, limit)
					if !failed.Swap(true) {
						// Cut off as a dropped link does, after the answer has begun.
						hj, _ := w.(http.Hijacker)
						conn, _, _ := hj.Hijack()
						conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"data\":["))
						conn.Close()
						return
					}
				}
				n.server.Handler().ServeHTTP(w, r)
			}))
			defer flaky.Close()
			north := n.newRemote("North", "north-password", "hw-north")
			north.through(t, flaky.URL)
			north.remote.Retries = 3
			if err := north.db.SetRequestSize(context.Background(), 400); err != nil {
				t.Fatal(err)
			}
			north.sync(t)
			if len(limits) < 2 || limits[1] >= limits[0] {
				t.Fatalf("asked for %v records: the retry after a cut-off answer must ask for fewer", limits)
			}
			sameChecksums(t, "after the retry", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
		})
	}
}

func TestRetriedPushSendsRecordsAsTheyAreNow(t *testing.T) {
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	n.put(north.db, "invoice", `{"id":"inv-1","store_id":"`+store+`","name_id":"name-1","type":"supplier_invoice","their_ref":"first","created_at":"2024-01-01T00:00:00Z"}`)
	for i := 0; i < 40; i++ {
		n.put(north.db, "stock_line", fmt.Sprintf(`{"id":"stock-%02d","store_id":"%s","item_id":"item-1","quantity":%d}`, i, store, i))
	}
	var pushes []QueuedBatch
	var refused atomic.Bool
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == PathQueuedRecords {
			pushes = append(pushes, pushedBatch(t, r))
			if !refused.Swap(true) {
				// Another cycle of this site is pushing: by the time this one tries again, the record has
				// changed.
				n.put(north.db, "invoice", `{"id":"inv-1","their_ref":"second"}`)
				writeError(w, http.StatusServiceUnavailable, CodeSyncIsRunning, "a sync of this site is running", nil)
				return
			}
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	defer busy.Close()
	north.through(t, busy.URL)
	north.remote.Retries = 3
	if err := north.db.SetRequestSize(context.Background(), 40); err != nil {
		t.Fatal(err)
	}
	north.sync(t)
	if len(pushes) < 2 {
		t.Fatalf("%d pushes, want a refused one and its retry", len(pushes))
	}
	if len(pushes[1].Data) >= len(pushes[0].Data) {
		t.Errorf("the retry sent %d records after %d failed: a retry must send a smaller batch", len(pushes[1].Data), len(pushes[0].Data))
	}
	for _, rec := range pushes[1].Data {
		if rec.RecordID == "inv-1" && !strings.Contains(string(rec.RecordData), `"second"`) {
			t.Errorf("the retry sent the invoice as it was before the failure: %s", rec.RecordData)
		}
	}
	got, err := n.central.GetRecord(context.Background(), "invoice", "inv-1")
	if err != nil || got.Values["their_ref"] != "second" {
		t.Fatalf("central holds %v (%v), want their_ref second", got.Values, err)
	}
}

// TestStoreThatComesBackKeepsChangesPushedOnTheWay: a store taken from a site by force and given back
// before the site next syncs. The site pushes what it wrote meanwhile, then reads its queue, which is read
// before the master data that says the store is back: the site must not take the store for gone and drop
// the changes it has just pushed, which central does not send back to the site that made them.
func TestStoreThatComesBackKeepsChangesPushedOnTheWay(t *testing.T) {
	ctx := context.Background()
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	// Something central holds of the store, so that its return fills North's queue.
	n.put(north.db, "stock_line", `{"id":"synced","store_id":"`+store+`","item_id":"item-1","quantity":1}`)
	north.sync(t)
	n.put(north.db, "stock_line", `{"id":"kept","store_id":"`+store+`","item_id":"item-1","quantity":7}`)
	if _, _, err := n.central.MoveStore(ctx, "North-store", "1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := north.remote.Cycle(ctx, false); err != nil { // learns the store is gone, keeps the unsent change
		t.Fatal(err)
	}
	if _, _, err := n.central.MoveStore(ctx, "North-store", "North", false); err != nil {
		t.Fatal(err)
	}
	north.sync(t)
	if _, err := north.db.GetRecord(ctx, "stock_line", "kept"); err != nil {
		t.Fatalf("North lost the change it pushed when its store came back: %v", err)
	}
	if _, err := n.central.GetRecord(ctx, "stock_line", "kept"); err != nil {
		t.Fatalf("central does not have North's change: %v", err)
	}
	sameChecksums(t, "the store after it came back", checksum(t, n.central, store), checksum(t, north.db, store), "stock_line", "invoice", "invoice_line")
}

// TestRequestSizeNeverPassesTheSetting runs cycles that succeed quickly, which grow the adapted request
// size, and checks at the server that no request asks for or pushes more records than the administrator's
// setting, and that the setting itself is never overwritten by the adapting.
func TestRequestSizeNeverPassesTheSetting(t *testing.T) {
	const setting = 40
	ctx := context.Background()
	n := newTestNet(t)
	n.addSite("North", "north-password")
	n.putItems(400, numberedItem("bulk"))
	var mu sync.Mutex
	largest := map[string]int{}
	seen := func(what string, size int) {
		mu.Lock()
		largest[what] = max(largest[what], size)
		mu.Unlock()
	}
	watching := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limit := r.URL.Query().Get("limit"); limit != "" {
			size, err := strconv.Atoi(limit)
			if err != nil {
				t.Errorf("limit %q", limit)
			}
			seen(r.URL.Path, size)
		}
		if r.Method == http.MethodPost && r.URL.Path == PathQueuedRecords {
			seen("push", len(pushedBatch(t, r).Data))
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	defer watching.Close()
	north := n.newRemote("North", "north-password", "hw-north")
	north.through(t, watching.URL)
	north.db.SetAuthCode(testAuthCode)
	if err := north.db.UpdatePrefs(ctx, datafile.PrefsUpdate{RequestSize: &[]int{setting}[0]}); err != nil {
		t.Fatal(err)
	}
	north.sync(t) // initialises, and learns the site's store
	store := n.stores["North-store"].ID
	for i := range 120 {
		n.put(north.db, "stock_line", fmt.Sprintf(`{"id":"stock-%03d","store_id":%q,"item_id":"item-1","quantity":%d}`, i, store, i))
	}
	n.putItems(200, numberedItem("more"))
	for range 3 {
		north.sync(t)
	}
	for _, what := range []string{PathCentralRecords, PathQueuedRecords, "push"} {
		if largest[what] == 0 {
			t.Errorf("%s: no request seen", what)
		}
		if largest[what] > setting {
			t.Errorf("%s: a request of %d records, over the setting of %d", what, largest[what], setting)
		}
	}
	s, err := north.db.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.RequestSizeSetting != setting {
		t.Errorf("the setting is now %d, want %d still", s.RequestSizeSetting, setting)
	}
	if s.RequestSize < datafile.MinRequestSize || s.RequestSize > setting {
		t.Errorf("the adapted size is %d, outside %d to %d", s.RequestSize, datafile.MinRequestSize, setting)
	}
	sameChecksums(t, "master data", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
	sameChecksums(t, "store data", checksum(t, n.central, store), checksum(t, north.db, store), "stock_line")

	// A failure shrinks the size, and quick successes grow it back to the setting, no further.
	if err := north.db.SetRequestSize(ctx, datafile.MinRequestSize); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		north.remote.adapt(ctx, 0, false)
	}
	if s, _ := north.db.Settings(ctx); s.RequestSize != setting || s.RequestSizeSetting != setting {
		t.Errorf("after growing: size %d setting %d, want both %d", s.RequestSize, s.RequestSizeSetting, setting)
	}
	// The datafile holds the line too, whoever asks it to store a larger size.
	if err := north.db.SetRequestSize(ctx, datafile.MaxRequestSize); err != nil {
		t.Fatal(err)
	}
	if s, _ := north.db.Settings(ctx); s.RequestSize != setting {
		t.Errorf("SetRequestSize(%d) stored %d, over the setting of %d", datafile.MaxRequestSize, s.RequestSize, setting)
	}
}
