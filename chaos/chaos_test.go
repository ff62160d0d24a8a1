// Package chaos tries to make sync lose or duplicate a record: it kills the real binary at random moments,
// puts a proxy that cuts, delays, fails and replays requests between remotes and the central server, and
// then checks every datafile against what was written. Trials are seeded; a failure prints its seed, and
// CHAOS_SEED=N reruns that trial. CHAOS_TRIALS=N sets how many trials run (a few by default), with seeds
// from CHAOS_SEED_BASE (default: the clock).
package chaos

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "msupply-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "msupply-sync")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// trial is one seeded run against a fresh central server and two remotes.
type trial struct {
	t        *testing.T
	rng      *rand.Rand
	dir      string
	server   *exec.Cmd
	url      string
	proxy    *faultProxy
	stores   map[string]string // code -> id
	written  map[string]int    // datafile -> store records written there
	invoices map[string][]string
	nextID   int
}

const authCode = "chaos-auth-code"

var sites = []struct{ name, password, store, hardware string }{
	{"North", "north-password", "N1", "hw-north"},
	{"South", "south-password", "S1", "hw-south"},
}

func (tr *trial) run(env []string, args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Dir = tr.dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

func (tr *trial) must(env []string, args ...string) string {
	tr.t.Helper()
	out, err := tr.run(env, args...)
	if err != nil {
		tr.t.Fatal(err)
	}
	return out
}

func (tr *trial) central(args ...string) string {
	return tr.must([]string{"MSUPPLY_AUTH_CODE=" + authCode}, append([]string{"--datafile", "central.db"}, args...)...)
}

// startServer starts the central server, again after a kill, on the same port so remotes keep their URL.
func (tr *trial) startServer(listen string) {
	tr.t.Helper()
	os.Remove(filepath.Join(tr.dir, "url.txt"))
	cmd := exec.Command(binary, "--datafile", "central.db", "serve", "--central", "--listen", listen, "--addr-file", "url.txt", "--log-level", "warn")
	cmd.Dir = tr.dir
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		tr.t.Fatal(err)
	}
	tr.server = cmd
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(tr.dir, "url.txt")); err == nil && len(b) > 0 {
			tr.url = strings.TrimSpace(string(b))
			return
		}
		if time.Now().After(deadline) {
			tr.t.Fatal("the server did not start")
		}
	}
}

func (tr *trial) killServer() {
	tr.server.Process.Kill()
	tr.server.Wait()
	tr.server = nil
}

func (tr *trial) setup() {
	tr.central("init", "--central", "--site-name", "Central")
	for _, s := range sites {
		cmd := exec.Command(binary, "--datafile", "central.db", "--auth-code", authCode, "site", "add", "--name", s.name, "--password-stdin")
		cmd.Dir = tr.dir
		cmd.Stdin = strings.NewReader(s.password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			tr.t.Fatalf("site add: %v %s", err, out)
		}
		out := tr.central("store", "add", "--code", s.store, "--name", s.store, "--site", s.name, "--output", "json")
		var st struct{ ID string }
		json.Unmarshal([]byte(out), &st)
		tr.stores[s.store] = st.ID
	}
	var items strings.Builder
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&items, `{"id":"item-%03d","code":"I%03d","name":"Item %d"}`+"\n", i, i, i)
	}
	tr.put("central.db", nil, "item", items.String())
	tr.put("central.db", nil, "name", `{"id":"name-1","name":"Clinic","is_customer":true}`)
	tr.startServer("127.0.0.1:0")
	tr.proxy = newFaultProxy(tr.t, tr.rng, tr.url)
	for _, s := range sites {
		cmd := exec.Command(binary, "--datafile", strings.ToLower(s.name)+".db", "init", "--remote", "--server-url", tr.proxy.url,
			"--site-name", s.name, "--auth-code", authCode, "--password-stdin")
		cmd.Dir = tr.dir
		cmd.Stdin = strings.NewReader(s.password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			tr.t.Fatalf("init remote: %v %s", err, out)
		}
	}
}

func (tr *trial) put(datafile string, env []string, table, data string) {
	tr.t.Helper()
	cmd := exec.Command(binary, "--datafile", datafile, "record", "put", table, "-")
	cmd.Dir = tr.dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		tr.t.Fatalf("record put %s on %s: %v %s", table, datafile, err, out)
	}
}

