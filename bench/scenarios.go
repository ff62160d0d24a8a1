package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// bench holds one run: its configuration, what it measured, and what the report will say.
type bench struct {
	cfg          config
	x            *exe
	dir          string
	log          io.Writer
	start        time.Time
	planDeadline time.Time
	hardDeadline time.Time
	machine      machine

	runMeter           meter
	childCPU0          float64
	loadStart, loadEnd string
	othersOverall      float64
	runSecs            float64

	versionSecs float64           // median wall time of 'msupply-sync --version': a bare process start
	raw         map[int]rawResult // the raw baseline by row count
	fair        map[int]rawResult // the same with a datafile's page cache: the denominator of the targets
	seqRaw      rawResult         // the raw insert in key order, of cfg.items rows: what a bulk log build costs
	hashSecs    float64           // one argon2id hash in this process: what provisioning pays a site

	// The profiling build of the binary, made when first wanted (profile.go), or why there is none.
	xprof   *exe
	profErr string

	leverResults []leverResult
	leverSecs    float64

	rows     []row
	notes    []string
	failures []string

	small, big *pipelineResult
	many       *manyResult
	slow       *slowResult
	fleet      *fleetResult
	hist       *historyResult
	plan       plan
}

type rawResult struct {
	secs float64
	rss  int64
	cpu  float64 // the child's, including its start
	runs int     // the best of this many
}

// row is one line of the results table.
type row struct {
	scenario string
	records  int
	secs     float64
	rawN     int     // the raw baseline to compare with (its row count); 0: no ratio
	maxRatio float64 // the target ratio, 0 if none
	noRate   bool    // records is the datafile's size, not what the step processed
	cpu      string  // user + system seconds of the measured process (and of the server)
	others   float64 // CPUs kept busy by other processes meanwhile; -1 unknown
	rss      string
	target   string
	result   string // set when the result is not a plain ratio check
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: [%6s] %s\n", time.Since(b.start).Round(time.Second), fmt.Sprintf(format, args...))
}

func (b *bench) fail(what string, err error) {
	b.logf("FAILED %s: %v", what, err)
	b.failures = append(b.failures, fmt.Sprintf("%s: %v", what, err))
}

func (b *bench) runAll(ctx context.Context) {
	b.runMeter, b.childCPU0, b.loadStart = startMeter(), childrenCPU(), loadAverage()
	defer func() {
		b.loadEnd = loadAverage()
		b.othersOverall = b.runMeter.othersCores(childrenCPU() - b.childCPU0)
		b.runSecs = time.Since(b.runMeter.t0).Seconds()
	}()
	if err := b.measureProcessStart(ctx); err != nil {
		b.fail("process start baseline", err)
		return
	}
	// Every configured size's baseline first, largest first: the table then starts with the denominators.
	pilotPush := max(1, b.cfg.pushLines/10)
	sizes := []int{b.cfg.items, b.cfg.small, b.cfg.pushLines, pilotPush, b.cfg.perSite}
	slices.Sort(sizes)
	for _, n := range slices.Backward(slices.Compact(sizes)) {
		if _, err := b.rawAt(ctx, n); err != nil {
			b.fail("raw baseline", err)
			return
		}
	}

	if err := b.rawReference(ctx, b.cfg.items); err != nil {
		b.fail("raw reference", err)
	}

	var err error
	b.small, err = b.pipeline(ctx, "small", b.cfg.small, pilotPush)
	if err != nil {
		b.fail(fmt.Sprintf("datafile of %s items", count(b.cfg.small)), err)
		return
	}
	b.hashSecs = measureHash()
	if b.cfg.scale >= 0.5 && b.cfg.bin == "" {
		b.levers(ctx)
	}

	b.plan = b.makePlan()
	for _, n := range b.plan.notes {
		b.notes = append(b.notes, n)
		b.logf("%s", n)
	}

	if b.plan.items > b.cfg.small {
		b.big, err = b.pipeline(ctx, "big", b.plan.items, b.plan.pushLines)
		if err != nil {
			b.fail(fmt.Sprintf("datafile of %s items", count(b.plan.items)), err)
		}
	} else {
		b.notes = append(b.notes, "the full-size datafile is no larger than the small one at this scale: the small run stands for both")
		b.big = b.small
	}

	b.many, err = b.manySites(ctx, b.cfg.manySites, b.plan.perSite)
	if err != nil {
		b.fail("many sites", err)
	}

	if _, err := b.history(ctx, b.cfg.histSmall, b.plan.histBig); err != nil {
		b.fail("history", err)
	}
	b.historyRows()
	if _, err := b.thousandSites(ctx, b.plan.fleetSites); err != nil {
		b.fail("thousand sites", err)
	}
	b.fleetRows()

	// The slow link comes last: it waits on the link more than it works, and what it is given is bounded
	// by its own deadline, which leaves the checksums and the report time before the hard one.
	est := slowMargin * b.slowEstimate(b.plan.slowItems, b.plan.slowLines)
	deadline := time.Now().Add(time.Duration(max(2*est, 120) * float64(time.Second)))
	if hard := b.hardDeadline.Add(-min(time.Minute, b.cfg.budget/10)); deadline.After(hard) {
		deadline = hard
	}
	if _, err := b.slowLink(ctx, b.plan.slowItems, b.plan.slowLines, deadline); err != nil {
		b.fail("slow link", err)
	}
	b.slowRows()
}

