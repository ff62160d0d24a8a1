package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
	"github.com/msupply-foundation/msupply-sync/syncengine"
)

// The thousand-sites scenario of the performance issue, at -scale 1: a thousand sites on one central server
// run an idle sync cycle every minute, in compressed time, while fifty of them push a thousand invoice
// lines each. Every request passes the counting proxy, which gives each endpoint's latency.
const (
	fleetSites      = 1000
	fleetPushEvery  = 20   // one site in twenty pushes: 50 of 1,000
	fleetLines      = 1000 // invoice lines each pushing site writes and pushes
	fleetItems      = 100  // items on central, for the invoice lines to name
	fleetRealPeriod = time.Minute
	fleetPeriods    = 3
	// fleetPage is the request size a new remote starts with (the product's default), which the thin
	// sites ask for throughout.
	fleetPage = 500
	// fleetP99 is the target for every endpoint.
	fleetP99 = 200 * time.Millisecond
	// fleetInitWorkers is how many sites make their first cycle at a time: the server checks two
	// passwords at once, so more would only queue there.
	fleetInitWorkers = 8
)

// fleetSitesAt is how many sites the scenario has at a scale: at least a handful.
func fleetSitesAt(sites int, scale float64) int { return max(5, scaled(sites, scale)) }

// fleetPeriodAt is the compressed minute at a scale: the -fleet-period given from -scale 0.1 up, shorter
// below so that a quick check stays quick (never under a second).
func fleetPeriodAt(period time.Duration, scale float64) time.Duration {
	if scale >= 0.1 {
		return period
	}
	return max(time.Second, time.Duration(float64(period)*scale*10).Round(100*time.Millisecond))
}

// endpointStats is the latency of one endpoint's requests, as the counting proxy saw them.
type endpointStats struct {
	name          string
	n, errors     int
	p50, p99, max time.Duration
}

// endpointName names a request by its path under /sync/v5/ (a push is the POST of queued_records).
func endpointName(method, path string) string {
	name := strings.TrimPrefix(path, "/sync/v5/")
	if method == "POST" && name == "queued_records" {
		return "queued_records (push)"
	}
	return name
}

// percentile is the nearest-rank percentile p (0 to 100) of sorted values: the smallest value that at
// least p% of them do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// latencies gathers the exchanges that began in [from, to) by endpoint, in order of their names. A request
// failed if it was never answered in full or was answered with a status of 400 or more.
func latencies(ex []exchange, from, to time.Time) []endpointStats {
	waits := map[string][]time.Duration{}
	errs := map[string]int{}
	for _, e := range ex {
		if e.start.Before(from) || !e.start.Before(to) {
			continue
		}
		name := endpointName(e.method, e.path)
		waits[name] = append(waits[name], e.wait())
		if !e.answered || e.status >= 400 {
			errs[name]++
		}
	}
	var out []endpointStats
	for name, w := range waits {
		slices.Sort(w)
		out = append(out, endpointStats{name: name, n: len(w), errors: errs[name], p50: percentile(w, 50), p99: percentile(w, 99), max: w[len(w)-1]})
	}
	slices.SortFunc(out, func(a, b endpointStats) int { return strings.Compare(a.name, b.name) })
	return out
}

// fleetSite is one simulated site. A pushing site is a real remote: its own datafile and the product's
// Remote, whose cycle is the one 'run --remote' runs. The others are thin: the product's Client alone,
// making the requests of an idle cycle in its order, with the cursor in memory rather than a datafile.
type fleetSite struct {
	site
	store  string // id
	client *syncengine.Client
	remote *syncengine.Remote // pushing sites only
	db     *datafile.DB       // pushing sites only
	cursor int64              // thin sites: the newest master-data cursor they hold
	pushIn int                // pushing sites: the period whose cycle pushes; cycles before it only retrieve
}