// writeStoreData enters an invoice with lines on a remote that has been initialised.
func (tr *trial) writeStoreData(site int) bool {
	s := sites[site]
	df := strings.ToLower(s.name) + ".db"
	out, err := tr.run(nil, "--datafile", df, "record", "checksum", "--output", "json")
	if err != nil || !strings.Contains(out, `"item":{"count":150`) {
		return false // not initialised yet: its stores are not here
	}
	tr.nextID++
	inv := fmt.Sprintf("inv-%s-%d", s.store, tr.nextID)
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":%q,"store_id":%q,"name_id":"name-1","type":"customer_invoice","created_at":"2026-01-01T00:00:00Z"}`, inv, tr.stores[s.store])
	tr.put(df, nil, "invoice", b.String())
	b.Reset()
	lines := 1 + tr.rng.Intn(40)
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, `{"id":"%s-line-%d","invoice_id":%q,"item_id":"item-%03d","quantity":%d}`+"\n", inv, i, inv, tr.rng.Intn(150), 1+tr.rng.Intn(100))
	}
	tr.put(df, nil, "invoice_line", b.String())
	tr.written[df] += 1 + lines
	tr.invoices[df] = append(tr.invoices[df], inv)
	return true
}

// updateStoreData changes records a remote wrote earlier and has probably pushed: the newer content must
// win over any older copy still travelling or replayed.
func (tr *trial) updateStoreData(site int) {
	df := strings.ToLower(sites[site].name) + ".db"
	invoices := tr.invoices[df]
	if len(invoices) == 0 {
		return
	}
	inv := invoices[tr.rng.Intn(len(invoices))]
	tr.put(df, nil, "invoice_line", fmt.Sprintf(`{"id":"%s-line-0","quantity":%d}`, inv, 1000+tr.rng.Intn(1000)))
	tr.put(df, nil, "invoice", fmt.Sprintf(`{"id":%q,"status":"confirmed","their_ref":"r%d"}`, inv, tr.rng.Intn(1000)))
}

// syncKilled runs one sync of a remote and kills it with SIGKILL after a random moment, or lets it finish.
func (tr *trial) syncKilled(site int) {
	s := sites[site]
	cmd := exec.Command(binary, "--datafile", strings.ToLower(s.name)+".db", "run", "--remote", "--once")
	cmd.Dir = tr.dir
	cmd.Env = append(os.Environ(), "MSUPPLY_HARDWARE_ID="+s.hardware)
	if err := cmd.Start(); err != nil {
		tr.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if tr.rng.Intn(3) > 0 {
		select {
		case <-time.After(time.Duration(tr.rng.Intn(400)) * time.Millisecond):
			cmd.Process.Kill()
			<-done
		case <-done:
		}
		return
	}
	<-done
}

// quiesce syncs every remote, without faults, until two rounds in a row change nothing anywhere.
func (tr *trial) quiesce() {
	tr.t.Helper()
	tr.proxy.setFaults(false)
	last := ""
	for round := 0; round < 10; round++ {
		for _, s := range sites {
			if _, err := tr.run([]string{"MSUPPLY_HARDWARE_ID=" + s.hardware}, "--datafile", strings.ToLower(s.name)+".db", "run", "--remote", "--once"); err != nil {
				tr.t.Fatalf("sync without faults failed: %v", err)
			}
		}
		now := tr.snapshot()
		if now == last {
			return
		}
		last = now
	}
	tr.t.Fatal("sync did not settle in ten rounds")
}

func (tr *trial) snapshot() string {
	var b strings.Builder
	for _, df := range []string{"central.db", "north.db", "south.db"} {
		b.WriteString(tr.must(nil, "--datafile", df, "record", "checksum", "--output", "json"))
	}
	return b.String()
}

type sums map[string]struct {
	Count  int    `json:"count"`
	Digest string `json:"digest"`
}

func (tr *trial) checksum(df string, store string) sums {
	args := []string{"--datafile", df, "record", "checksum", "--output", "json"}
	if store != "" {
		args = append(args, "--store", store)
	}
	var s sums
	if err := json.Unmarshal([]byte(tr.must(nil, args...)), &s); err != nil {
		tr.t.Fatal(err)
	}
	return s
}

// verify compares every datafile with what was written.
func (tr *trial) verify() {
	tr.t.Helper()
	for _, df := range []string{"central.db", "north.db", "south.db"} {
		out := tr.must(nil, "--datafile", df, "record", "list", "item", "--where", "id=item-000", "--output", "json")
		if !strings.Contains(out, "item-000") {
			tr.t.Errorf("%s lacks master data", df)
		}
	}
	central := tr.checksum("central.db", "")
	for i, s := range sites {
		df := strings.ToLower(s.name) + ".db"
		remote := tr.checksum(df, "")
		for _, table := range []string{"item", "name"} {
			if central[table] != remote[table] {
				tr.t.Errorf("%s: master table %s differs from central: %+v vs %+v", df, table, remote[table], central[table])
			}
		}
		own := tr.checksum(df, s.store)
		if got := own["invoice"].Count + own["invoice_line"].Count; got != tr.written[df] {
			tr.t.Errorf("%s holds %d of its store records, %d were written", df, got, tr.written[df])
		}
		onCentral := tr.checksum("central.db", s.store)
		for _, table := range []string{"invoice", "invoice_line", "stock_line"} {
			if own[table] != onCentral[table] {
				tr.t.Errorf("%s: store %s table %s differs on central: %+v vs %+v", df, s.store, table, own[table], onCentral[table])
			}
		}
		other := sites[1-i]
		if leaked := tr.checksum(df, other.store); leaked["invoice"].Count+leaked["invoice_line"].Count != 0 {
			tr.t.Errorf("%s holds %s's store data", df, other.store)
		}
	}
}

// integrityCheck runs SQLite's own integrity check on every datafile of a trial, read-only, and has the
// binary open each one: a datafile that lost nothing can still be corrupt.
func integrityCheck(t *testing.T, dir string) {
	t.Helper()
	for _, df := range []string{"central.db", "north.db", "south.db"} {
		db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: filepath.Join(dir, df), RawQuery: "mode=ro"}).String())
		if err != nil {
			t.Fatalf("%s: %v", df, err)
		}
		var result string
		err = db.QueryRow(`PRAGMA integrity_check`).Scan(&result)
		db.Close()
		if err != nil || result != "ok" {
			t.Errorf("%s: PRAGMA integrity_check = %q, %v", df, result, err)
		}
		cmd := exec.Command(binary, "--datafile", df, "record", "checksum")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not open cleanly: %v %s", df, err, out)
		}
	}
}