// measureProcessStart times 'msupply-sync --version' (median of 5): what every command pays before any work.
func (b *bench) measureProcessStart(ctx context.Context) error {
	var walls []float64
	for range 5 {
		res, err := b.x.run(ctx, call{args: []string{"--version"}})
		if err != nil {
			return err
		}
		walls = append(walls, res.Wall.Seconds())
	}
	b.versionSecs = median(walls)
	b.logf("process start (msupply-sync --version): %.1f ms", b.versionSecs*1000)
	return nil
}

// workDir makes the folder of a scenario's datafiles under the run's, and returns what removes it
// afterwards unless -keep says to keep it.
func (b *bench) workDir(name string) (string, func(), error) {
	dir := filepath.Join(b.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	return dir, func() {
		if !b.cfg.keep {
			os.RemoveAll(dir)
		}
	}, nil
}

// rawAt returns the raw baseline for n rows, measuring it (in a child process) the first time, together
// with the fair one, which has a datafile's page cache.
func (b *bench) rawAt(ctx context.Context, n int) (rawResult, error) {
	if r, ok := b.raw[n]; ok {
		return r, nil
	}
	r, others, err := b.rawBest(ctx, n, "uuid")
	if err != nil {
		return r, err
	}
	fair, fairOthers, err := b.rawBest(ctx, n, "fair")
	if err != nil {
		return r, err
	}
	b.raw[n], b.fair[n] = r, fair
	b.rows = append(b.rows,
		row{scenario: fmt.Sprintf("raw insert: modernc.org/sqlite, 1 tx, prepared statement (best of %d)", r.runs), records: n, secs: r.secs,
			rawN: n, cpu: fmt.Sprintf("%.2f", r.cpu), others: others, rss: mb(r.rss), target: "the baseline"},
		row{scenario: fmt.Sprintf("raw insert as above with a datafile's bulk-write page cache, 32 MiB (best of %d)", fair.runs), records: n, secs: fair.secs,
			rawN: n, cpu: fmt.Sprintf("%.2f", fair.cpu), others: fairOthers, rss: mb(fair.rss), target: "the fair baseline: the targets' denominator"})
	return r, nil
}

// rawBest is the best of two runs of a raw insert, or of three while the first two took under 15 s: a
// baseline inflated by a busy moment would flatter every ratio measured against it.
func (b *bench) rawBest(ctx context.Context, n int, mode string) (rawResult, float64, error) {
	var r rawResult
	var others, spent float64
	for k := 0; k < 3 && (k < 2 || spent < 15); k++ {
		rk, ok, err := b.rawChildRun(ctx, n, mode)
		if err != nil {
			return rk, 0, err
		}
		spent += rk.secs
		if k == 0 || rk.secs < r.secs {
			r, others = rk, ok
		}
		r.runs = k + 1
	}
	return r, others, nil
}

// rawReference measures the same insert with ids in key order (item-0000001, ...), for comparison with the
// issue's figure; it is never a denominator: real ids are UUIDs, which land all over the B-tree.
func (b *bench) rawReference(ctx context.Context, n int) error {
	r, others, err := b.rawChildRun(ctx, n, "sequential")
	if err != nil {
		return err
	}
	b.seqRaw = r
	b.rows = append(b.rows, row{scenario: "raw insert with sequential ids (reference only, not a denominator)", records: n,
		secs: r.secs, cpu: fmt.Sprintf("%.2f", r.cpu), others: others, rss: mb(r.rss), target: "—"})
	return nil
}

func (b *bench) rawChildRun(ctx context.Context, n int, mode string) (rawResult, float64, error) {
	self, err := os.Executable()
	if err != nil {
		return rawResult{}, 0, err
	}
	path := filepath.Join(b.dir, fmt.Sprintf("raw-%s-%d.db", mode, n))
	x := &exe{bin: self, env: append(os.Environ(), fmt.Sprintf("%s=%d:%s:%s", rawEnv, n, mode, path))}
	b.logf("raw insert of %s rows (%s ids)", count(n), mode)
	m := startMeter()
	res, err := x.run(ctx, call{})
	others := m.othersCores(res.CPU)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	if err != nil {
		return rawResult{}, 0, err
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(res.Stdout), 64)
	if err != nil {
		return rawResult{}, 0, fmt.Errorf("raw insert printed %q", res.Stdout)
	}
	return rawResult{secs: secs, rss: res.MaxRSS, cpu: res.CPU}, others, nil
}

// site is a remote site the benchmark provisions on a central datafile.
type site struct {
	name, store, password, hardwareID string
}

const supplierID = "bench-supplier-nms"

// initCentral creates a central datafile with a supplier (master data for invoices) and the given sites,
// each with one store, and returns the stores' ids by code.
func (b *bench) initCentral(ctx context.Context, central, dir string, sites []site) (map[string]string, error) {
	if err := b.createCentral(ctx, central); err != nil {
		return nil, err
	}
	if _, err := b.provision(ctx, central, dir, sites); err != nil {
		return nil, err
	}
	return b.storeIDs(ctx, central)
}

// createCentral creates a central datafile with a supplier (master data for invoices).
func (b *bench) createCentral(ctx context.Context, central string) error {
	if _, err := b.x.run(ctx, call{datafile: central, args: []string{"init", "--central", "--site-name", "Bench Central", "--site-code", "HQ"}}); err != nil {
		return err
	}
	_, err := b.x.run(ctx, call{datafile: central, args: []string{"record", "put", "name",
		`{"id":"` + supplierID + `","code":"NMS","name":"National Medical Stores","is_supplier":true}`}})
	return err
}

// provision adds the sites, each with one store, from one TOML file ('provision'), and returns how long
// that took: one process, one transaction, an argon2id hash per password.
func (b *bench) provision(ctx context.Context, central, dir string, sites []site) (time.Duration, error) {
	var toml strings.Builder
	for _, s := range sites {
		fmt.Fprintf(&toml, "[[store]]\ncode = %q\nname = %q\n\n", s.store, s.name+" District Store")
	}
	for _, s := range sites {
		fmt.Fprintf(&toml, "[[site]]\nname = %q\ncode = %q\ntype = \"standalone\"\npassword = %q\nstores = [%q]\n\n",
			s.name, strings.ToUpper(s.name), s.password, s.store)
	}
	file := filepath.Join(dir, "sites.toml")
	if err := os.WriteFile(file, []byte(toml.String()), 0o600); err != nil {
		return 0, err
	}
	res, err := b.x.run(ctx, call{datafile: central, discardOut: true, args: []string{"provision", file}})
	return res.Wall, err
}

// storeIDs returns the ids of a datafile's stores by code.
func (b *bench) storeIDs(ctx context.Context, central string) (map[string]string, error) {
	res, err := b.x.run(ctx, call{datafile: central, args: []string{"store", "list", "--output", "json"}})
	if err != nil {
		return nil, err
	}
	var stores []struct{ ID, Code string }
	if err := json.Unmarshal([]byte(res.Stdout), &stores); err != nil {
		return nil, fmt.Errorf("store list: %w", err)
	}
	ids := map[string]string{}
	for _, s := range stores {
		ids[s.Code] = s.ID
	}
	return ids, nil
}

func (b *bench) initRemote(ctx context.Context, remote, url string, s site) error {
	_, err := b.x.run(ctx, call{datafile: remote, hardwareID: s.hardwareID, stdin: strings.NewReader(s.password + "\n"),
		args: []string{"init", "--remote", "--server-url", url, "--site-name", s.name, "--password-stdin"}})
	return err
}

type checksum map[string]struct {
	Count  int    `json:"count"`
	Digest string `json:"digest"`
}

func (b *bench) checksum(ctx context.Context, datafile string, extra ...string) (checksum, error) {
	res, err := b.x.run(ctx, call{datafile: datafile, args: append([]string{"record", "checksum", "--output", "json"}, extra...)})
	if err != nil {
		return nil, err
	}
	var c checksum
	if err := json.Unmarshal([]byte(res.Stdout), &c); err != nil {
		return nil, fmt.Errorf("record checksum: %w", err)
	}
	return c, nil
}

// sameTable checks that a remote holds want rows of table, the same rows as the central datafile.
func sameTable(table string, central, remote checksum, want int) error {
	c, r := central[table], remote[table]
	if r.Count != want || c.Count != want {
		return fmt.Errorf("%s: central holds %d rows, remote %d, want %d", table, c.Count, r.Count, want)
	}
	if c.Digest != r.Digest {
		return fmt.Errorf("%s: central and remote hold different rows (digests differ)", table)
	}
	return nil
}

// pipelineResult is one central datafile with one remote: import, initial sync, idle cycles and a push.
type pipelineResult struct {
	items          int
	importRes      procResult
	syncRes        procResult
	syncServerPeak int64
	syncServerCPU  float64
	syncWire       wireStats
	verifySecs     float64
	// translateSecs is what translating the same items to the legacy wire and back costs on one core.
	translateSecs float64

	idleWalls    []float64
	idleRequests []int
	idleRSS      int64
	idleWire     wireStats

	pushLines, invoices int
	putRes              procResult
	pushRes             procResult
	pushServerPeak      int64
	pushServerPeakOK    bool
	pushServerCPU       float64
	pushWire            wireStats

	// The full-size run's CPU profiles (none for the pilot), in the order of its steps, or why there are
	// none.
	profiles    []cpuProfile
	profileNote string
}

func (p *pipelineResult) idleWork() float64 { return median(p.idleWalls) }

// pipeline builds a central datafile of items items, imports them (timed), serves it, initialises a new
// remote from it through the counting proxy (timed), runs idle cycles, then has the remote write and push
// pushLines invoice lines (timed).
func (b *bench) pipeline(ctx context.Context, label string, items, pushLines int) (*pipelineResult, error) {
	dir, cleanUp, err := b.workDir(label)
	if err != nil {
		return nil, err
	}
	defer cleanUp()
	p := &pipelineResult{items: items, pushLines: pushLines}
	// The full-size steps run in the profiling build, which samples their CPU 100 times a second (about 1%
	// of it), so that the report can say where their time goes.
	x, prof := b.x, newPipelineProfiles(dir)
	if label == "small" && b.cfg.small < b.cfg.items {
		prof = nil
	} else if x, p.profileNote = b.profiled(); p.profileNote != "" {
		prof = nil
	}
	north := site{name: "North", store: "N1", password: "north-bench-password", hardwareID: "bench-north-" + label}
	central, remote := filepath.Join(dir, "central.db"), filepath.Join(dir, "remote.db")
	stores, err := b.initCentral(ctx, central, dir, []site{north})
	if err != nil {
		return nil, fmt.Errorf("set up central: %w", err)
	}
	sz := count(items)

	// Bulk import.
	jsonl := filepath.Join(dir, "items.jsonl")
	if err := writeItemsJSONL(jsonl, 0, items); err != nil {
		return nil, err
	}
	b.logf("bulk import of %s items (record put item -)", sz)
	m := startMeter()
	if p.importRes, err = x.run(ctx, call{datafile: central, stdinFile: jsonl, discardOut: true, profile: prof.file("import"),
		args: []string{"record", "put", "item", "-"}}); err != nil {
		return nil, fmt.Errorf("bulk import: %w", err)
	}
	os.Remove(jsonl)
	if _, err := b.rawAt(ctx, items); err != nil {
		return nil, err
	}
	b.rows = append(b.rows, row{scenario: "bulk import: record put item - (JSON lines)", records: items,
		secs: p.importRes.Wall.Seconds(), rawN: items, maxRatio: b.targetIf(label, 2), rss: mb(p.importRes.MaxRSS),
		cpu: fmt.Sprintf("%.2f", p.importRes.CPU), others: m.othersCores(p.importRes.CPU),
		target: b.targetText(label, "≤ 2× fair raw")})

	// Initial sync through the counting proxy.
	srv, err := x.startServerWith(ctx, central, dir, serverOptions{profDir: prof.dir()})
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop() //nolint:errcheck // already failing
		}
	}()
	px, err := startProxy(srv.addr, filepath.Join(dir, "spool"))
	if err != nil {
		return nil, err
	}
	defer px.close()
	if err := b.initRemote(ctx, remote, px.url(), north); err != nil {
		return nil, fmt.Errorf("init --remote: %w", err)
	}
	b.logf("initial sync of %s items (run --remote --once)", sz)
	prof.startServer(srv)
	m, cpu0 := startMeter(), srv.cpu()
	if p.syncRes, err = x.run(ctx, call{datafile: remote, hardwareID: north.hardwareID, profile: prof.file("sync"),
		args: []string{"run", "--remote", "--once"}}); err != nil {
		return nil, fmt.Errorf("initial sync: %w", err)
	}
	prof.stopServer(srv, "sync")
	p.syncServerPeak = srv.hwm()
	p.syncServerCPU = srv.cpu() - cpu0
	others := m.othersCores(p.syncRes.CPU + p.syncServerCPU)
	p.syncWire = px.collect()
	b.rows = append(b.rows, row{scenario: "initial sync: new remote, run --remote --once", records: items,
		secs: p.syncRes.Wall.Seconds(), rawN: items, maxRatio: b.targetIf(label, 2.5),
		cpu: fmt.Sprintf("%.2f (server %.2f)", p.syncRes.CPU, p.syncServerCPU), others: others,
		rss: fmt.Sprintf("%s (server %s)", mb(p.syncRes.MaxRSS), mb(p.syncServerPeak)), target: b.targetText(label, "≤ 2.5× fair raw")})

	b.logf("translation of %s items to the legacy wire and back, in this process", sz)
	if p.translateSecs, err = translation(items); err != nil {
		return nil, fmt.Errorf("translation: %w", err)
	}
	b.rows = append(b.rows, row{scenario: "translation alone: the initial sync's records to legacy shapes and back, one core, in-process", records: items,
		secs: p.translateSecs, rawN: items, cpu: "—", others: -1, rss: "—", target: "≤ 15% of the initial sync",
		result: fmt.Sprintf("%s: %.1f%% of the initial sync's time", metText(p.translateSecs <= 0.15*p.syncRes.Wall.Seconds()), 100*p.translateSecs/p.syncRes.Wall.Seconds())})

	vstart := time.Now()
	cc, err := b.checksum(ctx, central)
	if err != nil {
		return nil, err
	}
	rc, err := b.checksum(ctx, remote)
	if err != nil {
		return nil, err
	}
	p.verifySecs = time.Since(vstart).Seconds()
	if err := sameTable("item", cc, rc, items); err != nil {
		return nil, fmt.Errorf("after the initial sync: %w", err)
	}

	// Idle cycles.
	b.logf("idle cycles on the remote of %s items", sz)
	var idleCPU []float64
	m, cpu0 = startMeter(), srv.cpu()
	for range 5 {
		res, err := b.x.run(ctx, call{datafile: remote, hardwareID: north.hardwareID, args: []string{"run", "--remote", "--once"}})
		if err != nil {
			return nil, fmt.Errorf("idle cycle: %w", err)
		}
		w := px.collect()
		p.idleWalls = append(p.idleWalls, res.Wall.Seconds()-b.versionSecs)
		p.idleRequests = append(p.idleRequests, w.Requests)
		p.idleRSS = max(p.idleRSS, res.MaxRSS)
		p.idleWire = w
		idleCPU = append(idleCPU, res.CPU)
	}
	idleServerCPU := (srv.cpu() - cpu0) / 5
	others = m.othersCores(5 * (median(idleCPU) + idleServerCPU))
	reqs := slices.Max(p.idleRequests)
	work := p.idleWork()
	idleOK := reqs <= 3 && work < 0.050
	if prof != nil {
		// An idle cycle is too short for a profile of its own (about ten samples): more of them, untimed, are
		// profiled one by one and read together.
		for i := range b.repeats(idleProfiled) {
			f := prof.file(fmt.Sprintf("idle-%d", i))
			if _, err := x.run(ctx, call{datafile: remote, hardwareID: north.hardwareID, profile: f, args: []string{"run", "--remote", "--once"}}); err != nil {
				return nil, fmt.Errorf("idle cycle, profiled: %w", err)
			}
			prof.idle = append(prof.idle, f)
		}
		px.collect() // their bytes are no step's
	}
	b.rows = append(b.rows, row{scenario: "idle cycle: run --remote --once with nothing to do (time beyond process start)",
		records: items, secs: work, noRate: true, rss: mb(p.idleRSS), target: "≤ 3 requests, < 50 ms",
		cpu: fmt.Sprintf("%.3f (server %.3f)", median(idleCPU), idleServerCPU), others: others,
		result: fmt.Sprintf("%s: %d requests, %.0f ms", metText(idleOK), reqs, work*1000)})

	// Push: the remote writes invoice lines in its store, then pushes them.
	invFile := filepath.Join(dir, "invoices.jsonl")
	if p.invoices, err = writeInvoicesJSONL(invFile, pushLines, stores[north.store], supplierID); err != nil {
		return nil, err
	}
	if _, err := b.x.run(ctx, call{datafile: remote, stdinFile: invFile, discardOut: true, args: []string{"record", "put", "invoice", "-"}}); err != nil {
		return nil, fmt.Errorf("record put invoice: %w", err)
	}
	linesFile := filepath.Join(dir, "invoice_lines.jsonl")
	if err := writeInvoiceLinesJSONL(linesFile, pushLines, items); err != nil {
		return nil, err
	}
	b.logf("remote writes %s invoice lines (record put invoice_line -)", count(pushLines))
	m = startMeter()
	if p.putRes, err = b.x.run(ctx, call{datafile: remote, stdinFile: linesFile, discardOut: true,
		args: []string{"record", "put", "invoice_line", "-"}}); err != nil {
		return nil, fmt.Errorf("record put invoice_line: %w", err)
	}
	os.Remove(linesFile)
	if _, err := b.rawAt(ctx, pushLines); err != nil {
		return nil, err
	}
	b.rows = append(b.rows, row{scenario: "remote writes invoice lines: record put invoice_line - (no target)",
		records: pushLines, secs: p.putRes.Wall.Seconds(), rawN: pushLines, rss: mb(p.putRes.MaxRSS), target: "—",
		cpu: fmt.Sprintf("%.2f", p.putRes.CPU), others: m.othersCores(p.putRes.CPU)})

	p.pushServerPeakOK = srv.resetHWM()
	b.logf("push of %s invoice lines and %d invoices (run --remote --once)", count(pushLines), p.invoices)
	prof.startServer(srv)
	m, cpu0 = startMeter(), srv.cpu()
	if p.pushRes, err = x.run(ctx, call{datafile: remote, hardwareID: north.hardwareID, profile: prof.file("push"),
		args: []string{"run", "--remote", "--once"}}); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	prof.stopServer(srv, "push")
	p.pushServerPeak = srv.hwm()
	p.pushServerCPU = srv.cpu() - cpu0
	others = m.othersCores(p.pushRes.CPU + p.pushServerCPU)
	p.pushWire = px.collect()
	serverNote := mb(p.pushServerPeak)
	if !p.pushServerPeakOK {
		serverNote += " since start"
	}
	b.rows = append(b.rows, row{scenario: "push: run --remote --once sends the invoice lines (and their invoices)",
		records: pushLines + p.invoices, secs: p.pushRes.Wall.Seconds(), rawN: pushLines, maxRatio: b.targetIf(label, 3),
		cpu: fmt.Sprintf("%.2f (server %.2f)", p.pushRes.CPU, p.pushServerCPU), others: others,
		rss: fmt.Sprintf("%s (server %s)", mb(p.pushRes.MaxRSS), serverNote), target: b.targetText(label, "≤ 3× fair raw")})

	stopped = true
	if _, err = srv.stop(); err != nil {
		return nil, err
	}
	cc, err = b.checksum(ctx, central, "--store", north.store)
	if err != nil {
		return nil, err
	}
	rc, err = b.checksum(ctx, remote, "--store", north.store)
	if err != nil {
		return nil, err
	}
	if err := sameTable("invoice_line", cc, rc, pushLines); err != nil {
		return nil, fmt.Errorf("after the push: %w", err)
	}
	if prof != nil {
		p.profiles, p.profileNote = prof.read(ctx, items, pushLines, p.invoices)
	}
	return p, nil
}

