package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// The slow-link scenario of the performance issue, at -scale 1: a new remote initialises from a central
// datafile of slowItems items over a poor link, then pushes slowLines invoice lines over the same link.
const (
	slowItems = 200_000
	slowLines = 10_000
)

// The targets for the slow link.
const (
	linkRatioTarget = 1.25             // total time ÷ (bytes on the wire ÷ link rate)
	linkWaitTarget  = 30 * time.Second // the longest any request may wait for its answer
)

// linkConfig is the emulated link. Toxiproxy applies each toxic to one direction of each connection, so
// every toxic is added to both.
type linkConfig struct {
	kbps int           // kilobits (1000 bits) per second, each way
	rtt  time.Duration // round trip: half of it is added in each direction
	cut  int64         // bytes a connection carries in one direction before the link drops it; 0: never
}

// bytesPerSec is the link rate in bytes per second; toxiproxy's bandwidth rate is in KB/s of 1000 bytes
// (it sleeps len(data)/rate milliseconds per chunk), which is why kbps must be a multiple of 8.
func (l linkConfig) bytesPerSec() int { return l.kbps * 1000 / 8 }

func (l linkConfig) String() string {
	s := fmt.Sprintf("%d kbit/s (%s B/s) each way, %s round trip (%s each way)", l.kbps, count(l.bytesPerSec()),
		l.rtt, l.rtt/2)
	if l.cut > 0 {
		return s + fmt.Sprintf(", every connection dropped once it has carried %s bytes in either direction", count(int(l.cut)))
	}
	return s + ", never dropped"
}

// startLink starts toxiproxy in this process, listening on loopback and forwarding to upstream through the
// link's toxics. In each direction the chain is latency, then bandwidth, then the cut: latency first,
// because toxiproxy's latency toxic delays a chunk only by what is left of the latency since the chunk was
// read, so after the bandwidth toxic it would add nothing to a busy link; the cut last, so that it counts
// the bytes that crossed the link.
func startLink(upstream string, l linkConfig) (*toxiproxy.Proxy, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	px := toxiproxy.NewProxy(srv, "central", "127.0.0.1:0", upstream)
	if err := px.Start(); err != nil {
		return nil, fmt.Errorf("toxiproxy: %w", err)
	}
	for _, stream := range []string{"upstream", "downstream"} {
		toxics := []string{
			fmt.Sprintf(`{"name":"latency_%s","type":"latency","stream":%q,"attributes":{"latency":%d}}`, stream, stream, (l.rtt / 2).Milliseconds()),
			fmt.Sprintf(`{"name":"bandwidth_%s","type":"bandwidth","stream":%q,"attributes":{"rate":%d}}`, stream, stream, l.bytesPerSec()/1000),
		}
		if l.cut > 0 {
			toxics = append(toxics, fmt.Sprintf(`{"name":"cut_%s","type":"limit_data","stream":%q,"attributes":{"bytes":%d}}`, stream, stream, l.cut))
		}
		for _, t := range toxics {
			if _, err := px.Toxics.AddToxicJson(strings.NewReader(t)); err != nil {
				px.Stop()
				return nil, fmt.Errorf("toxiproxy: add %s: %w", t, err)
			}
		}
	}
	return px, nil
}

// measureLink times four seconds' worth of bytes sent through a link like l (never cut) by a local sender,
// and returns the rate the link delivered them at: toxiproxy's bandwidth toxic sleeps for each piece it
// passes on, and the timers' slack makes it a little slower than its nominal rate. The first bytes wait
// for the latency of one direction, which is taken off.
func measureLink(l linkConfig) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	n := 4 * l.bytesPerSec()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write(make([]byte, n)) //nolint:errcheck // the reader counts what arrived
		c.Close()
	}()
	l.cut = 0
	px, err := startLink(ln.Addr().String(), l)
	if err != nil {
		return 0, err
	}
	defer px.Stop()
	start := time.Now()
	c, err := net.Dial("tcp", px.Listen)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	got, err := io.Copy(io.Discard, c)
	if err != nil {
		return 0, err
	}
	if got != int64(n) {
		return 0, fmt.Errorf("the link delivered %d of %d bytes", got, n)
	}
	return float64(n) / (time.Since(start) - l.rtt/2).Seconds(), nil
}

