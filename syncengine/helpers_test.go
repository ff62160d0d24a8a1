package syncengine

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
)

const testAuthCode = "test-auth-code"

// testNet is a central datafile served over loopback HTTP, with helpers to add remotes.
type testNet struct {
	t       testing.TB
	dir     string
	central *datafile.DB
	server  *Server
	http    *httptest.Server
	stores  map[string]datafile.Store
}

func newTestNet(t testing.TB) *testNet {
	t.Helper()
	return newTestNetWith(t, ServerOptions{})
}

// newTestNetWith is newTestNet with a server made with opts.
func newTestNetWith(t testing.TB, opts ServerOptions) *testNet {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "central.db")
	if err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{SiteName: "Central", AuthCode: testAuthCode}); err != nil {
		t.Fatal(err)
	}
	db, err := datafile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuthCode(testAuthCode)
	srv, err := NewServer(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	n := &testNet{t: t, dir: dir, central: db, server: srv, http: hs, stores: map[string]datafile.Store{}}
	t.Cleanup(func() {
		hs.Close()
		db.Close()
	})
	n.addStore("HQ", "")
	n.put(n.central, "item", `[{"id":"item-1","name":"Amoxicillin"},{"id":"item-2","name":"Paracetamol"}]`)
	n.put(n.central, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`)
	return n
}

// newNetWithSyncedNorth starts a test network with the site North (and any other sites named, each with
// the password "<lower-case name>-password"), and North's remote initialised by one sync.
func newNetWithSyncedNorth(t testing.TB, otherSites ...string) (*testNet, *testRemote) {
	t.Helper()
	n := newTestNet(t)
	n.addSite("North", "north-password")
	for _, s := range otherSites {
		n.addSite(s, strings.ToLower(s)+"-password")
	}
	north := n.newRemote("North", "north-password", "hw-north")
	north.sync(t)
	return n, north
}

// newNorthAndSouth starts a test network with the sites North and South, and a remote for each that has
// not synced yet.
func newNorthAndSouth(t testing.TB) (n *testNet, north, south *testRemote) {
	t.Helper()
	n = newTestNet(t)
	n.addSite("North", "north-password")
	n.addSite("South", "south-password")
	return n, n.newRemote("North", "north-password", "hw-north"), n.newRemote("South", "south-password", "hw-south")
}

// addSite adds a site with one store of the same code.
func (n *testNet) addSite(name, password string) {
	n.t.Helper()
	if _, err := n.central.AddSite(context.Background(), datafile.NewSite{Name: name, Password: password}); err != nil {
		n.t.Fatal(err)
	}
	n.addStore(name+"-store", name)
}

func (n *testNet) addStore(code, site string) {
	n.t.Helper()
	st, err := n.central.AddStore(context.Background(), code, code, site)
	if err != nil {
		n.t.Fatal(err)
	}
	n.stores[code] = st
}

func (n *testNet) put(db *datafile.DB, table, js string) {
	n.t.Helper()
	if _, err := db.PutRecords(context.Background(), table, sourceOf(n.t, js)); err != nil {
		n.t.Fatalf("put %s: %v", table, err)
	}
}

// putItems writes count items on central, item(i) for i from 0.
func (n *testNet) putItems(count int, item func(i int) map[string]any) {
	n.t.Helper()
	i := 0
	if _, err := n.central.PutRecords(context.Background(), "item", func() (map[string]any, error) {
		if i == count {
			return nil, io.EOF
		}
		i++
		return item(i - 1), nil
	}); err != nil {
		n.t.Fatalf("put items: %v", err)
	}
}

// numberedItem is item i with the id prefix-NNN.
func numberedItem(prefix string) func(i int) map[string]any {
	return func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprintf("%s-%03d", prefix, i), "name": fmt.Sprintf("Item %d", i)}
	}
}

// sourceOf turns one JSON object or an array into a RecordSource.
func sourceOf(t testing.TB, js string) datafile.RecordSource {
	t.Helper()
	var raws []map[string]any
	if js[0] == '[' {
		var arr []map[string]any
		if err := jsonUnmarshalNumbers([]byte(js), &arr); err != nil {
			t.Fatal(err)
		}
		raws = arr
	} else {
		m, err := datafile.DecodeObject([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		raws = []map[string]any{m}
	}
	return datafile.Records(raws...)
}

// testRemote is a remote datafile with its client.
type testRemote struct {
	db     *datafile.DB
	client *Client
	remote *Remote
	cfg    ClientConfig
}

// through makes the remote reach central at url instead, a test server in front of it, with the same
// credentials.
func (r *testRemote) through(t testing.TB, url string) {
	t.Helper()
	cfg := r.cfg
	cfg.ServerURL = url
	client, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.client, r.remote.Client = client, client
}

func (n *testNet) newRemote(name, password, hardwareID string) *testRemote {
	n.t.Helper()
	return n.newRemoteAs(name, name, password, hardwareID)
}

// newRemoteAs creates a remote datafile called file that authenticates as site name.
func (n *testNet) newRemoteAs(name, file, password, hardwareID string) *testRemote {
	n.t.Helper()
	ctx := context.Background()
	path := filepath.Join(n.dir, file+".db")
	if err := datafile.CreateRemote(ctx, path, datafile.RemoteOptions{ServerURL: n.http.URL, SiteName: name, Password: password, AuthCode: testAuthCode}); err != nil {
		n.t.Fatal(err)
	}
	db, err := datafile.Open(ctx, path)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { db.Close() })
	cfg := ClientConfig{ServerURL: n.http.URL, SiteName: name, PasswordDigest: secret.PasswordDigest(password), HardwareID: hardwareID}
	client, err := NewClient(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	return &testRemote{db: db, client: client, remote: &Remote{DB: db, Client: client, Backoff: 1}, cfg: cfg}
}

func (r *testRemote) sync(t testing.TB) *CycleResult {
	t.Helper()
	res, err := r.remote.Cycle(context.Background(), true)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res
}

func checksum(t testing.TB, db *datafile.DB, store string) map[string]datafile.TableChecksum {
	t.Helper()
	sums, err := db.Checksum(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func sameChecksums(t testing.TB, what string, a, b map[string]datafile.TableChecksum, tables ...string) {
	t.Helper()
	for _, table := range tables {
		if a[table] != b[table] {
			t.Errorf("%s: %s differs: %+v vs %+v", what, table, a[table], b[table])
		}
	}
}

func jsonUnmarshalNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

var rawHandles sync.Map // datafile path -> *sql.DB

// sqlOf opens a second handle on a datafile, for tests that inspect or arrange it below the datafile
// package's API, as another process would; one per file for the whole test run.
func sqlOf(db *datafile.DB) *sql.DB {
	if h, ok := rawHandles.Load(db.Path()); ok {
		return h.(*sql.DB)
	}
	h, err := sql.Open("sqlite", "file:"+db.Path()+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		panic(err)
	}
	actual, _ := rawHandles.LoadOrStore(db.Path(), h)
	return actual.(*sql.DB)
}

// pushedBatch reads the batch a push request carries, plain or gzipped, and leaves the request's body as it
// was, for the server to read.
func pushedBatch(t testing.TB, r *http.Request) QueuedBatch {
	t.Helper()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("push body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	body, err := requestBody(r)
	var batch QueuedBatch
	if err == nil {
		err = json.NewDecoder(body).Decode(&batch)
	}
	if err != nil {
		t.Errorf("push body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return batch
}
