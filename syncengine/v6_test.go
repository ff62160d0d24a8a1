package syncengine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/secret"
)

// v6Call posts body to a v6 path as open-mSupply does: JSON, with the v5 credentials inside it and no
// sync headers.
func (n *testNet) v6Call(t *testing.T, path string, body any) (int, map[string]json.RawMessage) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(n.http.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s answered %d with %s, not a JSON object", path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

func northV6Settings() map[string]any {
	return map[string]any{"serverUrl": "ignored", "username": "North", "passwordSha256": secret.PasswordDigest("north-password"),
		"siteUuid": "hw-north", "appVersion": "2.9.0", "appName": "Open mSupply Desktop", "syncVersion": "14"}
}

// TestSiteAnswerNamesTheServerForV6: open-mSupply parses omSupplyCentralServerUrl and joins
// "central/sync/" to it; an empty URL stops its every cycle.
func TestSiteAnswerNamesTheServerForV6(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	_, _, body := n.do(t, rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-north"})
	var info SiteInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	if want := n.http.URL + "/"; info.OmSupplyCentralServerURL != want {
		t.Errorf("omSupplyCentralServerUrl %q, want %q", info.OmSupplyCentralServerURL, want)
	}
	if info.IsOmSupplyCentralServer {
		t.Error("isOmSupplyCentralServer is true: open-mSupply would push to us as to one of its own central servers")
	}

	n.server.publicBase = "https://sync.example.org/msupply/"
	_, _, body = n.do(t, rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-north"})
	json.Unmarshal(body, &info)
	if info.OmSupplyCentralServerURL != "https://sync.example.org/msupply/" {
		t.Errorf("with a public URL set, omSupplyCentralServerUrl is %q", info.OmSupplyCentralServerURL)
	}
}

func TestV6CallsAnswerAsAnOpenMSupplyCentralWithNothingToSync(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")

	status, out := n.v6Call(t, PathV6Pull, map[string]any{"cursor": 7, "batchSize": 1024, "syncV5Settings": northV6Settings(), "isInitialised": true, "syncV6Version": 5})
	if status != http.StatusOK || string(out["data"]) != `{"end_cursor":7,"total_records":0,"records":[],"is_last_batch":true}` {
		t.Errorf("pull: %d %s", status, out["data"])
	}
	status, out = n.v6Call(t, PathV6SiteStatus, map[string]any{"syncV5Settings": northV6Settings(), "syncV6Version": 5})
	if status != http.StatusOK || string(out["data"]) != `{"is_integrating":false}` {
		t.Errorf("site_status: %d %s", status, out["data"])
	}

	// What open-mSupply pushes to its own central server is of tables this server does not model: it is
	// kept, parked, and the push is answered as done.
	push := map[string]any{"syncV5Settings": northV6Settings(), "syncV6Version": 5, "batch": map[string]any{
		"end_cursor": 12, "total_records": 2, "is_last_batch": true, "records": []any{
			map[string]any{"cursor": 11, "record": map[string]any{"tableName": "vaccination", "recordId": "vac-1", "action": "Upsert", "recordData": map[string]any{"id": "vac-1", "given": true}}},
			map[string]any{"cursor": 12, "record": map[string]any{"tableName": "asset_log", "recordId": "log-1", "action": "Delete", "recordData": map[string]any{}}},
		}}}
	status, out = n.v6Call(t, PathV6Push, push)
	if status != http.StatusOK || string(out["data"]) != `{"records_pushed":2}` {
		t.Fatalf("push: %d %s", status, out)
	}
	parked, err := n.central.ParkedRecords(context.Background())
	if err != nil || len(parked) != 2 {
		t.Fatalf("parked after a v6 push: %+v %v", parked, err)
	}
	for _, p := range parked {
		if p.Site != "North" || !strings.Contains(p.Reason, "sync v6") {
			t.Errorf("parked %+v", p)
		}
	}
}

func TestV6CallsAreAuthenticated(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	wrong := northV6Settings()
	wrong["passwordSha256"] = secret.PasswordDigest("guess")
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"wrong password", map[string]any{"cursor": 0, "syncV5Settings": wrong}, CodeSiteIncorrectPassword},
		{"no credentials", map[string]any{"cursor": 0}, CodeSiteNameNotFound},
		{"unknown site", map[string]any{"cursor": 0, "syncV5Settings": map[string]any{"username": "Nowhere", "passwordSha256": "x", "siteUuid": "hw"}}, CodeSiteNameNotFound},
	} {
		status, out := n.v6Call(t, PathV6Pull, tc.body)
		var e struct {
			Legacy APIError `json:"legacyServerError"`
		}
		json.Unmarshal(out["error"], &e)
		if status != http.StatusUnauthorized || e.Legacy.Code != tc.code || out["data"] != nil {
			t.Errorf("%s: %d %s, want 401 and a legacyServerError %s", tc.name, status, out, tc.code)
		}
	}
	// A push with bad credentials keeps nothing.
	status, _ := n.v6Call(t, PathV6Push, map[string]any{"syncV5Settings": wrong, "batch": map[string]any{"records": []any{
		map[string]any{"cursor": 1, "record": map[string]any{"tableName": "vaccination", "recordId": "vac-1", "action": "Upsert", "recordData": map[string]any{}}}}}})
	if parked, _ := n.central.ParkedRecords(context.Background()); status != http.StatusUnauthorized || len(parked) != 0 {
		t.Errorf("a push with a wrong password: %d, parked %+v", status, parked)
	}
	// Neither a body that is not JSON nor another method gets anything but an error.
	resp, err := http.Post(n.http.URL+PathV6Pull, "", strings.NewReader("{"))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body that is not JSON: %v %v", resp.StatusCode, err)
	}
	if resp, err := http.Get(n.http.URL + PathV6Push); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the v6 push: %v %v", resp.StatusCode, err)
	}
}

