package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// What a trial does between its setup and quiescence: writes, moves and syncs, each step's choices drawn
// from the trial's seeded rng.

// refusals are why a write may be refused in a trial, which then writes nothing: the store is not active on
// the site or is being moved away from it, the site has not initialised (it lacks the store or the master
// data, the joins that let its stores deal with each other among them), or an update names a record the
// site does not hold.
var refusals = []string{"is not active on this site", "is being moved to another site", "no store with id", "no item with id",
	"no name with id", "no invoice with id", "no requisition with id", "is required", "may not deal with"}

// tryPut writes records on a datafile and returns "", or, when allowRefusal is set and the datafile
// refuses them for one of the refusals, the error; any other failure ends the trial.
func (tr *trial) tryPut(df, table, data string, allowRefusal bool) (refused string) {
	tr.t.Helper()
	cmd := exec.Command(binary, "--datafile", df, "record", "put", table, "-")
	cmd.Dir = tr.dir
	cmd.Stdin = strings.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	for _, r := range refusals {
		if allowRefusal && strings.Contains(string(out), r) {
			return strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "msupply-sync: error: ")
		}
	}
	tr.t.Fatalf("step %d: record put %s on %s: %v %s", tr.step, table, df, err, out)
	return ""
}

// mayWrite says whether central lets df's site write the store's data: the store is on it. A write that
// succeeds where this is false was made on a site the store has been forced away from, before that site
// learnt of it, and central may park it. That includes the site the store is moving to: a write accepted
// there before the move completes comes from a site that still takes the store for its own from before a
// forced move (or from a move that completed just after the store was read, which central integrates:
// a forced write may be either).
func (tr *trial) mayWrite(df string, st storeState) bool {
	return st.SiteID == tr.siteID[df]
}

// pickWriter chooses where to write a store's data: mostly the site it is on or moving to, sometimes any
// datafile, to be refused there.
func (tr *trial) pickWriter(st storeState) string {
	switch {
	case tr.rng.Intn(6) == 0:
		return datafiles[tr.rng.Intn(len(datafiles))]
	case st.MovingTo != nil && tr.rng.Intn(2) == 0:
		return tr.siteDF[*st.MovingTo]
	}
	return tr.siteDF[st.SiteID]
}

func (tr *trial) randomStore() storeState {
	return tr.storeStates()[sites[tr.rng.Intn(len(sites))].store]
}

// writeStep enters an invoice with lines for a store, on whichever site pickWriter chooses.
func (tr *trial) writeStep() {
	st := tr.randomStore()
	tr.writeStoreData(tr.pickWriter(st), st)
}