// pipelineProfiles are the CPU profiles of the full-size pipeline: each timed command's whole run, and the
// server's during the initial sync and the push. A nil one takes none.
type pipelineProfiles struct {
	base    string
	srvPath map[string]string // the server's profile of each step
	idle    []string          // the profiles of idle cycles
	errs    []string
}

// idleProfiled is how many idle cycles are profiled: twenty give about 200 samples.
const idleProfiled = 20

// repeats is how many times a measurement is repeated for its statistics: full at full scale, and a quarter
// (at least two) in a scaled-down run, which checks the harness rather than measures.
func (b *bench) repeats(full int) int {
	if b.cfg.scale >= 1 {
		return full
	}
	return max(2, full/4)
}

func newPipelineProfiles(dir string) *pipelineProfiles {
	return &pipelineProfiles{base: filepath.Join(dir, "profiles"), srvPath: map[string]string{}}
}

func (pp *pipelineProfiles) dir() string {
	if pp == nil {
		return ""
	}
	return filepath.Join(pp.base, "server")
}

// file is where the command of step profiles itself; "" when no profile is taken.
func (pp *pipelineProfiles) file(step string) string {
	if pp == nil {
		return ""
	}
	if err := os.MkdirAll(pp.base, 0o755); err != nil {
		pp.errs = append(pp.errs, err.Error())
		return ""
	}
	return filepath.Join(pp.base, step+".pprof")
}

