// Package chaos tries to make sync lose or duplicate a record: it kills the real binary at random moments,
// puts a proxy that cuts, delays, fails and replays requests between remotes and the central server, moves
// stores between sites while they hold unsent changes, runs sync cycles on one datafile at once, and then
// checks every datafile against what was written. Trials are seeded; a failure prints its seed, and
// CHAOS_SEED=N reruns that trial. By default a fixed few seeds run; CHAOS_TRIALS=N runs N trials with seeds
// from CHAOS_SEED_BASE (default: the clock). CHAOS_LOG=FILE logs each trial's outcome as it ends, and with
// CHAOS_RESUME=1 a run passes over the seeds that file has passed. A failing trial shows what it did, step
// by step; CHAOS_EVENTS=1 shows that for every trial.
package chaos

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
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

// readSources reads every source file of the module below root. The trials run a binary that a separate
// go build makes, which go test cannot see; reading the sources in a test (TestMain's reads are not
// recorded) makes its result cache depend on them, so that a changed product never passes on an old result.
func readSources(root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); ext == ".go" || ext == ".sql" || path == filepath.Join(root, "go.mod") {
			os.ReadFile(path)
		}
		return nil
	})
}

// trial is one seeded run against a fresh central server and two remotes.
type trial struct {
	t      *testing.T
	rng    *rand.Rand
	dir    string
	server *exec.Cmd
	url    string
	proxy  *faultProxy
	// What the trial does besides writing, syncing and killing, chosen by its seed: store moves, forced
	// moves among them, and sync cycles started on one datafile at once.
	moves, forced, concurrent bool

	siteID   map[string]int64  // datafile -> its site's ID
	siteDF   map[int64]string  // site ID -> datafile
	siteName map[string]string // datafile -> its site's name
	ledger   *ledger
	services map[string]*process // datafile -> its sync service ('run --remote'), while one runs
	// uninitialised are the remotes that lost their stores before they first synced, and so cannot.
	uninitialised map[string]bool
	seq           int // numbers writes, so that each gives its record content of its own
	step          int
	events        strings.Builder // what the trial did, shown when it fails
}

const (
	authCode   = "chaos-auth-code"
	centralDF  = "central.db"
	lockRefuse = "another msupply-sync process is working on this datafile"
	noStore    = "has no store on the central server"
)

var sites = []struct{ name, password, store, hardware string }{
	{"North", "north-password", "N1", "hw-north"},
	{"South", "south-password", "S1", "hw-south"},
}

// remotes are the remote datafiles, datafiles all of them, central first.
var (
	remotes   = []string{"north.db", "south.db"}
	datafiles = []string{centralDF, "north.db", "south.db"}
)

func remoteDF(site int) string { return strings.ToLower(sites[site].name) + ".db" }

func hardwareOf(df string) string {
	for i, s := range sites {
		if remoteDF(i) == df {
			return s.hardware
		}
	}
	return ""
}

func (tr *trial) event(format string, args ...any) {
	fmt.Fprintf(&tr.events, "%3d  "+format+"\n", append([]any{tr.step}, args...)...)
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
	return tr.must([]string{"MSUPPLY_AUTH_CODE=" + authCode}, append([]string{"--datafile", centralDF}, args...)...)
}

// process is a run of the binary in the background, on a datafile, as that datafile's site.
type process struct {
	what    string // its arguments after the datafile
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	done    chan struct{}
	started time.Time
}

func (tr *trial) start(df string, args ...string) *process {
	tr.t.Helper()
	p := &process{what: strings.Join(args, " "), done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"--datafile", df}, args...)...)
	p.cmd.Dir = tr.dir
	p.cmd.Env = append(os.Environ(), "MSUPPLY_HARDWARE_ID="+hardwareOf(df))
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, &p.stderr
	if err := p.cmd.Start(); err != nil {
		tr.t.Fatal(err)
	}
	p.started = time.Now()
	go func() { p.cmd.Wait(); close(p.done) }()
	return p
}