// linkFindings is what the requests of one transfer over the slow link say about the product.
type linkFindings struct {
	requests, unanswered int
	longest              exchange
	// refetched counts master-data pages (central_records at one cursor) asked for again after a complete
	// answer; resent counts pushes of the very same body again after a complete answer.
	refetched, resent int
	// A retry is the next request to the same path after one that was never answered; it did not shrink
	// when it asked for as many records (limit=) or sent as large a body as the request it replaces.
	retries, notSmaller int
	pageLimits          []int // limit= of each central_records request, in order
	pushSizes           []int64
}

// findLink reads the exchanges of one transfer, ordered by start.
func findLink(ex []exchange) linkFindings {
	var f linkFindings
	pages := map[string]bool{} // cursor → answered in full
	pushes := map[uint64]bool{}
	for i, e := range ex {
		f.requests++
		if !e.answered {
			f.unanswered++
		}
		if e.wait() > f.longest.wait() {
			f.longest = e
		}
		isPage := e.method == "GET" && strings.HasSuffix(e.path, "/central_records")
		isPush := e.method == "POST" && strings.HasSuffix(e.path, "/queued_records")
		switch {
		case isPage:
			if n, err := strconv.Atoi(e.query.Get("limit")); err == nil {
				f.pageLimits = append(f.pageLimits, n)
			}
			cursor := e.query.Get("cursor")
			if pages[cursor] {
				f.refetched++
			}
			pages[cursor] = pages[cursor] || (e.answered && e.status == 200)
		case isPush:
			f.pushSizes = append(f.pushSizes, e.contentLength)
			if pushes[e.bodySum] {
				f.resent++
			}
			pushes[e.bodySum] = pushes[e.bodySum] || (e.answered && e.status == 200)
		}
		if e.answered {
			continue
		}
		for _, r := range ex[i+1:] {
			if r.method != e.method || r.path != e.path {
				continue
			}
			f.retries++
			if size(r) >= size(e) {
				f.notSmaller++
			}
			break
		}
	}
	return f
}

// size is how much a request asks for: the records of a page (limit=) or the bytes of a body.
func size(e exchange) int64 {
	if n, err := strconv.ParseInt(e.query.Get("limit"), 10, 64); err == nil {
		return n
	}
	return e.contentLength
}

// linkTransfer is one timed transfer over the slow link.
type linkTransfer struct {
	what      string
	records   int
	done      bool // it completed: the datafile initialised, or the push exited 0
	secs      float64
	res       procResult
	serverCPU float64
	serverRSS int64
	others    float64
	wire      wireStats
	find      linkFindings
	log       logCounts
}

// limitSecs is the time the link needs to carry the transfer's bytes, both directions one after the other:
// with one request in flight at a time they take turns.
func (t *linkTransfer) limitSecs(l linkConfig) float64 {
	return float64(t.wire.total()) / float64(l.bytesPerSec())
}

func (t *linkTransfer) ratio(l linkConfig) float64 {
	if lim := t.limitSecs(l); lim > 0 {
		return t.secs / lim
	}
	return 0
}

type slowResult struct {
	items, lines, invoices int
	link                   linkConfig
	measured               float64 // B/s the link delivered in measureLink; 0 if not measured
	init, push             *linkTransfer
}

