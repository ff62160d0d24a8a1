package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/msupply-foundation/msupply-sync/secret"
	"github.com/msupply-foundation/msupply-sync/syncengine"
)

// The history scenario of the performance issue, at -scale 1: what an up-to-date remote costs the central
// server should not grow with the length of the change log. Two central datafiles, alike but for a change
// log of 100k rows and one of 10M, each served with one initialised remote.
const (
	historySmall = 100_000
	historyBig   = 10_000_000
	// One change in historyMasterEvery is master data (an item's update), which every remote pulls; the
	// rest are store data another site pushed, which reach no other site. A central's log is mostly the
	// latter: what every site records, day after day.
	historyMasterEvery = 100
	historyLines       = 1000 // the other site's invoice lines, which its changes are about
	historyFew         = 5    // the records after the cursor in the page an up-to-date remote asks for
	historyRounds      = 5    // rounds of measurements, the two datafiles taking turns in each
	historyPages       = 20   // pages of each kind a round asks each server for
	historyIdles       = 4    // idle cycles a round runs on each remote
	historyTarget      = 1.5  // the bound on big ÷ small
)

// historyRowsAt is the two sizes of change log at a scale: 100k and 10M at -scale 1, 1k and 100k at 0.01.
func historyRowsAt(scale float64) (small, big int) {
	return max(1000, scaled(historySmall, scale)), max(10_000, scaled(historyBig, scale))
}

// historySize is one of the two datafiles and what was measured on it.
type historySize struct {
	rows, masters           int64 // change-log rows, and those of master data
	buildSecs               float64
	fileBytes               int64
	initSecs                float64 // the remote's first cycle: every master-data change
	pageWalls, emptyWalls   []float64
	idleWalls               []float64 // beyond process start
	idleCPU                 []float64 // of each idle cycle's process: what other load changes least
	serverCPU               float64   // over the pages
	idleServerCPU           float64   // over the idle cycles
	pages                   int
	cursorFew, cursorNewest int64
}

func (h *historySize) page() float64  { return median(h.pageWalls) }
func (h *historySize) empty() float64 { return median(h.emptyWalls) }
func (h *historySize) idle() float64  { return median(h.idleWalls) }

type historyResult struct {
	items, lines int
	small, big   *historySize
	others       float64
	profile      cpuProfile
	profileNote  string
}

func (r *historyResult) ratios() (page, empty, idle float64) {
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	return div(r.big.page(), r.small.page()), div(r.big.empty(), r.small.empty()), div(r.big.idle(), r.small.idle())
}

func (r *historyResult) measured() bool {
	return r != nil && r.small != nil && r.big != nil && len(r.big.idleWalls) > 0 && len(r.small.idleWalls) > 0
}

// historyDatafile is one central datafile of the scenario, served, with its remote.
type historyDatafile struct {
	size           *historySize
	dir, central   string
	remote         string
	north          site
	srv            *server
	client         *syncengine.Client
	profiled, done bool
}

