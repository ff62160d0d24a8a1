package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func count(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func mb(bytes int64) string {
	if bytes <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", float64(bytes)/(1<<20))
}

// ratio is a scenario's time per record over the raw insert's for rawN rows: 1 is as fast as SQLite itself.
func (b *bench) ratio(r row) (float64, bool) { return ratioTo(b.raw, r) }

// fairRatio is ratio against the raw insert with a datafile's page cache: the targets' denominator.
func (b *bench) fairRatio(r row) (float64, bool) { return ratioTo(b.fair, r) }

func ratioTo(base map[int]rawResult, r row) (float64, bool) {
	raw, ok := base[r.rawN]
	if !ok || r.rawN == 0 || r.records == 0 || raw.secs <= 0 {
		return 0, false
	}
	return r.secs / float64(r.records) * rowsPerSec(raw, r.rawN), true
}

func ratioVerdict(ratio, target float64) string {
	if ratio <= target {
		return fmt.Sprintf("met (%.2f× fair raw, target ≤ %g×)", ratio, target)
	}
	return fmt.Sprintf("MISSED by %.1f× (%.2f× fair raw, target ≤ %g×)", ratio/target, ratio, target)
}

func (b *bench) report() string {
	var w strings.Builder
	c := b.cfg
	fmt.Fprintf(&w, "# Benchmarks\n\n")
	fmt.Fprintf(&w, "Output of `make bench` (`go run ./bench -out BENCHMARKS.md`): the scenarios of issue 5, each measured against a raw SQLite insert of the same number of rows in the same run. ")
	fmt.Fprintf(&w, "Every command is the real `msupply-sync` binary run as its own process on loopback; peak RSS is per process.\n\n")
	fmt.Fprintf(&w, "Run: `go run ./bench -scale %g -sites %d -site-items %d -fleet %d -fleet-period %s -budget %s -link-rate %d -link-rtt %s -link-cut %d`: %s items for the bulk import and initial sync (%s planned), %s for the small datafile, %s invoice lines pushed (%s planned), %d sites × %s items (%s planned), %s items and %s invoice lines over the slow link (%s and %s planned), %s sites on one central (%s planned), change logs of %s and %s rows (%s planned).\n\n",
		c.scale, c.sites, c.siteItems, c.fleet, c.fleetPeriod, c.budget, c.link.kbps, c.link.rtt, c.link.cut, count(b.plan.items), count(c.items), count(c.small),
		count(b.plan.pushLines), count(c.pushLines), c.manySites, count(b.plan.perSite), count(c.perSite),
		count(b.plan.slowItems), count(b.plan.slowLines), count(c.slowItems), count(c.slowLines),
		count(b.plan.fleetSites), count(c.fleetSites), count(c.histSmall), count(b.plan.histBig), count(c.histBig))

	for _, n := range b.plan.notes {
		if strings.HasPrefix(n, "REDUCED") {
			fmt.Fprintf(&w, "**%s.**\n\n", n)
		}
	}

	m := b.machine
	fmt.Fprintf(&w, "## Machine\n\n")
	fmt.Fprintf(&w, "- CPUs (nproc): %d\n- CPU: %s\n- Memory: %s\n- Go: %s\n- OS: %s\n- Code: %s\n- Date: %s\n- Process start (`msupply-sync --version`, median of 5): %.1f ms\n",
		m.CPUs, m.CPUModel, m.MemTotal, m.GoVersion, m.OS, m.Code, m.Date, b.versionSecs*1000)
	fmt.Fprintf(&w, "- Run time %.0f s; load average %s at the start, %s at the end; other processes kept %.2f of the %d CPUs busy on average",
		b.runSecs, b.loadStart, b.loadEnd, b.othersOverall, m.CPUs)
	if b.othersOverall > 0.25 {
		fmt.Fprintf(&w, ": **the machine was shared, so wall times are inflated; compare ratios and CPU seconds, and see the other-load column**")
	}
	fmt.Fprintf(&w, "\n\n")

	fmt.Fprintf(&w, "## Results\n\n")
	fmt.Fprintf(&w, "Ratio to raw = the scenario's time per record ÷ the raw insert's time per row at the same row count (1.00 is as fast as writing the rows into SQLite at all; lower is better); ratio to fair raw is the same against the raw insert given a datafile's page cache, which is the targets' denominator. ")
	fmt.Fprintf(&w, "Seconds are the wall time of the process, start to exit; CPU s its user + system time; \"server\" is the central `serve` process during that step (CPU from /proc/PID/stat, peak RSS from VmHWM). ")
	fmt.Fprintf(&w, "Other load is how many of the %d CPUs processes outside the benchmark kept busy meanwhile (from /proc/stat): near 0 the times are clean; near %d they are inflated.\n\n", b.machine.CPUs, b.machine.CPUs)
	fmt.Fprintf(&w, "| scenario | records | seconds | records/s | ratio to raw | ratio to fair raw | CPU s | peak RSS MB | other load | target | result |\n")
	fmt.Fprintf(&w, "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- |\n")
	for _, r := range b.rows {
		rate, ratioS, fairS, others := "—", "—", "—", "?"
		if !r.noRate && r.secs > 0 {
			rate = count(int(float64(r.records) / r.secs))
		}
		result := r.result
		if ratio, ok := b.ratio(r); ok {
			ratioS = fmt.Sprintf("%.2f", ratio)
		}
		if ratio, ok := b.fairRatio(r); ok {
			fairS = fmt.Sprintf("%.2f", ratio)
			if r.maxRatio > 0 && result == "" {
				result = ratioVerdict(ratio, r.maxRatio)
			}
		}
		secs := fmt.Sprintf("%.2f", r.secs)
		if strings.HasPrefix(r.scenario, "idle") {
			secs = fmt.Sprintf("%.3f", r.secs)
		}
		if r.others >= 0 {
			others = fmt.Sprintf("%.1f", r.others)
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.scenario, count(r.records), secs, rate, ratioS, fairS,
			r.cpu, r.rss, others, r.target, result)
	}
	fmt.Fprintln(&w)

	fmt.Fprintf(&w, "## Targets\n\n")
	for _, t := range b.targets() {
		fmt.Fprintf(&w, "- %s\n", t)
	}
	fmt.Fprintln(&w)

	fmt.Fprintf(&w, "## Bytes on the wire\n\n")
	b.wireReport(&w)

	if b.many != nil {
		fmt.Fprintf(&w, "## Many sites\n\n")
		for _, ph := range []struct {
			name  string
			sites int
			r     manyRun
		}{{"one after another", b.many.seqSites, b.many.seq}, {"at once", b.many.sites, b.many.con}} {
			fmt.Fprintf(&w, "- %s: %d sites × %s items in %.2f s (per site: median %.2f s, slowest %.2f s), %.2f CPU s in all (remotes and server), other load %.1f CPUs; %d failed, %d said \"database is locked\" or timed out",
				ph.name, ph.sites, count(b.many.perSite), ph.r.total, median(ph.r.walls), slices.Max(append([]float64{0}, ph.r.walls...)),
				ph.r.cpu, ph.r.others, ph.r.failed, ph.r.troubled)
			if ph.sites < b.many.sites {
				fmt.Fprintf(&w, "; %d sites one after another would take %.2f s and %.2f CPU s", b.many.sites, b.many.seqTotal(), b.many.seqCPU())
			}
			if len(ph.r.firstErrs) > 0 {
				fmt.Fprintf(&w, "; first errors: %s", strings.Join(ph.r.firstErrs, " | "))
			}
			fmt.Fprintln(&w)
		}
		fmt.Fprintln(&w)
	}

	fmt.Fprintf(&w, "## Slow link\n\n")
	b.slowReport(&w)

	fmt.Fprintf(&w, "## A thousand sites\n\n")
	b.fleetReport(&w)

	fmt.Fprintf(&w, "## Cost independent of history\n\n")
	b.historyReport(&w)

	if big := b.big; big != nil {
		fmt.Fprintf(&w, "## Profiles\n\n")
		fmt.Fprintf(&w, "CPU profiles of the full-size bulk import, initial sync, idle cycle and push, taken in a second build of the same code that profiles itself (see Notes); the timed rows above ran in it, so they include the profiler's cost, a few per cent. The profiles of the slow link, the thousand sites and the history scenario are in their sections.\n\n")
		if big.profileNote != "" {
			fmt.Fprintf(&w, "%s.\n\n", big.profileNote)
		}
		for _, p := range big.profiles {
			p.write(&w)
		}
	}

	fmt.Fprintf(&w, "## Levers beside the way before them\n\n")
	b.leverReport(&w)

	fmt.Fprintf(&w, "## Notes\n\n")
	notes := append([]string{
		"Raw insert: a fresh file, `CREATE TABLE item` with the product's columns and no triggers, WAL and synchronous=FULL like a datafile, one transaction, one prepared INSERT, rows generated on the fly (random UUID ids, realistic codes, names and units); timed from open to close inside a child process; the best of up to three runs is the denominator. The page cache is SQLite's default (2 MB); the fair raw insert is the same with the 32 MiB page cache a datafile gives its bulk writes (its other connections keep 8 MiB) and in-memory temporary store, so that the product's own cache flatters no ratio. The same insert with ids in key order is shown for reference: random ids are what real datafiles hold, and they cost several times more because they land all over the B-tree.",
		"Other load: the benchmark cannot stop other work on the machine; it measures it instead. CPU seconds are less affected by it than wall time.",
		"Bulk import: the same rows as JSON lines on standard input of `record put item -` on a central datafile (output discarded); the JSON is written before the clock starts.",
		"Initial sync: `serve --central --listen 127.0.0.1:0 --addr-file` on the imported datafile; a new remote (`init --remote`, a site with one store) runs `run --remote --once` through a counting TCP proxy in the benchmark process, which forwards bytes untouched and spools them; they are parsed and compressed only after the run. Afterwards the item tables of both datafiles are compared with `record checksum`.",
		"Idle cycle: five more `run --remote --once` with nothing to do; the median wall time minus the median `--version` time, and the most HTTP requests any of them made.",
		"Push: the remote writes one invoice per 100 lines in its store (untimed), then the invoice lines (`record put invoice_line -`, reported without a target), then `run --remote --once` pushes them; the central's store data is compared with the remote's afterwards. The server's peak memory is reset (clear_refs) before the push so that its figure is the push's own.",
		"Many sites: one central datafile with the sites and a tenth as many again (at least three; each with one store); the tenth are initialised one after another, then the sites all at once, each phase against a freshly started server. The time the sites would take one after another is the tenth's time multiplied up: each waits for the one before, so their time per site is steady. A site fails if its process exits non-zero or its items differ from the central's; any mention of \"database is locked\" or a timeout on its standard error is counted too.",
		"Slow link: a central datafile of its own is served through toxiproxy (in the benchmark process) with, in each direction, a latency toxic of half the round trip, a bandwidth toxic at the link rate (toxiproxy's KB is 1000 bytes, so 256 kbit/s is exactly 32 KB/s) and a limit_data toxic that drops the connection once it has carried the cut; the counting proxy sits between the remote and toxiproxy. A new remote runs the sync service, `run --remote --log-format json`, with the product's default settings; its time runs from its start to the log line that ends the cycle that initialised it (`sync cycle done`, initialised), after which `sync status` must say the initialisation is completed, the service is stopped with SIGTERM and the item tables are compared. The remote then writes invoices and invoice lines (untimed) and `run --remote --once` pushes them over the same link; the store data are compared afterwards. The cut is not scaled with -scale: at small sizes no connection may reach it. Bytes up a connection the link dropped count only up to the cut: toxiproxy buffers what the remote writes and discards what was beyond the cut. Toxiproxy's buffers absorb a request as fast as the remote writes it, so a request's wait is measured to the end of its answer, not to the end of its writing. Pages fetched twice are central_records requests at a cursor already answered in full; pushes sent twice are push bodies identical to one already answered in full.",
		"Profiles: the product has no profiling option and the benchmark adds none to it. It builds a second `msupply-sync` from the same tree with one more file in package main, given to `go build -overlay` so that the tree is never touched: a server given its variable starts and stops a CPU profile on SIGUSR1 and SIGUSR2, and a command given the other profiles its whole run. The full-size bulk import, initial sync and push, the thousand sites and the larger change log run in that build; everything else runs in the plain one. Each profile is summarised with `go tool pprof -top`.",
		"Sizes too large for the time budget (-budget) are reduced after the small run, which is extrapolated assuming each scenario keeps its ratio to the raw insert (measured at both sizes) plus a margin; a reduction is stated at the top and below.",
	}, b.notes...)
	for _, n := range notes {
		fmt.Fprintf(&w, "- %s\n", n)
	}
	if len(b.failures) > 0 {
		fmt.Fprintf(&w, "\n## Failures\n\n")
		for _, f := range b.failures {
			fmt.Fprintf(&w, "- %s\n", f)
		}
	}
	return w.String()
}

// targets states each target of issue 5: met, or by how much it is missed.
func (b *bench) targets() []string {
	var out []string
	big, small := b.big, b.small
	label := func(p *pipelineResult) string { return count(p.items) + " items" }
	if big == nil {
		out = append(out, "bulk import, initial sync, memory, idle cycle at full size and push: not measured (see Failures)")
	} else {
		if r, ok := b.rawRatio(big.importRes.Wall.Seconds(), big.items, big.items); ok {
			out = append(out, fmt.Sprintf("Bulk import of %s: %s; by CPU time %s", label(big), ratioVerdict(r, 2),
				b.cpuRatio(big.importRes.CPU, 0, big.items, big.items))+big.profileSays("import", r > 2))
		}
		if r, ok := b.rawRatio(big.syncRes.Wall.Seconds(), big.items, big.items); ok {
			out = append(out, fmt.Sprintf("Initial sync of %s: %s; by CPU time %s", label(big), ratioVerdict(r, 2.5)+b.todaysRatio(big.syncRes.Wall.Seconds(), big.items, big.items),
				b.cpuRatio(big.syncRes.CPU, big.syncServerCPU, big.items, big.items))+big.profileSays("sync", r > 2.5))
		}
		if wall := big.syncRes.Wall.Seconds(); wall > 0 && big.translateSecs > 0 {
			share := big.translateSecs / wall
			out = append(out, fmt.Sprintf("Translation to the legacy wire and back, for the initial sync of %s: %.2f s on one core, %.1f%% of that sync's %.2f s (target ≤ 15%%: %s)",
				label(big), big.translateSecs, 100*share, wall, metText(share <= 0.15)))
		}
		out = append(out, memTarget("remote", big.syncRes.MaxRSS, small.syncRes.MaxRSS, big.items, small.items))
		out = append(out, memTarget("central server", big.syncServerPeak, small.syncServerPeak, big.items, small.items))
		for _, p := range uniq(small, big) {
			reqs, work := slices.Max(p.idleRequests), p.idleWork()
			out = append(out, fmt.Sprintf("Idle cycle at %s: %d requests (target ≤ 3), %.1f ms beyond process start (target < 50 ms): %s", label(p),
				reqs, work*1000, idleVerdict(reqs, work))+p.profileSays("idle", reqs > 3 || work >= 0.050))
		}
		if r, ok := b.rawRatio(big.pushRes.Wall.Seconds(), big.pushLines+big.invoices, big.pushLines); ok {
			out = append(out, fmt.Sprintf("Push of %s invoice lines (+ %s invoices): %s; by CPU time %s", count(big.pushLines), count(big.invoices),
				ratioVerdict(r, 3)+b.todaysRatio(big.pushRes.Wall.Seconds(), big.pushLines+big.invoices, big.pushLines), b.cpuRatio(big.pushRes.CPU, big.pushServerCPU, big.pushLines+big.invoices, big.pushLines))+big.profileSays("push", r > 3))
		}
	}
	if m := b.many; m != nil && m.seq.total > 0 && m.con.total > 0 {
		ok := m.con.ok()
		s := fmt.Sprintf("%d sites initialising at once: %d of %d succeeded, %d locked or timed out (%s); %.2f s at once vs %.2f s one after another (%d sites' %.2f s × %d/%d), %.2f× (%s); CPU %.1f s at once vs %.1f s; server peak RSS %s MB at once vs %s MB",
			m.sites, m.sites-m.con.failed, m.sites, m.con.troubled, metText(ok), m.con.total, m.seqTotal(), m.seqSites, m.seq.total, m.sites, m.seqSites,
			m.con.total/m.seqTotal(), metText(m.con.total <= m.seqTotal()), m.con.cpu, m.seqCPU(), mb(m.conServ), mb(m.seqServer))
		out = append(out, s)
	} else {
		out = append(out, "many sites: not measured (see Failures)")
	}
	out = append(out, b.slowTargets()...)
	out = append(out, b.fleetTargets()...)
	out = append(out, b.historyTargets()...)
	if b.plan.items > 0 && (b.plan.items < b.cfg.items || b.plan.pushLines < b.cfg.pushLines || b.plan.perSite < b.cfg.perSite ||
		b.plan.slowItems < b.cfg.slowItems || b.plan.slowLines < b.cfg.slowLines || b.plan.fleetSites < b.cfg.fleetSites || b.plan.histBig < b.cfg.histBig) {
		out = append(out, fmt.Sprintf("Caution: to fit the time budget these ran at %s items (planned %s), %s invoice lines (planned %s), %s items per site (planned %s), %s items and %s invoice lines over the slow link (planned %s and %s), %s sites on one central (planned %s) and a change log of %s rows (planned %s).",
			count(b.plan.items), count(b.cfg.items), count(b.plan.pushLines), count(b.cfg.pushLines), count(b.plan.perSite), count(b.cfg.perSite),
			count(b.plan.slowItems), count(b.plan.slowLines), count(b.cfg.slowItems), count(b.cfg.slowLines),
			count(b.plan.fleetSites), count(b.cfg.fleetSites), count(b.plan.histBig), count(b.cfg.histBig)))
	}
	return out
}

// profileSays, for a step of the pipeline, what each of its profiles spent the CPU on, and where a missed
// target's next saving lies.
func (p *pipelineResult) profileSays(step string, missed bool) string {
	var parts []string
	for _, prof := range p.profiles {
		if prof.step != step {
			continue
		}
		d := prof.dominant()
		if d == "" {
			continue
		}
		s := fmt.Sprintf("%s spent its CPU on %s", prof.who(), d)
		if l := prof.lever(); missed && l != "" {
			s += "; next lever: " + l
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return ". Profiles: " + strings.Join(parts, ". ")
}

// cpuRatio compares the CPU time of a step (the process and the server) with the raw insert's for the same
// rows, and says which process spent most of it: unlike wall time, it hardly depends on other load.
func (b *bench) cpuRatio(proc, server float64, records, rawN int) string {
	raw, ok := b.raw[rawN]
	if !ok || raw.cpu <= 0 || records == 0 {
		return "unknown"
	}
	r := (proc + server) / (raw.cpu * float64(records) / float64(rawN))
	s := fmt.Sprintf("%.2f× raw", r)
	if server > 0 {
		who, most := "the remote", proc
		if server > proc {
			who, most = "the server", server
		}
		s += fmt.Sprintf(" (%.1f CPU s, %.0f%% of it in %s)", proc+server, 100*most/(proc+server), who)
	}
	return s
}

func uniq(ps ...*pipelineResult) []*pipelineResult {
	var out []*pipelineResult
	for _, p := range ps {
		if p != nil && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// todaysRatio says a step's ratio to the raw insert with SQLite's default page cache, the denominator
// before the fair one, so that figures of earlier runs can be compared.
func (b *bench) todaysRatio(secs float64, records, rawN int) string {
	if r, ok := b.ratio(row{secs: secs, records: records, rawN: rawN}); ok {
		return fmt.Sprintf(", %.2f× the default-cache raw", r)
	}
	return ""
}

// rawRatio is the fair ratio of a step, for its target.
func (b *bench) rawRatio(secs float64, records, rawN int) (float64, bool) {
	return b.fairRatio(row{secs: secs, records: records, rawN: rawN})
}

func idleVerdict(reqs int, work float64) string {
	var miss []string
	if reqs > 3 {
		miss = append(miss, fmt.Sprintf("%d requests is %d over", reqs, reqs-3))
	}
	if work >= 0.050 {
		miss = append(miss, fmt.Sprintf("%.1f ms is %.1f× the limit", work*1000, work/0.050))
	}
	if len(miss) == 0 {
		return "met"
	}
	return "MISSED: " + strings.Join(miss, ", ")
}

// memTarget: under 150 MB, and flat as the datafile grows (no more than a fifth or 10 MB above the small run).
func memTarget(who string, big, small int64, bigN, smallN int) string {
	const limit = 150 << 20
	s := fmt.Sprintf("Peak RSS of the %s during the initial sync: %s MB at %s items (target < 150 MB: %s), %s MB at %s items", who,
		mb(big), count(bigN), metText(big > 0 && big < limit), mb(small), count(smallN))
	if bigN > smallN && small > 0 {
		flat := big <= small+small/5 || big-small <= 10<<20
		grow := "flat"
		if !flat {
			grow = fmt.Sprintf("NOT flat: it grew %.1f×", float64(big)/float64(small))
		}
		s += fmt.Sprintf(" (%s)", grow)
	}
	if big >= limit {
		s += fmt.Sprintf(": MISSED by %.1f×; next lever: SQLite's page caches, 8 MiB a reading connection and 32 MiB one that has written in bulk (readCacheKiB and bulkWriteCacheKiB in datafile.go), with nothing bounding them together, as modernc.org/sqlite is built without the memory statistics that the soft heap limit needs", float64(big)/float64(limit))
	}
	return s
}

func (b *bench) wireReport(w *strings.Builder) {
	type line struct {
		name    string
		st      wireStats
		records int
	}
	var lines []line
	for _, p := range uniq(b.small, b.big) {
		lines = append(lines,
			line{"initial sync, " + count(p.items) + " items", p.syncWire, p.items},
			line{"idle cycle at " + count(p.items) + " items (one)", p.idleWire, 0},
			line{"push, " + count(p.pushLines) + " lines + " + count(p.invoices) + " invoices", p.pushWire, p.pushLines + p.invoices})
	}
	if len(lines) == 0 {
		fmt.Fprintf(w, "Not measured.\n\n")
		return
	}
	gz := false
	for _, l := range lines {
		gz = gz || l.st.serverGzips() || l.st.Up.Gzipped > 0
	}
	if gz {
		fmt.Fprintf(w, "The product compresses bodies (Content-Encoding: gzip): \"on the wire\" is what was sent, \"uncompressed\" the same with the bodies decompressed.\n\n")
	} else {
		fmt.Fprintf(w, "The server sent no gzip responses although the remote's Go HTTP client asks for them (Accept-Encoding: gzip): \"gzip\" is what the same bodies would take gzipped (default level, one stream per body), computed by the benchmark; headers count as they were.\n\n")
	}
	fmt.Fprintf(w, "| transfer | connections | requests | records | bytes on the wire | bytes/record on the wire | bytes/record uncompressed | bytes/record gzip | gzipped bodies (up/down) |\n")
	fmt.Fprintf(w, "| --- | --: | --: | --: | --: | --: | --: | --: | --: |\n")
	for _, l := range lines {
		per := func(n int64) string {
			if l.records == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f", float64(n)/float64(l.records))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %d/%d |\n", l.name, l.st.Conns, l.st.Requests, count(l.records),
			count(int(l.st.total())), per(l.st.total()), per(l.st.totalUncompressed()), per(l.st.totalGzip()), l.st.Up.Gzipped, l.st.Down.Gzipped)
		if l.st.ParseErr != "" {
			b.notes = append(b.notes, "wire statistics of "+l.name+" are partial: "+l.st.ParseErr)
		}
	}
	fmt.Fprintln(w)
}
