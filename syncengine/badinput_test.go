package syncengine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// TestBadInputAtTheServer: every kind of bad request North can make gets its status and error code, in the
// v5 error shape, and writes nothing on central.
func TestBadInputAtTheServer(t *testing.T) {
	s := newTwoSites(t)
	tooBig := append([]byte(`{"data":[`), bytes.Repeat([]byte(" "), MaxRequestBody)...)
	tooBig = append(tooBig, "]}"...)
	var many bytes.Buffer
	many.WriteString(`{"data":[`)
	for i := 0; i <= MaxPageLimit; i++ {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `{"syncOutId":"m:%d","tableName":"stock_line","recordId":"s-%d","action":"delete"}`, i+1, i)
	}
	many.WriteString(`]}`)
	manyIDs, _ := json.Marshal(AcknowledgeRequest{SyncIDs: make([]string, 2*MaxPageLimit+1)})

	tests := []struct {
		name         string
		method, path string
		body         []byte
		status       int
		code         string
		allow        string // the Allow header a 405 must carry
	}{
		{"push: truncated JSON", "POST", PathQueuedRecords, []byte(`{"data": [`), 400, CodeInvalidRequest, ""},
		{"push: empty body", "POST", PathQueuedRecords, []byte(``), 400, CodeInvalidRequest, ""},
		{"push: not JSON", "POST", PathQueuedRecords, []byte(`queueLength=0&data=`), 400, CodeInvalidRequest, ""},
		{"push: two values", "POST", PathQueuedRecords, []byte(`{"data":[]} {"data":[]}`), 400, CodeInvalidRequest, ""},
		{"push: stray bracket after the body", "POST", PathQueuedRecords, []byte(`{"data":[]}]`), 400, CodeInvalidRequest, ""},
		{"push: an array", "POST", PathQueuedRecords, []byte(`[]`), 400, CodeInvalidRequest, ""},
		{"push: queueLength a string", "POST", PathQueuedRecords, []byte(`{"queueLength":"x","data":[]}`), 400, CodeInvalidRequest, ""},
		{"push: queueLength past int64", "POST", PathQueuedRecords, []byte(`{"queueLength":9223372036854775808,"data":[]}`), 400, CodeInvalidRequest, ""},
		{"push: data an object", "POST", PathQueuedRecords, []byte(`{"data":{}}`), 400, CodeInvalidRequest, ""},
		{"push: syncOutId a number", "POST", PathQueuedRecords, []byte(`{"data":[{"syncOutId":1,"tableName":"stock_line","recordId":"s","action":"delete"}]}`), 400, CodeInvalidRequest, ""},
		{"push: recordData not JSON", "POST", PathQueuedRecords, []byte(`{"data":[{"syncOutId":"1","tableName":"stock_line","recordId":"s","action":"insert","recordData":{id:1}}]}`), 400, CodeInvalidRequest, ""},
		{"push: too many records", "POST", PathQueuedRecords, many.Bytes(), 400, CodeInvalidRequest, ""},
		{"push: body over the limit", "POST", PathQueuedRecords, tooBig, 413, CodeRequestTooLarge, ""},
		{"acknowledge: ids a string", "POST", PathAcknowledgedRecords, []byte(`{"syncIDs":"1"}`), 400, CodeInvalidRequest, ""},
		{"acknowledge: ids numbers", "POST", PathAcknowledgedRecords, []byte(`{"syncIDs":[1,2]}`), 400, CodeInvalidRequest, ""},
		{"acknowledge: truncated", "POST", PathAcknowledgedRecords, []byte(`{"syncIDs":["1"`), 400, CodeInvalidRequest, ""},
		{"acknowledge: too many ids", "POST", PathAcknowledgedRecords, manyIDs, 400, CodeInvalidRequest, ""},
		{"acknowledge: body over the limit", "POST", PathAcknowledgedRecords, tooBig, 413, CodeRequestTooLarge, ""},
		{"central_records: limit text", "GET", PathCentralRecords + "?limit=lots", nil, 400, CodeInvalidRequest, ""},
		{"central_records: limit 0", "GET", PathCentralRecords + "?limit=0", nil, 400, CodeInvalidRequest, ""},
		{"central_records: limit past int", "GET", PathCentralRecords + "?limit=99999999999999999999", nil, 400, CodeInvalidRequest, ""},
		{"central_records: cursor negative", "GET", PathCentralRecords + "?cursor=-1", nil, 400, CodeInvalidRequest, ""},
		{"central_records: cursor a fraction", "GET", PathCentralRecords + "?cursor=1.5", nil, 400, CodeInvalidRequest, ""},
		{"queued_records: limit negative", "GET", PathQueuedRecords + "?limit=-1", nil, 400, CodeInvalidRequest, ""},
		{"queued_records: limit hex", "GET", PathQueuedRecords + "?limit=0x10", nil, 400, CodeInvalidRequest, ""},
		{"wrong method: PUT queued_records", "PUT", PathQueuedRecords, []byte(`{}`), 405, CodeMethodNotAllowed, "GET, HEAD, POST"},
		{"wrong method: DELETE queued_records", "DELETE", PathQueuedRecords, nil, 405, CodeMethodNotAllowed, "GET, HEAD, POST"},
		{"wrong method: GET initialise", "GET", PathInitialise, nil, 405, CodeMethodNotAllowed, "POST"},
		{"wrong method: GET acknowledged_records", "GET", PathAcknowledgedRecords, nil, 405, CodeMethodNotAllowed, "POST"},
		{"wrong method: POST central_records", "POST", PathCentralRecords, []byte(`{}`), 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"wrong method: POST site", "POST", PathSite, []byte(`{}`), 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"wrong method: PATCH site_status", "PATCH", PathSiteStatus, nil, 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"wrong method: POST healthz", "POST", "/healthz", nil, 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"wrong method: DELETE metrics", "DELETE", "/metrics", nil, 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"unknown path: root", "GET", "/", nil, 404, CodeNotFound, ""},
		{"unknown path: v5 endpoint", "GET", "/sync/v5/records", nil, 404, CodeNotFound, ""},
		{"unknown path: v4", "GET", "/sync/v4/site", nil, 404, CodeNotFound, ""},
		{"unknown path: trailing slash", "GET", PathSite + "/", nil, 404, CodeNotFound, ""},
		{"unknown path: below an endpoint", "POST", PathQueuedRecords + "/1", []byte(`{}`), 404, CodeNotFound, ""},
		{"unknown path: case", "GET", "/SYNC/V5/SITE", nil, 404, CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.state(t)
			rec := s.serve(tt.method, tt.path, tt.body, nil)
			checkReply(t, rec, tt.body)
			apiErr, err := errorShape(rec.Body.Bytes())
			if rec.Code != tt.status || err != nil || apiErr.Code != tt.code {
				t.Fatalf("got %d %q (%v): %.300s, want %d %q", rec.Code, apiErr.Code, err, rec.Body, tt.status, tt.code)
			}
			if tt.allow != "" && rec.Header().Get("Allow") != tt.allow {
				t.Fatalf("Allow: %q, want %q", rec.Header().Get("Allow"), tt.allow)
			}
			sameState(t, tt.name, before, s.state(t))
		})
	}
}