// history builds the two central datafiles, serves each with an initialised remote, and times what an
// up-to-date remote asks of them, the two taking turns.
func (b *bench) history(ctx context.Context, smallRows, bigRows int) (*historyResult, error) {
	items := b.cfg.small
	r := &historyResult{items: items, lines: min(historyLines, max(10, items)), small: &historySize{rows: int64(smallRows)}, big: &historySize{rows: int64(bigRows)}}
	b.hist = r
	base := filepath.Join(b.dir, "history")
	defer func() {
		if !b.cfg.keep {
			os.RemoveAll(base)
		}
	}()
	x, why := b.profiled()
	r.profileNote = why
	var dfs []*historyDatafile
	defer func() {
		for _, d := range dfs {
			if d.srv != nil && !d.done {
				d.srv.stop() //nolint:errcheck // already failing
			}
		}
	}()
	for _, h := range []*historySize{r.small, r.big} {
		d := &historyDatafile{size: h, dir: filepath.Join(base, fmt.Sprint(h.rows))}
		d.central, d.remote = filepath.Join(d.dir, "central.db"), filepath.Join(d.dir, "remote.db")
		d.north = site{name: "North", store: "N1", password: "north-bench-password", hardwareID: fmt.Sprintf("bench-history-%d", h.rows)}
		other := site{name: "Other", store: "O1", password: "other-bench-password", hardwareID: "bench-history-other"}
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return r, err
		}
		b.logf("history: central datafile of %s items and a change log of %s rows (bulk SQL)", count(items), count(int(h.rows)))
		stores, err := b.initCentral(ctx, d.central, d.dir, []site{d.north, other})
		if err != nil {
			return r, fmt.Errorf("set up central: %w", err)
		}
		jsonl := filepath.Join(d.dir, "items.jsonl")
		if err := writeItemsJSONL(jsonl, 0, items); err != nil {
			return r, err
		}
		if _, err := b.x.run(ctx, call{datafile: d.central, stdinFile: jsonl, discardOut: true, args: []string{"record", "put", "item", "-"}}); err != nil {
			return r, fmt.Errorf("import: %w", err)
		}
		os.Remove(jsonl)
		start := time.Now()
		if err := buildHistory(ctx, d.central, stores[other.store], r.lines, h); err != nil {
			return r, fmt.Errorf("build the change log: %w", err)
		}
		h.buildSecs = time.Since(start).Seconds()
		if st, err := os.Stat(d.central); err == nil {
			h.fileBytes = st.Size()
		}
		b.logf("history: %s change-log rows built in %.1f s (%s MB)", count(int(h.rows)), h.buildSecs, mb(h.fileBytes))

		o := serverOptions{logFile: filepath.Join(d.dir, "server.log")}
		if h == r.big && why == "" {
			o.profDir, d.profiled = filepath.Join(d.dir, "profiles"), true
		}
		if d.srv, err = x.startServerWith(ctx, d.central, d.dir, o); err != nil {
			return r, err
		}
		dfs = append(dfs, d)
		if err := b.initRemote(ctx, d.remote, d.srv.url, d.north); err != nil {
			return r, fmt.Errorf("init --remote: %w", err)
		}
		b.logf("history: the remote's first cycle pulls %s master-data changes", count(int(h.masters)))
		res, err := b.x.run(ctx, call{datafile: d.remote, hardwareID: d.north.hardwareID, args: []string{"run", "--remote", "--once"}})
		if err != nil {
			return r, fmt.Errorf("initialise the remote: %w", err)
		}
		h.initSecs = res.Wall.Seconds()
		if d.client, err = syncengine.NewClient(syncengine.ClientConfig{ServerURL: d.srv.url, SiteName: d.north.name,
			PasswordDigest: secret.PasswordDigest(d.north.password), HardwareID: d.north.hardwareID}); err != nil {
			return r, err
		}
		if _, err := d.client.SiteInfo(ctx); err != nil { // the password's check, once, before any timing
			return r, fmt.Errorf("site: %w", err)
		}
	}

	// The two datafiles take turns, round by round, so that a change in the machine's other load falls on
	// both alike.
	b.logf("history: %d rounds of %d pages of each kind and %d idle cycles on each datafile", b.repeats(historyRounds), historyPages, historyIdles)
	big := dfs[1]
	if big.profiled {
		if err := big.srv.startProfile(); err != nil {
			r.profileNote, big.profiled = "no profile: "+err.Error(), false
		}
	}
	m := startMeter()
	var serverCPU float64
	for range b.repeats(historyRounds) {
		for _, d := range dfs {
			if err := b.historyRound(ctx, d); err != nil {
				return r, err
			}
		}
	}
	for _, d := range dfs {
		serverCPU += d.size.serverCPU
	}
	r.others = m.othersCores(serverCPU)
	if big.profiled {
		// The measurements alone leave the profile a few dozen samples: a burst of the requests of idle
		// cycles gives it enough to say where the time goes.
		burst, err := historyBurst(ctx, big, b.burstFor())
		if err != nil {
			return r, err
		}
		if path, err := big.srv.stopProfile(); err != nil {
			r.profileNote = "no profile: " + err.Error()
		} else {
			r.profile = readProfile(ctx, path, fmt.Sprintf("the measurements on the change log of %s rows (%d pages and %d idle cycles), then %s of the requests of idle cycles back to back from two clients (%d cycles: site, queued_records, central_records at the newest cursor and at %d before it)",
				count(int(r.big.rows)), 2*b.repeats(historyRounds)*historyPages, b.repeats(historyRounds)*historyIdles, b.burstFor(), burst, historyFew))
		}
	}
	for _, d := range dfs {
		d.done = true
		if _, err := d.srv.stop(); err != nil {
			return r, err
		}
	}
	return r, nil
}