// slowLink serves a central datafile of items items through toxiproxy; a new remote runs the sync service
// ('run --remote') until its log says the initialisation is done, then writes lines invoice lines and
// pushes them with 'run --remote --once' over the same link.
func (b *bench) slowLink(ctx context.Context, items, lines int, deadline time.Time) (*slowResult, error) {
	r := &slowResult{items: items, lines: lines, link: b.cfg.link}
	if time.Until(deadline) <= 0 {
		return r, errors.New("no time left for it in the budget")
	}
	b.slow = r
	dir, cleanUp, err := b.workDir("slow")
	if err != nil {
		return r, err
	}
	defer cleanUp()
	east := site{name: "East", store: "E1", password: "east-bench-password", hardwareID: "bench-east-slow"}
	central, remote := filepath.Join(dir, "central.db"), filepath.Join(dir, "remote.db")
	b.logf("slow link: central datafile of %s items", count(items))
	stores, err := b.initCentral(ctx, central, dir, []site{east})
	if err != nil {
		return r, fmt.Errorf("set up central: %w", err)
	}
	jsonl := filepath.Join(dir, "items.jsonl")
	if err := writeItemsJSONL(jsonl, 0, items); err != nil {
		return r, err
	}
	if _, err := b.x.run(ctx, call{datafile: central, stdinFile: jsonl, discardOut: true, args: []string{"record", "put", "item", "-"}}); err != nil {
		return r, fmt.Errorf("import: %w", err)
	}
	os.Remove(jsonl)

	srv, err := b.x.startServer(ctx, central, dir)
	if err != nil {
		return r, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop() //nolint:errcheck // already failing
		}
	}()
	link, err := startLink(srv.addr, r.link)
	if err != nil {
		return r, err
	}
	defer link.Stop()
	// The counting proxy sits on the remote's side of the link, so that it sees each request leave and its
	// answer arrive when the remote does.
	px, err := startProxy(link.Listen, filepath.Join(dir, "spool"))
	if err != nil {
		return r, err
	}
	px.cut = r.link.cut
	defer px.close()
	if err := b.initRemote(ctx, remote, px.url(), east); err != nil {
		return r, fmt.Errorf("init --remote: %w", err)
	}
	px.collect() // what init itself sent is set-up, not the initialisation
	if r.measured, err = measureLink(r.link); err != nil {
		b.logf("slow link: could not measure the link alone: %v", err)
	}

	b.logf("slow link: initialisation of %s items over %s (run --remote until initialised)", count(items), r.link)
	srv.resetHWM()
	r.init = &linkTransfer{what: "initialisation", records: items}
	m, cpu0 := startMeter(), srv.cpu()
	r.init.res, r.init.log, err = b.runLogged(ctx, call{datafile: remote, hardwareID: east.hardwareID,
		args: []string{"run", "--remote", "--log-format", "json"}}, filepath.Join(dir, "service.log"), deadline)
	b.finishTransfer(r.init, srv, px, m, cpu0)
	if err != nil {
		return r, fmt.Errorf("run --remote: %w", err)
	}
	r.init.done = true
	st, err := b.remoteStatus(ctx, remote)
	if err != nil {
		return r, err
	}
	if st != "completed" {
		return r, fmt.Errorf("run --remote logged the end of its initialisation, but sync status says %q", st)
	}
	cc, err := b.checksum(ctx, central)
	if err != nil {
		return r, err
	}
	rc, err := b.checksum(ctx, remote)
	if err != nil {
		return r, err
	}
	if err := sameTable("item", cc, rc, items); err != nil {
		return r, fmt.Errorf("after the initialisation: %w", err)
	}

	invFile := filepath.Join(dir, "invoices.jsonl")
	if r.invoices, err = writeInvoicesJSONL(invFile, lines, stores[east.store], supplierID); err != nil {
		return r, err
	}
	linesFile := filepath.Join(dir, "invoice_lines.jsonl")
	if err := writeInvoiceLinesJSONL(linesFile, lines, items); err != nil {
		return r, err
	}
	for _, put := range []struct{ table, file string }{{"invoice", invFile}, {"invoice_line", linesFile}} {
		if _, err := b.x.run(ctx, call{datafile: remote, stdinFile: put.file, discardOut: true, args: []string{"record", "put", put.table, "-"}}); err != nil {
			return r, fmt.Errorf("record put %s: %w", put.table, err)
		}
	}
	b.logf("slow link: push of %s invoice lines and %d invoices (run --remote --once)", count(lines), r.invoices)
	srv.resetHWM()
	r.push = &linkTransfer{what: "push", records: lines + r.invoices}
	m, cpu0 = startMeter(), srv.cpu()
	r.push.res, r.push.log, err = b.runLogged(ctx, call{datafile: remote, hardwareID: east.hardwareID,
		args: []string{"run", "--remote", "--once", "--log-format", "json"}}, filepath.Join(dir, "push.log"), deadline)
	b.finishTransfer(r.push, srv, px, m, cpu0)
	if err != nil {
		return r, fmt.Errorf("push: %w", err)
	}
	r.push.done = true

	stopped = true
	if _, err := srv.stop(); err != nil {
		return r, err
	}
	if cc, err = b.checksum(ctx, central, "--store", east.store); err != nil {
		return r, err
	}
	if rc, err = b.checksum(ctx, remote, "--store", east.store); err != nil {
		return r, err
	}
	if err := sameTable("invoice_line", cc, rc, lines); err != nil {
		return r, fmt.Errorf("after the push: %w", err)
	}
	return r, nil
}

