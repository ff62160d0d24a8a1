package syncengine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/legacy"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// Text written only into South's store data and central's own store data: no answer to North may ever
// carry it.
const (
	southSecret = "SOUTH-SECRET-7f3a"
	hqSecret    = "HQ-SECRET-91c2"
)

// southRecords are the ids of South's store data on central.
var southRecords = []struct{ table, id string }{
	{"invoice", "inv-s1"}, {"invoice_line", "line-s1"}, {"stock_line", "stock-s1"}, {"invoice", "inv-s2"},
}

// twoSites is a central server with two remote sites that have synced their own store data: North, the one
// that misbehaves in these tests, and South, whose data it must never read or change. Both also have store
// data queued for them on central and not yet pulled (a store moved onto each site). Central's own store HQ
// holds store data too. The fuzz, bad-input and isolation tests share it.
type twoSites struct {
	*testNet
	north, south     *testRemote
	northID, southID int64
	hq               string
	northStores      []string // North-store, N2
	southStores      []string // South-store, S2
}

func newTwoSites(tb testing.TB) *twoSites {
	tb.Helper()
	ctx := context.Background()
	n := newTestNet(tb)
	n.addSite("North", "north-password")
	n.addSite("South", "south-password")
	s := &twoSites{testNet: n, hq: n.stores["HQ"].ID}
	n.put(n.central, "master_list", `{"id":"ml-1","name":"Essential"}`)
	n.put(n.central, "master_list_line", `{"id":"mll-1","master_list_id":"ml-1","item_id":"item-1"}`)
	n.put(n.central, "invoice", `{"id":"inv-hq","store_id":"`+s.hq+`","name_id":"name-1","type":"supplier_invoice","their_ref":"`+hqSecret+`"}`)
	n.put(n.central, "stock_line", `{"id":"stock-hq","store_id":"`+s.hq+`","item_id":"item-2","batch":"`+hqSecret+`","quantity":100}`)

	s.north = n.newRemote("North", "north-password", "hw-north")
	s.north.sync(tb)
	ns := n.stores["North-store"].ID
	n.put(s.north.db, "invoice", `{"id":"inv-n1","store_id":"`+ns+`","name_id":"name-1","type":"customer_invoice"}`)
	n.put(s.north.db, "invoice_line", `{"id":"line-n1","invoice_id":"inv-n1","item_id":"item-1","quantity":4}`)
	n.put(s.north.db, "stock_line", `{"id":"stock-n1","store_id":"`+ns+`","item_id":"item-1","quantity":40}`)
	s.north.sync(tb)

	s.south = n.newRemote("South", "south-password", "hw-south")
	s.south.sync(tb)
	ss := n.stores["South-store"].ID
	n.put(s.south.db, "invoice", `{"id":"inv-s1","store_id":"`+ss+`","name_id":"name-1","type":"supplier_invoice","their_ref":"`+southSecret+`"}`)
	n.put(s.south.db, "invoice_line", `{"id":"line-s1","invoice_id":"inv-s1","item_id":"item-1","batch":"`+southSecret+`","quantity":7}`)
	n.put(s.south.db, "stock_line", `{"id":"stock-s1","store_id":"`+ss+`","item_id":"item-2","batch":"`+southSecret+`","quantity":70}`)
	s.south.sync(tb)

	n.addStore("S2", "")
	n.put(n.central, "invoice", `{"id":"inv-s2","store_id":"`+n.stores["S2"].ID+`","name_id":"name-1","type":"customer_invoice","their_ref":"`+southSecret+`"}`)
	n.addStore("N2", "")
	n.put(n.central, "invoice", `{"id":"inv-n2","store_id":"`+n.stores["N2"].ID+`","name_id":"name-1","type":"customer_invoice"}`)
	for store, site := range map[string]string{"S2": "South", "N2": "North"} {
		if _, _, err := n.central.MoveStore(ctx, store, site, true); err != nil {
			tb.Fatal(err)
		}
	}
	s.northStores = []string{ns, n.stores["N2"].ID}
	s.southStores = []string{ss, n.stores["S2"].ID}
	for name, id := range map[string]*int64{"North": &s.northID, "South": &s.southID} {
		site, err := n.central.FindSite(ctx, name)
		if err != nil {
			tb.Fatal(err)
		}
		*id = site.ID
	}
	for _, r := range southRecords {
		if _, err := n.central.GetRecord(ctx, r.table, r.id); err != nil {
			tb.Fatalf("South's %s %s is not on central: %v", r.table, r.id, err)
		}
	}
	if q, _ := n.central.QueuedForSite(ctx, s.southID, ""); q == 0 {
		tb.Fatal("nothing is queued for South")
	}
	return s
}