// pullQueue reads the site's queue until it is empty, acknowledging each page, as a remote's cycle does.
func (f *fleetSite) pullQueue(ctx context.Context) error {
	for {
		b, err := f.client.QueuedRecords(ctx, fleetPage)
		if err != nil {
			return fmt.Errorf("queued_records: %w", err)
		}
		if len(b.Data) == 0 {
			return nil
		}
		ids := make([]string, len(b.Data))
		for i, r := range b.Data {
			ids[i] = r.SyncOutID
		}
		if err := f.client.Acknowledge(ctx, ids); err != nil {
			return fmt.Errorf("acknowledged_records: %w", err)
		}
	}
}

// thinInit is a thin site's first cycle: its site, the initialisation, its queue, and then, instead of the
// master data every site holds, the newest cursor from a page of one record.
func (f *fleetSite) thinInit(ctx context.Context) error {
	if _, err := f.client.SiteInfo(ctx); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if _, err := f.client.Initialise(ctx); err != nil {
		return fmt.Errorf("initialise: %w", err)
	}
	if err := f.pullQueue(ctx); err != nil {
		return err
	}
	b, err := f.client.CentralRecords(ctx, 0, 1)
	if err != nil {
		return fmt.Errorf("central_records: %w", err)
	}
	f.cursor = b.MaxCursor
	return nil
}

// thinCycle is a thin site's idle cycle: the requests of the Remote's cycle with nothing to push, in order.
func (f *fleetSite) thinCycle(ctx context.Context) error {
	if _, err := f.client.SiteInfo(ctx); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if err := f.pullQueue(ctx); err != nil {
		return err
	}
	for {
		b, err := f.client.CentralRecords(ctx, f.cursor, fleetPage)
		if err != nil {
			return fmt.Errorf("central_records: %w", err)
		}
		if len(b.Data) == 0 {
			return nil
		}
		f.cursor = b.Data[len(b.Data)-1].ID
		if f.cursor >= b.MaxCursor {
			return nil
		}
	}
}

// fleetResult is the scenario's outcome.
type fleetResult struct {
	sites, pushers, lines, invoices int
	period                          time.Duration
	periods                         int

	provisionSecs, setupSecs float64 // provision alone, and everything before the first cycles
	initSecs, initServerCPU  float64
	initStats                []endpointStats

	runSecs, serverCPU, benchCPU, others float64
	serverRSS, serverRSSInit             int64 // peak during the run, and during the first cycles
	runStats                             []endpointStats
	thinCycles, fullCycles, pushCycles   []float64 // seconds of each cycle, by kind
	late                                 int       // cycles that began over a tenth of a period late

	clientErrors, serverErrors, serverWarnings, locked int
	firstErrors                                        []string
	checked                                            int // pushing sites whose store data central holds in full
	wireErr                                            string
	profile                                            cpuProfile
	profileNote                                        string
}

// worst is the endpoint with the highest p99 of the run.
func (r *fleetResult) worst() endpointStats {
	var w endpointStats
	for _, e := range r.runStats {
		if e.p99 > w.p99 {
			w = e
		}
	}
	return w
}

// errorsOfRun adds up the requests of the run that failed.
func (r *fleetResult) errorsOfRun() int {
	n := 0
	for _, e := range r.runStats {
		n += e.errors
	}
	return n
}

// ok is the verdict: every endpoint's p99 under the target, nothing failed or locked, and every
// pushing site's data on central.
func (r *fleetResult) ok() bool {
	return r.worst().p99 < fleetP99 && r.errorsOfRun() == 0 && r.clientErrors == 0 && r.serverErrors == 0 && r.locked == 0 &&
		r.checked == r.pushers && len(r.runStats) > 0
}

// fleetErrors keeps the first few errors, and counts those that say the database was locked.
type fleetErrors struct {
	mu     sync.Mutex
	n      int
	locked int
	first  []string
}

func (e *fleetErrors) add(who string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if isLocked(err.Error()) {
		e.locked++
	}
	e.first = appendFew(e.first, who+": "+err.Error())
}

func isLocked(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "database is locked") || strings.Contains(s, "sqlite_busy")
}

// jitter is where in the period site i begins its cycles: drawn uniformly from it by a hash of i, so that
// every run spreads the sites alike.
func jitter(i int, period time.Duration) time.Duration {
	return time.Duration(float64(splitmix64(uint64(i)^0xf1ee7)>>11) / float64(1<<53) * float64(period))
}