// historyBurstFor is how long historyBurst keeps the server busy.
const historyBurstFor = 3 * time.Second

// burstFor is historyBurstFor at full scale, and a third of it in a scaled-down run.
func (b *bench) burstFor() time.Duration {
	if b.cfg.scale >= 1 {
		return historyBurstFor
	}
	return historyBurstFor / 3
}

// historyBurst asks the server for what idle cycles ask, from two clients at once, for a while, and returns
// how many cycles' requests it made.
func historyBurst(ctx context.Context, d *historyDatafile, during time.Duration) (int, error) {
	end := time.Now().Add(during)
	var mu sync.Mutex
	var firstErr error
	n := 0
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				_, err := d.client.SiteInfo(ctx)
				if err == nil {
					_, err = d.client.QueuedRecords(ctx, fleetPage)
				}
				if err == nil {
					_, err = d.client.CentralRecords(ctx, d.size.cursorNewest, fleetPage)
				}
				if err == nil {
					_, err = d.client.CentralRecords(ctx, d.size.cursorFew, fleetPage)
				}
				mu.Lock()
				n++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return n, firstErr
}

// historyRound times, on one datafile, pages at the cursor an up-to-date remote holds (a few records after
// it, then none), then idle cycles of its remote.
func (b *bench) historyRound(ctx context.Context, d *historyDatafile) error {
	h := d.size
	cpu0 := d.srv.cpu()
	for _, c := range []struct {
		cursor int64
		walls  *[]float64
		want   int
	}{{h.cursorFew, &h.pageWalls, historyFew}, {h.cursorNewest, &h.emptyWalls, 0}} {
		for range historyPages {
			t := time.Now()
			page, err := d.client.CentralRecords(ctx, c.cursor, fleetPage)
			if err != nil {
				return fmt.Errorf("central_records: %w", err)
			}
			*c.walls = append(*c.walls, time.Since(t).Seconds())
			if len(page.Data) != c.want {
				return fmt.Errorf("central_records after cursor %d brought %d records, want %d", c.cursor, len(page.Data), c.want)
			}
			h.pages++
		}
	}
	h.serverCPU += d.srv.cpu() - cpu0
	cpu0 = d.srv.cpu()
	for range historyIdles {
		res, err := b.x.run(ctx, call{datafile: d.remote, hardwareID: d.north.hardwareID, args: []string{"run", "--remote", "--once"}})
		if err != nil {
			return fmt.Errorf("idle cycle: %w", err)
		}
		h.idleWalls = append(h.idleWalls, res.Wall.Seconds()-b.versionSecs)
		h.idleCPU = append(h.idleCPU, res.CPU)
	}
	h.idleServerCPU += d.srv.cpu() - cpu0
	return nil
}