// writeStoreData enters an invoice with lines for a store on a datafile, which may refuse it; the ledger
// keeps what was written. It says whether all of it was.
func (tr *trial) writeStoreData(df string, st storeState) bool {
	legit := tr.mayWrite(df, st)
	tr.seq++
	inv, ref := fmt.Sprintf("inv-%s-%d", st.Code, tr.seq), fmt.Sprintf("c%d", tr.seq)
	// Two invoices in three are shipments to the other store, which become its supplier invoices once
	// confirmed.
	name := "name-1"
	if tr.rng.Intn(3) > 0 {
		name = tr.otherStore(st).NameID
	}
	if why := tr.tryPut(df, "invoice", fmt.Sprintf(`{"id":%q,"store_id":%q,"name_id":%q,"type":"customer_invoice","status":"new","their_ref":%q,"created_at":"2026-01-01T00:00:00Z"}`,
		inv, st.ID, name, ref), true); why != "" {
		tr.event("write %s on %s (%s): refused: %s", st.Code, df, st, why)
		return false
	}
	tr.ledger.wrote(df, "invoice", inv, st.Code, map[string]string{"store_id": st.ID, "name_id": name, "type": "customer_invoice"},
		"new|"+ref, tr.seq, legit)
	type line struct {
		id, item string
		quantity int
	}
	lines := make([]line, 1+tr.rng.Intn(40))
	var b strings.Builder
	for i := range lines {
		lines[i] = line{fmt.Sprintf("%s-line-%d", inv, i), fmt.Sprintf("item-%03d", tr.rng.Intn(150)), 1 + tr.rng.Intn(100)}
		fmt.Fprintf(&b, `{"id":%q,"invoice_id":%q,"item_id":%q,"quantity":%d}`+"\n", lines[i].id, inv, lines[i].item, lines[i].quantity)
	}
	if why := tr.tryPut(df, "invoice_line", b.String(), true); why != "" {
		tr.event("write %s on %s (%s): invoice %s%s, its lines refused: %s", st.Code, df, st, inv, forcedMark(legit), why)
		return false
	}
	for _, l := range lines {
		tr.ledger.wrote(df, "invoice_line", l.id, st.Code, map[string]string{"invoice_id": inv, "item_id": l.item, "store_id": st.ID},
			strconv.Itoa(l.quantity), tr.seq, legit)
	}
	tr.event("write %s on %s: invoice %s and %d lines (%s)%s", st.Code, df, inv, len(lines), st, forcedMark(legit))
	if name != "name-1" && tr.rng.Intn(3) > 0 {
		// Picked at once: the receiving store's site makes its supplier invoice.
		tr.seq++
		content := fmt.Sprintf("confirmed|p%d", tr.seq)
		if why := tr.tryPut(df, "invoice", fmt.Sprintf(`{"id":%q,"status":"confirmed","their_ref":"p%d"}`, inv, tr.seq), true); why != "" {
			tr.event("confirm %s on %s: refused: %s", inv, df, why)
			return false
		}
		tr.ledger.wrote(df, "invoice", inv, st.Code, nil, content, tr.seq, legit)
		tr.event("shipment %s to %s confirmed on %s", inv, name, df)
	}
	return true
}

func forcedMark(legit bool) string {
	if legit {
		return ""
	}
	return ", after the store was forced away"
}

// updateStep changes records written earlier, mostly on the site their store is on: the newer content
// must win over any older copy still travelling or replayed.
func (tr *trial) updateStep() {
	for n := 1 + tr.rng.Intn(2); n > 0; n-- {
		rec := tr.ledger.random(tr.rng.Intn)
		if rec == nil {
			return
		}
		if rec.table != "invoice" && rec.table != "invoice_line" {
			continue // orders are sent once and left to their response
		}
		st := tr.storeStates()[rec.store]
		df := tr.pickWriter(st)
		tr.seq++
		var data, content string
		switch rec.table {
		case "invoice":
			ref := fmt.Sprintf("r%d", tr.seq)
			data, content = fmt.Sprintf(`{"id":%q,"status":"confirmed","their_ref":%q}`, rec.id, ref), "confirmed|"+ref
		default:
			q := 1000 + tr.seq
			data, content = fmt.Sprintf(`{"id":%q,"quantity":%d}`, rec.id, q), strconv.Itoa(q)
		}
		if why := tr.tryPut(df, rec.table, data, true); why != "" {
			tr.event("update %s %s on %s (%s): refused: %s", rec.table, rec.id, df, st, why)
			continue
		}
		legit := tr.mayWrite(df, st)
		tr.ledger.wrote(df, rec.table, rec.id, rec.store, nil, content, tr.seq, legit)
		tr.event("update %s %s on %s: %s (%s)%s", rec.table, rec.id, df, content, st, forcedMark(legit))
	}
}