// thousandSites serves one central datafile of sites sites, gives each its first cycle, then runs them all
// for fleetPeriods compressed minutes while one in fleetPushEvery pushes, and measures every request.
func (b *bench) thousandSites(ctx context.Context, sites int) (*fleetResult, error) {
	pushers, lines := max(1, sites/fleetPushEvery), max(10, scaled(fleetLines, b.cfg.scale))
	r := &fleetResult{sites: sites, pushers: pushers, lines: lines, period: fleetPeriodAt(b.cfg.fleetPeriod, b.cfg.scale), periods: fleetPeriods}
	b.fleet = r
	dir, cleanUp, err := b.workDir("fleet")
	if err != nil {
		return r, err
	}
	defer cleanUp()

	// Set-up: one central datafile, every site with one store from one provisioning file, and a few items.
	fleet := make([]*fleetSite, sites)
	var all []site
	for i := range fleet {
		s := site{name: fmt.Sprintf("Site%04d", i+1), store: fmt.Sprintf("F%04d", i+1),
			password: fmt.Sprintf("site-%04d-bench-password", i+1), hardwareID: fmt.Sprintf("bench-fleet-%04d", i+1)}
		fleet[i] = &fleetSite{site: s}
		all = append(all, s)
	}
	central := filepath.Join(dir, "central.db")
	b.logf("thousand sites: central datafile with %d sites, one store each (provision, an argon2id hash a site)", sites)
	setup := time.Now()
	if err := b.createCentral(ctx, central); err != nil {
		return r, fmt.Errorf("set up central: %w", err)
	}
	took, err := b.provision(ctx, central, dir, all)
	if err != nil {
		return r, fmt.Errorf("provision: %w", err)
	}
	r.provisionSecs = took.Seconds()
	stores, err := b.storeIDs(ctx, central)
	if err != nil {
		return r, err
	}
	items := filepath.Join(dir, "items.jsonl")
	if err := writeItemsJSONL(items, 0, fleetItems); err != nil {
		return r, err
	}
	if _, err := b.x.run(ctx, call{datafile: central, stdinFile: items, discardOut: true, args: []string{"record", "put", "item", "-"}}); err != nil {
		return r, fmt.Errorf("import items: %w", err)
	}
	r.setupSecs = time.Since(setup).Seconds()

	x, why := b.profiled()
	r.profileNote = why
	o := serverOptions{logFile: filepath.Join(dir, "server.log")}
	if why == "" {
		o.profDir = filepath.Join(dir, "profiles")
	}
	srv, err := x.startServerWith(ctx, central, dir, o)
	if err != nil {
		return r, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop() //nolint:errcheck // already failing
		}
	}()
	px, err := startProxy(srv.addr, filepath.Join(dir, "spool"))
	if err != nil {
		return r, err
	}
	px.small = true
	defer px.close()

	// Every twentieth site pushes; its push falls in one period of the run, the pushing sites spread over
	// all of them.
	var pushing []*fleetSite
	for i, f := range fleet {
		f.store = stores[f.site.store]
		if f.client, err = syncengine.NewClient(syncengine.ClientConfig{ServerURL: px.url(), SiteName: f.name,
			PasswordDigest: secret.PasswordDigest(f.password), HardwareID: f.hardwareID}); err != nil {
			return r, err
		}
		if i%fleetPushEvery == 0 && len(pushing) < pushers {
			f.pushIn = len(pushing) % r.periods
			pushing = append(pushing, f)
		}
	}
	defer func() {
		for _, f := range pushing {
			if f.db != nil {
				f.db.Close()
			}
		}
	}()

	// First cycles: the pushing sites' own (Remote.Cycle on a new datafile), then the thin sites'.
	b.logf("thousand sites: first cycles of %d sites (%d real remotes, %d thin), %d at a time", sites, pushers, sites-pushers, fleetInitWorkers)
	initErrs := &fleetErrors{}
	initStart, cpu0 := time.Now(), srv.cpu()
	order := append(slices.Clone(pushing), slices.DeleteFunc(slices.Clone(fleet), func(f *fleetSite) bool { return slices.Contains(pushing, f) })...)
	b.eachAtOnce(ctx, order, fleetInitWorkers, func(f *fleetSite) {
		var err error
		if slices.Contains(pushing, f) {
			err = f.realInit(ctx, dir, px.url())
		} else {
			err = f.thinInit(ctx)
		}
		if err != nil {
			initErrs.add(f.name, err)
		}
	})
	r.initSecs, r.initServerCPU = time.Since(initStart).Seconds(), srv.cpu()-cpu0
	if initErrs.n > 0 {
		return r, fmt.Errorf("%d of %d sites failed their first cycle, first: %s", initErrs.n, sites, strings.Join(initErrs.first, " | "))
	}
	initEnd := time.Now()

	// The pushing sites write their invoices and lines now, untimed, so that the benchmark's own writing
	// does not compete with the server during the run.
	b.logf("thousand sites: %d sites write %s invoice lines each", pushers, count(lines))
	for k, f := range pushing {
		n, err := f.writeLines(ctx, k, lines)
		if err != nil {
			return r, fmt.Errorf("%s writes invoice lines: %w", f.name, err)
		}
		r.invoices = n
	}

	// The run: every site cycles once a period from its own point in it.
	b.logf("thousand sites: %d sites cycle every %s (a minute compressed %.0f×) for %d periods; %d of them push %s lines each",
		sites, r.period, fleetRealPeriod.Seconds()/r.period.Seconds(), r.periods, pushers, count(lines))
	runErrs := &fleetErrors{}
	var mu sync.Mutex
	note := func(kind *[]float64, secs float64, late bool) {
		mu.Lock()
		defer mu.Unlock()
		*kind = append(*kind, secs)
		if late {
			r.late++
		}
	}
	r.serverRSSInit = srv.hwm()
	srv.resetHWM()
	if o.profDir != "" {
		if err := srv.startProfile(); err != nil {
			r.profileNote = "no profile: " + err.Error()
			o.profDir = ""
		}
	}
	m, cpu0, self0 := startMeter(), srv.cpu(), selfCPU()
	t0 := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	for i, f := range fleet {
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := jitter(i, r.period)
			for k := range r.periods {
				at := t0.Add(offset + time.Duration(k)*r.period)
				if !sleepUntil(ctx, at) {
					return
				}
				begun := time.Now()
				late := begun.Sub(at) > r.period/10
				var err error
				switch {
				case f.remote == nil:
					err = f.thinCycle(ctx)
					note(&r.thinCycles, time.Since(begun).Seconds(), late)
				case k == f.pushIn:
					_, err = f.remote.Cycle(ctx, true)
					note(&r.pushCycles, time.Since(begun).Seconds(), late)
				default:
					// Before its turn, a pushing site's cycle retrieves only: the same three requests as an
					// idle cycle, its lines kept back for its own period. After it, there is nothing to push.
					_, err = f.remote.Cycle(ctx, k > f.pushIn)
					note(&r.fullCycles, time.Since(begun).Seconds(), late)
				}
				if err != nil {
					runErrs.add(f.name, err)
				}
			}
		}()
	}
	wg.Wait()
	runEnd := time.Now()
	r.runSecs = runEnd.Sub(t0).Seconds()
	r.serverCPU = srv.cpu() - cpu0
	r.benchCPU = selfCPU() - self0
	r.others = m.othersCores(r.serverCPU)
	r.serverRSS = srv.hwm()
	if o.profDir != "" {
		if path, err := srv.stopProfile(); err != nil {
			r.profileNote = "no profile: " + err.Error()
		} else {
			r.profile = readProfile(ctx, path, fmt.Sprintf("the run (%d sites, %d periods of %s)", sites, r.periods, r.period))
		}
	}
	px.closeAll()
	wire := px.collect()
	r.wireErr = wire.ParseErr
	r.initStats = latencies(wire.Exchanges, initStart, initEnd)
	r.runStats = latencies(wire.Exchanges, t0, runEnd.Add(time.Second))
	r.clientErrors, r.locked, r.firstErrors = runErrs.n, runErrs.locked, runErrs.first

	stopped = true
	if _, err := srv.stop(); err != nil {
		return r, err
	}
	r.serverErrors, r.serverWarnings, r.locked = scanServerLog(o.logFile, r.locked)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}

	// What the pushing sites wrote is on central, all of it.
	cdb, err := datafile.Open(ctx, central)
	if err != nil {
		return r, err
	}
	defer cdb.Close()
	for _, f := range pushing {
		cs, err := cdb.Checksum(ctx, f.store)
		if err != nil {
			return r, err
		}
		rs, err := f.db.Checksum(ctx, f.store)
		if err != nil {
			return r, err
		}
		if cs["invoice_line"] == rs["invoice_line"] && cs["invoice"] == rs["invoice"] && cs["invoice_line"].Count == lines {
			r.checked++
		} else if len(r.firstErrors) < 3 {
			r.firstErrors = append(r.firstErrors, fmt.Sprintf("%s: central holds %d of its %d invoice lines", f.name, cs["invoice_line"].Count, lines))
		}
	}
	return r, nil
}