// buildHistory grows the change log of a central datafile to h.rows rows with bulk SQL, in this process:
// the fastest honest route to ten million rows. The records they name exist, and the tables stay small:
// first the invoices and lines of store otherStore are written as the server writes what a site pushed
// (change_context names the site, so the capture triggers log them as that site's); then every further
// row is an update, one in historyMasterEvery of an item (master data), the others of one of those lines,
// written straight into the log, a recursive CTE counting them out. What each would have done besides is
// done too, or is shown to be nothing:
//
//   - changelog_route, the trigger that queues store data for the site of its store, would queue nothing:
//     a change goes to every site but the one that sent it, and the other store is on that one. It is
//     dropped for the insert and put back as it was, which makes the insert about five times faster.
//   - every write transaction moves transfer_state past the changes it wrote that are no transfers; these
//     are supplier invoices from a supplier, no transfers, so the cursor is moved to the end.
//
// The datafile is written in rollback-journal mode for the build, which spares writing it all twice
// through the WAL, and is put back into WAL mode before it is served.
func buildHistory(ctx context.Context, path, otherStore string, lines int, h *historySize) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%.60s...: %w", strings.Join(strings.Fields(q), " "), err)
		}
		return nil
	}
	var otherSite int64
	var route string
	if err := conn.QueryRowContext(ctx, `SELECT site_id FROM store WHERE id = ?`, otherStore).Scan(&otherSite); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'changelog_route'`).Scan(&route); err != nil {
		return err
	}
	for _, q := range []string{`PRAGMA journal_mode = DELETE`, `PRAGMA synchronous = OFF`, `PRAGMA cache_size = -262144`,
		`CREATE TEMP TABLE bench_item (n INTEGER PRIMARY KEY, id TEXT NOT NULL)`,
		`CREATE TEMP TABLE bench_line (n INTEGER PRIMARY KEY, id TEXT NOT NULL)`, `BEGIN`} {
		if err := exec(q); err != nil {
			return err
		}
	}
	// The other site's store data, as its push would have written it.
	invoices := (lines + linesPerInvoice - 1) / linesPerInvoice
	steps := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO bench_item (n, id) SELECT row_number() OVER (ORDER BY rowid) - 1, id FROM item`, nil},
		{`UPDATE change_context SET source_site_id = ?`, []any{otherSite}},
		{`INSERT INTO invoice (id, store_id, name_id, type, status, their_ref, created_at)
			WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?)
			SELECT 'bench-history-invoice-' || i, ?, ?, 'supplier_invoice', 'finalised', 'PO-' || (100000 + i), '2026-01-01T00:00:00Z' FROM k`,
			[]any{invoices, otherStore, supplierID}},
		{`INSERT INTO invoice_line (id, invoice_id, store_id, item_id, batch, expiry, quantity)
			WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?)
			SELECT 'bench-history-line-' || i, 'bench-history-invoice-' || (i / ?), ?,
				(SELECT id FROM bench_item WHERE n = i % (SELECT count(*) FROM bench_item)), 'B' || i, '2028-06-30', 1 + i % 500 FROM k`,
			[]any{lines, linesPerInvoice, otherStore}},
		{`UPDATE change_context SET source_site_id = NULL`, nil},
		{`INSERT INTO bench_line (n, id) SELECT row_number() OVER (ORDER BY rowid) - 1, id FROM invoice_line WHERE store_id = ?`, []any{otherStore}},
		{`DROP TRIGGER changelog_route`, nil},
	}
	for _, s := range steps {
		if err := exec(s.q, s.args...); err != nil {
			return err
		}
	}
	var have int64
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(cursor), 0) FROM changelog`).Scan(&have); err != nil {
		return err
	}
	// Row g of the log (its cursor, counting on from what is there) is an item's update when g is a multiple
	// of historyMasterEvery, and a line's otherwise.
	if have >= h.rows {
		return fmt.Errorf("the datafile's log already holds %d rows, more than the %d asked for", have, h.rows)
	}
	if err := exec(`INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id)
		WITH RECURSIVE k(g) AS (SELECT ? + 1 UNION ALL SELECT g + 1 FROM k WHERE g < ?)
		SELECT CASE WHEN g % ? = 0 THEN 'item' ELSE 'invoice_line' END,
			CASE WHEN g % ? = 0 THEN (SELECT id FROM bench_item WHERE n = (g / ?) % (SELECT count(*) FROM bench_item))
				ELSE (SELECT id FROM bench_line WHERE n = g % ?) END,
			'update',
			CASE WHEN g % ? = 0 THEN NULL ELSE ? END,
			CASE WHEN g % ? = 0 THEN NULL ELSE ? END
		FROM k`, have, h.rows, historyMasterEvery, historyMasterEvery, historyMasterEvery, lines,
		historyMasterEvery, otherStore, historyMasterEvery, otherSite); err != nil {
		return err
	}
	for _, q := range []string{route, `UPDATE transfer_state SET cursor = (SELECT max(cursor) FROM changelog)`, `COMMIT`,
		`PRAGMA journal_mode = WAL`} {
		if err := exec(q); err != nil {
			return err
		}
	}
	err = conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE store_id IS NULL),
		(SELECT cursor FROM changelog WHERE store_id IS NULL ORDER BY cursor DESC LIMIT 1 OFFSET ?),
		(SELECT max(cursor) FROM changelog WHERE store_id IS NULL) FROM changelog`, historyFew).Scan(&h.rows, &h.masters, &h.cursorFew, &h.cursorNewest)
	if err != nil {
		return err
	}
	// Written without a sync, the datafile's pages would go to disk in the kernel's own time, which would
	// slow every write of the measurements on the long log (each waits for its own sync) and not on the
	// short one: the build ends once they are on disk.
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// historyEstimate is the scenario's expected seconds with a big log of bigRows rows: building both logs at
// the sequential raw insert's rate, the remotes' pull of their master data at the small run's sync rate,
// and the measurements.
func (b *bench) historyEstimate(smallRows, bigRows int) float64 {
	perRow := 5e-6
	if b.seqRaw.secs > 0 {
		perRow = b.seqRaw.secs / float64(b.cfg.items)
	}
	perRecord := 1e-4
	if s := b.small; s != nil && s.items > 0 {
		perRecord = s.syncRes.Wall.Seconds() / float64(s.items)
	}
	rows := float64(smallRows + bigRows)
	set := 2 * (6*b.versionSecs + 0.5 + float64(b.cfg.small)*perRecord)
	measure := float64(b.repeats(historyRounds))*2*(2*historyPages*0.01+historyIdles*(b.versionSecs+0.1)) + b.burstFor().Seconds()
	return 1.5*rows*perRow + (rows/historyMasterEvery+2*float64(b.cfg.small))*perRecord + set + measure
}

