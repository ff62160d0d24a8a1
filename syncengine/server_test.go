package syncengine

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// rawCall sends one v5 request the way a remote would, with full control over every part of it.
type rawCall struct {
	method, path, user, password, hardware, version string
	body                                            []byte
	encoding                                        string // the body's Content-Encoding
}

func (n *testNet) do(t *testing.T, c rawCall) (int, ErrorBody, []byte) {
	t.Helper()
	if c.version == "" {
		c.version = "14"
	}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, n.http.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, secret.PasswordDigest(c.password))
	}
	req.Header.Set(HeaderHardwareID, c.hardware)
	req.Header.Set(HeaderVersion, c.version)
	if c.encoding != "" {
		req.Header.Set("Content-Encoding", c.encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb ErrorBody
	json.Unmarshal(data, &eb)
	return resp.StatusCode, eb, data
}

func TestAuthentication(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	ok := rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-1"}

	tests := []struct {
		name       string
		call       rawCall
		wantStatus int
		wantCode   string
	}{
		{"no credentials", rawCall{method: "GET", path: PathSite, hardware: "hw-1"}, 401, CodeSiteNameNotFound},
		{"unknown site", rawCall{method: "GET", path: PathSite, user: "Nobody", password: "x", hardware: "hw-1"}, 401, CodeSiteNameNotFound},
		{"central site cannot log in", rawCall{method: "GET", path: PathSite, user: "Central", password: "x", hardware: "hw-1"}, 401, CodeSiteNameNotFound},
		{"old version", func() rawCall { c := ok; c.version = "3"; return c }(), 409, CodeAPIVersionIncompatible},
		{"missing version", func() rawCall { c := ok; c.version = " "; return c }(), 409, CodeAPIVersionIncompatible},
		{"no hardware id", func() rawCall { c := ok; c.hardware = ""; return c }(), 401, CodeSiteIncorrectHardware},
		{"right credentials", ok, 200, ""},
		{"second device", func() rawCall { c := ok; c.hardware = "hw-2"; return c }(), 401, CodeSiteIncorrectHardware},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, eb, data := n.do(t, tt.call)
			if status != tt.wantStatus || eb.Error.Code != tt.wantCode {
				t.Fatalf("got %d %q (%s), want %d %q", status, eb.Error.Code, data, tt.wantStatus, tt.wantCode)
			}
		})
	}
	t.Run("version refusal says which versions", func(t *testing.T) {
		c := ok
		c.version = "99"
		_, eb, _ := n.do(t, c)
		var data struct{ Major, Minor int }
		if err := json.Unmarshal(eb.Error.Data, &data); err != nil || data.Major != APIMajor || data.Minor != APIVersion {
			t.Fatalf("data = %s", eb.Error.Data)
		}
	})
}