// TestInitialisationStatusIsStartedOnlyWhileQueueing: open-mSupply skips its initialise call while central
// says "started", so a re-installed site told "started" for a queue merely not yet read would never be
// sent its data again.
func TestInitialisationStatusIsStartedOnlyWhileQueueing(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	site := func() (SiteInfo, SiteStatus) {
		_, _, body := n.do(t, rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-north"})
		var info SiteInfo
		json.Unmarshal(body, &info)
		_, _, body = n.do(t, rawCall{method: "GET", path: PathSiteStatus, user: "North", password: "north-password", hardware: "hw-north"})
		var st SiteStatus
		json.Unmarshal(body, &st)
		return info, st
	}
	if info, st := site(); info.InitialisationStatus != "new" || st.Code != "idle" {
		t.Fatalf("before initialise: %q, %q", info.InitialisationStatus, st.Code)
	}
	// Store data for North's queue: central's store, with an invoice, moved to North.
	n.put(n.central, "invoice", `{"id":"inv-hq","store_id":"`+n.stores["HQ"].ID+`","name_id":"name-1","type":"customer_invoice"}`)
	if _, _, err := n.central.MoveStore(context.Background(), "HQ", "North", false); err != nil {
		t.Fatal(err)
	}
	if status, _, body := n.do(t, rawCall{method: "POST", path: PathInitialise, user: "North", password: "north-password", hardware: "hw-north", body: []byte(`{}`)}); status != 200 {
		t.Fatalf("initialise: %d %s", status, body)
	}
	if info, st := site(); info.InitialisationStatus != "completed" || info.QueueLength == 0 || st.Code != "idle" {
		t.Fatalf("after initialise, its queue unread: %q (queue %d), %q", info.InitialisationStatus, info.QueueLength, st.Code)
	}
	northID := mustSiteID(t, n, "North")
	if !n.server.tryLockSite(northID, initialising) {
		t.Fatal("North busy")
	}
	info, st := site()
	n.server.unlockSite(northID)
	if info.InitialisationStatus != "started" || st.Code != "initialisation_in_progress" {
		t.Fatalf("while queueing: %q, %q", info.InitialisationStatus, st.Code)
	}
}

// TestPushQueueLengthCountsItsBatch: open-mSupply's queueLength is what it has left including the batch
// it sends, and so is ours; what the site has still to send is what remains after the batch.
func TestPushQueueLengthCountsItsBatch(t *testing.T) {
	n, _ := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	body := `{"queueLength":3,"data":[{"syncOutId":"1","tableName":"stock_line","recordId":"s-1","action":"Update","recordData":{"id":"s-1","store_id":"` + store + `","item_id":"item-1","quantity":1}}]}`
	if status, _, resp := n.do(t, rawCall{method: "POST", path: PathQueuedRecords, user: "North", password: "north-password", hardware: "hw-north", body: []byte(body)}); status != 200 {
		t.Fatalf("push: %d %s", status, resp)
	}
	sites, err := n.central.Sites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		if s.Name == "North" && s.UnsentRecords != 2 {
			t.Errorf("North has %d unsent records, want 2 (3 less the batch)", s.UnsentRecords)
		}
	}
}

func mustSiteID(t *testing.T, n *testNet, name string) int64 {
	t.Helper()
	s, err := n.central.FindSite(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}
