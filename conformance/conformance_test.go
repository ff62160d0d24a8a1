// Package conformance plays open-mSupply's v5 sync cycle, request by request as its client makes them,
// against this project's central server ('msupply-sync serve --central', run in-process from the command
// line), with legacy-shaped records both ways, and checks every record the server sends against
// legacy_tables.md.
package conformance

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/commands"
	"github.com/msupply-foundation/msupply-sync/legacy/legacyspec"
)

// central is a central datafile served on loopback by 'msupply-sync serve --central'.
type central struct {
	t    *testing.T
	path string
	url  string
}

// cli runs an msupply-sync command line on the central datafile and returns its standard output.
func (c *central) cli(stdin string, args ...string) string {
	c.t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--datafile", c.path}, args...)
	if code := commands.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb); code != 0 {
		c.t.Fatalf("msupply-sync %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

const authCode = "conformance-code"

func startCentral(t *testing.T) *central {
	dir := t.TempDir()
	c := &central{t: t, path: filepath.Join(dir, "central.db")}
	c.cli("", "init", "--central", "--site-name", "Central", "--auth-code", authCode)
	c.cli("north-secret-pass\n", "site", "add", "--name", "North", "--password-stdin", "--auth-code", authCode)
	c.cli("", "store", "add", "--code", "N1", "--name", "North One", "--auth-code", authCode)
	c.cli("", "record", "put", "unit", `{"id":"unit-tab","name":"Tab"}`)
	c.cli("", "record", "put", "item", `[{"id":"item-amx","code":"AMX","name":"Amoxicillin 250mg","unit_id":"unit-tab"},{"id":"item-par","code":"PAR","name":"Paracetamol 500mg"}]`)
	c.cli("", "record", "put", "name", `{"id":"name-sup","code":"SUP","name":"Supplier Ltd","is_supplier":true}`)
	c.cli("", "record", "put", "master_list", `{"id":"ml-eml","code":"EML","name":"Essential medicines"}`)
	c.cli("", "record", "put", "master_list_line", `[{"id":"mll-amx","master_list_id":"ml-eml","item_id":"item-amx"},{"id":"mll-par","master_list_id":"ml-eml","item_id":"item-par"}]`)
	storeID := storeIDOf(t, c.cli("", "store", "list", "--output", "json"), "N1")
	c.cli("", "record", "put", "name_store_join", `{"id":"nsj-sup-n1","name_id":"name-sup","store_id":"`+storeID+`","is_supplier":true}`)
	// Store data North gets in its queue: an invoice written on central, its store then moved to North.
	c.cli("", "record", "put", "invoice", `{"id":"inv-hq-1","store_id":"`+storeID+`","name_id":"name-sup","type":"supplier_invoice","their_ref":"PO-1","created_at":"2026-11-02T08:15:30Z"}`)
	c.cli("", "record", "put", "invoice_line", `{"id":"line-hq-1","invoice_id":"inv-hq-1","item_id":"item-amx","batch":"B7","expiry":"2027-06-30","quantity":100}`)
	c.cli("", "record", "put", "stock_line", `{"id":"stock-hq-1","store_id":"`+storeID+`","item_id":"item-amx","batch":"B7","expiry":"2027-06-30","quantity":100}`)
	c.cli("", "store", "move", "N1", "--to", "North", "--auth-code", authCode)

	ctx, cancel := context.WithCancel(context.Background())
	addrFile := filepath.Join(dir, "url.txt")
	var wg sync.WaitGroup
	var serveOut, serveErr bytes.Buffer
	wg.Go(func() {
		commands.Run(ctx, []string{"--datafile", c.path, "serve", "--central", "--listen", "127.0.0.1:0", "--addr-file", addrFile},
			strings.NewReader(""), &serveOut, &serveErr)
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if strings.Contains(serveErr.String(), "level=ERROR") {
			t.Errorf("the server logged an error:\n%s", serveErr.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			c.url = strings.TrimSpace(string(b))
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", serveErr.String())
		}
	}
}

func storeIDOf(t *testing.T, storesJSON, code string) string {
	var stores []struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(storesJSON), &stores); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		if s.Code == code {
			return s.ID
		}
	}
	t.Fatalf("no store %s in %s", code, storesJSON)
	return ""
}

// syncRecord is a record on the v5 wire, as open-mSupply's CommonSyncRecord reads it.
type syncRecord struct {
	TableName  string          `json:"tableName"`
	RecordID   string          `json:"recordId"`
	Action     string          `json:"action"`
	RecordData json.RawMessage `json:"recordData,omitempty"`
}

// wirePage is a page of central_records (maxCursor, records with their ID) or of queued_records
// (queueLength, records with their syncOutId).
type wirePage struct {
	MaxCursor   uint64 `json:"maxCursor"`
	QueueLength uint64 `json:"queueLength"`
	Data        []struct {
		ID        uint64 `json:"ID"`
		SyncOutID string `json:"syncOutId"`
		syncRecord
	} `json:"data"`
}

// conforms checks a record central sent: a legacy table open-mSupply reads, in the formats it reads, or a
// site (which it keeps unread in its buffer).
func conforms(t *testing.T, r syncRecord) map[string]any {
	t.Helper()
	if r.TableName == "site" {
		return nil
	}
	if _, ok := legacyspec.Tables[r.TableName]; !ok {
		t.Errorf("central sent a %s record, a table open-mSupply has no translator for", r.TableName)
		return nil
	}
	if strings.EqualFold(r.Action, "delete") {
		return nil
	}
	var rec map[string]any
	if err := json.Unmarshal(r.RecordData, &rec); err != nil {
		t.Fatalf("%s %s: %v", r.TableName, r.RecordID, err)
	}
	if problems := legacyspec.Check(r.TableName, rec); len(problems) > 0 {
		t.Errorf("%s %s does not conform to legacy_tables.md: %s\n%s", r.TableName, r.RecordID, strings.Join(problems, "; "), r.RecordData)
	}
	if rec["ID"] != r.RecordID {
		t.Errorf("%s %s carries ID %v", r.TableName, r.RecordID, rec["ID"])
	}
	return rec
}

// richTransact is an invoice as open-mSupply would read it back, with fields this project does not keep
// and keys no table has: pushed, it must come back exactly so.
func richTransact(storeID string) map[string]any {
	return map[string]any{
		"ID": "inv-om-rich", "name_ID": "name-sup", "store_ID": storeID, "invoice_num": 7.0, "type": "si", "status": "fn",
		"user_ID": "user-9", "hold": true, "comment": "checked at the door", "their_ref": "DN-7", "prescriber_ID": "",
		"currency_ID": "", "currency_rate": 1.0, "goods_received_ID": "gr-1", "original_PO_ID": "po-9", "requisition_ID": "",
		"linked_transaction_id": "", "nameInsuranceJoinID": "", "donor_default_id": "donor-1",
		"insuranceDiscountAmount": 0.0, "insuranceDiscountRate": 0.0, "entry_date": "2026-11-03", "entry_time": 36000.0,
		"confirm_date": "2026-11-04", "confirm_time": 39600.0, "finalised_date": "0000-00-00", "finalised_time": 0.0,
		"mode": "store", "tax_rate": 16.0, "om_created_datetime": "2026-11-03T10:00:00", "om_status": "VERIFIED",
		"om_type": "INBOUND_SHIPMENT", "om_colour": "#aa0000", "om_transport_reference": "TRUCK-12",
		"oms_fields":         map[string]any{"charges_local_currency": 12.5, "charges_foreign_currency": 0.0},
		"a_key_no_table_has": []any{"kept", 1.0},
	}
}

// TestOpenMSupplyCycle is one of open-mSupply's sync cycles, first of all a site's first, in its order
// (synchroniser.rs): site, initialise and wait, v6 push, v5 push and its final empty batch, master data by
// cursor, the site's queue page by page with acknowledgements, v6 pull.
func TestOpenMSupplyCycle(t *testing.T) {
	c := startCentral(t)
	om := newOMClient(t, c.url, "North", "north-secret-pass", "om-device-north")
	storeID := storeIDOf(t, c.cli("", "store", "list", "--output", "json"), "N1")

	// site: every field open-mSupply parses; the v6 URL a URL it can join "central/sync/" to.
	var site struct {
		ID                       string `json:"id"`
		SiteID                   int32  `json:"siteId"`
		InitialisationStatus     string `json:"initialisationStatus"`
		OmSupplyCentralServerURL string `json:"omSupplyCentralServerUrl"`
		IsOmSupplyCentralServer  bool   `json:"isOmSupplyCentralServer"`
		MSupplyCentralSiteID     int32  `json:"mSupplyCentralSiteId"`
	}
	om.call("GET", "/sync/v5/site", nil, &site)
	v6URL, err := url.Parse(site.OmSupplyCentralServerURL)
	must(t, site.ID != "" && site.SiteID > 1 && site.InitialisationStatus == "new" && err == nil && v6URL.Scheme == "http" && !site.IsOmSupplyCentralServer,
		"site answer %+v (%v)", site, err)

	var initialised struct {
		QueueLength uint64 `json:"queueLength"`
	}
	om.call("POST", "/sync/v5/initialise", map[string]any{}, &initialised)
	must(t, initialised.QueueLength == 3, "initialise queued %d, want N1's invoice, line and stock line", initialised.QueueLength)
	om.waitIdle(50*time.Millisecond, 100)
	om.call("GET", "/sync/v5/site", nil, &site)
	must(t, site.InitialisationStatus == "completed", "after initialise the site is %q", site.InitialisationStatus)

	var pushed struct {
		RecordsPushed uint64 `json:"records_pushed"`
	}
	om.v6(site.OmSupplyCentralServerURL, "push", map[string]any{"batch": map[string]any{"end_cursor": 0, "total_records": 0, "records": []any{}, "is_last_batch": true}}, &pushed)

	// v5 push, in open-mSupply's push shapes: nulls, dates with a time, times as HH:MM:SS, floats, om_status
	// and om_type; then a prescription, which is not kept here and must be parked, not lost.
	shipment := map[string]any{
		"ID": "inv-om-1", "name_ID": "name-sup", "store_ID": storeID, "invoice_num": 1.0, "type": "si", "status": "nw",
		"om_type": "INBOUND_SHIPMENT", "om_status": "DELIVERED", "their_ref": nil, "comment": nil, "user_ID": nil,
		"entry_date": "2026-11-05T00:00:00", "entry_time": "09:30:15", "confirm_date": nil, "confirm_time": "00:00:00",
		"finalised_date": nil, "finalised_time": "00:00:00", "currency_rate": 1.0, "mode": "store", "hold": false,
		"om_created_datetime": "2026-11-05T09:30:15.123456",
	}
	line := map[string]any{
		"ID": "line-om-1", "transaction_ID": "inv-om-1", "item_ID": "item-par", "item_name": "Paracetamol 500mg",
		"batch": nil, "expiry_date": "2027-01-31T00:00:00", "pack_size": 1.0, "quantity": 40.0, "type": "stock_in",
		"cost_price": 0.5, "sell_price": 0.0, "note": nil, "location_ID": nil,
	}
	stock := map[string]any{
		"ID": "stock-om-1", "store_ID": storeID, "item_ID": "item-par", "batch": nil, "expiry_date": "2027-01-31T00:00:00",
		"quantity": 40.0, "available": 35.0, "pack_size": 1.0, "hold": false, "cost_price": 0.5, "sell_price": 0.0,
	}
	prescription := map[string]any{
		"ID": "inv-om-rx", "name_ID": "name-sup", "store_ID": storeID, "invoice_num": 2.0, "type": "ci", "status": "fn",
		"om_type": "PRESCRIPTION", "mode": "dispensary", "entry_date": "2026-11-05T00:00:00", "entry_time": "10:00:00",
	}
	batch := []map[string]any{}
	for i, r := range []struct {
		table string
		rec   map[string]any
	}{{"transact", shipment}, {"trans_line", line}, {"item_line", stock}, {"transact", prescription}, {"transact", richTransact(storeID)}} {
		batch = append(batch, map[string]any{"syncOutId": strings.Repeat("1", i+1), "tableName": r.table, "recordId": r.rec["ID"], "action": "Update", "recordData": r.rec})
	}
	var pushAnswer struct {
		IntegrationStarted bool `json:"integrationStarted"`
	}
	om.call("POST", "/sync/v5/queued_records", map[string]any{"queueLength": len(batch), "data": batch}, &pushAnswer)
	must(t, pushAnswer.IntegrationStarted, "push answered integrationStarted false")
	om.call("POST", "/sync/v5/queued_records", map[string]any{"queueLength": 0, "data": []any{}}, &pushAnswer)
	must(t, pushAnswer.IntegrationStarted, "the final empty batch was answered integrationStarted false")
	om.waitIdle(50*time.Millisecond, 30)

	// Master data by cursor, in small pages: no page empty while the cursor is below maxCursor, every
	// record in a form open-mSupply reads.
	seen := map[string]map[string]any{}
	var cursor uint64
	for {
		var page wirePage
		om.call("GET", "/sync/v5/central_records?cursor="+itoa(cursor)+"&limit=3", nil, &page)
		must(t, page.MaxCursor >= cursor, "maxCursor %d below the cursor %d", page.MaxCursor, cursor)
		if len(page.Data) == 0 {
			must(t, cursor >= page.MaxCursor, "an empty page at cursor %d, below maxCursor %d", cursor, page.MaxCursor)
			break
		}
		for _, r := range page.Data {
			must(t, r.ID > cursor, "record %s at ID %d, not after the cursor %d", r.RecordID, r.ID, cursor)
			cursor = r.ID
			if rec := conforms(t, r.syncRecord); rec != nil {
				seen[r.TableName+" "+r.RecordID] = rec
			}
		}
	}
	store := seen["store "+storeID]
	must(t, store != nil && store["sync_id_remote_site"] == float64(site.SiteID), "North's store as sent: %v", store)
	storeName := seen["name "+store["name_ID"].(string)]
	must(t, storeName != nil && storeName["type"] == "store", "the store's name %v was not sent as a store's name", store["name_ID"])
	must(t, seen["item item-amx"]["unit_ID"] == "unit-tab" && seen["unit unit-tab"]["units"] == "Tab", "the item's unit: %v", seen["item item-amx"])
	must(t, seen["list_master ml-eml"]["inactive"] == false, "the master list goes without inactive:false: %v", seen["list_master ml-eml"])
	must(t, seen["currency currency-USD"]["is_home_currency"] == true, "no home currency: an invoice without one cannot be read")

	// The site's queue, acknowledged page by page until a page comes back empty.
	queued := readQueue(t, om, 2)
	must(t, len(queued) == 3, "North's queue held %d records, want 3", len(queued))
	must(t, queued["transact inv-hq-1"]["status"] == "nw" && queued["transact inv-hq-1"]["type"] == "si" &&
		queued["transact inv-hq-1"]["entry_date"] == "2026-11-02" && queued["transact inv-hq-1"]["entry_time"] == 29730.0,
		"the queued invoice: %v", queued["transact inv-hq-1"])
	must(t, queued["trans_line line-hq-1"]["type"] == "stock_in" && queued["trans_line line-hq-1"]["item_name"] == "Amoxicillin 250mg",
		"the queued line: %v", queued["trans_line line-hq-1"])

	var pulled struct {
		EndCursor   uint64 `json:"end_cursor"`
		Records     []any  `json:"records"`
		IsLastBatch bool   `json:"is_last_batch"`
	}
	om.v6(site.OmSupplyCentralServerURL, "pull", map[string]any{"cursor": 0, "batchSize": 1024, "isInitialised": true}, &pulled)
	must(t, pulled.IsLastBatch && len(pulled.Records) == 0, "v6 pull: %+v", pulled)

	// What North pushed is central's, translated.
	var inv map[string]any
	if err := json.Unmarshal([]byte(c.cli("", "record", "get", "invoice", "inv-om-1", "--output", "json")), &inv); err != nil {
		t.Fatal(err)
	}
	must(t, inv["type"] == "supplier_invoice" && inv["status"] == "new" && inv["their_ref"] == "" &&
		inv["created_at"] == "2026-11-05T09:30:15Z" && inv["invoice_number"] == 1.0, "the pushed shipment on central: %v", inv)
	c.cli("", "record", "get", "invoice_line", "line-om-1")
	c.cli("", "record", "get", "stock_line", "stock-om-1")
	parked := c.cli("", "sync", "parked", "--output", "json")
	must(t, strings.Contains(parked, `"id": "inv-om-rx"`) && strings.Contains(parked, "PRESCRIPTION"), "the prescription was not parked: %s", parked)

	// Re-initialised, the site gets back what it pushed, every field as it sent it.
	om.call("POST", "/sync/v5/initialise", map[string]any{}, &initialised)
	om.waitIdle(50*time.Millisecond, 100)
	again := readQueue(t, om, 500)
	back := again["transact inv-om-rich"]
	for k, v := range jsonRoundTrip(t, richTransact(storeID)) {
		if !reflect.DeepEqual(back[k], v) {
			t.Errorf("re-initialised, %s came back as %#v, sent %#v", k, back[k], v)
		}
	}
	must(t, again["item_line stock-om-1"]["available"] == 35.0, "the stock line's available packs came back as %v", again["item_line stock-om-1"]["available"])
}

// readQueue reads the site's queue as open-mSupply does, acknowledging each page, and checks each record.
func readQueue(t *testing.T, om *omClient, limit int) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	gzipped := false
	for {
		var page wirePage
		gzipped = om.call("GET", "/sync/v5/queued_records?limit="+itoa(uint64(limit)), nil, &page) || gzipped
		if len(page.Data) == 0 {
			break
		}
		var ids []string
		for _, r := range page.Data {
			if rec := conforms(t, r.syncRecord); rec != nil {
				out[r.TableName+" "+r.RecordID] = rec
			}
			ids = append(ids, r.SyncOutID)
		}
		om.call("POST", "/sync/v5/acknowledged_records", map[string]any{"syncIDs": ids}, nil)
	}
	if len(out) > 0 && !gzipped {
		t.Error("the queue was never sent gzipped, though the client accepts it")
	}
	return out
}

func jsonRoundTrip(t *testing.T, v map[string]any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// omClient makes requests exactly as open-mSupply's v5 client does (server/service/src/sync/api/core.rs):
// the site's uuid, app and version headers, HTTP Basic auth with the lowercase hex SHA-256 of the password,
// POST bodies with no Content-Type, and gzip accepted. Answers are decoded as it decodes them.
type omClient struct {
	t        *testing.T
	base     string
	site     string
	password string
	uuid     string
	http     *http.Client
}

func newOMClient(t *testing.T, base, site, password, uuid string) *omClient {
	// Compression is asked for and undone here, not by the transport, so that a gzipped answer is seen.
	return &omClient{t: t, base: base, site: site, password: password, uuid: uuid,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}}
}

func (c *omClient) digest() string {
	sum := sha256.Sum256([]byte(c.password))
	return hex.EncodeToString(sum[:])
}

// call sends a v5 request and decodes a 200 answer into out; any other status fails the test with the
// v5 error body.
func (c *omClient) call(method, path string, body, out any) (gzipped bool) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("msupply-site-uuid", c.uuid)
	req.Header.Set("app-version", "2.9.0")
	req.Header.Set("app-name", "Open mSupply Desktop")
	req.Header.Set("version", "14")
	req.Header.Set("Accept-Encoding", "gzip")
	req.SetBasicAuth(c.site, c.digest())
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			c.t.Fatalf("%s %s: gzip: %v", method, path, err)
		}
		r, gzipped = gz, true
	}
	data, err := io.ReadAll(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(out); err != nil {
			c.t.Fatalf("%s %s: the answer %.300s does not decode as open-mSupply reads it: %v", method, path, data, err)
		}
	}
	return gzipped
}