// finishTransfer gathers what the server and the proxies say about a transfer that has just ended.
func (b *bench) finishTransfer(t *linkTransfer, srv *server, px *proxy, m meter, cpu0 float64) {
	t.secs = t.res.Wall.Seconds()
	t.serverCPU = srv.cpu() - cpu0
	t.serverRSS = srv.hwm()
	t.others = m.othersCores(t.res.CPU + t.serverCPU)
	t.wire = px.collect()
	t.find = findLink(t.wire.Exchanges)
}

func (b *bench) remoteStatus(ctx context.Context, remote string) (string, error) {
	res, err := b.x.run(ctx, call{datafile: remote, args: []string{"sync", "status", "--output", "json"}})
	if err != nil {
		return "", err
	}
	var st struct {
		Initialisation string `json:"initialisation"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		return "", fmt.Errorf("sync status: %w", err)
	}
	return st.Initialisation, nil
}

// logCounts is what a remote's JSON log said while it ran.
type logCounts struct {
	warnings, errors int
	first            []string // the first few distinct warning and error messages
}

// serviceLog reads the JSON log of a running remote as it is written, into a file and into counts, and
// closes initialised when a cycle that initialised the datafile has ended well ("sync cycle done",
// initialised true), noting when.
type serviceLog struct {
	mu            sync.Mutex
	out           *os.File
	partial       []byte
	counts        logCounts
	initialised   chan struct{}
	initialisedAt time.Time
}

func (l *serviceLog) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out.Write(p) //nolint:errcheck // the copy on disk is for reading after a failure; the counts are kept here
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i], now)
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *serviceLog) line(s []byte, now time.Time) {
	var e struct {
		Level       string `json:"level"`
		Msg         string `json:"msg"`
		Initialised bool   `json:"initialised"`
		Error       string `json:"error"`
	}
	if len(s) == 0 || s[0] != '{' || json.Unmarshal(s, &e) != nil {
		return // progress lines and anything else that is not the log
	}
	switch e.Level {
	case "WARN":
		l.counts.warnings++
	case "ERROR":
		l.counts.errors++
	}
	if e.Level == "WARN" || e.Level == "ERROR" {
		msg := e.Msg
		if e.Error != "" {
			msg += ": " + e.Error
		}
		if !slices.Contains(l.counts.first, msg) {
			l.counts.first = appendFew(l.counts.first, msg)
		}
	}
	if e.Msg == "sync cycle done" && e.Initialised && l.initialisedAt.IsZero() {
		l.initialisedAt = now
		close(l.initialised)
	}
}

// runLogged runs the binary with its log read as it is written. A 'run --remote' without --once is the sync
// service: it is stopped with SIGTERM once its log says the datafile is initialised, and its time runs
// from its start to that line. Anything still running at deadline is stopped and reported as unfinished.
func (b *bench) runLogged(ctx context.Context, c call, logFile string, deadline time.Time) (procResult, logCounts, error) {
	service := !slices.Contains(c.args, "--once")
	cmd, out, _, cleanup, err := b.x.command(ctx, c)
	if err != nil {
		return procResult{}, logCounts{}, err
	}
	defer cleanup()
	l, err := launch(cmd)
	if err != nil {
		return procResult{}, logCounts{}, err
	}
	f, err := os.Create(logFile)
	if err != nil {
		return procResult{}, logCounts{}, err
	}
	defer f.Close()
	lw := &serviceLog{out: f, initialised: make(chan struct{})}
	cmd.Stderr = lw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return procResult{}, logCounts{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var runErr error
	var end time.Time
	stop := func() error {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be exiting on its own
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-exited
			return errors.New("did not stop within 30 s of SIGTERM")
		}
	}
	initialised := lw.initialised
	if !service {
		initialised = nil // a nil channel: --once is done when it exits
	}
	select {
	case <-initialised:
		lw.mu.Lock()
		end = lw.initialisedAt
		lw.mu.Unlock()
		runErr = stop()
	case runErr = <-exited:
		end = time.Now()
		if runErr == nil && service {
			runErr = errors.New("exited before its log said the datafile was initialised")
		}
	case <-time.After(time.Until(deadline)):
		end = time.Now()
		stop() //nolint:errcheck // unfinished either way
		runErr = fmt.Errorf("not finished after %.0f s, the time this scenario had in the budget", end.Sub(start).Seconds())
	case <-ctx.Done():
		end = time.Now()
		stop() //nolint:errcheck
		runErr = ctx.Err()
	}
	res := procResult{Wall: end.Sub(start), Stdout: out.String()}
	// The service's time ends at the log line that says it initialised, not when it stopped.
	l.read(&res)
	res.Wall = end.Sub(start)
	lw.mu.Lock()
	counts := lw.counts
	lw.mu.Unlock()
	if runErr != nil {
		if last := lastLogError(logFile); last != "" {
			runErr = fmt.Errorf("%w (last log error: %s)", runErr, last)
		}
	}
	return res, counts, runErr
}

// lastLogError is the last error or warning in a JSON log file, for one-line reports.
func lastLogError(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var e struct{ Level, Msg, Error string }
		if json.Unmarshal([]byte(lines[i]), &e) == nil && (e.Level == "ERROR" || e.Level == "WARN") {
			return strings.TrimSpace(e.Msg + " " + e.Error)
		}
	}
	return lastLine(string(b))
}

// slowPage is the request size a new remote starts with (the product's default), and slowRequestSecs the
// time on the link the product grows its requests to (syncengine's growRequestsUnder): each request that
// answers sooner makes the next a quarter larger.
const (
	slowPage        = 500
	slowRequestSecs = 5.0
)

// slowEstimate extrapolates the slow-link scenario's time from the small run: its bytes per record on the
// wire at the link rate, a round trip per request, a retry per cut, and the local work (import, writes,
// checksums) in proportion to the rows. Requests start at slowPage records and grow until each carries
// slowRequestSecs of the link; judged at slowPage throughout, 200,000 items were estimated at 1.5× the
// time that 71,000 took, scaled up.
func (b *bench) slowEstimate(items, lines int) float64 {
	s := b.small
	if s == nil || s.items == 0 || s.pushLines == 0 {
		return 0
	}
	l := b.cfg.link
	invoices := (lines + linesPerInvoice - 1) / linesPerInvoice
	perItem := float64(s.syncWire.total()) / float64(s.items)
	perRecord := float64(s.pushWire.total()) / float64(s.pushLines+s.invoices)
	wire := perItem*float64(items) + perRecord*float64(lines+invoices)
	linkSecs := wire / float64(l.bytesPerSec())
	rounds := slowRounds(float64(items), perItem*slowPage/float64(l.bytesPerSec())) +
		slowRounds(float64(lines+invoices), perRecord*slowPage/float64(l.bytesPerSec())) + 12
	cuts := 0.0
	if l.cut > 0 {
		cuts = wire / float64(l.cut)
	}
	fi, fl := float64(items)/float64(s.items), float64(lines)/float64(s.pushLines)
	local := fi*(s.importRes.Wall.Seconds()+2*s.verifySecs) + fl*s.putRes.Wall.Seconds() + 20*(b.versionSecs+0.02)
	return linkSecs + rounds*l.rtt.Seconds() + cuts*(1+l.rtt.Seconds()) + local
}

// slowRounds is how many requests carry n records when the first carries slowPage of them in firstSecs on
// the link and each next is a quarter larger until one takes slowRequestSecs.
func slowRounds(n, firstSecs float64) float64 {
	page, secs, rounds := float64(slowPage), firstSecs, 0.0
	for n > 0 {
		n -= page
		rounds++
		if secs < slowRequestSecs {
			page *= 1.25
			secs *= 1.25
		}
	}
	return rounds
}

// slowRows adds the scenario's lines to the results table.
func (b *bench) slowRows() {
	r := b.slow
	if r == nil {
		return
	}
	for _, t := range []*linkTransfer{r.init, r.push} {
		if t == nil {
			continue
		}
		name := fmt.Sprintf("slow link: new remote initialised by run --remote (%s)", r.link.short())
		if t == r.push {
			name = fmt.Sprintf("slow link: run --remote --once pushes %s invoice lines + %s invoices (%s)", count(r.lines), count(r.invoices), r.link.short())
		}
		b.rows = append(b.rows, row{scenario: name, records: t.records, secs: t.secs,
			cpu: fmt.Sprintf("%.2f (server %.2f)", t.res.CPU, t.serverCPU), others: t.others,
			rss:    fmt.Sprintf("%s (server %s)", mb(t.res.MaxRSS), mb(t.serverRSS)),
			target: fmt.Sprintf("≤ %g× link limit, no request > %.0f s, no page twice", linkRatioTarget, linkWaitTarget.Seconds()),
			result: t.verdict(r.link)})
	}
}

func (l linkConfig) short() string {
	s := fmt.Sprintf("%d kbit/s, %s RTT", l.kbps, l.rtt)
	if l.cut > 0 {
		s += ", cut every " + bytesText(l.cut)
	}
	return s
}

func bytesText(n int64) string {
	if n >= 1_000_000 && n%100_000 == 0 {
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + " MB"
	}
	return count(int(n)) + " B"
}

// verdict states the transfer's three targets, each met or missed by how much.
func (t *linkTransfer) verdict(l linkConfig) string {
	var parts []string
	if !t.done {
		parts = append(parts, fmt.Sprintf("MISSED: not finished after %.0f s", t.secs))
	}
	ratio := t.ratio(l)
	if ratio <= linkRatioTarget {
		parts = append(parts, fmt.Sprintf("met: %.2f× the link limit", ratio))
	} else {
		parts = append(parts, fmt.Sprintf("MISSED by %.2f×: %.2f× the link limit", ratio/linkRatioTarget, ratio))
	}
	if w := t.find.longest.wait(); w <= linkWaitTarget {
		parts = append(parts, fmt.Sprintf("met: longest request %.1f s", w.Seconds()))
	} else {
		parts = append(parts, fmt.Sprintf("MISSED by %.1f×: longest request %.1f s", w.Seconds()/linkWaitTarget.Seconds(), w.Seconds()))
	}
	twice := t.find.refetched + t.find.resent
	parts = append(parts, fmt.Sprintf("%s: %d page(s) fetched or pushed again after a complete answer", metText(twice == 0), twice))
	return strings.Join(parts, "; ")
}

// slowReport writes the report's own section on the slow link.
func (b *bench) slowReport(w *strings.Builder) {
	r := b.slow
	if r == nil {
		fmt.Fprintf(w, "Not measured.\n\n")
		return
	}
	fmt.Fprintf(w, "Link: %s, emulated by Shopify's toxiproxy (github.com/Shopify/toxiproxy/v2 v2.5.0) running in the benchmark process. ", r.link)
	fmt.Fprintf(w, "The remote talks to the counting proxy, which forwards to toxiproxy, which forwards to `serve --central`: bytes and times are taken where the remote sees them. ")
	if r.measured > 0 {
		fmt.Fprintf(w, "Alone, four seconds' worth of bytes crossed it at %s B/s, %.1f%% of the nominal rate: the link limit below uses the nominal rate, as the issue states, so toxiproxy's own slowness counts against the product. ",
			count(int(r.measured)), 100*r.measured/float64(r.link.bytesPerSec()))
	}
	fmt.Fprintf(w, "Link limit = bytes on the wire (both directions) ÷ %s B/s; a request's wait runs from the first byte of the request leaving the remote to the last byte of its answer arriving, or to the end of its connection if it never got a complete answer.\n\n", count(r.link.bytesPerSec()))
	fmt.Fprintf(w, "| transfer | records | seconds | bytes up | bytes down | bytes/record | link limit s | time ÷ limit | longest request s | requests | unanswered | connections | cuts | pages or pushes again | retries (not smaller) |\n")
	fmt.Fprintf(w, "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n")
	for _, t := range []*linkTransfer{r.init, r.push} {
		if t == nil {
			continue
		}
		name := fmt.Sprintf("initialisation, %s items", count(r.items))
		if t == r.push {
			name = fmt.Sprintf("push, %s lines + %s invoices", count(r.lines), count(r.invoices))
		}
		if !t.done {
			name += " (NOT FINISHED)"
		}
		per := "—"
		if t.records > 0 {
			per = fmt.Sprintf("%.1f", float64(t.wire.total())/float64(t.records))
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %s | %s | %s | %.1f | %.2f | %.1f | %d | %d | %d | %d | %d | %d (%d) |\n", name, count(t.records), t.secs,
			count(int(t.wire.BytesUp)), count(int(t.wire.BytesDown)), per, t.limitSecs(r.link), t.ratio(r.link), t.find.longest.wait().Seconds(),
			t.find.requests, t.find.unanswered, t.wire.Conns, t.wire.Cuts, t.find.refetched+t.find.resent, t.find.retries, t.find.notSmaller)
	}
	fmt.Fprintln(w)
	for _, t := range []*linkTransfer{r.init, r.push} {
		if t == nil {
			continue
		}
		fmt.Fprintf(w, "- %s: %s.", strings.ToUpper(t.what[:1])+t.what[1:], t.verdict(r.link))
		if l := t.find.longest; l.wait() > 0 {
			fmt.Fprintf(w, " The longest request was %s %s", l.method, l.path)
			if q := l.query.Encode(); q != "" {
				fmt.Fprintf(w, "?%s", q)
			}
			if !l.answered {
				fmt.Fprintf(w, " (never answered in full)")
			}
			fmt.Fprintf(w, ".")
		}
		if n := len(t.find.pageLimits); n > 0 {
			fmt.Fprintf(w, " Master-data pages asked for (limit=): first %d, last %d, between %d and %d, median %.0f, over %d requests.",
				t.find.pageLimits[0], t.find.pageLimits[n-1], slices.Min(t.find.pageLimits), slices.Max(t.find.pageLimits), medianInts(t.find.pageLimits), n)
		}
		if n := len(t.find.pushSizes); n > 0 {
			fmt.Fprintf(w, " Pushed bodies: %d, from %s to %s bytes.", n, count(int(slices.Min(t.find.pushSizes))), count(int(slices.Max(t.find.pushSizes))))
		}
		if t.find.retries > 0 {
			fmt.Fprintf(w, " %d request(s) never answered in full were followed by a retry; %d of those asked for as much as the request they replaced.", t.find.retries, t.find.notSmaller)
		}
		fmt.Fprintf(w, " The remote logged %d warning(s) and %d error(s)", t.log.warnings, t.log.errors)
		if len(t.log.first) > 0 {
			fmt.Fprintf(w, ", first: %s", strings.Join(t.log.first, " | "))
		}
		fmt.Fprintf(w, ".")
		if t.wire.ParseErr != "" {
			fmt.Fprintf(w, " Wire statistics are partial: %s.", t.wire.ParseErr)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// slowTargets states the slow-link targets for the report's list of targets.
func (b *bench) slowTargets() []string {
	r := b.slow
	if r == nil || r.init == nil {
		return []string{"slow link: not measured (see Failures)"}
	}
	var out []string
	init := fmt.Sprintf("Slow link (%s): initialisation of %s items by run --remote, unattended: ", r.link.short(), count(r.items))
	if r.init.done {
		init += fmt.Sprintf("met, in %.1f s", r.init.secs)
	} else {
		init += fmt.Sprintf("MISSED: not finished after %.0f s", r.init.secs)
	}
	out = append(out, init)
	for _, t := range []*linkTransfer{r.init, r.push} {
		if t == nil {
			continue
		}
		out = append(out, fmt.Sprintf("Slow link, %s: %.1f bytes/record on the wire, %.1f s against a link limit of %.1f s: %s",
			t.what, float64(t.wire.total())/float64(max(t.records, 1)), t.secs, t.limitSecs(r.link), t.verdict(r.link)))
	}
	return out
}

func medianInts(xs []int) float64 {
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return median(f)
}
