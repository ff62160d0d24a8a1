package syncengine

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestNextPageIsFetchedWhileThePageBeforeIsWritten holds the remote's datafile locked from the moment
// the first page of master data is served: the remote cannot write that page until the lock goes, so the
// request for the second page can only arrive meanwhile if it is fetched ahead.
func TestNextPageIsFetchedWhileThePageBeforeIsWritten(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	n.putItems(60, numberedItem("ahead"))
	north := n.newRemote("North", "north-password", "hw-north")
	if err := north.db.SetRequestSize(context.Background(), datafile.MinRequestSize); err != nil {
		t.Fatal(err)
	}

	locker, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: north.db.Path()}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	lockConn, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lockConn.Close()

	var (
		mu            sync.Mutex
		pages         int
		locked        bool
		aheadOfWrites bool
	)
	unlock := func() {
		if locked {
			if _, err := lockConn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
				t.Error(err)
			}
			locked = false
		}
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathCentralRecords {
			mu.Lock()
			pages++
			switch pages {
			case 1:
				if _, err := lockConn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
					t.Error(err)
				}
				locked = true
				go func() {
					// Without fetching ahead the second request never comes while the lock is held.
					time.Sleep(3 * time.Second)
					mu.Lock()
					unlock()
					mu.Unlock()
				}()
			case 2:
				aheadOfWrites = locked
				unlock()
			}
			mu.Unlock()
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	defer front.Close()
	north.through(t, front.URL)
	north.sync(t)

	mu.Lock()
	defer mu.Unlock()
	if pages < 3 {
		t.Fatalf("master data came in %d pages; the test needs several", pages)
	}
	if !aheadOfWrites {
		t.Error("the second page was requested only after the first was written")
	}
	sameChecksums(t, "after a pipelined pull", checksum(t, n.central, ""), checksum(t, north.db, ""), masterTables...)
}

// aheadWatcher is North's datafile, telling when a push batch is read from a cursor of its own: the batch
// after one that is still on its way.
type aheadWatcher struct {
	*datafile.DB
	readAhead chan int64
}

func (a *aheadWatcher) PendingPushAfter(ctx context.Context, cursor int64, limit int) (datafile.PushBatch, error) {
	b, err := a.DB.PendingPushAfter(ctx, cursor, limit)
	if cursor >= 0 {
		select {
		case a.readAhead <- cursor:
		default:
		}
	}
	return b, err
}

// TestNextPushBatchIsReadWhileThePushBeforeIsOnItsWay holds back the server's answer to the first push until
// North has read its next batch: that happens only if the next batch is read while the first travels. Every
// record still reaches central as it is now, a change made after its batch was read included.
func TestNextPushBatchIsReadWhileThePushBeforeIsOnItsWay(t *testing.T) {
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	for i := range 35 {
		n.put(north.db, "stock_line", fmt.Sprintf(`{"id":"stock-%02d","store_id":%q,"item_id":"item-1","quantity":%d}`, i, store, i))
	}
	if err := north.db.SetRequestSize(context.Background(), datafile.MinRequestSize); err != nil {
		t.Fatal(err)
	}
	watcher := &aheadWatcher{DB: north.db, readAhead: make(chan int64, 1)}
	var pushes atomic.Int32
	var overlapped atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == PathQueuedRecords && pushes.Add(1) == 1 {
			select {
			case <-watcher.readAhead:
				overlapped.Store(true)
				// A change after the next batch was read: it must still reach central, as it is now.
				n.put(north.db, "stock_line", `{"id":"stock-15","quantity":1500}`)
			case <-time.After(3 * time.Second):
			}
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	defer front.Close()
	north.through(t, front.URL)
	north.remote.DB = watcher
	north.sync(t)
	if !overlapped.Load() {
		t.Error("the first push was answered before North read its next batch: reading does not overlap the push")
	}
	if pushes.Load() < 4 {
		t.Errorf("%d pushes of 35 records in batches of %d", pushes.Load(), datafile.MinRequestSize)
	}
	got, err := n.central.GetRecord(context.Background(), "stock_line", "stock-15")
	if err != nil || fmt.Sprint(got.Values["quantity"]) != "1500" {
		t.Fatalf("central holds stock-15 as %v (%v), want the change made after its batch was read", got.Values, err)
	}
	sameChecksums(t, "North's stock after the push", checksum(t, north.db, "North-store"), checksum(t, n.central, "North-store"), "stock_line")
}
