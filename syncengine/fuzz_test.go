package syncengine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/legacy"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// The fuzz targets here drive the real server handler with North's valid credentials (unless the target
// fuzzes the credentials themselves) against a central datafile shared by every input of a run. Whatever
// an input holds: no panic and no server error (a 503 only for a sync already running), every refusal in
// the v5 error shape, a refused request changes nothing on central, and an accepted one changes nothing
// but North's own store data and queue.

// resetPushState forgets the push sources' high-water marks, so that an earlier input's syncOutId does not
// silently skip a later input's records, and with buffer set also the records waiting in the buffer.
func (s *twoSites) resetPushState(tb testing.TB, buffer bool) {
	tb.Helper()
	qs := []string{`DELETE FROM push_source`}
	if buffer {
		qs = append(qs, `DELETE FROM sync_buffer`)
	}
	for _, q := range qs {
		if _, err := sqlOf(s.central).Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
}

// checkPush checks the answer to a push and what it did.
func (s *twoSites) checkPush(t *testing.T, status int, body, request []byte, before, after centralState) *PushResponse {
	t.Helper()
	switch status {
	case http.StatusOK:
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		sameState(t, "a refused push", before, after)
		return nil
	default:
		t.Fatalf("push answered %d: %.300s", status, body)
	}
	s.othersUntouched(t, "a push", before, after)
	var resp PushResponse
	if err := json.Unmarshal(body, &resp); err != nil || !resp.IntegrationStarted {
		t.Fatalf("push answer %s (%v)", body, err)
	}
	var sent QueuedBatch
	if err := json.Unmarshal(request, &sent); err != nil {
		t.Fatalf("a push the server took is not a batch: %v", err)
	}
	ids := map[string]bool{}
	for _, r := range sent.Data {
		ids[r.SyncOutID] = true
	}
	for _, rj := range resp.Rejected {
		if !ids[rj.SyncOutID] || rj.Code == "" || rj.Message == "" {
			t.Fatalf("rejection %+v does not name a record that was sent", rj)
		}
	}
	return &resp
}

func pushSeeds(s *twoSites) []string {
	ns, ss := s.northStores[0], s.southStores[0]
	return []string{
		`{"queueLength":0,"data":[]}`,
		`{"queueLength":3,"data":[{"syncOutId":"d1:1","tableName":"invoice","recordId":"inv-f1","action":"insert","recordData":{"id":"inv-f1","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice","created_at":"2026-01-31T09:30:00Z"}},` +
			`{"syncOutId":"d1:2","tableName":"invoice_line","recordId":"line-f1","action":"insert","recordData":{"id":"line-f1","invoice_id":"inv-f1","store_id":"` + ns + `","item_id":"item-1","quantity":2.5,"expiry":"2027-01-01"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:3","tableName":"invoice_line","recordId":"line-f1","action":"delete"},{"syncOutId":"d1:4","tableName":"invoice","recordId":"inv-f1","action":"Delete"}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:5","tableName":"invoice","recordId":"inv-s1","action":"update","recordData":{"id":"inv-s1","store_id":"` + ss + `","name_id":"name-1","type":"customer_invoice","their_ref":"x"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:6","tableName":"stock_line","recordId":"stock-s1","action":"delete"}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:7","tableName":"invoice_line","recordId":"line-f2","action":"insert","recordData":{"id":"line-f2","invoice_id":"inv-s1","store_id":"` + ns + `","item_id":"item-1"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:8","tableName":"item","recordId":"item-1","action":"update","recordData":{"id":"item-1","name":"forged"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:9","tableName":"name","recordId":"name-1","action":"merge","recordData":{"mergeIdToKeep":"name-1","mergeIdToDelete":"name-2"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:10","tableName":"site","recordId":"3","action":"update","recordData":{"id":3,"name":"Hijacked","type":"standalone"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"d1:11","tableName":"invoice","recordId":"inv-f3","action":"insert","recordData":{"id":"inv-other","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice"}}]}`,
		`{"queueLength":0,"data":[{"syncOutId":"12","tableName":"stock_line","recordId":"stock-f1","action":"upsert","recordData":{"id":"stock-f1","store_id":"` + ns + `","item_id":"item-2","quantity":1e308,"batch":"\u0000"}}]}`,
		`{"queueLength":-5,"data":null}`,
		`{"queueLength":9223372036854775808,"data":[]}`,
		`{"queueLength":"x","data":5}`,
		`{"data":[{"syncOutId":1,"tableName":"invoice"}]}`,
		`{"data":[{"recordData":"not an object","tableName":"stock_line","recordId":"s","action":"insert"}]}`,
		`{"data":[{"recordData":[1,2],"tableName":"stock_line","recordId":"s","action":"insert"}]}`,
		`{"data":[{"tableName":"no_table","recordId":"","action":""}]}`,
		`{"data":[]}]`,
		`{} {}`,
		`{"data": [`,
		``,
		`null`,
		`[]`,
		`"text"`,
	}
}

// FuzzPushBody sends arbitrary bodies to POST queued_records.
func FuzzPushBody(f *testing.F) {
	s := newTwoSites(f)
	for _, seed := range pushSeeds(s) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s.resetPushState(t, false)
		if n, _, _ := s.central.BufferedCount(context.Background()); n > 200 {
			s.resetPushState(t, true)
		}
		before := s.state(t)
		rec := s.serve("POST", PathQueuedRecords, body, nil)
		checkReply(t, rec, body)
		s.checkPush(t, rec.Code, rec.Body.Bytes(), body, before, s.state(t))
	})
}