// moveStep moves a store at a random moment between writes and syncs. A store leaving a remote that has
// initialised is handed over: the move is pending until that remote has pushed everything it wrote for
// the store. Usually that remote first gets a change it has not sent. Sometimes a pending move is taken
// back, sometimes the store goes to central ('store remove'); in trials with forced moves half the moves
// off a remote are forced, and the old site then writes to the store before it knows, perhaps retrieves
// first, and syncs, perhaps through faults and killed: what it sends is parked on central.
func (tr *trial) moveStep() {
	st := tr.randomStore()
	from := tr.siteDF[st.SiteID]
	if from != centralDF && tr.rng.Intn(4) > 0 {
		tr.writeStoreData(from, st)
	}
	force := tr.forced && from != centralDF && tr.rng.Intn(2) == 0
	to := from // taken back: cancels the pending move
	if st.MovingTo == nil || force || tr.rng.Intn(3) > 0 {
		var choices []string
		for _, df := range datafiles {
			if df != from && (force || st.MovingTo == nil || tr.siteDF[*st.MovingTo] != df) {
				choices = append(choices, df)
			}
		}
		to = choices[tr.rng.Intn(len(choices))]
	}
	args := []string{"store", "move", st.Code, "--to", tr.siteName[to]}
	if to == centralDF && tr.rng.Intn(2) == 0 {
		args = []string{"store", "remove", st.Code}
	}
	if force {
		args = append(args, "--force", "--yes")
	}
	var after storeState
	if err := json.Unmarshal([]byte(tr.central(append(args, "--output", "json")...)), &after); err != nil {
		tr.t.Fatal(err)
	}
	tr.event("%s: %s -> %s", strings.Join(args, " "), st, after)
	if !force || after.SiteID == st.SiteID {
		return
	}
	n := tr.ledger.forcedAway(from, st.Code)
	tr.event("forced away from %s with %d write(s) it may not have pushed", from, n)
	if tr.rng.Intn(2) == 0 {
		tr.writeStoreData(from, after) // it does not know yet
	}
	tr.proxy.setFaults(tr.rng.Intn(2) == 0)
	if tr.rng.Intn(3) == 0 {
		// It learns of the move before it pushes: it must keep what it has not sent.
		p := tr.start(from, "sync", "retrieve")
		p.killAfter(tr.killDelay())
		tr.synced(from, p, p.exit())
	}
	tr.syncKilled(from)
}

// killDelay is when to kill a sync: after a random moment, two times in three, or never (-1).
func (tr *trial) killDelay() time.Duration {
	if tr.rng.Intn(3) == 0 {
		return -1
	}
	return time.Duration(tr.rng.Intn(400)) * time.Millisecond
}

// syncKilled runs one sync of a remote and kills it with SIGKILL after a random moment, or lets it finish.
func (tr *trial) syncKilled(df string) {
	p := tr.startSync(df)
	p.killAfter(tr.killDelay())
	tr.synced(df, p, p.exit())
}

// startSync starts a sync cycle of a remote: mostly 'run --remote --once', one time in four 'sync
// retrieve', which pulls without pushing: a site may so learn that its store has been forced away while
// it still holds changes it has not sent.
func (tr *trial) startSync(df string) *process {
	if tr.rng.Intn(4) == 0 {
		return tr.start(df, "sync", "retrieve")
	}
	return tr.start(df, "run", "--remote", "--once")
}

// synced takes note of how a sync of df ended. A cycle that ran to the end (0, or 3 when records were
// held back) and pushed has pushed every change df had made before it started. Exit 3 is expected only
// from a site a store was forced away from: only what it wrote for that store may be parked.
func (tr *trial) synced(df string, p *process, code int) {
	tr.t.Helper()
	tr.event("%s %s: exit %d %s", p.what, df, code, p.errLine())
	if (code == 0 || code == 3) && p.what == "run --remote --once" {
		tr.ledger.pushed(df)
	}
	if code == 3 && !tr.ledger.mayPark(df) {
		tr.t.Errorf("step %d: a sync of %s ended with exit 3, though no store was forced away from it: %s", tr.step, df, p.stderr.String())
	}
}