// eachAtOnce runs fn on every site, workers at a time.
func (b *bench) eachAtOnce(ctx context.Context, sites []*fleetSite, workers int, fn func(*fleetSite)) {
	jobs := make(chan *fleetSite)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				fn(f)
			}
		}()
	}
	for _, f := range sites {
		if ctx.Err() != nil {
			break
		}
		jobs <- f
	}
	close(jobs)
	wg.Wait()
}

// sleepUntil waits for t, or returns false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// realInit creates the site's remote datafile and runs its first cycle with the product's Remote, as
// 'init --remote' and 'run --remote --once' would, in this process.
func (f *fleetSite) realInit(ctx context.Context, dir, url string) error {
	path := filepath.Join(dir, f.name+".db")
	if err := datafile.CreateRemote(ctx, path, datafile.RemoteOptions{ServerURL: url, SiteName: f.name, Password: f.password, AuthCode: authCode}); err != nil {
		return err
	}
	var err error
	if f.db, err = datafile.Open(ctx, path); err != nil {
		return err
	}
	f.db.SetAuthCode(authCode)
	// As 'run --remote' has it: three retries of a failed request.
	f.remote = &syncengine.Remote{DB: f.db, Client: f.client, Retries: 3}
	_, err = f.remote.Cycle(ctx, true)
	return err
}