// killAfter kills p with SIGKILL after d, unless it has ended by then; a negative d lets it run.
func (p *process) killAfter(d time.Duration) {
	if d < 0 {
		return
	}
	go func() {
		select {
		case <-time.After(d):
			p.cmd.Process.Kill()
		case <-p.done:
		}
	}()
}

// exit waits for p and returns its exit status, -1 when a signal ended it.
func (p *process) exit() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// errLine is the first error line p printed.
func (p *process) errLine() string {
	<-p.done
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.HasPrefix(line, "msupply-sync: error:") {
			return line
		}
	}
	return ""
}

// startServer starts the central server, again after a kill, on the same port so remotes keep their URL.
func (tr *trial) startServer(listen string) {
	tr.t.Helper()
	os.Remove(filepath.Join(tr.dir, "url.txt"))
	cmd := exec.Command(binary, "--datafile", centralDF, "serve", "--central", "--listen", listen, "--addr-file", "url.txt", "--log-level", "warn")
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
		cmd := exec.Command(binary, "--datafile", centralDF, "--auth-code", authCode, "site", "add", "--name", s.name, "--password-stdin")
		cmd.Dir = tr.dir
		cmd.Stdin = strings.NewReader(s.password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			tr.t.Fatalf("site add: %v %s", err, out)
		}
		tr.central("store", "add", "--code", s.store, "--name", s.store, "--site", s.name)
	}
	var list []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(tr.central("site", "list", "--output", "json")), &list); err != nil {
		tr.t.Fatal(err)
	}
	for _, s := range list {
		df := strings.ToLower(s.Name) + ".db"
		tr.siteID[df], tr.siteDF[s.ID], tr.siteName[df] = s.ID, df, s.Name
	}
	var items strings.Builder
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&items, `{"id":"item-%03d","code":"I%03d","name":"Item %d"}`+"\n", i, i, i)
	}
	tr.put(centralDF, "item", items.String())
	tr.put(centralDF, "name", `{"id":"name-1","name":"Clinic","is_customer":true}`)
	tr.setupTransfers()
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

func (tr *trial) put(datafile string, table, data string) {
	tr.t.Helper()
	tr.tryPut(datafile, table, data, false)
}