// historyRows adds the scenario's lines to the results table.
func (b *bench) historyRows() {
	r := b.hist
	if !r.measured() {
		return
	}
	page, empty, idle := r.ratios()
	for _, h := range []*historySize{r.small, r.big} {
		b.rows = append(b.rows,
			row{scenario: fmt.Sprintf("history: central_records page at the newest cursor (%d records after it), change log of %s rows (median of %d)", historyFew, count(int(h.rows)), len(h.pageWalls)),
				records: int(h.rows), secs: h.page(), noRate: true, cpu: fmt.Sprintf("server %.1f ms a page", 1000*h.serverCPU/float64(max(h.pages, 1))), others: r.others, rss: "—",
				target: "10M ÷ 100k ≤ 1.5", result: ratioText(h, r.big, page, historyTarget)},
			row{scenario: fmt.Sprintf("history: central_records page with nothing after the cursor, change log of %s rows (median of %d)", count(int(h.rows)), len(h.emptyWalls)),
				records: int(h.rows), secs: h.empty(), noRate: true, cpu: "—", others: r.others, rss: "—",
				target: "10M ÷ 100k ≤ 1.5", result: ratioText(h, r.big, empty, historyTarget)},
			row{scenario: fmt.Sprintf("history: idle cycle, run --remote --once (time beyond process start), change log of %s rows (median of %d)", count(int(h.rows)), len(h.idleWalls)),
				records: int(h.rows), secs: h.idle(), noRate: true, cpu: "—", others: r.others, rss: "—",
				target: "10M ÷ 100k ≤ 1.5", result: ratioText(h, r.big, idle, historyTarget)})
	}
}

// ratioText states a big ÷ small ratio against its bound, on the big datafile's row only.
func ratioText(h, big *historySize, ratio, bound float64) string {
	if h != big {
		return "the denominator"
	}
	if ratio <= bound {
		return fmt.Sprintf("met: %.2f×", ratio)
	}
	return fmt.Sprintf("MISSED by %.2f×: %.2f×", ratio/bound, ratio)
}