// writeLines writes the site's invoices and lines into its own datafile, as 'record put' would, and
// returns how many invoices there are. Ids are unique across sites (k is the site's place among them).
func (f *fleetSite) writeLines(ctx context.Context, k, lines int) (int, error) {
	invoices := (lines + linesPerInvoice - 1) / linesPerInvoice
	base := uint64(k) << 32
	inv := make([]map[string]any, invoices)
	for j := range inv {
		inv[j] = map[string]any{"id": uuidFor(kindInvoice, base+uint64(j)), "store_id": f.store, "name_id": supplierID,
			"type": "supplier_invoice", "status": "new", "their_ref": "PO-" + strconv.Itoa(100000+j)}
	}
	if _, err := f.db.PutRecords(ctx, "invoice", datafile.Records(inv...)); err != nil {
		return 0, err
	}
	ls := make([]map[string]any, lines)
	for j := range ls {
		h := splitmix64(base + uint64(j) ^ 0x5eed)
		ls[j] = map[string]any{"id": uuidFor(kindInvoiceLine, base+uint64(j)), "invoice_id": uuidFor(kindInvoice, base+uint64(j/linesPerInvoice)),
			"item_id": itemID(int(h % fleetItems)), "batch": "B" + strconv.Itoa(int(h>>40%100000)),
			"expiry": fmt.Sprintf("20%d-06-30", 27+h>>20%4), "quantity": json1(int(1 + h>>8%500))}
	}
	_, err := f.db.PutRecords(ctx, "invoice_line", datafile.Records(ls...))
	return invoices, err
}

// json1 is a whole number as a decoded JSON record holds it.
func json1(n int) any { return json.Number(strconv.Itoa(n)) }