func (pp *pipelineProfiles) startServer(srv *server) {
	if pp == nil {
		return
	}
	if err := srv.startProfile(); err != nil {
		pp.errs = append(pp.errs, "the server's: "+err.Error())
	}
}

func (pp *pipelineProfiles) stopServer(srv *server, step string) {
	if pp == nil {
		return
	}
	path, err := srv.stopProfile()
	if err != nil {
		pp.errs = append(pp.errs, "the server's: "+err.Error())
		return
	}
	pp.srvPath[step] = path
}

// read summarises the profiles taken, and says which could not be.
func (pp *pipelineProfiles) read(ctx context.Context, items, lines, invoices int) ([]cpuProfile, string) {
	var out []cpuProfile
	for _, s := range []struct {
		step, proc string
		paths      []string
		what       string
	}{
		{"import", "`record put item -`", []string{filepath.Join(pp.base, "import.pprof")}, fmt.Sprintf("the bulk import of %s items (the whole process)", count(items))},
		{"sync", "the remote (`run --remote --once`)", []string{filepath.Join(pp.base, "sync.pprof")}, fmt.Sprintf("the initial sync of %s items (the whole process)", count(items))},
		{"sync", "", []string{pp.srvPath["sync"]}, fmt.Sprintf("the initial sync of %s items", count(items))},
		{"idle", "the remote (`run --remote --once`)", pp.idle, fmt.Sprintf("%d idle cycles at %s items, read together (each whole process)", len(pp.idle), count(items))},
		{"push", "the remote (`run --remote --once`)", []string{filepath.Join(pp.base, "push.pprof")}, fmt.Sprintf("the push of %s invoice lines and %s invoices (the whole process)", count(lines), count(invoices))},
		{"push", "", []string{pp.srvPath["push"]}, fmt.Sprintf("the push of %s invoice lines and %s invoices", count(lines), count(invoices))},
	} {
		p := cpuProfile{proc: s.proc, step: s.step, what: s.what}
		if len(s.paths) == 0 || s.paths[0] == "" {
			continue
		}
		missing := false
		for _, path := range s.paths {
			if _, err := os.Stat(path); err != nil {
				pp.errs = append(pp.errs, fmt.Sprintf("%s, %s: %v", p.who(), s.what, err))
				missing = true
				break
			}
		}
		if missing {
			continue
		}
		p = readProfiles(ctx, s.what, s.paths...)
		p.proc, p.step = s.proc, s.step
		out = append(out, p)
	}
	note := ""
	if len(pp.errs) > 0 {
		note = "some profiles are missing: " + strings.Join(pp.errs, "; ")
	}
	return out, note
}