// v6 makes one of the three calls to the open-mSupply central server URL, JSON with the v5 credentials
// in the body, as open-mSupply's api_v6/core.rs does; out receives the "data" of the answer.
func (c *omClient) v6(url, route string, body map[string]any, out any) {
	c.t.Helper()
	body["syncV5Settings"] = map[string]any{"serverUrl": c.base, "username": c.site, "passwordSha256": c.digest(),
		"siteUuid": c.uuid, "appVersion": "2.9.0", "appName": "Open mSupply Desktop", "syncVersion": "14"}
	body["syncV6Version"] = 5
	b, _ := json.Marshal(body)
	if !strings.HasSuffix(url, "/") {
		c.t.Fatalf("the v6 URL %q does not end in a slash: open-mSupply joins central/sync/ to it", url)
	}
	resp, err := c.http.Post(url+"central/sync/"+route, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("v6 %s: %v", route, err)
	}
	defer resp.Body.Close()
	var answer struct {
		Data  json.RawMessage `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Data == nil {
		c.t.Fatalf("v6 %s: %v, error %s", route, err, answer.Error)
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		c.t.Fatalf("v6 %s: %s: %v", route, answer.Data, err)
	}
}

// waitIdle polls site_status as open-mSupply does after initialise and after its final push, until the
// server says idle.
func (c *omClient) waitIdle(every time.Duration, tries int) {
	c.t.Helper()
	for range tries {
		var st struct {
			Code    string  `json:"code"`
			Message *string `json:"message"`
		}
		c.call("GET", "/sync/v5/site_status", nil, &st)
		if st.Message == nil {
			c.t.Fatal("site_status message is null; open-mSupply reads it as a string")
		}
		if st.Code == "idle" {
			return
		}
		time.Sleep(every)
	}
	c.t.Fatalf("site_status never said idle")
}

func must(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}