// historyReport writes the report's section on the change log's length.
func (b *bench) historyReport(w *strings.Builder) {
	r := b.hist
	if r == nil {
		fmt.Fprintf(w, "Not measured.\n\n")
		return
	}
	fmt.Fprintf(w, "Two central datafiles, alike but for the length of their change log, each with %s items, a remote site North (one store, initialised) and a site Other whose store holds %s invoice lines. ", count(r.items), count(r.lines))
	fmt.Fprintf(w, "The log is built by bulk SQL in the benchmark process (see `buildHistory` in bench/history.go): Other's invoices and lines are written as the server writes a push (the capture triggers log them as Other's), then the log is counted out to its length by a recursive CTE, one row in %d an update of an item (master data, which every remote pulls), the rest updates of Other's lines (store data Other pushed, which is queued for no other site). ", historyMasterEvery)
	fmt.Fprintf(w, "So the records every row names exist and the tables stay small, while the log is long, as a central's log is after years of sites recording their work. The trigger that routes store data to the sites' queues would queue none of these rows (a change is never sent back to the site it came from), so it is dropped for the insert and put back as it was; the transfer cursor is moved to the end, as each write transaction would have moved it past changes that are no transfers; the build runs in rollback-journal mode without syncs, then the datafile is put back into WAL mode and synced once, so that the kernel's writing it back does not fall on the measurements.\n\n")
	fmt.Fprintf(w, "| change log | master-data rows | build s | datafile MB | remote's first cycle s | page, %d records after the cursor, ms | page, nothing after it, ms | server CPU ms a page | idle cycle ms (beyond process start) | idle cycle CPU ms: remote (server) |\n| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n", historyFew)
	for _, h := range []*historySize{r.small, r.big} {
		if h.rows == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %s | %.1f | %.1f | %.1f | %.2f | %.1f | %.0f (%.1f) |\n", count(int(h.rows)), count(int(h.masters)), h.buildSecs, mb(h.fileBytes), h.initSecs,
			1000*h.page(), 1000*h.empty(), 1000*h.serverCPU/float64(max(h.pages, 1)), 1000*h.idle(), 1000*median(h.idleCPU), 1000*h.idleServerCPU/float64(max(len(h.idleWalls), 1)))
	}
	fmt.Fprintln(w)
	if r.measured() {
		page, empty, idle := r.ratios()
		fmt.Fprintf(w, "Ratios, %s rows ÷ %s rows (target ≤ %g): a page with %d records %.2f×, an empty page %.2f×, an idle cycle %.2f×. Each figure is the median of its samples, taken in %d rounds in which the two datafiles took turns (pages from the benchmark process through the product's client, idle cycles as `run --remote --once` processes), so that the other load (%.1f CPUs on average) fell on both alike. ",
			count(int(r.big.rows)), count(int(r.small.rows)), historyTarget, historyFew, page, empty, idle, b.repeats(historyRounds), r.others)
		div := func(a, b float64) float64 { return a / max(b, 1e-9) }
		fmt.Fprintf(w, "By CPU time, which the other load changes less: the server's per page %.2f×, the idle cycle's remote process %.2f×, the server's per idle cycle %.2f×.\n\n",
			div(r.big.serverCPU/float64(max(r.big.pages, 1)), r.small.serverCPU/float64(max(r.small.pages, 1))), div(median(r.big.idleCPU), median(r.small.idleCPU)),
			div(r.big.idleServerCPU/float64(max(len(r.big.idleWalls), 1)), r.small.idleServerCPU/float64(max(len(r.small.idleWalls), 1))))
	}
	if r.profileNote != "" {
		fmt.Fprintf(w, "CPU profile: %s.\n\n", r.profileNote)
	} else {
		r.profile.write(w)
	}
}

// historyTargets states the scenario's target for the report's list of targets.
func (b *bench) historyTargets() []string {
	r := b.hist
	if !r.measured() {
		return []string{"history: not measured (see Failures)"}
	}
	page, empty, idle := r.ratios()
	verdict := func(x float64) string {
		if x <= historyTarget {
			return fmt.Sprintf("%.2f× (met)", x)
		}
		return fmt.Sprintf("%.2f× (MISSED by %.2f×)", x, x/historyTarget)
	}
	s := fmt.Sprintf("Cost independent of history, change log of %s rows ÷ %s rows (target ≤ %g): central_records page at the newest cursor %s (%.1f ms vs %.1f ms), empty page %s, idle cycle %s (%.1f ms vs %.1f ms); the %s-row log took %.1f s to build",
		count(int(r.big.rows)), count(int(r.small.rows)), historyTarget, verdict(page), 1000*r.big.page(), 1000*r.small.page(), verdict(empty), verdict(idle),
		1000*r.big.idle(), 1000*r.small.idle(), count(int(r.big.rows)), r.big.buildSecs)
	if d := r.profile.dominant(); d != "" {
		s += "; the server's CPU went to " + d
	}
	if l := r.profile.lever(); l != "" && max(page, empty, idle) > historyTarget {
		s += "; next lever: " + l
	}
	return []string{s}
}