// concurrentSyncs starts sync cycles of one remote datafile at once: two runs of startSync, or the sync
// service and one, any of them perhaps killed. One cycle at a time may work on a datafile: a run
// that finds another at work is refused at once, and that is expected. Sometimes it stops the service
// instead, or holds the datafile's lock itself while a sync starts (lockedOut).
func (tr *trial) concurrentSyncs(df string) {
	if tr.services[df] != nil && tr.rng.Intn(3) == 0 {
		tr.stopService(df, tr.rng.Intn(4) == 0)
		return
	}
	if tr.services[df] == nil && tr.rng.Intn(4) == 0 {
		tr.lockedOut(df)
		return
	}
	tr.proxy.setFaults(tr.rng.Intn(3) == 0)
	runs := 2
	if tr.services[df] == nil && tr.rng.Intn(2) == 0 {
		tr.services[df] = tr.start(df, "run", "--remote")
		tr.event("sync service of %s started", df)
		runs = 1
	}
	ps := make([]*process, runs)
	for i := range ps {
		ps[i] = tr.startSync(df)
		ps[i].killAfter(tr.killDelay())
	}
	for _, p := range ps {
		code := p.exit()
		if code == 1 && strings.Contains(p.stderr.String(), lockRefuse) {
			tr.event("%s %s: refused, another cycle is at work on it", p.what, df)
			continue
		}
		tr.synced(df, p, code)
	}
}

// lockedOut holds a remote datafile's work lock as another process would, and a sync started meanwhile
// must be refused at once. No process works on the datafile now (those killed let go of the lock when they
// died), so the lock is free to take.
func (tr *trial) lockedOut(df string) {
	tr.t.Helper()
	lock, err := datafile.TryWorkLock(filepath.Join(tr.dir, df), "chaos")
	if err != nil {
		tr.t.Fatalf("step %d: no sync runs on %s, yet its lock is taken: %v", tr.step, df, err)
	}
	defer lock.Release()
	p := tr.startSync(df)
	code := p.exit()
	tr.event("%s %s while the lock is held: exit %d %s", p.what, df, code, p.errLine())
	if code != 1 || !strings.Contains(p.stderr.String(), lockRefuse) {
		tr.t.Errorf("step %d: %s of %s ran while another process held the datafile's lock: exit %d: %s", tr.step, p.what, df, code, p.stderr.String())
	}
}

// stopService ends a datafile's sync service: with SIGTERM, after which it must exit 0 within the batch in
// flight and its retries, or with SIGKILL.
func (tr *trial) stopService(df string, kill bool) {
	tr.t.Helper()
	p := tr.services[df]
	delete(tr.services, df)
	if kill {
		p.cmd.Process.Kill()
		tr.event("sync service of %s killed: exit %d", df, p.exit())
		return
	}
	// SIGTERM before the binary has set up its signal handling would kill it outright. A fixed wait after
	// the start was not enough on a loaded machine (seed 20261210453): wait until it has its datafile open,
	// which it does only after that.
	p.awaitOpen(filepath.Join(tr.dir, df))
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		tr.t.Errorf("step %d: the sync service of %s did not stop within 30s of SIGTERM: %s", tr.step, df, p.stderr.String())
		return
	}
	code := p.exit()
	tr.event("sync service of %s stopped: exit %d", df, code)
	if code != 0 {
		tr.t.Errorf("step %d: the sync service of %s exited %d after SIGTERM: %s", tr.step, df, code, p.stderr.String())
	}
}

func (tr *trial) stopServices() {
	var dfs []string
	for df := range tr.services {
		dfs = append(dfs, df)
	}
	sort.Strings(dfs)
	for _, df := range dfs {
		tr.stopService(df, false)
	}
}

// awaitOpen waits until p holds path open, or has ended, for at most 30 s. Where /proc cannot say, it
// waits 200 ms.
func (p *process) awaitOpen(path string) {
	fdDir := fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-p.done:
			return
		default:
		}
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			time.Sleep(time.Until(p.started.Add(200 * time.Millisecond)))
			return
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && target == path {
				return
			}
		}
	}
}