// FuzzPushRecord sends one record in a well-formed push, fuzzing each of its parts, so that the input
// reaches the checks and the integration behind the JSON parser. Besides the push invariants: a refused
// record changes nothing, and a record written reads back as it was sent.
func FuzzPushRecord(f *testing.F) {
	s := newTwoSites(f)
	ns, ss, hq := s.northStores[0], s.southStores[0], s.hq
	for _, seed := range []struct{ id, table, recordID, action, data string }{
		{"d:1", "invoice", "inv-f1", "insert", `{"id":"inv-f1","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice","status":"finalised","their_ref":"R1","created_at":"2026-01-31T09:30:00+05:30"}`},
		{"d:2", "invoice", "inv-n1", "update", `{"id":"inv-n1","store_id":"` + ns + `","name_id":"name-1","type":"supplier_invoice"}`},
		{"d:3", "invoice_line", "line-n1", "update", `{"id":"line-n1","invoice_id":"inv-n1","store_id":"` + ns + `","item_id":"item-2","batch":"B","expiry":"2030-12-31","quantity":0.25}`},
		{"d:4", "stock_line", "stock-f1", "insert", `{"id":"stock-f1","store_id":"` + ns + `","item_id":"item-1","quantity":3}`},
		{"d:5", "stock_line", "stock-n1", "delete", ``},
		{"d:6", "invoice", "inv-s1", "update", `{"id":"inv-s1","store_id":"` + ss + `","name_id":"name-1","type":"customer_invoice"}`},
		{"d:7", "invoice", "inv-s1", "update", `{"id":"inv-s1","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice"}`},
		{"d:8", "invoice", "inv-hq", "delete", ``},
		{"d:9", "invoice_line", "line-f2", "insert", `{"id":"line-f2","invoice_id":"inv-s1","store_id":"` + ns + `","item_id":"item-1"}`},
		{"d:10", "invoice_line", "line-f3", "insert", `{"id":"line-f3","invoice_id":"inv-hq","store_id":"` + hq + `","item_id":"item-1"}`},
		{"d:11", "invoice", "inv-f4", "merge", `{"mergeIdToKeep":"inv-n1","mergeIdToDelete":"inv-s1"}`},
		{"d:12", "item", "item-1", "update", `{"id":"item-1","name":"forged"}`},
		{"d:13", "store", ss, "update", `{"id":"` + ss + `","code":"S","name":"S","site_id":2}`},
		{"d:14", "invoice", "inv-f5", "insert", `{"id":"inv-f6","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice"}`},
		{"d:15", "invoice", "inv-f7", "insert", `{"id":"inv-f7","store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice","created_at":"9999-12-31T23:59:59-01:00"}`},
		{"d:16", "stock_line", "stock-f8", "insert", `{"id":"stock-f8","store_id":"` + ns + `","item_id":"item-1","quantity":-1}`},
		{"d:17", "stock_line", "stock-f9", "insert", `{"id":"stock-f9","store_id":"` + ns + `","item_id":"item-1","extra":true}`},
		{"18", "stock_line", "", "insert", `{"id":"","store_id":"` + ns + `","item_id":"item-1"}`},
		{"", "Invoice", "inv-f10", "INSERT", `{"id":"inv-f10"}`},
		{"d:19", "invoice", "inv-f11", "insert", `null`},
		{"d:20", "invoice", "inv-f12", "insert", ``},
		// Legacy shapes, as open-mSupply pushes them.
		{"d:21", "transact", "inv-f13", "Update", `{"ID":"inv-f13","name_ID":"name-1","store_ID":"` + ns + `","invoice_num":3.0,"type":"ci","status":"sg","om_type":"OUTBOUND_SHIPMENT","om_status":"PICKED","their_ref":null,"entry_date":"2026-01-31T00:00:00","entry_time":"13:04:06","currency_rate":1.0,"mode":"store","oms_fields":{"charges_local_currency":0.0}}`},
		{"d:22", "trans_line", "line-f14", "Update", `{"ID":"line-f14","transaction_ID":"inv-n1","item_ID":"item-1","item_name":"x","batch":null,"expiry_date":"2027-01-31T00:00:00","quantity":5.0,"type":"stock_in","pack_size":1.0}`},
		{"d:23", "item_line", "stock-f15", "Update", `{"ID":"stock-f15","store_ID":"` + ns + `","item_ID":"item-1","batch":"B","expiry_date":null,"quantity":4.0,"available":2.0}`},
		{"d:24", "transact", "inv-f16", "Update", `{"ID":"inv-f16","name_ID":"name-1","store_ID":"` + ns + `","type":"ci","om_type":"PRESCRIPTION","mode":"dispensary"}`},
		{"d:25", "trans_line", "line-n1", "Delete", `null`},
		{"d:26", "Location", "loc-1", "Update", `{"ID":"loc-1","code":"A1"}`},
	} {
		f.Add(seed.id, seed.table, seed.recordID, seed.action, []byte(seed.data))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, syncOutID, table, recordID, action string, data []byte) {
		s.resetPushState(t, true)
		envelope := map[string]any{"syncOutId": syncOutID, "tableName": table, "recordId": recordID, "action": action}
		if len(data) > 0 {
			envelope["recordData"] = json.RawMessage(data)
		}
		body, err := json.Marshal(map[string]any{"queueLength": 0, "data": []any{envelope}})
		if err != nil {
			// recordData is not valid JSON: send it as it is, which the server must refuse.
			js, _ := json.Marshal(envelope["tableName"])
			body = []byte(`{"data":[{"tableName":` + string(js) + `,"recordData":` + string(data) + `}]}`)
		}
		before := s.state(t)
		rec := s.serve("POST", PathQueuedRecords, body, nil)
		checkReply(t, rec, body)
		after := s.state(t)
		resp := s.checkPush(t, rec.Code, rec.Body.Bytes(), body, before, after)
		if resp == nil {
			return
		}
		if len(resp.Rejected) > 0 {
			sameState(t, "a refused record", before, after)
			return
		}
		act := strings.ToLower(action)
		if act != "insert" && act != "update" && act != "upsert" {
			return
		}
		// Accepted and, unless it waits in the buffer for a record it refers to, written as it was sent
		// (a legacy record as its translation: not compared field by field).
		ours, translated := legacy.OurTable(table)
		if !translated {
			ours = table
		}
		stored, err := s.central.GetRecord(ctx, ours, recordID)
		if err != nil {
			if waiting, _, _ := s.central.BufferedCount(ctx); waiting == 0 {
				t.Fatalf("an accepted %s %q was neither written nor kept: %v", table, recordID, err)
			}
			return
		}
		if !s.isNorthStore(stored.StoreID()) {
			t.Fatalf("%s %q is in store %q, not North's", table, recordID, stored.StoreID())
		}
		if translated && table != ours {
			return
		}
		sent, err := datafile.DecodeObject(data)
		if err != nil {
			t.Fatalf("an accepted record's data does not decode: %v", err)
		}
		for field, v := range sent {
			if got := stored.Values[field]; !sameValue(t, stored.Table, field, v, got) {
				t.Fatalf("%s %q field %s was sent as %v and reads back as %#v", table, recordID, field, v, got)
			}
		}
	})
}