// TestBadRecordsAreRefusedOrParked: inside a 200, a pushed record the site may not write, or one without a
// usable table name, id or action, comes back in the answer's rejected list with its code; one of a table
// this server does not model, or whose content it cannot read, is parked (kept, with its reason, never
// integrated), because a client such as open-mSupply never sends a refused record again. Neither is
// written.
func TestBadRecordsAreRefusedOrParked(t *testing.T) {
	s := newTwoSites(t)
	ns, ss := s.northStores[0], s.southStores[0]
	stock := func(id, extra string) string {
		return `{"id":"` + id + `","store_id":"` + ns + `","item_id":"item-1"` + extra + `}`
	}
	tests := []struct {
		name, table, recordID, action, data, code string
	}{
		{"unknown table", "stock_lines", "s-1", "insert", stock("s-1", ""), datafile.ParkedCode},
		{"empty table", "", "s-1", "insert", stock("s-1", ""), datafile.RejectInvalid},
		{"unknown field", "stock_line", "s-1", "insert", stock("s-1", `,"colour":"red"`), datafile.ParkedCode},
		{"number as a string", "stock_line", "s-1", "insert", stock("s-1", `,"quantity":"3"`), datafile.ParkedCode},
		{"negative number", "stock_line", "s-1", "insert", stock("s-1", `,"quantity":-3`), datafile.ParkedCode},
		{"number out of range", "stock_line", "s-1", "insert", stock("s-1", `,"quantity":1e999`), datafile.ParkedCode},
		{"text as a number", "stock_line", "s-1", "insert", stock("s-1", `,"batch":7`), datafile.ParkedCode},
		{"text too long", "stock_line", "s-1", "insert", stock("s-1", `,"batch":"`+strings.Repeat("b", datafile.MaxTextLength+1)+`"`), datafile.ParkedCode},
		{"not a date", "stock_line", "s-1", "insert", stock("s-1", `,"expiry":"2026-02-30"`), datafile.ParkedCode},
		{"date and time past 9999 in UTC", "invoice", "i-1", "insert", `{"id":"i-1","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice","created_at":"9999-12-31T23:30:00-01:00"}`, datafile.ParkedCode},
		{"enum value unknown", "invoice", "i-1", "insert", `{"id":"i-1","store_id":"` + ns + `","name_id":"name-1","type":"credit_note"}`, datafile.ParkedCode},
		{"required field missing", "stock_line", "s-1", "insert", `{"id":"s-1","store_id":"` + ns + `"}`, datafile.ParkedCode},
		{"null for a required reference", "stock_line", "s-1", "insert", stock("s-1", `,"item_id":null`), datafile.ParkedCode},
		{"no id in the data", "stock_line", "s-1", "insert", `{"store_id":"` + ns + `","item_id":"item-1"}`, datafile.ParkedCode},
		{"id a number", "stock_line", "1", "insert", `{"id":1,"store_id":"` + ns + `","item_id":"item-1"}`, datafile.ParkedCode},
		{"empty recordId", "stock_line", "", "delete", "", datafile.RejectInvalid},
		{"recordId too long", "stock_line", strings.Repeat("x", datafile.MaxIDLength+1), "delete", "", datafile.RejectInvalid},
		{"recordId with a control character", "stock_line", "s\n1", "delete", "", datafile.RejectInvalid},
		{"recordData not an object", "stock_line", "s-1", "insert", `[1]`, datafile.ParkedCode},
		{"recordData missing", "stock_line", "s-1", "update", "", datafile.ParkedCode},
		{"recordData a string of JSON", "stock_line", "s-1", "insert", quote(stock("s-1", "")), datafile.ParkedCode},
		{"no action", "stock_line", "s-1", "", stock("s-1", ""), datafile.RejectInvalid},
		{"merge of store data", "stock_line", "s-1", "merge", `{"mergeIdToKeep":"stock-n1","mergeIdToDelete":"s-1"}`, datafile.RejectInvalid},
		{"a store that does not exist", "stock_line", "s-1", "insert", `{"id":"s-1","store_id":"no-such-store","item_id":"item-1"}`, datafile.RejectNotPermitted},
		{"another site's store", "stock_line", "s-1", "insert", `{"id":"s-1","store_id":"` + ss + `","item_id":"item-1"}`, datafile.RejectNotPermitted},
		{"central's store", "stock_line", "s-1", "insert", `{"id":"s-1","store_id":"` + s.hq + `","item_id":"item-1"}`, datafile.RejectNotPermitted},
		{"master data: item", "item", "item-9", "insert", `{"id":"item-9","name":"x"}`, datafile.RejectMasterData},
		{"master data: name", "name", "name-1", "delete", "", datafile.RejectMasterData},
		{"master data: master list line", "master_list_line", "mll-1", "update", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-2"}`, datafile.RejectMasterData},
		{"master data open-mSupply pushes: name_store_join", "name_store_join", "nsj-1", "update", `{"id":"nsj-1","name_id":"name-1","store_id":"` + ns + `","is_active":false}`, datafile.ParkedCode},
		{"master data: site", "site", "2", "update", `{"id":2,"name":"x","type":"mobile"}`, datafile.RejectMasterData},
		{"master data: store", "store", ns, "update", `{"id":"` + ns + `","code":"x","name":"x","site_id":1}`, datafile.RejectMasterData},
		// Referring to a record that is not there is not refused: the record may simply not have arrived
		// yet, so it is parked, waiting in the buffer, and is not written until it can be.
		{"reference to nothing", "stock_line", "s-1", "insert", stock("s-1", `,"item_id":"no-such-item"`), datafile.ParkedCode},
		{"invoice line on no invoice", "invoice_line", "l-1", "insert", `{"id":"l-1","invoice_id":"no-such-invoice","store_id":"` + ns + `","item_id":"item-1"}`, datafile.ParkedCode},
	}
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := `{"syncOutId":"bad:` + strconv.Itoa(i+1) + `","tableName":` + quote(tt.table) + `,"recordId":` + quote(tt.recordID) + `,"action":` + quote(tt.action)
			if tt.data != "" {
				rec += `,"recordData":` + tt.data
			}
			body := []byte(`{"queueLength":0,"data":[` + rec + `}]}`)
			before := s.state(t)
			reply := s.serve("POST", PathQueuedRecords, body, nil)
			checkReply(t, reply, body)
			if reply.Code != http.StatusOK {
				t.Fatalf("status %d %s", reply.Code, reply.Body)
			}
			var resp PushResponse
			if err := json.Unmarshal(reply.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			got := ""
			verdicts := append(resp.Rejected, resp.Parked...)
			if len(verdicts) == 1 && verdicts[0].SyncOutID == "bad:"+strconv.Itoa(i+1) {
				got = verdicts[0].Code
			} else if len(verdicts) > 0 {
				t.Fatalf("refused or parked: %+v", verdicts)
			}
			if got != tt.code {
				t.Fatalf("refused with %q, want %q (%+v)", got, tt.code, resp.Rejected)
			}
			sameState(t, tt.name, before, s.state(t))
			if tt.table != "" {
				if _, err := s.central.GetRecord(ctx, tt.table, tt.recordID); err == nil && tt.code == "" {
					t.Fatalf("%s %s was written", tt.table, tt.recordID)
				}
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFloodFromOneSite: North sends some 300 requests at once, good and bad, while South syncs through its
// Remote as usual. South's sync succeeds and ends equal to central, the server keeps answering /healthz,
// nothing answers with a server error but a 503 for North's own sync already running, and every record of
// North's that the server said it took is on central.
func TestFloodFromOneSite(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the server")
	}
	s := newTwoSites(t)
	ctx := context.Background()
	ns := s.northStores[0]
	ss := s.southStores[0]
	for i := 0; i < 20; i++ {
		s.put(s.south.db, "stock_line", fmt.Sprintf(`{"id":"flood-s-%d","store_id":%q,"item_id":"item-1","quantity":%d}`, i, ss, i))
	}
	north := secret.PasswordDigest("north-password")
	type request struct {
		method, path, user, password, hardware, version string
		body                                            []byte
		stock                                           string // the stock line a good push writes
	}
	var reqs []request
	add := func(r request) {
		if r.user == "" {
			r.user, r.password = "North", north
		}
		if r.hardware == "" {
			r.hardware = "hw-north"
		}
		if r.version == "" {
			r.version = "14"
		}
		reqs = append(reqs, r)
	}
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("flood-n-%d", i)
		// Each good push names a source of its own: pushes that arrive out of order from one source
		// look like replays of older copies to the server, which skips them.
		good := fmt.Sprintf(`{"queueLength":0,"data":[{"syncOutId":"flood-%d:1","tableName":"stock_line","recordId":%q,"action":"insert","recordData":{"id":%q,"store_id":%q,"item_id":"item-1","quantity":%d}}]}`, i, id, id, ns, i)
		switch i % 15 {
		case 0, 1, 2:
			add(request{method: "POST", path: PathQueuedRecords, body: []byte(good), stock: id})
		case 3:
			add(request{method: "POST", path: PathQueuedRecords, body: []byte(`{"data": [`)})
		case 4:
			add(request{method: "POST", path: PathQueuedRecords, body: []byte(`{"data":[{"syncOutId":"x","tableName":"invoice","recordId":"inv-s1","action":"delete"}]}`)})
		case 5:
			add(request{method: "GET", path: PathCentralRecords + "?cursor=0&limit=" + strconv.Itoa(MaxPageLimit)})
		case 6:
			add(request{method: "GET", path: PathQueuedRecords + "?limit=lots"})
		case 7:
			add(request{method: "POST", path: PathAcknowledgedRecords, body: []byte(`{"syncIDs":["1","2","3","-1","x"]}`)})
		case 8:
			add(request{method: "POST", path: PathInitialise, body: []byte(`{}`)})
		case 9:
			add(request{method: "DELETE", path: PathQueuedRecords})
		case 10:
			add(request{method: "GET", path: "/sync/v5/everything"})
		case 11:
			add(request{method: "GET", path: PathSite, version: "3"})
		case 12:
			add(request{method: "GET", path: PathQueuedRecords + "?limit=50"})
		case 13:
			// A name no site has: the server spends a password check on it all the same.
			add(request{method: "GET", path: PathSite, user: "Nobody", password: north})
		case 14:
			add(request{method: "POST", path: PathQueuedRecords, body: []byte(`{"data":[{"syncOutId":"y","tableName":"item","recordId":"item-1","action":"update","recordData":{"id":"item-1","name":"x"}}]}`)})
		}
	}

	client := &http.Client{Timeout: time.Minute}
	var wg sync.WaitGroup
	var failures []string
	var mu sync.Mutex
	var written []string
	var statuses [600]atomic.Int64
	start := make(chan struct{})
	for _, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(r.method, s.http.URL+r.path, bytes.NewReader(r.body))
			req.SetBasicAuth(r.user, r.password)
			req.Header.Set(HeaderHardwareID, r.hardware)
			req.Header.Set(HeaderVersion, r.version)
			resp, err := client.Do(req)
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s %s: %v", r.method, r.path, err))
				mu.Unlock()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			statuses[resp.StatusCode].Add(1)
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode >= 300 {
				apiErr, err := errorShape(body)
				if err != nil || (resp.StatusCode >= 500 && !(resp.StatusCode == 503 && apiErr.Code == CodeSyncIsRunning)) {
					failures = append(failures, fmt.Sprintf("%s %s: %d %.200s", r.method, r.path, resp.StatusCode, body))
				}
				return
			}
			if r.stock != "" && !bytes.Contains(body, []byte("rejected")) {
				written = append(written, r.stock)
			}
		}()
	}
	var healthy atomic.Int64
	healthDone := make(chan struct{})
	go func() {
		defer close(healthDone)
		<-start
		for i := 0; i < 20; i++ {
			resp, err := client.Get(s.http.URL + "/healthz")
			if err == nil {
				if resp.StatusCode == 200 {
					healthy.Add(1)
				}
				resp.Body.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	close(start)
	res, syncErr := s.south.remote.Cycle(ctx, true)
	wg.Wait()
	<-healthDone

	if syncErr != nil {
		t.Fatalf("South's sync during the flood failed: %v", syncErr)
	}
	if len(res.Rejections) > 0 {
		t.Fatalf("South's records refused: %+v", res.Rejections)
	}
	for _, f := range failures {
		t.Error(f)
	}
	if healthy.Load() != 20 {
		t.Errorf("/healthz answered %d of 20 times during the flood", healthy.Load())
	}
	for _, id := range written {
		if _, err := s.central.GetRecord(ctx, "stock_line", id); err != nil {
			t.Errorf("North's %s was taken (200, not rejected) but is not on central: %v", id, err)
		}
	}
	var summary []string
	for code := range statuses {
		if n := statuses[code].Load(); n > 0 {
			summary = append(summary, fmt.Sprintf("%d×%d", n, code))
		}
	}
	t.Logf("flood answers: %s; %d of North's pushes written", strings.Join(summary, " "), len(written))
	// South is equal to central, and the flood changed nothing of South's.
	for _, store := range s.southStores {
		sameChecksums(t, "South after the flood, store "+store, checksum(t, s.south.db, store), checksum(t, s.central, store), "invoice", "invoice_line", "stock_line")
	}
	if got := checksum(t, s.central, ss)["stock_line"].Count; got != 21 {
		t.Fatalf("central holds %d of South's stock lines, want 21", got)
	}
	if resp, err := client.Get(s.http.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz after the flood: %v", err)
	}
}

// TestBadRecordsInALargePush mixes bad records into a push large enough to be decoded on several cores:
// each bad one is refused or parked with the same verdict as alone, and every good one is written.
func TestBadRecordsInALargePush(t *testing.T) {
	s := newTwoSites(t)
	ns, ss := s.northStores[0], s.southStores[0]
	bad := []struct{ data, code string }{
		{`{"id":"%s","store_id":"` + ns + `","item_id":"item-1","colour":"red"}`, datafile.ParkedCode},
		{`{"id":"not-%s","store_id":"` + ns + `","item_id":"item-1"}`, datafile.ParkedCode},
		{`{"id":"%s","store_id":"` + ss + `","item_id":"item-1"}`, datafile.RejectNotPermitted},
		{`{"id":"%s","store_id":"` + ns + `","item_id":"item-1","quantity":"3"}`, datafile.ParkedCode},
		{`[%q]`, datafile.ParkedCode},
	}
	const n = 1200
	var body strings.Builder
	body.WriteString(`{"queueLength":0,"data":[`)
	want := map[string]string{}
	for i := 0; i < n; i++ {
		if i > 0 {
			body.WriteString(",")
		}
		id := fmt.Sprintf("large-%04d", i)
		data := fmt.Sprintf(`{"id":%q,"store_id":%q,"item_id":"item-1","quantity":%d}`, id, ns, i)
		if i%37 == 5 {
			b := bad[(i/37)%len(bad)]
			data = fmt.Sprintf(b.data, id)
			want["large:"+strconv.Itoa(i+1)] = b.code
		}
		fmt.Fprintf(&body, `{"syncOutId":"large:%d","tableName":"stock_line","recordId":%q,"action":"insert","recordData":%s}`, i+1, id, data)
	}
	body.WriteString(`]}`)
	reply := s.serve("POST", PathQueuedRecords, []byte(body.String()), nil)
	if reply.Code != http.StatusOK {
		t.Fatalf("status %d %.300s", reply.Code, reply.Body)
	}
	var resp PushResponse
	if err := json.Unmarshal(reply.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rj := range append(resp.Rejected, resp.Parked...) {
		got[rj.SyncOutID] = rj.Code
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("refused or parked\n got %v\nwant %v", got, want)
	}
	ctx := context.Background()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("large-%04d", i)
		_, err := s.central.GetRecord(ctx, "stock_line", id)
		if _, refused := want["large:"+strconv.Itoa(i+1)]; refused != (err != nil) {
			t.Fatalf("%s: refused %v, read back error %v", id, refused, err)
		}
	}
}
