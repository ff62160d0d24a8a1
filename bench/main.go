// Command bench is the benchmark behind 'make bench': it builds the real msupply-sync binary, drives it as
// separate processes on loopback, and measures each scenario of the performance issue against a raw SQLite
// insert of the same number of rows measured in the same run. It prints a table and writes it, with the
// machine it ran on, to BENCHMARKS.md (-out).
//
//	go run ./bench [-scale N] [-sites N] [-site-items N] [-fleet N] [-fleet-period D] [-budget D] [-link-rate KBITS] [-link-rtt D] [-link-cut BYTES] [-out BENCHMARKS.md]
//
// It never asserts a time: it reports, and says which targets are met and by how much the others are missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if launchChild() || rawChild() {
		return
	}
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

// authCode is the authorisation code of every datafile the benchmark creates.
const authCode = "bench-authorisation-code"

// The sizes, at -scale 1.
const (
	fullItems     = 1_000_000 // initial sync and bulk import
	checkItems    = 10_000    // the small datafile: the idle cycle's first size, and the pilot for the big runs
	fullPushLines = 100_000
)

type config struct {
	scale       float64
	sites       int
	siteItems   int
	fleet       int
	fleetPeriod time.Duration
	budget      time.Duration
	out         string
	bin         string
	workdir     string
	keep        bool
	link        linkConfig

	// derived from scale
	items, small, pushLines, perSite int
	slowItems, slowLines             int
	manySites, fleetSites            int
	histSmall, histBig               int
}

func scaled(n int, scale float64) int {
	return max(1, int(math.Round(float64(n)*scale)))
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&c.scale, "scale", 1, "multiply every dataset size by this (0.01 for a quick check)")
	fs.IntVar(&c.sites, "sites", 100, "remote sites initialising at once in the many-sites scenario, before -scale (at least 3)")
	fs.IntVar(&c.siteItems, "site-items", checkItems, "items in the many-sites central datafile, before -scale")
	fs.IntVar(&c.fleet, "fleet", fleetSites, "sites on one central in the thousand-sites scenario, before -scale (at least 5)")
	fs.DurationVar(&c.fleetPeriod, "fleet-period", 15*time.Second, "the minute between two cycles of a site in the thousand-sites scenario, compressed to this (shorter below -scale 0.1)")
	fs.DurationVar(&c.budget, "budget", 24*time.Minute, "time the whole run should fit in; sizes that would not fit are reduced (and reported)")
	fs.StringVar(&c.out, "out", "", "write the report (markdown) to this file too, e.g. BENCHMARKS.md")
	fs.StringVar(&c.bin, "bin", "", "use this msupply-sync binary instead of building one from the module")
	fs.StringVar(&c.workdir, "workdir", "", "where the datafiles go (default: a new temporary folder)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work folder and its datafiles afterwards")
	fs.IntVar(&c.link.kbps, "link-rate", 256, "the slow link's rate each way, in kbit/s (a multiple of 8: toxiproxy counts whole KB/s)")
	fs.DurationVar(&c.link.rtt, "link-rtt", 600*time.Millisecond, "the slow link's round-trip latency; half of it is added in each direction (the default: 300 ms of latency each way)")
	fs.Int64Var(&c.link.cut, "link-cut", 2_000_000, "bytes a connection carries in one direction before the slow link drops it (0: never)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench [-scale N] [-sites N] [-site-items N] [-fleet N] [-fleet-period D] [-budget D] [-link-rate KBITS] [-link-rtt D] [-link-cut BYTES] [-out FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, usageError{err}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if c.scale <= 0 || c.sites < 1 || c.siteItems < 1 || c.fleet < 1 || c.fleetPeriod < time.Second || c.budget <= 0 {
		return c, usageError{errors.New("-scale, -sites, -site-items, -fleet and -budget must be positive, -fleet-period at least 1s")}
	}
	if c.link.kbps <= 0 || c.link.kbps%8 != 0 || c.link.rtt < 0 || c.link.cut < 0 {
		return c, usageError{errors.New("-link-rate must be a positive multiple of 8 kbit/s, -link-rtt and -link-cut not negative")}
	}
	c.items = scaled(fullItems, c.scale)
	c.small = min(scaled(checkItems, c.scale), c.items)
	c.pushLines = scaled(fullPushLines, c.scale)
	c.perSite = scaled(c.siteItems, c.scale)
	c.slowItems = scaled(slowItems, c.scale)
	c.slowLines = scaled(slowLines, c.scale)
	c.manySites = max(3, scaled(c.sites, c.scale))
	c.fleetSites = fleetSitesAt(c.fleet, c.scale)
	c.histSmall, c.histBig = historyRowsAt(c.scale)
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, log: stderr, start: time.Now(), raw: map[int]rawResult{}, fair: map[int]rawResult{}}
	// The plan is made to fit the budget with a margin in every estimate; the hard deadline leaves room for
	// a pilot that misjudged beyond it, but no more than a minute, so that 'make bench' with the default
	// budget (24 minutes) ends within 25.
	b.planDeadline = b.start.Add(cfg.budget)
	b.hardDeadline = b.start.Add(cfg.budget + min(cfg.budget/5, time.Minute))
	ctx, cancel := context.WithDeadline(ctx, b.hardDeadline)
	defer cancel()

	if cfg.workdir == "" {
		if b.dir, err = os.MkdirTemp("", "msupply-bench-"); err != nil {
			return err
		}
	} else {
		b.dir = cfg.workdir
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return err
		}
	}
	if !cfg.keep {
		defer os.RemoveAll(b.dir)
	} else {
		defer fmt.Fprintf(stderr, "bench: kept the work folder %s\n", b.dir)
	}

	b.machine = describeMachine(ctx)
	bin := cfg.bin
	if bin == "" {
		b.logf("building msupply-sync")
		before := describeCode(ctx)
		// The profiling build is made from the same tree, beside the plain one: most of each is linking,
		// which the two cores do side by side.
		profBuilt := make(chan struct{})
		go func() {
			defer close(profBuilt)
			b.buildProfiling(ctx)
		}()
		bin, err = buildBinary(ctx, b.dir)
		<-profBuilt
		if err != nil {
			return err
		}
		// Someone may be editing while it builds: say so rather than name a tree that was not built.
		if b.machine.Code = describeCode(ctx); b.machine.Code != before {
			b.machine.Code = before + "; the working tree changed during the build, now " + b.machine.Code
		}
	} else {
		b.machine.Code = "prebuilt binary " + bin
	}
	b.x = newExe(bin)

	b.runAll(ctx)
	if b.plan.items == 0 { // the small run failed: nothing was planned
		b.plan = plan{items: cfg.small, pushLines: max(1, cfg.pushLines/10), perSite: cfg.perSite, slowItems: cfg.slowItems, slowLines: cfg.slowLines,
			fleetSites: cfg.fleetSites, histBig: cfg.histBig}
	}

	report := b.report()
	fmt.Fprint(stdout, report)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
			return err
		}
		b.logf("wrote %s", cfg.out)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d scenario(s) failed: %s", len(b.failures), strings.Join(b.failures, "; "))
	}
	return nil
}

// moduleRoot finds the msupply-sync module from the working directory (the repository or bench/).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the benchmark inside the msupply-sync module")
	}
	return filepath.Dir(gomod), nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// buildBinary builds the module's binary once, into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "msupply-sync")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}