// sameValue compares a value as sent in JSON with the value stored, by the field's documented type.
func sameValue(t *testing.T, table *datafile.Table, field string, sent, stored any) bool {
	t.Helper()
	if field == "id" {
		return sent == stored
	}
	f, ok := table.Field(field)
	switch {
	case !ok:
		return false
	case sent == nil:
		return stored == nil
	case f.Type == datafile.Number:
		n, err := sent.(json.Number).Float64()
		return err == nil && stored == n
	case f.Type == datafile.DateTime:
		ts, err := time.Parse(time.RFC3339, sent.(string))
		return err == nil && stored == ts.UTC().Format(time.RFC3339)
	}
	return reflect.DeepEqual(sent, stored)
}

// FuzzAcknowledge sends arbitrary bodies to POST acknowledged_records: South's queue never shrinks, and no
// record changes.
func FuzzAcknowledge(f *testing.F) {
	s := newTwoSites(f)
	ctx := context.Background()
	queueIDs := func(site int64) []string {
		rows, err := sqlOf(s.central).Query(`SELECT id FROM sync_queue WHERE site_id = ? ORDER BY id`, site)
		if err != nil {
			f.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		return ids
	}
	quoted := func(ids []string) string {
		b, _ := json.Marshal(ids)
		return string(b)
	}
	south, north := queueIDs(s.southID), queueIDs(s.northID)
	var upTo []string
	for i := 1; i <= 100; i++ {
		upTo = append(upTo, strconv.Itoa(i))
	}
	for _, seed := range []string{
		`{"syncIDs":` + quoted(north) + `}`,
		`{"syncIDs":` + quoted(south) + `}`,
		`{"syncIDs":` + quoted(upTo) + `}`,
		`{"syncIDs":["-1","0","99999999999999999999","abc","","1e3"," 1","+1","North:1"]}`,
		`{"syncIDs":[]}`,
		`{"syncIDs":null}`,
		`{}`,
		`{"syncIDs":[1,2]}`,
		`{"syncIDs":"1"}`,
		`{"syncIDs":["1"],"siteId":` + strconv.FormatInt(s.southID, 10) + `}`,
		`{"syncIDs":["1"]}]`,
		`[]`,
		``,
		`{"syncIDs":[` + strings.Repeat(`"1",`, 2*MaxPageLimit) + `"1"]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if q, _ := s.central.QueuedForSite(ctx, s.northID, ""); q == 0 {
			if _, err := s.central.InitialiseSite(ctx, s.northID); err != nil {
				t.Fatal(err)
			}
		}
		before := s.state(t)
		rec := s.serve("POST", PathAcknowledgedRecords, body, nil)
		checkReply(t, rec, body)
		after := s.state(t)
		switch rec.Code {
		case http.StatusNoContent:
			s.othersUntouched(t, "an acknowledgement", before, after)
			if !reflect.DeepEqual(before.all, after.all) || before.cursor != after.cursor {
				t.Fatal("an acknowledgement changed records")
			}
			if after.queues[s.northID] > before.queues[s.northID] {
				t.Fatal("an acknowledgement grew the queue")
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			sameState(t, "a refused acknowledgement", before, after)
		default:
			t.Fatalf("acknowledgement answered %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzPullQuery sends arbitrary query strings to GET central_records and GET queued_records: the answer is
// a page of what North may read, or a 400 for a cursor or limit that is not a whole number in range, and
// nothing changes.
func FuzzPullQuery(f *testing.F) {
	s := newTwoSites(f)
	for _, q := range []string{"", "cursor=0&limit=500", "cursor=3&limit=1", "limit=1", "cursor=-1", "cursor=abc", "limit=0",
		"limit=-5", "limit=99999999999999999999", "limit=5001", "cursor=9223372036854775807&limit=1", "cursor=1&cursor=2",
		"limit=1;cursor=2", "cursor=%zz", "limit=%31", "cursor=+3", "limit= 1", "site_id=3&limit=100", "store=S2"} {
		f.Add(false, q)
		f.Add(true, q)
	}
	f.Fuzz(func(t *testing.T, queued bool, query string) {
		path := PathCentralRecords
		if queued {
			path = PathQueuedRecords
		}
		before := s.state(t)
		rec := s.serve("GET", path+"?"+query, nil, nil)
		checkReply(t, rec, []byte(query))
		sameState(t, "a read", before, s.state(t))
		vals, _ := url.ParseQuery(query)
		limit, valid := DefaultPageLimit, true
		if v := vals.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			limit, valid = min(n, MaxPageLimit), err == nil && n >= 1
		}
		var cursor int64
		if v := vals.Get("cursor"); v != "" && !queued {
			n, err := strconv.ParseInt(v, 10, 64)
			cursor, valid = n, valid && err == nil && n >= 0
		}
		switch {
		case valid && rec.Code == http.StatusOK && queued:
			s.checkQueuePage(t, rec.Body.Bytes(), limit)
		case valid && rec.Code == http.StatusOK:
			s.checkCentralPage(t, rec.Body.Bytes(), cursor, limit)
		case !valid && rec.Code == http.StatusBadRequest:
		default:
			t.Fatalf("%s?%s answered %d: %.300s", path, query, rec.Code, rec.Body)
		}
	})
}

// FuzzAuth fuzzes what a request says about who sends it: the Authorization header, the hardware ID, the
// API version and the app name, on each endpoint. Only North's exact credential from North's device gets
// in; a request that does not get in changes nothing but the failed-login count.
func FuzzAuth(f *testing.F) {
	s := newTwoSites(f)
	ctx := context.Background()
	digest := secret.PasswordDigest("north-password")
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	routes := []struct{ method, path, body string }{
		{"GET", PathSite, ""},
		{"GET", PathSiteStatus, ""},
		{"GET", PathCentralRecords + "?cursor=0&limit=5", ""},
		{"GET", PathQueuedRecords + "?limit=5", ""},
		{"POST", PathAcknowledgedRecords, `{"syncIDs":[]}`},
		{"POST", PathQueuedRecords, `{"queueLength":0,"data":[]}`},
		{"POST", PathInitialise, `{}`},
	}
	for i := range routes {
		f.Add(basic("North", digest), "hw-north", "14", "msupply-sync", uint8(i))
	}
	for _, seed := range []struct{ auth, hw, version, app string }{
		{basic("north", digest), " hw-north ", "12", "open-mSupply Desktop"},
		{basic("NORTH", strings.ToUpper(digest)), "hw-north", "16", "mSupply Mobile android"},
		{basic("North", "north-password"), "hw-north", "14", ""},
		{basic("South", digest), "hw-north", "14", ""},
		{basic("South", secret.PasswordDigest("south-password")), "hw-north", "14", ""},
		{basic("Central", digest), "hw-north", "14", ""},
		{basic("North", digest), "hw-south", "14", ""},
		{basic("North", digest), "", "14", ""},
		{basic("North", digest), "hw-north", "11", ""},
		{basic("North", digest), "hw-north", "17", ""},
		{basic("North", digest), "hw-north", "", ""},
		{basic("North", digest), "hw-north", "14.0", ""},
		{basic("North", digest), "hw-north", "99999999999999999999", ""},
		{basic("North", ""), "hw-north", "14", ""},
		{basic("", digest), "hw-north", "14", ""},
		{basic("North:"+digest, ""), "hw-north", "14", ""},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("North")), "hw-north", "14", ""},
		{"Basic !!!", "hw-north", "14", ""},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("North:"+digest)), "hw-north", "14", ""},
		{"Bearer " + digest, "hw-north", "14", ""},
		{"", "hw-north", "14", ""},
		{basic("North' OR '1'='1", digest), "hw-north", "14", ""},
	} {
		for _, route := range []uint8{0, 3, 5} {
			f.Add(seed.auth, seed.hw, seed.version, seed.app, route)
		}
	}
	f.Fuzz(func(t *testing.T, authorization, hardware, version, appName string, route uint8) {
		rt := routes[int(route)%len(routes)]
		var body []byte
		if rt.body != "" {
			body = []byte(rt.body)
		}
		var sent *http.Request
		edit := func(r *http.Request) {
			r.Header.Set("Authorization", authorization)
			r.Header.Set(HeaderHardwareID, hardware)
			r.Header.Set(HeaderVersion, version)
			r.Header.Set(HeaderAppName, appName)
			sent = r
		}
		// Each input is judged on its own: earlier inputs' failed logins would have the address refused.
		s.server.auth.backoff = newAddressBackoff()
		before := s.state(t)
		rec := s.serve(rt.method, rt.path, body, edit)
		checkReply(t, rec, []byte(authorization+hardware+version+appName+rt.path))
		after := s.state(t)
		if rec.Code < 300 {
			user, pass, ok := sent.BasicAuth()
			v, err := strconv.Atoi(strings.TrimSpace(version))
			if !ok || !strings.EqualFold(user, "North") || pass != digest || strings.TrimSpace(hardware) != "hw-north" ||
				err != nil || v < MinAPIVersion || v > MaxAPIVersion {
				t.Fatalf("let in: Authorization %q, hardware %q, version %q", authorization, hardware, version)
			}
			s.othersUntouched(t, "a request", before, after)
		} else {
			if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusConflict {
				t.Fatalf("%s %s refused with %d: %s", rt.method, rt.path, rec.Code, rec.Body)
			}
			sameState(t, "a refused request", before, after)
		}
		// Keep North able to log in for the next input.
		if site, err := s.central.FindSite(ctx, "North"); err == nil && site.Blocked {
			if _, err := s.central.UnblockSite(ctx, "North"); err != nil {
				t.Fatal(err)
			}
		}
	})
}