func TestBlockingAfterFailedLogins(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	bad := rawCall{method: "GET", path: PathSite, user: "North", password: "wrong-password", hardware: "hw-1"}
	good := rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-1"}
	for i := 1; i <= 4; i++ {
		if status, eb, _ := n.do(t, bad); status != 401 || eb.Error.Code != CodeSiteIncorrectPassword {
			t.Fatalf("failure %d: %d %s", i, status, eb.Error.Code)
		}
	}
	// A success resets the streak, so it takes five more in a row to block.
	if status, _, _ := n.do(t, good); status != 200 {
		t.Fatalf("good login: %d", status)
	}
	for i := 1; i <= 4; i++ {
		n.do(t, bad)
	}
	if status, eb, _ := n.do(t, bad); status != 401 || eb.Error.Code != CodeSiteAuthTimeout {
		t.Fatalf("fifth failure in a row: %d %s, want blocked", status, eb.Error.Code)
	}
	if status, eb, _ := n.do(t, good); status != 401 || eb.Error.Code != CodeSiteAuthTimeout {
		t.Fatalf("right password while blocked: %d %s", status, eb.Error.Code)
	}
	if _, err := n.central.UnblockSite(context.Background(), "North"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := n.do(t, good); status != 200 {
		t.Fatalf("after unblock: %d", status)
	}
}

func TestCredentialCacheDroppedOnPasswordChange(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	good := rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-1"}
	if status, _, _ := n.do(t, good); status != 200 {
		t.Fatal(status)
	}
	newPassword := "another-password"
	if _, err := n.central.EditSite(context.Background(), "North", datafile.SiteUpdate{Password: &newPassword}); err != nil {
		t.Fatal(err)
	}
	if status, eb, _ := n.do(t, good); status != 401 || eb.Error.Code != CodeSiteIncorrectPassword {
		t.Fatalf("old password after change: %d %s, want refused", status, eb.Error.Code)
	}
	good.password = newPassword
	if status, _, _ := n.do(t, good); status != 200 {
		t.Fatalf("new password: %d", status)
	}
}

func TestBadRequests(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	base := rawCall{user: "North", password: "north-password", hardware: "hw-1"}
	with := func(method, path string, body []byte) rawCall {
		c := base
		c.method, c.path, c.body = method, path, body
		return c
	}
	tests := []struct {
		name       string
		call       rawCall
		wantStatus int
		wantCode   string
	}{
		{"malformed push", with("POST", PathQueuedRecords, []byte(`{"data": [`)), 400, CodeInvalidRequest},
		{"two values", with("POST", PathQueuedRecords, []byte(`{} {}`)), 400, CodeInvalidRequest},
		{"wrong types", with("POST", PathQueuedRecords, []byte(`{"queueLength": "x", "data": 5}`)), 400, CodeInvalidRequest},
		{"oversized body", with("POST", PathQueuedRecords, append([]byte(`{"data":[`), bytes.Repeat([]byte(" "), MaxRequestBody+10)...)), 413, CodeRequestTooLarge},
		{"negative limit", with("GET", PathQueuedRecords+"?limit=-1", nil), 400, CodeInvalidRequest},
		{"text limit", with("GET", PathCentralRecords+"?limit=lots", nil), 400, CodeInvalidRequest},
		{"limit past 64 bits", with("GET", PathCentralRecords+"?limit=99999999999999999999", nil), 400, CodeInvalidRequest},
		{"negative cursor", with("GET", PathCentralRecords+"?cursor=-5", nil), 400, CodeInvalidRequest},
		{"malformed acknowledgement", with("POST", PathAcknowledgedRecords, []byte(`{"syncIDs": "1"}`)), 400, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := checksum(t, n.central, "")
			status, eb, data := n.do(t, tt.call)
			if status != tt.wantStatus || eb.Error.Code != tt.wantCode {
				t.Fatalf("got %d %q (%.200s), want %d %q", status, eb.Error.Code, data, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(tt.call.path, "limit=9999") && !strings.Contains(eb.Error.Message, "too large") {
				// "at least 1" would send the caller looking for a sign error that is not there.
				t.Fatalf("message %q does not say the limit is too large", eb.Error.Message)
			}
			if after := checksum(t, n.central, ""); !equalSums(before, after) {
				t.Fatal("a refused request changed the central datafile")
			}
		})
	}
}

func equalSums(a, b map[string]datafile.TableChecksum) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestPushRefusesWhatTheSiteMayNotWrite(t *testing.T) {
	n, north := newNetWithSyncedNorth(t, "South")
	southStore := n.stores["South-store"].ID
	northStore := n.stores["North-store"].ID
	push := QueuedBatch{Data: []QueuedRecord{
		{SyncOutID: "1", SyncRecord: SyncRecord{TableName: "item", RecordID: "item-x", Action: "insert", RecordData: json.RawMessage(`{"id":"item-x","name":"forged"}`)}},
		{SyncOutID: "2", SyncRecord: SyncRecord{TableName: "invoice", RecordID: "inv-s", Action: "insert",
			RecordData: json.RawMessage(`{"id":"inv-s","store_id":"` + southStore + `","name_id":"name-1","type":"customer_invoice"}`)}},
		{SyncOutID: "3", SyncRecord: SyncRecord{TableName: "site", RecordID: "2", Action: "update", RecordData: json.RawMessage(`{"id":2,"name":"Hijacked","type":"standalone"}`)}},
		{SyncOutID: "4", SyncRecord: SyncRecord{TableName: "no_such_table", RecordID: "x", Action: "insert", RecordData: json.RawMessage(`{}`)}},
		{SyncOutID: "5", SyncRecord: SyncRecord{TableName: "invoice", RecordID: "inv-n", Action: "insert",
			RecordData: json.RawMessage(`{"id":"inv-n","store_id":"` + northStore + `","name_id":"name-1","type":"bogus"}`)}},
		{SyncOutID: "6", SyncRecord: SyncRecord{TableName: "invoice", RecordID: "inv-ok", Action: "insert",
			RecordData: json.RawMessage(`{"id":"inv-ok","store_id":"` + northStore + `","name_id":"name-1","type":"customer_invoice"}`)}},
	}}
	resp, err := north.client.Push(context.Background(), push)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"1": datafile.RejectMasterData, "2": datafile.RejectNotPermitted, "3": datafile.RejectMasterData,
		"4": datafile.ParkedCode, "5": datafile.ParkedCode}
	got := map[string]string{}
	for _, rj := range append(resp.Rejected, resp.Parked...) {
		got[rj.SyncOutID] = rj.Code
	}
	for id, code := range want {
		if got[id] != code {
			t.Errorf("record %s: rejection %q, want %q", id, got[id], code)
		}
	}
	if _, ok := got["6"]; ok {
		t.Errorf("the site's own invoice was refused: %+v", resp.Rejected)
	}
	if _, err := n.central.GetRecord(context.Background(), "invoice", "inv-ok"); err != nil {
		t.Errorf("the accepted invoice is not on central: %v", err)
	}
	for _, id := range []string{"inv-s", "inv-n"} {
		if _, err := n.central.GetRecord(context.Background(), "invoice", id); err == nil {
			t.Errorf("refused invoice %s was written", id)
		}
	}
	if _, err := n.central.GetRecord(context.Background(), "item", "item-x"); err == nil {
		t.Error("forged item was written")
	}
	if site, _ := n.central.FindSite(context.Background(), "2"); site.Name != "North" {
		t.Errorf("site renamed to %q by a push", site.Name)
	}
}

func TestReplayedPushChangesNothing(t *testing.T) {
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	batch := QueuedBatch{Data: []QueuedRecord{
		{SyncOutID: "1", SyncRecord: SyncRecord{TableName: "invoice", RecordID: "inv-1", Action: "insert",
			RecordData: json.RawMessage(`{"id":"inv-1","store_id":"` + store + `","name_id":"name-1","type":"customer_invoice","created_at":"2026-01-01T00:00:00Z"}`)}},
		{SyncOutID: "2", SyncRecord: SyncRecord{TableName: "invoice_line", RecordID: "line-1", Action: "insert",
			RecordData: json.RawMessage(`{"id":"line-1","invoice_id":"inv-1","store_id":"` + store + `","item_id":"item-1","quantity":3}`)}},
	}}
	if _, err := north.client.Push(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	before := checksum(t, n.central, "")
	changes, _ := n.central.Changes(context.Background(), 0, 1<<30)
	for i := 0; i < 3; i++ {
		if _, err := north.client.Push(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if after := checksum(t, n.central, ""); !equalSums(before, after) {
		t.Fatal("a replayed push changed the records")
	}
	again, _ := n.central.Changes(context.Background(), 0, 1<<30)
	if len(again) != len(changes) {
		t.Fatalf("a replayed push added %d change-log entries", len(again)-len(changes))
	}
}

func TestAcknowledgeTouchesOnlyOwnQueue(t *testing.T) {
	n, north, south := newNorthAndSouth(t)
	ctx := context.Background()
	// Put store data on South's store by moving the central store there.
	n.put(n.central, "invoice", `{"id":"inv-hq","store_id":"`+n.stores["HQ"].ID+`","name_id":"name-1","type":"customer_invoice"}`)
	if _, _, err := n.central.MoveStore(ctx, "HQ", "South", true); err != nil {
		t.Fatal(err)
	}
	queued, err := n.central.QueuedForSite(ctx, 3, "")
	if err != nil || queued == 0 {
		t.Fatalf("nothing queued for South: %d %v", queued, err)
	}
	north.sync(t)
	var ids []string
	for i := 0; i < 200; i++ {
		ids = append(ids, strings.Repeat("1", i%5+1), "-1", "x", "99999999999999999999")
	}
	if err := north.client.Acknowledge(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if after, _ := n.central.QueuedForSite(ctx, 3, ""); after != queued {
		t.Fatalf("North's acknowledgements removed %d of South's queue entries", queued-after)
	}
	south.sync(t)
	if _, err := south.db.GetRecord(ctx, "invoice", "inv-hq"); err != nil {
		t.Fatalf("South did not receive the moved store's invoice: %v", err)
	}
}

func TestVersionCheckRunsBeforeAuthentication(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	c := rawCall{method: "GET", path: PathSite, user: "North", password: "wrong", hardware: "hw", version: "1"}
	for i := 0; i < 6; i++ {
		if status, _, _ := n.do(t, c); status != 409 {
			t.Fatalf("status %d", status)
		}
	}
	site, _ := n.central.FindSite(context.Background(), "North")
	if site.Blocked {
		t.Fatal("requests refused for their version counted as failed logins")
	}
}

func TestMetrics(t *testing.T) {
	n, _ := newNetWithSyncedNorth(t, "South")
	// South's device binds it without syncing, then fails its password until the site is blocked.
	if status, _, _ := n.do(t, rawCall{method: "GET", path: PathSite, user: "South", password: "south-password", hardware: "hw-south"}); status != 200 {
		t.Fatalf("South's first login: %d", status)
	}
	for i := 0; i < MaxFailedLogins; i++ {
		n.do(t, rawCall{method: "GET", path: PathSite, user: "South", password: "wrong", hardware: "hw-south"})
	}
	resp, err := http.Get(n.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`msupply_sync_requests_total{endpoint="site",status="200"}`,
		`msupply_sync_records_pulled_total{source="central"}`,
		`msupply_sync_auth_failures_total{code="site_incorrect_password"} 4`,
		`msupply_sync_site_blocked{site="South"} 1`,
		`msupply_sync_site_blocked{site="North"} 0`,
		`msupply_sync_blocked_sites 1`,
		`msupply_sync_site_queue_length{site="North"} 0`,
		`msupply_sync_site_last_sync_timestamp_seconds{site="North"}`,
		`msupply_sync_site_last_contact_timestamp_seconds{site="North"}`,
		`msupply_sync_site_last_contact_timestamp_seconds{site="South"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), `msupply_sync_site_last_sync_timestamp_seconds{site="South"}`) {
		t.Error("a site that only logged in has a last-sync time")
	}
}

// TestLastSyncIsACompletedCycle: a site's last sync is the last cycle it completed, which central sees as
// the read that finds its queue empty; any authenticated request is only a contact.
func TestLastSyncIsACompletedCycle(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	n.addSite("South", "south-password")
	ctx := context.Background()
	lastTimes := func(name string) (sync, contact *time.Time) {
		t.Helper()
		s, err := n.central.FindSite(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSyncAt, s.LastContactAt
	}
	south := rawCall{method: "GET", path: PathSite, user: "South", password: "south-password", hardware: "hw-south"}
	for _, path := range []string{PathSite, PathSiteStatus, PathCentralRecords + "?cursor=0"} {
		south.path = path
		if status, _, body := n.do(t, south); status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}
	if sync, contact := lastTimes("South"); sync != nil || contact == nil {
		t.Fatalf("after requests that only authenticate: last sync %v, last contact %v; want none and some", sync, contact)
	}

	// A queue read that leaves records waiting is not the end of a cycle.
	n.put(n.central, "invoice", `{"id":"inv-hq","store_id":"`+n.stores["HQ"].ID+`","name_id":"name-1","type":"customer_invoice"}`)
	if _, _, err := n.central.MoveStore(ctx, "HQ", "South", true); err != nil {
		t.Fatal(err)
	}
	south.path = PathQueuedRecords + "?limit=1"
	var page QueuedBatch
	status, _, body := n.do(t, south)
	if err := json.Unmarshal(body, &page); status != 200 || err != nil || page.QueueLength == 0 {
		t.Fatalf("queue read: %d %s", status, body)
	}
	if sync, _ := lastTimes("South"); sync != nil {
		t.Fatalf("a queue read with %d records left set the last sync", page.QueueLength)
	}

	// A full cycle does, and its contact too.
	n.newRemote("South", "south-password", "hw-south").sync(t)
	if sync, contact := lastTimes("South"); sync == nil || contact == nil {
		t.Fatalf("after a full cycle: last sync %v, last contact %v", sync, contact)
	}
	if sync, contact := lastTimes("North"); sync != nil || contact != nil {
		t.Fatalf("North never called but has last sync %v, last contact %v", sync, contact)
	}
}

// TestReplayedOldPushDoesNotUndoANewerOne is the regression test for a replay (a duplicated request
// arriving late) bringing back the content of an older push over a newer one.
func TestReplayedOldPushDoesNotUndoANewerOne(t *testing.T) {
	n, north, old := northWithAnOldPush(t)
	ctx := context.Background()
	if _, err := north.client.Push(ctx, old); err != nil {
		t.Fatal(err)
	}
	rec, err := n.central.GetRecord(ctx, "stock_line", "stock-1")
	if err != nil || rec.Values["quantity"] != float64(7) {
		t.Fatalf("after replaying the old push central has quantity %v (%v), want 7", rec.Values["quantity"], err)
	}
}

// TestReplayedInitialiseDoesNotReopenOldCopies: a late duplicate of POST initialise must not let an old
// push back in over newer content.
func TestReplayedInitialiseDoesNotReopenOldCopies(t *testing.T) {
	n, north, old := northWithAnOldPush(t)
	ctx := context.Background()
	if _, err := north.client.Initialise(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := north.client.Push(ctx, old); err != nil {
		t.Fatal(err)
	}
	if rec, _ := n.central.GetRecord(ctx, "stock_line", "stock-1"); rec.Values["quantity"] != float64(7) {
		t.Fatalf("quantity %v after a replayed initialise and push, want 7", rec.Values["quantity"])
	}
}

// pushOnce pushes what the remote has pending, as its sync cycle would, and returns the request it sent,
// for a test to replay.
// northWithAnOldPush returns a network whose North pushed stock-1 at quantity 10 (the batch returned) and
// then synced quantity 7 over it: the old batch is what a late duplicate request would carry.
func northWithAnOldPush(t *testing.T) (*testNet, *testRemote, QueuedBatch) {
	t.Helper()
	n, north := newNetWithSyncedNorth(t)
	store := n.stores["North-store"].ID
	n.put(north.db, "stock_line", `{"id":"stock-1","store_id":"`+store+`","item_id":"item-1","quantity":10}`)
	old := pushOnce(t, north)
	n.put(north.db, "stock_line", `{"id":"stock-1","quantity":7}`)
	north.sync(t)
	return n, north, old
}

func pushOnce(t *testing.T, r *testRemote) QueuedBatch {
	t.Helper()
	ctx := context.Background()
	if err := r.db.RotateDatafileID(ctx); err != nil {
		t.Fatal(err)
	}
	pending, err := r.db.PendingPush(ctx, 100)
	recs := pending.Records
	if err != nil || len(recs) == 0 {
		t.Fatalf("pending: %v %v", recs, err)
	}
	batch := QueuedBatch{}
	look := r.db.LegacyLookup(ctx)
	for _, rec := range recs {
		wire, err := toWire(rec, look)
		if err != nil {
			t.Fatal(err)
		}
		batch.Data = append(batch.Data, QueuedRecord{SyncOutID: rec.SyncOutID, SyncRecord: wire})
	}
	if _, err := r.client.Push(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := r.db.AdvancePushCursor(ctx, recs[len(recs)-1].Cursor); err != nil {
		t.Fatal(err)
	}
	return batch
}

func TestPulledPagesAreGzippedWhenAccepted(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	for _, gz := range []bool{true, false} {
		req, _ := http.NewRequest("GET", n.http.URL+PathCentralRecords+"?cursor=0&limit=100", nil)
		req.SetBasicAuth("North", secret.PasswordDigest("north-password"))
		req.Header.Set(HeaderHardwareID, "hw-1")
		req.Header.Set(HeaderVersion, "14")
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		// A transport with compression off hands back the body as sent.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != gz {
			t.Fatalf("accept gzip %v: Content-Encoding %q", gz, resp.Header.Get("Content-Encoding"))
		}
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		var batch CentralBatch
		if err := json.Unmarshal(body, &batch); err != nil || len(batch.Data) == 0 {
			t.Fatalf("accept gzip %v: %v, %d records", gz, err, len(batch.Data))
		}
	}
}

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

// TestHardwareIDIsBounded: a hardware ID is at most 200 printable characters. The server refuses a longer
// one with a v5 error before binding it to the site, and the client refuses to send one.
func TestHardwareIDIsBounded(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	for _, tt := range []struct {
		name, id string
	}{
		{"30000 characters", strings.Repeat("x", 30000)},
		{"one past the bound", strings.Repeat("h", MaxHardwareIDLength+1)},
		{"a tab", "device\tone"},
		{"not ASCII", "appareil-é"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, n.http.URL+PathSite, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth("North", secret.PasswordDigest("north-password"))
			req.Header.Set(HeaderHardwareID, tt.id)
			req.Header.Set(HeaderVersion, "14")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var eb ErrorBody
			if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &eb) != nil || eb.Error.Code != CodeInvalidRequest ||
				!strings.Contains(eb.Error.Message, "msupply-site-uuid header must be 1 to 200 printable ASCII characters") {
				t.Errorf("got %d %.300s, want 400 invalid_request naming the bound", resp.StatusCode, body)
			}
			if _, err := NewClient(ClientConfig{ServerURL: n.http.URL, SiteName: "North", HardwareID: tt.id}); err == nil {
				t.Error("the client accepted the hardware ID")
			}
		})
	}
	site, err := n.central.FindSite(context.Background(), "North")
	if err != nil || site.HardwareID != "" {
		t.Fatalf("North is bound to %.50q (%v); nothing should have bound it", site.HardwareID, err)
	}
	if _, err := NewClient(ClientConfig{ServerURL: n.http.URL, SiteName: "North", HardwareID: strings.Repeat("h", MaxHardwareIDLength)}); err != nil {
		t.Errorf("a hardware ID at the bound was refused: %v", err)
	}
}