// quiesce stops the sync services, then syncs every remote, without faults, until two rounds in a row
// change nothing anywhere. A sync may end with exit 3 only on a site that wrote for a store after it was
// forced away from it: central parks those changes.
func (tr *trial) quiesce() {
	tr.t.Helper()
	tr.proxy.setFaults(false)
	tr.stopServices()
	last := ""
	for round := 0; round < 10; round++ {
		for _, df := range remotes {
			p := tr.start(df, "run", "--remote", "--once")
			code := p.exit()
			tr.synced(df, p, code)
			if code == 1 && strings.Contains(p.stderr.String(), noStore) && tr.storeless(df) {
				// Its store was moved away before it first synced: it cannot initialise, and holds nothing,
				// until a store moving to it has been handed over.
				tr.uninitialised[df] = true
				continue
			}
			delete(tr.uninitialised, df)
			if code != 0 && (code != 3 || !tr.ledger.mayPark(df)) {
				tr.t.Fatalf("sync of %s without faults failed: exit %d: %s", df, code, p.stderr.String())
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

// storeless says whether central has no store on df's site (a store moving to it is not on it yet).
func (tr *trial) storeless(df string) bool {
	for _, st := range tr.storeStates() {
		if st.SiteID == tr.siteID[df] {
			return false
		}
	}
	return true
}

// snapshot is what sync changes: every datafile's synced tables and stores, and what central holds parked.
func (tr *trial) snapshot() string {
	var b strings.Builder
	for _, df := range datafiles {
		fmt.Fprintf(&b, "%s checksum %s", df, tr.must(nil, "--datafile", df, "record", "checksum", "--output", "json"))
		for _, st := range tr.stores(df) {
			fmt.Fprintf(&b, "%s store %s\n", df, st)
		}
	}
	var parked []string
	for key := range tr.parked() {
		parked = append(parked, fmt.Sprintf("parked %s/%s/%s\n", key.site, key.table, key.id))
	}
	sort.Strings(parked)
	b.WriteString(strings.Join(parked, ""))
	return b.String()
}

// difference lists the lines of two snapshots that are in one only.
func difference(before, after string) string {
	in := map[string]int{}
	for _, line := range strings.Split(before, "\n") {
		in[line]--
	}
	for _, line := range strings.Split(after, "\n") {
		in[line]++
	}
	var out []string
	for line, n := range in {
		switch {
		case n < 0:
			out = append(out, "before: "+line)
		case n > 0:
			out = append(out, "after:  "+line)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
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

// storeState is a store as 'store list --output json' shows it.
type storeState struct {
	ID       string `json:"id"`
	Code     string `json:"code"`
	SiteID   int64  `json:"site_id"`
	MovingTo *int64 `json:"moving_to_site_id"`
	NameID   string `json:"name_id"`
}

func (st storeState) String() string {
	if st.MovingTo != nil {
		return fmt.Sprintf("%s on site %d moving to %d", st.Code, st.SiteID, *st.MovingTo)
	}
	return fmt.Sprintf("%s on site %d", st.Code, st.SiteID)
}

// stores reads a datafile's stores as 'store list' does, but in this process: a trial reads central's
// stores before most steps, and a process launched for each read was a third of a trial's CPU time. 'store
// list' itself is tested by the testscripts.
func (tr *trial) stores(df string) []storeState {
	tr.t.Helper()
	ctx := context.Background()
	db, err := datafile.Open(ctx, filepath.Join(tr.dir, df))
	if err != nil {
		tr.t.Fatalf("read the stores of %s: %v", df, err)
	}
	defer db.Close()
	list, err := db.Stores(ctx, "")
	if err != nil {
		tr.t.Fatalf("read the stores of %s: %v", df, err)
	}
	out := make([]storeState, len(list))
	for i, st := range list {
		out[i] = storeState{ID: st.ID, Code: st.Code, SiteID: st.SiteID, MovingTo: st.MovingToSiteID, NameID: st.NameID}
	}
	return out
}

// storeStates reads the stores as central has them.
func (tr *trial) storeStates() map[string]storeState {
	out := map[string]storeState{}
	for _, st := range tr.stores(centralDF) {
		out[st.Code] = st
	}
	return out
}

// parked reads what central holds back, with the reasons.
func (tr *trial) parked() map[parkedKey]string {
	var list []struct {
		Site   string `json:"site"`
		Table  string `json:"table"`
		ID     string `json:"id"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(tr.central("sync", "parked", "--output", "json")), &list); err != nil {
		tr.t.Fatal(err)
	}
	out := map[parkedKey]string{}
	for _, p := range list {
		out[parkedKey{p.Site, p.Table, p.ID}] = p.Reason
	}
	return out
}

// verify compares every datafile with what was written: master data everywhere; each store's data on
// central and on the one site the store ends on, and on no other; every store record on central with the
// content of its last write, or that write parked there when it was forced away; no move left pending.
func (tr *trial) verify() {
	tr.t.Helper()
	for _, df := range datafiles {
		if tr.uninitialised[df] {
			continue
		}
		out := tr.must(nil, "--datafile", df, "record", "list", "item", "--where", "id=item-000", "--output", "json")
		if !strings.Contains(out, "item-000") {
			tr.t.Errorf("%s lacks master data", df)
		}
	}
	central := tr.checksum(centralDF, "")
	for _, df := range remotes {
		if tr.uninitialised[df] {
			continue
		}
		remote := tr.checksum(df, "")
		for _, table := range []string{"item", "name"} {
			if central[table] != remote[table] {
				tr.t.Errorf("%s: master table %s differs from central: %+v vs %+v", df, table, remote[table], central[table])
			}
		}
	}
	states := tr.storeStates()
	for _, s := range sites {
		st := states[s.store]
		if st.MovingTo != nil {
			tr.t.Errorf("store %s is still moving after quiescence: %s", s.store, st)
		}
		home := tr.siteDF[st.SiteID]
		onCentral := tr.checksum(centralDF, s.store)
		for _, df := range remotes {
			if tr.uninitialised[df] {
				continue // checked below: it holds no store data at all
			}
			if df != home {
				tr.checkCopies(df, st, home)
				continue
			}
			held := tr.checksum(df, s.store)
			for _, table := range []string{"invoice", "invoice_line", "requisition", "requisition_line", "stock_line"} {
				if held[table] != onCentral[table] {
					tr.t.Errorf("%s: store %s table %s differs on central: %+v vs %+v%s", df, s.store, table, held[table], onCentral[table],
						tr.recordDifference(df, st.ID, table))
				}
			}
		}
	}
	for df := range tr.uninitialised {
		held := tr.checksum(df, "")
		if n := held["invoice"].Count + held["invoice_line"].Count + held["requisition"].Count + held["stock_line"].Count; n != 0 {
			tr.t.Errorf("%s never initialised, yet holds %d store records", df, n)
		}
	}
	rows := map[string]map[string]map[string]any{}
	for _, table := range transferTables {
		var list []map[string]any
		if err := json.Unmarshal([]byte(tr.must(nil, "--datafile", centralDF, "record", "list", table, "--output", "json")), &list); err != nil {
			tr.t.Fatal(err)
		}
		rows[table] = map[string]map[string]any{}
		for _, row := range list {
			rows[table][fmt.Sprint(row["id"])] = row
		}
	}
	written, _ := generated(rows)
	parked := tr.parked()
	transferProblems := tr.checkTransfers(rows, parked)
	for key := range parked {
		if tr.ledger.madeByTransfers(key, strings.ToLower(key.site)+".db") {
			delete(parked, key)
		}
	}
	problems := append(tr.ledger.check(written, parked, tr.siteName), transferProblems...)
	for i, problem := range problems {
		if i == 20 {
			tr.t.Errorf("... and %d more such problems", len(problems)-i)
			break
		}
		tr.t.Error(problem)
	}
}

// recordDifference names the records of a store's table that a datafile and central do not hold alike, and
// what the ledger knows of them.
func (tr *trial) recordDifference(df, storeID, table string) string {
	read := func(df string) map[string]string {
		var list []map[string]any
		out := tr.must(nil, "--datafile", df, "record", "list", table, "--where", "store_id="+storeID, "--output", "json")
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			tr.t.Fatal(err)
		}
		rows := map[string]string{}
		for _, row := range list {
			rows[fmt.Sprint(row["id"])] = contentOf(table, row)
		}
		return rows
	}
	here, central := read(df), read(centralDF)
	var lines []string
	for id, c := range central {
		if h, ok := here[id]; !ok || h != c {
			lines = append(lines, fmt.Sprintf("%s: central %s, %s %s", id, c, df, orAbsent(h, ok)))
		}
	}
	for id, h := range here {
		if _, ok := central[id]; !ok {
			lines = append(lines, fmt.Sprintf("%s: central (absent), %s %s", id, df, h))
		}
	}
	sort.Strings(lines)
	for i, line := range lines {
		if rec := tr.ledger.records[table+"/"+strings.SplitN(line, ":", 2)[0]]; rec != nil {
			lines[i] += "; writes: " + rec.history()
		}
	}
	if len(lines) > 5 {
		lines = append(lines[:5], fmt.Sprintf("and %d more", len(lines)-5))
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}

func orAbsent(s string, ok bool) string {
	if !ok {
		return "(absent)"
	}
	return s
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
func logTrial(seed int64, failed bool, features string) {
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
	fmt.Fprintf(f, "%s seed=%d %s %s\n", time.Now().UTC().Format(time.RFC3339), seed, outcome, features)
}

// passedSeeds reads, when CHAOS_RESUME is set, the seeds CHAOS_LOG records as passed: a long run stopped
// part way is taken up where it was, on the same code, by running it again with the same settings.
func passedSeeds() map[int64]bool {
	passed := map[int64]bool{}
	if os.Getenv("CHAOS_RESUME") == "" || os.Getenv("CHAOS_LOG") == "" {
		return passed
	}
	b, _ := os.ReadFile(os.Getenv("CHAOS_LOG"))
	for _, line := range strings.Split(string(b), "\n") {
		// A line: time seed=N ok|FAILED features
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != "ok" {
			continue
		}
		if seed, err := strconv.ParseInt(strings.TrimPrefix(fields[1], "seed="), 10, 64); err == nil {
			passed[seed] = true
		}
	}
	return passed
}

// ciSeeds are the trials run when no seed is asked for: 20 moves stores, forces a move and runs cycles at
// once, 3 moves stores and runs cycles at once, 2 forces a move.
var ciSeeds = []int64{20, 3, 2}

func trials() int {
	if n, err := strconv.Atoi(os.Getenv("CHAOS_TRIALS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 1
	}
	return 3
}

// features names what a trial exercises besides writes, syncs and kills.
func (tr *trial) features() string {
	var f []string
	if tr.moves {
		f = append(f, "moves")
	}
	if tr.forced {
		f = append(f, "forced")
	}
	if tr.concurrent {
		f = append(f, "concurrent")
	}
	if len(f) == 0 {
		return "plain"
	}
	return strings.Join(f, ",")
}

func TestChaos(t *testing.T) {
	readSources("..")
	// By default (go test ./..., CI) a fixed list, chosen so that between them the trials move stores,
	// force a move and run cycles at once: a failure there names a seed that anyone can run again.
	var seeds []int64
	if s, err := strconv.ParseInt(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seeds = []int64{s}
	} else if os.Getenv("CHAOS_SEED_BASE") == "" && os.Getenv("CHAOS_TRIALS") == "" {
		seeds = ciSeeds[:trials()]
	} else {
		base := time.Now().UnixNano()
		if b, err := strconv.ParseInt(os.Getenv("CHAOS_SEED_BASE"), 10, 64); err == nil {
			base = b // seeds base, base+1, ...: a long run that can be named and repeated
		}
		passed := passedSeeds()
		for i := 0; i < trials(); i++ {
			if !passed[base+int64(i)] {
				seeds = append(seeds, base+int64(i))
			}
		}
		if len(passed) > 0 {
			t.Logf("CHAOS_RESUME: %d of the %d trials passed in the run logged in CHAOS_LOG and are not run again", trials()-len(seeds), trials())
		}
	}
	for _, seed := range seeds {
		seed := seed
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			// Trials share nothing (each has its own folder, server and ports), so 'go test -parallel N'
			// runs N at once.
			t.Parallel()
			tr := &trial{t: t, rng: rand.New(rand.NewSource(seed)), dir: t.TempDir(), ledger: newLedger(),
				siteID: map[string]int64{}, siteDF: map[int64]string{}, siteName: map[string]string{}, services: map[string]*process{},
				uninitialised: map[string]bool{}}
			// Half the trials move stores, half of those force some moves; two in five run sync cycles on
			// one datafile at once.
			tr.moves = tr.rng.Intn(2) == 0
			tr.forced = tr.moves && tr.rng.Intn(2) == 0
			tr.concurrent = tr.rng.Intn(5) < 2
			defer func() {
				for _, p := range tr.services {
					p.cmd.Process.Kill()
					<-p.done
				}
				if tr.server != nil {
					tr.killServer()
				}
				if keep := os.Getenv("CHAOS_KEEP"); keep != "" && t.Failed() {
					// The datafiles of a failed trial, to look into with the binary.
					exec.Command("cp", "-r", tr.dir, filepath.Join(keep, fmt.Sprintf("seed-%d", seed))).Run()
				}
				if t.Failed() || os.Getenv("CHAOS_EVENTS") != "" {
					t.Logf("what the trial did (%s):\n%s", tr.features(), tr.events.String())
					t.Logf("rerun with CHAOS_SEED=%d", seed)
				}
				logTrial(seed, t.Failed(), tr.features())
			}()
			tr.setup()
			listen := strings.TrimPrefix(tr.url, "http://")
			steps := 30 + tr.rng.Intn(15)
			for tr.step = 1; tr.step <= steps; tr.step++ {
				switch r := tr.rng.Intn(14); {
				case r < 3 || (r == 10 && !tr.moves):
					tr.writeStep()
				case r < 4:
					tr.updateStep()
				case r < 8 || (r == 11 && !tr.concurrent):
					tr.proxy.setFaults(tr.rng.Intn(2) == 0)
					tr.syncKilled(remoteDF(tr.rng.Intn(len(sites))))
				case r < 9:
					// The central server dies mid-flight and comes back on the same address.
					tr.killServer()
					tr.startServer(listen)
					tr.event("central server killed and restarted")
				case r < 10:
					id := fmt.Sprintf("item-%03d", tr.rng.Intn(150))
					tr.put(centralDF, "item", fmt.Sprintf(`{"id":%q,"name":"Renamed %d"}`, id, tr.step))
				case r < 11:
					tr.moveStep()
				case r < 12:
					tr.concurrentSyncs(remoteDF(tr.rng.Intn(len(sites))))
				case r < 13:
					tr.orderStep()
				default:
					tr.deleteStep()
				}
			}
			tr.step = 0
			tr.quiesce()
			tr.verify()
			if t.Failed() {
				return
			}
			// The sites go on working: each store gets a change on the site it ended on, and all sync again.
			// What a later push sets off (central retries what it holds back from the site) must leave
			// every datafile as right as before.
			tr.step = steps + 1
			for _, s := range sites {
				st := tr.storeStates()[s.store]
				if df := tr.siteDF[st.SiteID]; !tr.writeStoreData(df, st) {
					t.Errorf("after quiescence, %s refuses to write store %s, which is its own", df, st.Code)
				}
			}
			tr.quiesce()
			tr.verify()
			integrityCheck(t, tr.dir)

			// Every push and acknowledgement the proxy saw, replayed 1 to 5 times, changes nothing.
			before := tr.snapshot()
			tr.proxy.replayAll(tr.rng)
			if after := tr.snapshot(); after != before {
				t.Errorf("replaying captured pushes and acknowledgements changed a datafile:\n%s", difference(before, after))
				tr.verify() // says what the change broke, if anything
			}
		})
	}
}

func TestResumeSkipsOnlyTheSeedsLoggedAsPassed(t *testing.T) {
	log := filepath.Join(t.TempDir(), "chaos.log")
	os.WriteFile(log, []byte("2026-12-02T01:23:27Z seed=7 ok plain\n2026-12-02T01:23:28Z seed=8 FAILED moves\n"+
		"2026-12-02T01:23:29Z seed=9 ok concurrent\ntruncated li"), 0o644)
	t.Setenv("CHAOS_LOG", log)
	if got := passedSeeds(); len(got) != 0 {
		t.Errorf("without CHAOS_RESUME, passed seeds %v, want none", got)
	}
	t.Setenv("CHAOS_RESUME", "1")
	got := passedSeeds()
	if len(got) != 2 || !got[7] || !got[9] {
		t.Errorf("passed seeds %v, want 7 and 9", got)
	}
}