// scanServerLog counts the error and warning lines of a server's log, and adds the lines that say the
// database was locked to locked.
func scanServerLog(path string, locked int) (errs, warns, lockedOut int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, locked
	}
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(l, "level=ERROR"), strings.Contains(l, `"level":"ERROR"`):
			errs++
		case strings.Contains(l, "level=WARN"), strings.Contains(l, `"level":"WARN"`):
			warns++
		}
		if isLocked(l) {
			locked++
		}
	}
	return errs, warns, locked
}

// fleetEstimate is the scenario's expected seconds for n sites: provisioning (a hash a site), the first
// cycles (the server checks each password once, two at a time; the real remotes pull every site's and
// store's master data), the run and its tail, from the hash time measured here and the small run's sync
// rate.
func (b *bench) fleetEstimate(n int) float64 {
	if n == 0 {
		return 0
	}
	perRecord := 0.0
	if s := b.small; s != nil && s.items > 0 {
		perRecord = s.syncRes.Wall.Seconds() / float64(s.items)
	}
	pushers, lines := max(1, n/fleetPushEvery), max(10, scaled(fleetLines, b.cfg.scale))
	hash := b.hashSecs
	master := float64(3*n + fleetItems)
	period := fleetPeriodAt(b.cfg.fleetPeriod, b.cfg.scale).Seconds()
	// The first cycles wait on the server's two argon2id checks at a time, which share the CPUs with this
	// process's sites: about two hashes a site (four were measured on a busy machine, where the hash
	// measured here is slower too).
	return float64(n)*hash*1.2 + // provision
		float64(n)*hash*2 + // first cycles
		float64(pushers)*(hash+0.1+master*perRecord) + // the real remotes' datafiles and their master data
		float64(pushers*lines)*perRecord + // their writing
		float64(fleetPeriods)*period + 10 + // the run and its tail
		3*b.versionSecs + 5 // set-up processes
}

// measureHash times one argon2id hash as the product makes it (the quickest of five): what provisioning pays
// for each site. The quickest, as a busy moment only ever adds: the median of three once said 90 ms on a
// machine where provisioning 400 sites took 27 ms a site, and the thousand sites were planned at 1.6× what
// they took.
func measureHash() float64 {
	best := 0.0
	for i := range 5 {
		t := time.Now()
		if _, err := secret.Hash("bench"); err != nil {
			return 0.05
		}
		if d := time.Since(t).Seconds(); i == 0 || d < best {
			best = d
		}
	}
	return best
}