func (s *twoSites) isNorthStore(id string) bool {
	for _, st := range s.northStores {
		if st == id {
			return true
		}
	}
	return false
}

// serve sends one request straight to the server's handler as North, with North's credentials and device
// unless edit changes them. target is a path, optionally with a raw query after "?".
func (s *twoSites) serve(method, target string, body []byte, edit func(*http.Request)) *httptest.ResponseRecorder {
	path, query, _ := strings.Cut(target, "?")
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(http.MethodGet, "/", rd)
	req.Method = method
	req.URL.Path = path
	req.URL.RawQuery = query
	req.RequestURI = ""
	req.SetBasicAuth("North", secret.PasswordDigest("north-password"))
	req.Header.Set(HeaderHardwareID, "hw-north")
	req.Header.Set(HeaderVersion, strconv.Itoa(APIVersion))
	if edit != nil {
		edit(req)
	}
	rec := httptest.NewRecorder()
	s.server.Handler().ServeHTTP(rec, req)
	return rec
}

// centralState is everything on central that a request from North could change and must not. It is read
// with a handful of queries, since the fuzz targets take it twice an input.
type centralState struct {
	all     map[string]datafile.TableChecksum
	byStore map[string]map[string]string // store id, then table: a digest of that store's records
	queues  map[int64]int                // site id: queue entries (absent: none)
	cursor  int64
	sites   map[int64]string
	stores  string
}

