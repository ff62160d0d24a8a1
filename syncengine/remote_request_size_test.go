package syncengine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
)

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
			data, err := io.ReadAll(r.Body)
			var batch QueuedBatch
			if err == nil {
				err = json.Unmarshal(data, &batch)
			}
			if err != nil {
				t.Errorf("push body: %v", err)
			}
			seen("push", len(batch.Data))
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		n.server.Handler().ServeHTTP(w, r)
	}))
	defer watching.Close()
	north := n.newRemote("North", "north-password", "hw-north")
	client, err := NewClient(ClientConfig{ServerURL: watching.URL, SiteName: "North", PasswordDigest: secret.PasswordDigest("north-password"), HardwareID: "hw-north"})
	if err != nil {
		t.Fatal(err)
	}
	north.remote.Client = client
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
