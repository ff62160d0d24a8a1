package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if launchChild() || rawChild() { // the launcher and the raw baseline re-execute this binary
		return
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole benchmark at the scale of the quick check, 'go run ./bench -scale 0.01': it
// proves the harness works, never how fast anything is.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs every scenario")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // a minute when quiet; a busy machine takes several
	defer cancel()
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"-scale", "0.01", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	report, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(report, stdout.Bytes()) {
		t.Error("the report written differs from the one printed")
	}
	for _, want := range []string{"| raw insert", "| bulk import", "| initial sync", "| idle cycle", "| push", "| many sites: 3 new remotes",
		"| slow link: new remote initialised by run --remote", "| slow link: run --remote --once pushes", "## Slow link",
		"| initialisation, 2,000 items | 2,000 |", "## Machine", "CPUs (nproc)", "## Targets", "## Bytes on the wire", "| 10,000 |",
		"## A thousand sites", "| thousand sites: 10 sites cycle every 1.5s", "| central_records | ", "| queued_records (push) | ",
		"| endpoint (first cycles, 8 at a time) |", "provision` of the 10 sites from one TOML file took",
		"## Cost independent of history", "| history: central_records page at the newest cursor (5 records after it), change log of 100,000 rows",
		"| history: idle cycle, run --remote --once", "| 1,000 | ", "| 100,000 | ", "Cost independent of history, change log of 100,000 rows ÷ 1,000 rows",
		"CPU profile of the server, the run (10 sites", "CPU profile of the server, the measurements on the change log of 100,000 rows",
		"| function (top 10 by flat time) |", "By kind of work (flat time): ", "## Profiles",
		"CPU profile of `record put item -`, the bulk import of", "CPU profile of the remote (`run --remote --once`), the initial sync of",
		"CPU profile of the server, the initial sync of", "CPU profile of the remote (`run --remote --once`), the push of",
		"CPU profile of the server, the push of", "CPU profile of the remote (`run --remote --once`), 5 idle cycles at"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(string(report), "some profiles are missing") {
		t.Errorf("report lacks some of the pipeline's profiles:\n%s", report)
	}
	if strings.Contains(string(report), "## Failures") {
		t.Errorf("report has failures:\n%s", report)
	}
}

func TestNiceFloor(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int
	}{{437512, 430000}, {1_000_000, 1_000_000}, {99, 99}, {1234, 1200}, {0.5, 0}} {
		if got := niceFloor(c.in); got != c.want {
			t.Errorf("niceFloor(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestUUIDsAreDistinctAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for i := range 10000 {
		for _, id := range []string{uuidFor(kindItem, uint64(i)), uuidFor(kindInvoice, uint64(i)), uuidFor(kindInvoiceLine, uint64(i))} {
			if len(id) != 36 || id[14] != '4' || seen[id] {
				t.Fatalf("bad or repeated id %q", id)
			}
			seen[id] = true
		}
	}
}

func TestPlanShrinksWhatDoesNotFit(t *testing.T) {
	cfg, err := parseFlags([]string{"-budget", "10m", "-sites", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	b := &bench{cfg: cfg, versionSecs: 0.01, planDeadline: time.Now().Add(10 * time.Minute),
		raw:  map[int]rawResult{1_000_000: {secs: 40}, 10_000: {secs: 0.1}, 100_000: {secs: 3}},
		fair: map[int]rawResult{1_000_000: {secs: 20}, 10_000: {secs: 0.1}, 100_000: {secs: 1.5}}}
	b.small = &pipelineResult{items: 10_000, pushLines: 10_000, idleWalls: []float64{0.05},
		importRes: procResult{Wall: sec(1)}, syncRes: procResult{Wall: sec(2)}, verifySecs: 0.2,
		putRes: procResult{Wall: sec(0.5)}, pushRes: procResult{Wall: sec(0.5)}}
	p := b.makePlan()
	// 1M items cost 200× the fair raw insert of 10k: about (1+2+0.2)×200×1.25 s = 800 s, more than the 570 s
	// left.
	if p.items >= 1_000_000 || p.items < 10_000 {
		t.Errorf("items = %d, want reduced below 1,000,000", p.items)
	}
	if p.pushLines != 100_000 || p.perSite != 10_000 {
		t.Errorf("push lines %d, per site %d: want both kept", p.pushLines, p.perSite)
	}
	if p.estimate > 600 {
		t.Errorf("estimate %.0f s is over the time left", p.estimate)
	}
	// The slow link, judged by its bytes rather than by the small run, has a note of its own when it shrinks;
	// so have the thousand sites and the history, whose estimates are their own.
	var bulk []string
	for _, n := range p.notes {
		if !strings.HasPrefix(n, "plan:") && !strings.HasPrefix(n, "REDUCED: slow link") && !strings.HasPrefix(n, "REDUCED: history") && !strings.HasPrefix(n, "REDUCED: thousand sites") {
			bulk = append(bulk, n)
		}
	}
	if len(bulk) != 1 || !strings.Contains(bulk[0], "REDUCED: bulk import and initial sync at 1,000,000 items") {
		t.Errorf("notes = %q", p.notes)
	}
	// The history shrinks by its long log only, never below ten times the short one.
	if p.histBig >= 10_000_000 || p.histBig < 10*cfg.histSmall {
		t.Errorf("history's long log = %d rows, want reduced, and no shorter than %d", p.histBig, 10*cfg.histSmall)
	}
}

// TestPlanKeepsTheFullSizesOnThisMachine gives the plan the small run and baselines 'make bench' measured on
// this 2-core machine (the pilot of the run at c2e4bd0), with the time the steps before the plan took there:
// the default budget must keep every full size, as the issue asks of 'make bench'. Judged by the default
// cache's raw insert, by requests that never grow, by a hash timed in a busy moment and by the slow link's
// estimate given the margin of an extrapolation, the plan had cut sizes of runs that took 862 s and 1087 s.
func TestPlanKeepsTheFullSizesOnThisMachine(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	b := &bench{cfg: cfg, versionSecs: 0.0405, hashSecs: 0.0273, seqRaw: rawResult{secs: 4.81},
		planDeadline: time.Now().Add(cfg.budget - 100*time.Second),
		raw:          map[int]rawResult{1_000_000: {secs: 19.49}, 100_000: {secs: 1.03}, 10_000: {secs: 0.09}},
		fair:         map[int]rawResult{1_000_000: {secs: 10.19}, 100_000: {secs: 0.87}, 10_000: {secs: 0.08}}}
	b.small = &pipelineResult{items: 10_000, pushLines: 10_000, invoices: 100, idleWalls: []float64{0.151},
		importRes: procResult{Wall: sec(0.55)}, syncRes: procResult{Wall: sec(0.97)}, verifySecs: 0.3,
		putRes: procResult{Wall: sec(0.83)}, pushRes: procResult{Wall: sec(1.60)},
		syncWire: wireStats{BytesDown: 500_122}, pushWire: wireStats{BytesUp: 862_659}}
	p := b.makePlan()
	if p.items != cfg.items || p.pushLines != cfg.pushLines || p.perSite != cfg.perSite || p.slowItems != cfg.slowItems ||
		p.slowLines != cfg.slowLines || p.fleetSites != cfg.fleetSites || p.histBig != cfg.histBig {
		t.Errorf("plan %+v: want the full sizes", p)
	}
	if p.estimate > (cfg.budget - 130*time.Second).Seconds() {
		t.Errorf("estimate %.0f s, over the %v budget less what came before the plan", p.estimate, cfg.budget)
	}
}