func (s *twoSites) state(tb testing.TB) centralState {
	tb.Helper()
	ctx := context.Background()
	st := centralState{all: checksum(tb, s.central, ""), byStore: map[string]map[string]string{},
		queues: map[int64]int{}, sites: map[int64]string{}}
	for _, t := range datafile.Tables() {
		if t.Kind != datafile.StoreData {
			continue
		}
		recs, err := s.central.ListRecords(ctx, t.Name, nil)
		if err != nil {
			tb.Fatal(err)
		}
		hashes := map[string]hash.Hash{}
		for _, rec := range recs {
			h := hashes[rec.StoreID()]
			if h == nil {
				h = sha256.New()
				hashes[rec.StoreID()] = h
			}
			js, _ := rec.MarshalJSON()
			h.Write(append(js, '\n'))
		}
		for store, h := range hashes {
			if st.byStore[store] == nil {
				st.byStore[store] = map[string]string{}
			}
			st.byStore[store][t.Name] = hex.EncodeToString(h.Sum(nil))
		}
	}
	stores, err := s.central.Stores(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := json.Marshal(stores)
	st.stores = string(b)
	db := sqlOf(s.central)
	rows, err := db.Query(`SELECT site_id, count(*) FROM sync_queue GROUP BY site_id`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var site int64
		var n int
		rows.Scan(&site, &n)
		st.queues[site] = n
	}
	rows.Close()
	rows, err = db.Query(`SELECT id, code, name, type, hardware_id FROM site`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var code, name, typ, hw string
		rows.Scan(&id, &code, &name, &typ, &hw)
		st.sites[id] = fmt.Sprintf("%q %q %s hardware %q", code, name, typ, hw)
	}
	rows.Close()
	if err := db.QueryRow(`SELECT coalesce(max(cursor), 0) FROM changelog`).Scan(&st.cursor); err != nil {
		tb.Fatal(err)
	}
	return st
}

// sameState fails unless nothing at all changed between a and b.
func sameState(tb testing.TB, what string, a, b centralState) {
	tb.Helper()
	switch {
	case !reflect.DeepEqual(a.all, b.all):
		tb.Fatalf("%s changed records on central", what)
	case !reflect.DeepEqual(a.queues, b.queues):
		tb.Fatalf("%s changed queues on central: %v then %v", what, a.queues, b.queues)
	case a.cursor != b.cursor:
		tb.Fatalf("%s added %d change-log entries on central", what, b.cursor-a.cursor)
	case !reflect.DeepEqual(a.sites, b.sites) || a.stores != b.stores:
		tb.Fatalf("%s changed sites or stores on central", what)
	}
}

// othersUntouched fails if anything but North's own store data, queue and site record changed.
func (s *twoSites) othersUntouched(tb testing.TB, what string, a, b centralState) {
	tb.Helper()
	for _, t := range datafile.Tables() {
		if t.Kind == datafile.Master && a.all[t.Name] != b.all[t.Name] {
			tb.Fatalf("%s changed master data (%s) on central", what, t.Name)
		}
	}
	for store, sums := range a.byStore {
		if !s.isNorthStore(store) && !reflect.DeepEqual(sums, b.byStore[store]) {
			tb.Fatalf("%s changed store data of store %s, which is not North's", what, store)
		}
	}
	for site, n := range a.queues {
		if site != s.northID && b.queues[site] != n {
			tb.Fatalf("%s changed site %d's queue from %d to %d entries", what, site, n, b.queues[site])
		}
	}
	for site, view := range a.sites {
		if site != s.northID && b.sites[site] != view {
			tb.Fatalf("%s changed site %d on central: %s became %s", what, site, view, b.sites[site])
		}
	}
	if a.stores != b.stores {
		tb.Fatalf("%s changed stores on central", what)
	}
}

// checkReply checks what holds for every answer to anything North sends: no server error but a busy site,
// every refusal in the v5 error shape, and nothing of South's or central's store data in it. request is
// what was sent (path, query and body), so that text North sent itself and the server names back in a
// message is not taken for a leak.
func checkReply(tb testing.TB, rec *httptest.ResponseRecorder, request []byte) {
	tb.Helper()
	body := rec.Body.Bytes()
	if rec.Code >= 300 && rec.Code < 400 {
		return // the mux's redirect to a cleaned path: nothing was served
	}
	if rec.Code >= 300 {
		apiErr, err := errorShape(body)
		if err != nil {
			tb.Fatalf("status %d with a body that is not a v5 error (%v): %.300s", rec.Code, err, body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			tb.Fatalf("status %d error has Content-Type %q", rec.Code, ct)
		}
		if rec.Code >= 500 && !(rec.Code == http.StatusServiceUnavailable && apiErr.Code == CodeSyncIsRunning) {
			tb.Fatalf("server error %d %s: %s", rec.Code, apiErr.Code, apiErr.Message)
		}
	}
	echoed := bytes.Contains(request, []byte(`\`))
	for _, secret := range []string{southSecret, hqSecret} {
		if bytes.Contains(body, []byte(secret)) && !echoed && !bytes.Contains(request, []byte(secret)) {
			tb.Fatalf("the answer to North carries another store's data (%s): %.500s", secret, body)
		}
	}
}

// errorShape parses a v5 error body strictly: {"error": {"code": "...", "message": "...", "data": ...}}
// and nothing else.
func errorShape(body []byte) (APIError, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return APIError{}, err
	}
	if len(top) != 1 || top["error"] == nil {
		return APIError{}, fmt.Errorf("keys %v, want only error", keys(top))
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(top["error"], &inner); err != nil {
		return APIError{}, err
	}
	if len(inner) != 3 || inner["code"] == nil || inner["message"] == nil || inner["data"] == nil {
		return APIError{}, fmt.Errorf("error keys %v, want code, message, data", keys(inner))
	}
	var e APIError
	if err := json.Unmarshal(top["error"], &e); err != nil {
		return APIError{}, err
	}
	if e.Code == "" || e.Message == "" {
		return APIError{}, fmt.Errorf("empty code or message: %+v", e)
	}
	return e, nil
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// centralTables are the tables central_records may carry: master data, sites and stores.
var centralTables = map[string]bool{"site": true, "store": true, "item": true, "name": true, "list_master": true, "list_master_line": true,
	"unit": true, "currency": true, "name_store_join": true, "list_master_name_join": true}

// checkCentralPage checks a 200 answer to central_records: master data only, after the cursor, in order.
func (s *twoSites) checkCentralPage(tb testing.TB, body []byte, after int64, limit int) CentralBatch {
	tb.Helper()
	var b CentralBatch
	if err := json.Unmarshal(body, &b); err != nil {
		tb.Fatalf("central_records answer is not a batch: %v", err)
	}
	if len(b.Data) > limit {
		tb.Fatalf("%d records for limit %d", len(b.Data), limit)
	}
	last := after
	for _, r := range b.Data {
		if !centralTables[r.TableName] {
			tb.Fatalf("central_records sent a %s record (%s): store data belongs to one site", r.TableName, r.RecordID)
		}
		if r.ID <= last || r.ID > b.MaxCursor {
			tb.Fatalf("cursor %d after %d (max %d)", r.ID, last, b.MaxCursor)
		}
		last = r.ID
		if bytes.Contains(r.RecordData, []byte("password")) || bytes.Contains(r.RecordData, []byte("hardware")) {
			tb.Fatalf("a %s record carries credentials: %s", r.TableName, r.RecordData)
		}
	}
	return b
}

// checkQueuePage checks a 200 answer to queued_records: North's own stores' data only.
func (s *twoSites) checkQueuePage(tb testing.TB, body []byte, limit int) QueuedBatch {
	tb.Helper()
	var b QueuedBatch
	if err := json.Unmarshal(body, &b); err != nil {
		tb.Fatalf("queued_records answer is not a batch: %v", err)
	}
	if len(b.Data) > limit || int64(len(b.Data)) > b.QueueLength {
		tb.Fatalf("%d records for limit %d, queue length %d", len(b.Data), limit, b.QueueLength)
	}
	for _, r := range b.Data {
		if centralTables[r.TableName] {
			tb.Fatalf("North's queue holds master data: %s %s", r.TableName, r.RecordID)
		}
		ours, ok := legacy.OurTable(r.TableName)
		if !ok {
			tb.Fatalf("North's queue holds a %s record, a table of no form of ours", r.TableName)
		}
		for _, sr := range southRecords {
			if ours == sr.table && r.RecordID == sr.id {
				tb.Fatalf("North's queue names South's %s %s", sr.table, sr.id)
			}
		}
		if r.Action == "delete" {
			continue
		}
		// Legacy names the store store_ID; an invoice line's, which legacy does not name, goes as store_id.
		var data struct {
			StoreID       string `json:"store_id"`
			LegacyStoreID string `json:"store_ID"`
		}
		err := json.Unmarshal(r.RecordData, &data)
		if data.StoreID == "" {
			data.StoreID = data.LegacyStoreID
		}
		if err != nil || !s.isNorthStore(data.StoreID) {
			tb.Fatalf("North's queue sent a %s of store %q: %s", r.TableName, data.StoreID, r.RecordData)
		}
	}
	return b
}

// TestIsolationMaliciousSite: North, with valid credentials of its own, tries every endpoint and parameter
// it has to read or change South's data or central's own store data. It gets nothing of them and changes
// nothing of them, and South's next sync leaves South equal to central.
func TestIsolationMaliciousSite(t *testing.T) {
	s := newTwoSites(t)
	ctx := context.Background()
	before := s.state(t)
	southRemote := map[string]map[string]datafile.TableChecksum{}
	for _, store := range s.southStores[:1] {
		southRemote[store] = checksum(t, s.south.db, store)
	}

	t.Run("central_records at any cursor and limit", func(t *testing.T) {
		var maxCursor int64
		sqlOf(s.central).QueryRow(`SELECT max(cursor) FROM changelog`).Scan(&maxCursor)
		cursors := []string{"", "-1", "abc", "1.5", "9223372036854775807", "9223372036854775808", "0x10"}
		for c := int64(0); c <= maxCursor+3; c++ {
			cursors = append(cursors, strconv.FormatInt(c, 10))
		}
		limits := []string{"", "0", "-5", "x", "1", "2", "7", strconv.Itoa(MaxPageLimit), strconv.Itoa(MaxPageLimit + 1), "1099511627776", "99999999999999999999"}
		for _, c := range cursors {
			for _, l := range limits {
				q := "cursor=" + c + "&limit=" + l
				rec := s.serve("GET", PathCentralRecords+"?"+q, nil, nil)
				checkReply(t, rec, []byte(q))
				cur, cerr := strconv.ParseInt(c, 10, 64)
				lim, lerr := strconv.Atoi(l)
				valid := (c == "" || (cerr == nil && cur >= 0)) && (l == "" || (lerr == nil && lim >= 1))
				switch {
				case valid && rec.Code == http.StatusOK:
					if l == "" {
						lim = DefaultPageLimit
					}
					s.checkCentralPage(t, rec.Body.Bytes(), max(cur, 0), min(lim, MaxPageLimit))
				case !valid && rec.Code == http.StatusBadRequest:
				default:
					t.Fatalf("%s: status %d", q, rec.Code)
				}
			}
		}
		// Every page, one record at a time.
		var cursor int64
		for {
			rec := s.serve("GET", fmt.Sprintf("%s?cursor=%d&limit=1", PathCentralRecords, cursor), nil, nil)
			b := s.checkCentralPage(t, rec.Body.Bytes(), cursor, 1)
			if len(b.Data) == 0 {
				break
			}
			cursor = b.Data[0].ID
		}
	})

	t.Run("queued_records with any limit", func(t *testing.T) {
		for _, l := range []string{"", "1", "2", "3", "1000", strconv.Itoa(MaxPageLimit + 1), "1099511627776", "0", "-1", "all", "1;site_id=3"} {
			for _, extra := range []string{"", "&site=South", "&siteId=3", "&site_id=3", "&store=S2"} {
				q := "limit=" + l + extra
				rec := s.serve("GET", PathQueuedRecords+"?"+q, nil, nil)
				checkReply(t, rec, []byte(q))
				// The server reads the query as net/url does, which drops a pair with a semicolon.
				vals, _ := url.ParseQuery(q)
				if n, err := strconv.Atoi(vals.Get("limit")); vals.Get("limit") == "" || (err == nil && n >= 1) {
					if rec.Code != http.StatusOK {
						t.Fatalf("%s: status %d", q, rec.Code)
					}
					s.checkQueuePage(t, rec.Body.Bytes(), MaxPageLimit)
				} else if rec.Code != http.StatusBadRequest {
					t.Fatalf("%s: status %d, want 400", q, rec.Code)
				}
			}
		}
	})

	t.Run("site and site_status", func(t *testing.T) {
		for _, path := range []string{PathSite, PathSiteStatus, PathSite + "?siteId=3", PathSite + "?name=South"} {
			rec := s.serve("GET", path, nil, nil)
			checkReply(t, rec, []byte(path))
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d", path, rec.Code)
			}
			if strings.HasPrefix(path, PathSite+"?") || path == PathSite {
				var info SiteInfo
				json.Unmarshal(rec.Body.Bytes(), &info)
				if info.SiteID != s.northID || info.Name != "North" {
					t.Fatalf("%s told North about %+v", path, info)
				}
			}
		}
	})

	t.Run("acknowledging South's queue", func(t *testing.T) {
		var maxID int64
		sqlOf(s.central).QueryRow(`SELECT max(id) FROM sync_queue`).Scan(&maxID)
		rows, err := sqlOf(s.central).Query(`SELECT id FROM sync_queue WHERE site_id = ?`, s.southID)
		if err != nil {
			t.Fatal(err)
		}
		var southIDs []string
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			southIDs = append(southIDs, strconv.FormatInt(id, 10))
		}
		rows.Close()
		if len(southIDs) == 0 {
			t.Fatal("South's queue is empty")
		}
		var all []string
		for i := int64(1); i <= maxID+50; i++ {
			all = append(all, strconv.FormatInt(i, 10))
		}
		odd := []string{"-1", "0", "-9223372036854775808", "9223372036854775807", "99999999999999999999", "abc", "",
			"1e3", " 1", "1 ", "+1", "0x1", "01", "1.0", "3:1", ":1", "South:1", "1; DELETE FROM sync_queue"}
		for _, id := range southIDs {
			odd = append(odd, " "+id, id+" ", "+"+id, "0"+id, id+".0", "North:"+id, "South:"+id)
		}
		batches := [][]string{southIDs, odd, all, append(append([]string{}, southIDs...), southIDs...)}
		for _, id := range southIDs {
			batches = append(batches, []string{id})
		}
		for _, ids := range batches {
			body, _ := json.Marshal(AcknowledgeRequest{SyncIDs: ids})
			rec := s.serve("POST", PathAcknowledgedRecords, body, nil)
			checkReply(t, rec, body)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("acknowledge %v: status %d %s", ids, rec.Code, rec.Body)
			}
			if q, _ := s.central.QueuedForSite(ctx, s.southID, ""); q != before.queues[s.southID] {
				t.Fatalf("acknowledging %v removed %d of South's queue entries", ids, before.queues[s.southID]-q)
			}
		}
		for _, body := range []string{`{"syncIDs":[` + strings.Join(southIDs, ",") + `]}`, `{"syncIDs":"` + southIDs[0] + `"}`, `{"syncIds":["` + southIDs[0] + `"],"siteId":3}`} {
			rec := s.serve("POST", PathAcknowledgedRecords, []byte(body), nil)
			checkReply(t, rec, []byte(body))
		}
		if q, _ := s.central.QueuedForSite(ctx, s.southID, ""); q != before.queues[s.southID] {
			t.Fatalf("South's queue lost %d entries", before.queues[s.southID]-q)
		}
	})

	t.Run("pushing into other stores", func(t *testing.T) {
		ns, ss, s2, hq := s.northStores[0], s.southStores[0], s.southStores[1], s.hq
		inv := func(id, store, extra string) string {
			return `{"id":"` + id + `","store_id":"` + store + `","name_id":"name-1","type":"customer_invoice"` + extra + `}`
		}
		line := func(id, invoice, store string) string {
			return `{"id":"` + id + `","invoice_id":"` + invoice + `","store_id":"` + store + `","item_id":"item-1","quantity":1}`
		}
		stock := func(id, store string) string {
			return `{"id":"` + id + `","store_id":"` + store + `","item_id":"item-1","quantity":999}`
		}
		const (
			refused = datafile.RejectNotPermitted
			master  = datafile.RejectMasterData
			invalid = datafile.RejectInvalid
			// parked: kept on central for an administrator, but nothing of South's may change: a table central
			// does not model or content it cannot read is held and never integrated, and an invoice line
			// that points at South's invoice waits in the buffer, failing, for ever.
			parked   = datafile.ParkedCode
			accepted = ""
		)
		attacks := []struct {
			name, table, recordID, action, data, want string
		}{
			{"insert into South's store", "invoice", "inv-x1", "insert", inv("inv-x1", ss, ""), refused},
			{"insert into South's moved store", "invoice", "inv-x2", "insert", inv("inv-x2", s2, ""), refused},
			{"insert into central's store", "invoice", "inv-x3", "insert", inv("inv-x3", hq, ""), refused},
			{"insert into no store", "invoice", "inv-x4", "insert", inv("inv-x4", "no-such-store", ""), refused},
			{"update South's invoice", "invoice", "inv-s1", "update", inv("inv-s1", ss, `,"their_ref":"hacked"`), refused},
			{"move South's invoice to North", "invoice", "inv-s1", "update", inv("inv-s1", ns, `,"their_ref":"mine"`), refused},
			{"insert over South's invoice", "invoice", "inv-s1", "insert", inv("inv-s1", ns, ""), refused},
			{"upsert South's queued invoice", "invoice", "inv-s2", "upsert", inv("inv-s2", ns, ""), refused},
			{"update central's invoice", "invoice", "inv-hq", "Update", inv("inv-hq", ns, ""), refused},
			{"delete South's invoice", "invoice", "inv-s1", "delete", "", refused},
			{"delete South's line", "invoice_line", "line-s1", "Delete", "", refused},
			{"delete South's stock", "stock_line", "stock-s1", "DELETE", "", refused},
			{"delete South's queued invoice", "invoice", "inv-s2", "delete", "", refused},
			{"delete central's stock", "stock_line", "stock-hq", "delete", `{"id":"stock-hq"}`, refused},
			{"delete with North's data", "invoice", "inv-s1", "delete", inv("inv-s1", ns, ""), refused},
			{"update South's line", "invoice_line", "line-s1", "update", line("line-s1", "inv-s1", ss), refused},
			{"move South's line to North", "invoice_line", "line-s1", "update", line("line-s1", "inv-n1", ns), refused},
			{"update South's stock", "stock_line", "stock-s1", "update", stock("stock-s1", ss), refused},
			{"take over South's stock", "stock_line", "stock-s1", "update", stock("stock-s1", ns), refused},
			{"line in South's store", "invoice_line", "line-x1", "insert", line("line-x1", "inv-s1", ss), refused},
			{"North's line on South's invoice", "invoice_line", "line-x2", "insert", line("line-x2", "inv-s1", ns), parked},
			{"North's line on central's invoice", "invoice_line", "line-x3", "insert", line("line-x3", "inv-hq", ns), parked},
			{"line without a store on South's invoice", "invoice_line", "line-x4", "insert", `{"id":"line-x4","invoice_id":"inv-s1","item_id":"item-1"}`, parked},
			{"recordId North's, data South's", "invoice", "inv-n9", "update", inv("inv-s1", ns, ""), parked},
			{"recordId South's, data North's", "invoice", "inv-s1", "update", inv("inv-n9", ns, ""), parked},
			{"recordId South's, no data id", "invoice", "inv-s1", "update", `{"store_id":"` + ns + `","name_id":"name-1","type":"customer_invoice"}`, parked},
			{"merge South's invoice away", "invoice", "inv-s1", "merge", `{"mergeIdToKeep":"inv-n1","mergeIdToDelete":"inv-s1"}`, invalid},
			{"merge items", "item", "item-2", "merge", `{"mergeIdToKeep":"item-1","mergeIdToDelete":"item-2"}`, master},
			{"merge names", "name", "name-1", "merge", `{"mergeIdToKeep":"name-x","mergeIdToDelete":"name-1"}`, master},
			{"rename South's site", "site", strconv.FormatInt(s.southID, 10), "update", fmt.Sprintf(`{"id":%d,"code":"","name":"Hijacked","type":"standalone"}`, s.southID), master},
			{"delete South's site", "site", strconv.FormatInt(s.southID, 10), "delete", "", master},
			{"move South's store to North", "store", ss, "update", fmt.Sprintf(`{"id":%q,"code":"South-store","name":"x","site_id":%d}`, ss, s.northID), master},
			{"delete South's store", "store", ss, "delete", "", master},
			{"new store", "store", "st-x", "insert", fmt.Sprintf(`{"id":"st-x","code":"X","name":"x","site_id":%d}`, s.northID), master},
			{"update an item", "item", "item-1", "update", `{"id":"item-1","name":"forged"}`, master},
			{"delete an item", "item", "item-2", "delete", "", master},
			{"name standing for South's store", "name", "name-x", "insert", `{"id":"name-x","name":"x","store_id":"` + ss + `"}`, master},
			{"master list", "master_list", "ml-1", "delete", "", master},
			{"master list line", "master_list_line", "mll-x", "insert", `{"id":"mll-x","master_list_id":"ml-1","item_id":"item-2"}`, master},
			{"the queue table", "sync_queue", "1", "delete", "", parked},
			{"the change log", "changelog", "1", "insert", `{"id":"1"}`, parked},
			{"the settings", "settings", "1", "update", `{"id":"1","role":"remote"}`, parked},
			{"SQL in the table name", "invoice WHERE 1=1; --", "inv-s1", "delete", "", invalid},
			{"SQL in the record id", "invoice", "inv-s1' OR '1'='1", "delete", "", accepted},
			{"an unknown action", "invoice", "inv-s1", "truncate", "", invalid},
		}
		for i, a := range attacks {
			before := s.state(t)
			rec := QueuedRecord{SyncOutID: fmt.Sprintf("attack:%d", i+1), SyncRecord: SyncRecord{TableName: a.table, RecordID: a.recordID, Action: a.action}}
			if a.data != "" {
				rec.RecordData = json.RawMessage(a.data)
			}
			body, err := json.Marshal(QueuedBatch{Data: []QueuedRecord{rec}})
			if err != nil {
				t.Fatal(err)
			}
			reply := s.serve("POST", PathQueuedRecords, body, nil)
			checkReply(t, reply, body)
			if reply.Code != http.StatusOK {
				t.Fatalf("%s: status %d %s", a.name, reply.Code, reply.Body)
			}
			var resp PushResponse
			json.Unmarshal(reply.Body.Bytes(), &resp)
			got := ""
			if verdicts := append(resp.Rejected, resp.Parked...); len(verdicts) > 0 {
				got = verdicts[0].Code
			}
			if got != a.want {
				t.Errorf("%s: refused with %q, want %q (%+v, parked %+v)", a.name, got, a.want, resp.Rejected, resp.Parked)
			}
			s.othersUntouched(t, a.name, before, s.state(t))
		}
		if _, err := s.central.GetRecord(ctx, "invoice_line", "line-x2"); err == nil {
			t.Error("North's line on South's invoice was written")
		}
		// Its own store data North may still write.
		own := QueuedBatch{Data: []QueuedRecord{{SyncOutID: "attack:1000", SyncRecord: SyncRecord{TableName: "stock_line", RecordID: "stock-n2", Action: "insert", RecordData: json.RawMessage(stock("stock-n2", ns))}}}}
		body, _ := json.Marshal(own)
		if reply := s.serve("POST", PathQueuedRecords, body, nil); reply.Code != http.StatusOK || strings.Contains(reply.Body.String(), "rejected") {
			t.Fatalf("North's own stock line: %d %s", reply.Code, reply.Body)
		}
		if _, err := s.central.GetRecord(ctx, "stock_line", "stock-n2"); err != nil {
			t.Fatalf("North's own stock line was not written: %v", err)
		}
	})

	t.Run("initialise", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			rec := s.serve("POST", PathInitialise, []byte(`{"siteId":3,"storeId":"`+s.southStores[0]+`"}`), nil)
			checkReply(t, rec, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("initialise: %d %s", rec.Code, rec.Body)
			}
		}
		rec := s.serve("GET", PathQueuedRecords+"?limit="+strconv.Itoa(MaxPageLimit), nil, nil)
		b := s.checkQueuePage(t, rec.Body.Bytes(), MaxPageLimit)
		if len(b.Data) == 0 {
			t.Fatal("initialise queued nothing of North's own")
		}
	})

	t.Run("other credentials and devices", func(t *testing.T) {
		// Two wrong passwords for South, not five: blocking South is a refusal too, but not this test's.
		for _, try := range []struct {
			paths []string
			edit  func(*http.Request)
		}{
			{[]string{PathQueuedRecords, PathCentralRecords, PathSite}, func(r *http.Request) { r.Header.Set(HeaderHardwareID, "hw-south") }},
			{[]string{PathQueuedRecords}, func(r *http.Request) { r.SetBasicAuth("South", secret.PasswordDigest("north-password")) }},
			{[]string{PathQueuedRecords}, func(r *http.Request) { r.SetBasicAuth("South", "") }},
			{[]string{PathQueuedRecords, PathSite}, func(r *http.Request) { r.SetBasicAuth("Central", secret.PasswordDigest("north-password")) }},
		} {
			for _, path := range try.paths {
				rec := s.serve("GET", path, nil, try.edit)
				checkReply(t, rec, nil)
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("%s with another site's identity: %d %s", path, rec.Code, rec.Body)
				}
			}
		}
	})

	after := s.state(t)
	s.othersUntouched(t, "North's attempts", before, after)
	for _, r := range southRecords {
		got, err := s.central.GetRecord(ctx, r.table, r.id)
		if err != nil {
			t.Fatalf("South's %s %s is gone from central: %v", r.table, r.id, err)
		}
		if !s.isNorthStore(got.StoreID()) && got.StoreID() != s.southStores[0] && got.StoreID() != s.southStores[1] {
			t.Fatalf("South's %s %s moved to store %s", r.table, r.id, got.StoreID())
		}
	}

	// South syncs as usual and ends up equal to central, with its data as it wrote it.
	s.south.sync(t)
	for _, store := range s.southStores {
		sameChecksums(t, "South's remote and central, store "+store, checksum(t, s.south.db, store), checksum(t, s.central, store), "invoice", "invoice_line", "stock_line")
	}
	sameChecksums(t, "South's own store on its remote", southRemote[s.southStores[0]], checksum(t, s.south.db, s.southStores[0]), "invoice", "invoice_line", "stock_line")
	if rec, err := s.south.db.GetRecord(ctx, "invoice", "inv-s2"); err != nil || rec.Values["their_ref"] != southSecret {
		t.Fatalf("South did not receive its queued invoice: %v %v", rec.Values, err)
	}
	sameChecksums(t, "South's master data", checksum(t, s.south.db, ""), checksum(t, s.central, ""), masterTables...)
	if q, _ := s.central.QueuedForSite(ctx, s.southID, ""); q != 0 {
		t.Fatalf("South's queue holds %d entries after its sync", q)
	}

	// And North, syncing, holds nothing of South's or central's store data.
	s.north.sync(t)
	for _, store := range append([]string{s.hq}, s.southStores...) {
		for table, sum := range checksum(t, s.north.db, store) {
			if sum.Count != 0 {
				t.Fatalf("North's remote holds %d %s records of store %s", sum.Count, table, store)
			}
		}
	}
}

// TestQueueEntryOutlivingItsRecord: an entry in North's queue names a record by table and id. If North
// deletes that record itself before pulling the entry, and a record with the same id is then written in
// South's store, the entry must not serve South's record to North.
// It is the regression test for datafile.QueuedRecords once loading whatever record had the entry's id.
func TestQueueEntryOutlivingItsRecord(t *testing.T) {
	s := newTwoSites(t)
	ctx := context.Background()
	// inv-n2 is queued for North (its store was moved there) and not yet pulled; North deletes it.
	resp, err := s.north.client.Push(ctx, QueuedBatch{Data: []QueuedRecord{{SyncOutID: "reuse:1", SyncRecord: SyncRecord{TableName: "invoice", RecordID: "inv-n2", Action: "delete"}}}})
	if err != nil || len(resp.Rejected) > 0 {
		t.Fatalf("North's delete of its own invoice: %v %+v", err, resp.Rejected)
	}
	if _, err := s.central.GetRecord(ctx, "invoice", "inv-n2"); err == nil {
		t.Fatal("inv-n2 was not deleted")
	}
	// South writes a record that happens to have the same id.
	s.put(s.south.db, "invoice", `{"id":"inv-n2","store_id":"`+s.southStores[0]+`","name_id":"name-1","type":"customer_invoice","their_ref":"`+southSecret+`"}`)
	s.south.sync(t)
	if rec, err := s.central.GetRecord(ctx, "invoice", "inv-n2"); err != nil || rec.StoreID() != s.southStores[0] {
		t.Fatalf("South's invoice is not on central: %v", err)
	}
	rec := s.serve("GET", PathQueuedRecords+"?limit=100", nil, nil)
	checkReply(t, rec, nil)
	s.checkQueuePage(t, rec.Body.Bytes(), 100)
}