// logTrial appends a trial's outcome to the file CHAOS_LOG names, so a long run shows its progress.
func logTrial(seed int64, failed bool) {
	path := os.Getenv("CHAOS_LOG")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	outcome := "ok"
	if failed {
		outcome = "FAILED"
	}
	fmt.Fprintf(f, "%s seed=%d %s\n", time.Now().UTC().Format(time.RFC3339), seed, outcome)
}

func trials() int {
	if n, err := strconv.Atoi(os.Getenv("CHAOS_TRIALS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 1
	}
	return 3
}

func TestChaos(t *testing.T) {
	seeds := []int64{}
	if s, err := strconv.ParseInt(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seeds = append(seeds, s)
	} else {
		base := time.Now().UnixNano()
		if b, err := strconv.ParseInt(os.Getenv("CHAOS_SEED_BASE"), 10, 64); err == nil {
			base = b // seeds base, base+1, ...: a long run that can be named and repeated
		}
		for i := 0; i < trials(); i++ {
			seeds = append(seeds, base+int64(i))
		}
	}
	for _, seed := range seeds {
		seed := seed
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			// Trials share nothing (each has its own folder, server and ports), so 'go test -parallel N'
			// runs N at once.
			t.Parallel()
			tr := &trial{t: t, rng: rand.New(rand.NewSource(seed)), dir: t.TempDir(), stores: map[string]string{}, written: map[string]int{}, invoices: map[string][]string{}}
			defer func() {
				if tr.server != nil {
					tr.killServer()
				}
				if t.Failed() {
					t.Logf("rerun with CHAOS_SEED=%d", seed)
				}
				logTrial(seed, t.Failed())
			}()
			tr.setup()
			listen := strings.TrimPrefix(tr.url, "http://")
			steps := 30 + tr.rng.Intn(15)
			for step := 0; step < steps; step++ {
				switch r := tr.rng.Intn(10); {
				case r < 3:
					tr.writeStoreData(tr.rng.Intn(len(sites)))
				case r < 4:
					tr.updateStoreData(tr.rng.Intn(len(sites)))
				case r < 8:
					tr.proxy.setFaults(tr.rng.Intn(2) == 0)
					tr.syncKilled(tr.rng.Intn(len(sites)))
				case r < 9:
					// The central server dies mid-flight and comes back on the same address.
					tr.killServer()
					tr.startServer(listen)
				default:
					id := fmt.Sprintf("item-%03d", tr.rng.Intn(150))
					tr.put("central.db", nil, "item", fmt.Sprintf(`{"id":%q,"name":"Renamed %d"}`, id, step))
				}
			}
			tr.quiesce()
			tr.verify()
			integrityCheck(t, tr.dir)

			// Every push and acknowledgement the proxy saw, replayed 1 to 5 times, changes nothing.
			before := tr.snapshot()
			tr.proxy.replayAll(tr.rng)
			if after := tr.snapshot(); after != before {
				t.Error("replaying captured pushes and acknowledgements changed a datafile")
			}
		})
	}
}