// targetIf gives the target ratio for the full-size rows only: the small datafile's import and sync are the
// pilot, shown for comparison.
func (b *bench) targetIf(label string, ratio float64) float64 {
	if label == "small" && b.cfg.small < b.cfg.items {
		return 0
	}
	return ratio
}

func (b *bench) targetText(label, text string) string {
	if b.targetIf(label, 1) == 0 {
		return "— (pilot)"
	}
	return text
}

// manyResult is the many-sites scenario: a sample of the sites initialised one after another, then all of
// them at once.
type manyResult struct {
	sites, perSite     int
	seqSites           int // the sample initialised one after another
	seq, con           manyRun
	seqServer, conServ int64
}

// manySequential is how many sites the comparison initialises one after another: a tenth, and at least
// three. Each waits for the one before, so their time per site is steady, and the whole fleet's time one
// after another is that time times the fleet; running all of them would spend minutes of the budget on a
// reference.
func manySequential(n int) int { return min(n, max(3, n/10)) }

// seqTotal is the time the whole fleet would take one after another, from the sample; seqCPU the same for
// CPU time.
func (m *manyResult) seqTotal() float64 { return m.seq.total * float64(m.sites) / float64(m.seqSites) }
func (m *manyResult) seqCPU() float64   { return m.seq.cpu * float64(m.sites) / float64(m.seqSites) }

