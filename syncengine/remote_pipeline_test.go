package syncengine

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
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
	client, err := NewClient(ClientConfig{ServerURL: front.URL, SiteName: "North", PasswordDigest: secret.PasswordDigest("north-password"), HardwareID: "hw-north"})
	if err != nil {
		t.Fatal(err)
	}
	north.remote.Client = client
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