// fleetRows adds the scenario's lines to the results table.
func (b *bench) fleetRows() {
	r := b.fleet
	if r == nil || r.runSecs == 0 {
		return
	}
	reqs := 0
	for _, e := range r.runStats {
		reqs += e.n
	}
	w := r.worst()
	b.rows = append(b.rows, row{scenario: fmt.Sprintf("thousand sites: %d sites cycle every %s (a minute compressed %.0f×) for %d periods, %d of them pushing %s invoice lines (requests)",
		r.sites, r.period, fleetRealPeriod.Seconds()/r.period.Seconds(), r.periods, r.pushers, count(r.lines)),
		records: reqs, secs: r.runSecs, cpu: fmt.Sprintf("server %.2f (simulated sites and proxy %.2f)", r.serverCPU, r.benchCPU), others: r.others,
		rss: fmt.Sprintf("server %s", mb(r.serverRSS)), target: "p99 < 200 ms on every endpoint; no errors, nothing locked",
		result: fmt.Sprintf("%s: worst p99 %.0f ms (%s), %d failed requests, %d \"database is locked\"", metText(r.ok()), ms(w.p99), w.name, r.errorsOfRun()+r.clientErrors, r.locked)})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fleetReport writes the report's section on the thousand sites.
func (b *bench) fleetReport(w *strings.Builder) {
	r := b.fleet
	if r == nil {
		fmt.Fprintf(w, "Not measured.\n\n")
		return
	}
	fmt.Fprintf(w, "One central datafile with %d sites, one store each, served by `serve --central`; every request of every site passes the counting proxy in the benchmark process, which times it from its first byte leaving the site to the last byte of its answer arriving. ", r.sites)
	fmt.Fprintf(w, "%d sites (one in %d) are real remotes: a datafile each (`datafile.CreateRemote`) and the product's `syncengine.Remote`, whose cycle is the one `run --remote` runs, with its three retries. ", r.pushers, fleetPushEvery)
	fmt.Fprintf(w, "The other %d are thin: the product's `syncengine.Client` alone, making the requests of an idle cycle in the Remote's order (site, queued_records until empty, central_records at the cursor they hold, limit %d), so that a thousand sites fit in one process beside the server on this machine. ", r.sites-r.pushers, fleetPage)
	fmt.Fprintf(w, "A thin site's first cycle is the Remote's (site, initialise, its queue) except that it takes the newest cursor from a page of one record instead of pulling the master data every site holds (every site and store: about %s records each, %s in all, which the real remotes pull in full).\n\n",
		count(3*r.sites+fleetItems), count((r.sites-r.pushers)*(3*r.sites+fleetItems)))
	fmt.Fprintf(w, "- Set-up (not a target): %.1f s, of which `provision` of the %d sites from one TOML file took %.1f s (%.1f ms a site: an argon2id hash of each password, one after another in one transaction).\n",
		r.setupSecs, r.sites, r.provisionSecs, 1000*r.provisionSecs/float64(r.sites))
	if r.initSecs > 0 {
		fmt.Fprintf(w, "- First cycles (timed apart, not a target): %d sites, %d at a time, in %.1f s; the server used %.1f CPU s (each site's password is checked once with argon2id, then remembered for 10 minutes).\n",
			r.sites, fleetInitWorkers, r.initSecs, r.initServerCPU)
	}
	if r.runSecs == 0 {
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "- The run: each site cycles every %s, a minute compressed %.0f×, from its own point in the period (drawn uniformly, the same in every run), %d periods: %.1f s. %d sites push %s invoice lines and %d invoices each, written into their datafiles before the run; each pushes in its own period (the pushing sites spread over the periods) and only retrieves before it. ",
		r.period, fleetRealPeriod.Seconds()/r.period.Seconds(), r.periods, r.runSecs, r.pushers, count(r.lines), r.invoices)
	reqs := 0
	for _, e := range r.runStats {
		reqs += e.n
	}
	factor := fleetRealPeriod.Seconds() / r.period.Seconds()
	fmt.Fprintf(w, "Compressing time multiplies the load: the server had %.0f requests a second, where a minute's period would give it %.0f; its %.2f CPU s for the run stand for %.1f%% of one CPU at the real rate. ",
		float64(reqs)/r.runSecs, float64(reqs)/r.runSecs/factor, r.serverCPU, 100*r.serverCPU/(float64(r.periods)*fleetRealPeriod.Seconds()))
	fmt.Fprintf(w, "Two of the server's clocks run at their real pace, so the run meets them less often than real sites would: a checked password is remembered for 10 minutes, so at the real rate each site pays an argon2id check every tenth cycle (%d sites: %.1f checks a second, %.0f%% of one CPU at the %.0f ms a hash takes here), which the run never does; and a site's contact is written at most once a minute, which the run does about once in %.0f cycles rather than about every cycle.\n",
		r.sites, float64(r.sites)/600, 100*float64(r.sites)/600*b.hashSecs, 1000*b.hashSecs, factor)
	fmt.Fprintf(w, "- Server: %.2f CPU s during the run, peak RSS %s MB during the run (%s MB during the first cycles); the simulated sites and the proxy used %.2f CPU s in the benchmark process, on the same %d CPUs; other processes kept %.1f CPUs busy.\n",
		r.serverCPU, mb(r.serverRSS), mb(r.serverRSSInit), r.benchCPU, b.machine.CPUs, r.others)
	fmt.Fprintf(w, "- Errors: %d failed requests at the proxy, %d failed cycles, %d error and %d warning lines in the server's log, %d mentions of \"database is locked\"; %d of %d pushing sites' invoices and lines are on central in full (checksums).",
		r.errorsOfRun(), r.clientErrors, r.serverErrors, r.serverWarnings, r.locked, r.checked, r.pushers)
	if len(r.firstErrors) > 0 {
		fmt.Fprintf(w, " First: %s.", strings.Join(r.firstErrors, " | "))
	}
	if r.wireErr != "" {
		fmt.Fprintf(w, " Wire statistics are partial: %s.", r.wireErr)
	}
	fmt.Fprintf(w, "\n- Cycles: %s; %d began over a tenth of a period late.\n\n", cycleText(r), r.late)

	fmt.Fprintf(w, "| endpoint (the run) | requests | failed | p50 ms | p99 ms | max ms | target p99 < %.0f ms |\n| --- | --: | --: | --: | --: | --: | --- |\n", ms(fleetP99))
	for _, e := range r.runStats {
		fmt.Fprintf(w, "| %s | %s | %d | %.1f | %.1f | %.1f | %s |\n", e.name, count(e.n), e.errors, ms(e.p50), ms(e.p99), ms(e.max), p99Verdict(e.p99))
	}
	if len(r.initStats) > 0 {
		fmt.Fprintf(w, "\n| endpoint (first cycles, %d at a time) | requests | failed | p50 ms | p99 ms | max ms |\n| --- | --: | --: | --: | --: | --: |\n", fleetInitWorkers)
		for _, e := range r.initStats {
			fmt.Fprintf(w, "| %s | %s | %d | %.1f | %.1f | %.1f |\n", e.name, count(e.n), e.errors, ms(e.p50), ms(e.p99), ms(e.max))
		}
	}
	fmt.Fprintln(w)
	if r.profileNote != "" {
		fmt.Fprintf(w, "CPU profile: %s.\n\n", r.profileNote)
	} else {
		r.profile.write(w)
	}
}

func cycleText(r *fleetResult) string {
	var parts []string
	for _, c := range []struct {
		what string
		s    []float64
	}{{"thin idle", r.thinCycles}, {"real remotes' idle or retrieve-only", r.fullCycles}, {"pushing", r.pushCycles}} {
		if len(c.s) == 0 {
			continue
		}
		s := slices.Clone(c.s)
		slices.Sort(s)
		parts = append(parts, fmt.Sprintf("%s %d, median %.0f ms, slowest %.0f ms", c.what, len(s), 1000*median(s), 1000*s[len(s)-1]))
	}
	return strings.Join(parts, "; ")
}

func p99Verdict(p99 time.Duration) string {
	if p99 < fleetP99 {
		return "met"
	}
	return fmt.Sprintf("MISSED by %.1f×", float64(p99)/float64(fleetP99))
}

// fleetTargets states the scenario's targets for the report's list of targets.
func (b *bench) fleetTargets() []string {
	r := b.fleet
	if r == nil || r.runSecs == 0 {
		return []string{"thousand sites: not measured (see Failures)"}
	}
	var missed []string
	for _, e := range r.runStats {
		if e.p99 >= fleetP99 {
			missed = append(missed, fmt.Sprintf("%s %.0f ms (%.1f×)", e.name, ms(e.p99), float64(e.p99)/float64(fleetP99)))
		}
	}
	w := r.worst()
	s := fmt.Sprintf("%d sites on one central, a cycle each every %s (a minute compressed %.0f×), %d pushing %s lines: ", r.sites, r.period,
		fleetRealPeriod.Seconds()/r.period.Seconds(), r.pushers, count(r.lines))
	if len(missed) == 0 {
		s += fmt.Sprintf("p99 < 200 ms on every endpoint met (worst %s, %.0f ms)", w.name, ms(w.p99))
	} else {
		s += "p99 < 200 ms MISSED on " + strings.Join(missed, ", ")
	}
	fails := r.errorsOfRun() + r.clientErrors + r.serverErrors
	s += fmt.Sprintf("; errors %s (%d), \"database is locked\" %s (%d); server %.2f CPU s, peak RSS %s MB", metNone(fails), fails, metNone(r.locked), r.locked, r.serverCPU, mb(r.serverRSS))
	if d := r.profile.dominant(); d != "" {
		s += "; the server's CPU went to " + d
	}
	if l := r.profile.lever(); l != "" && !r.ok() {
		s += "; next lever: " + l
	}
	return []string{s}
}

func metNone(n int) string {
	if n == 0 {
		return "none: met"
	}
	return "MISSED"
}