type manyRun struct {
	total     float64
	walls     []float64 // each site's
	cpu       float64   // all remotes and the server
	others    float64
	maxRSS    int64
	failed    int      // exited non-zero or holds the wrong rows
	troubled  int      // said "database is locked" or timed out, even if it recovered
	firstErrs []string // a few of the errors, for the report
}

func (m manyRun) ok() bool { return m.failed == 0 && m.troubled == 0 }

// troubleWords are what a remote says when the central server was locked or too slow.
var troubleWords = []string{"database is locked", "sqlite_busy", "timeout", "timed out", "deadline exceeded"}

func (b *bench) manySites(ctx context.Context, n, perSite int) (*manyResult, error) {
	dir, cleanUp, err := b.workDir("many")
	if err != nil {
		return nil, err
	}
	defer cleanUp()
	m := &manyResult{sites: n, perSite: perSite, seqSites: manySequential(n)}
	var seqSites, conSites []site
	for i := 1; i <= n; i++ {
		if i <= m.seqSites {
			seqSites = append(seqSites, site{name: fmt.Sprintf("Seq%03d", i), store: fmt.Sprintf("SQ%03d", i),
				password: fmt.Sprintf("seq-%03d-password", i), hardwareID: fmt.Sprintf("bench-seq-%03d", i)})
		}
		conSites = append(conSites, site{name: fmt.Sprintf("Con%03d", i), store: fmt.Sprintf("CN%03d", i),
			password: fmt.Sprintf("con-%03d-password", i), hardwareID: fmt.Sprintf("bench-con-%03d", i)})
	}
	central := filepath.Join(dir, "central.db")
	b.logf("many sites: central datafile of %s items with %d sites", count(perSite), m.seqSites+n)
	if _, err := b.initCentral(ctx, central, dir, append(append([]site(nil), seqSites...), conSites...)); err != nil {
		return nil, fmt.Errorf("set up central: %w", err)
	}
	jsonl := filepath.Join(dir, "items.jsonl")
	if err := writeItemsJSONL(jsonl, 0, perSite); err != nil {
		return nil, err
	}
	if _, err := b.x.run(ctx, call{datafile: central, stdinFile: jsonl, discardOut: true, args: []string{"record", "put", "item", "-"}}); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	cc, err := b.checksum(ctx, central)
	if err != nil {
		return nil, err
	}
	if _, err := b.rawAt(ctx, perSite); err != nil {
		return nil, err
	}

	phase := func(sites []site, concurrent bool) (manyRun, int64, error) {
		srv, err := b.x.startServer(ctx, central, dir)
		if err != nil {
			return manyRun{}, 0, err
		}
		remotes := make([]string, len(sites))
		for i, s := range sites {
			remotes[i] = filepath.Join(dir, s.name+".db")
			if err := b.initRemote(ctx, remotes[i], srv.url, s); err != nil {
				srv.stop() //nolint:errcheck // already failing
				return manyRun{}, 0, fmt.Errorf("init --remote %s: %w", s.name, err)
			}
		}
		results := make([]procResult, len(sites))
		errs := make([]error, len(sites))
		one := func(i int) {
			results[i], errs[i] = b.x.run(ctx, call{datafile: remotes[i], hardwareID: sites[i].hardwareID,
				args: []string{"run", "--remote", "--once"}})
		}
		mt, cpu0 := startMeter(), srv.cpu()
		start := time.Now()
		if concurrent {
			var wg sync.WaitGroup
			for i := range sites {
				wg.Add(1)
				go func() { defer wg.Done(); one(i) }()
			}
			wg.Wait()
		} else {
			for i := range sites {
				one(i)
			}
		}
		var r manyRun
		r.total = time.Since(start).Seconds()
		r.cpu = srv.cpu() - cpu0
		for i := range sites {
			r.cpu += results[i].CPU
		}
		r.others = mt.othersCores(r.cpu)
		peak, serr := srv.stop()
		for i := range sites {
			r.maxRSS = max(r.maxRSS, results[i].MaxRSS)
			r.walls = append(r.walls, results[i].Wall.Seconds())
			low := strings.ToLower(results[i].Stderr)
			for _, w := range troubleWords {
				if strings.Contains(low, w) {
					r.troubled++
					r.firstErrs = appendFew(r.firstErrs, sites[i].name+": "+lastLine(results[i].Stderr))
					break
				}
			}
			if errs[i] == nil {
				rc, err := b.checksum(ctx, remotes[i])
				if err == nil {
					err = sameTable("item", cc, rc, perSite)
				}
				errs[i] = err
			}
			if errs[i] != nil {
				r.failed++
				r.firstErrs = appendFew(r.firstErrs, sites[i].name+": "+errs[i].Error())
			}
		}
		if ctx.Err() != nil {
			return r, peak, ctx.Err()
		}
		return r, peak, serr
	}

	b.logf("many sites: %d sites initialising one after another (%s items each)", m.seqSites, count(perSite))
	if m.seq, m.seqServer, err = phase(seqSites, false); err != nil {
		return m, err
	}
	b.logf("many sites: %d sites initialising at once", n)
	if m.con, m.conServ, err = phase(conSites, true); err != nil {
		return m, err
	}

	b.rows = append(b.rows, row{scenario: fmt.Sprintf("many sites: %d new remotes initialised one after another", m.seqSites),
		records: m.seqSites * perSite, secs: m.seq.total, rawN: perSite, cpu: fmt.Sprintf("%.2f all", m.seq.cpu), others: m.seq.others,
		rss: fmt.Sprintf("%s max (server %s)", mb(m.seq.maxRSS), mb(m.seqServer)), target: "the comparison",
		result: fmt.Sprintf("%d of %d ok; %d sites would take %.2f s", m.seqSites-m.seq.failed, m.seqSites, n, m.seqTotal())})
	con := row{scenario: fmt.Sprintf("many sites: %d new remotes initialising at once", n),
		records: n * perSite, secs: m.con.total, rawN: perSite, cpu: fmt.Sprintf("%.2f all", m.con.cpu), others: m.con.others,
		rss:    fmt.Sprintf("%s max (server %s)", mb(m.con.maxRSS), mb(m.conServ)),
		target: "all succeed; time ≤ one after another"}
	met := m.con.ok() && m.con.total <= m.seqTotal()
	con.result = fmt.Sprintf("%s: %d of %d ok, %d locked/timed out, %.2f× the time one after another", metText(met),
		n-m.con.failed, n, m.con.troubled, m.con.total/m.seqTotal())
	b.rows = append(b.rows, con)
	return m, nil
}

func appendFew(list []string, s string) []string {
	if len(list) < 3 {
		list = append(list, s)
	}
	return list
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func metText(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
