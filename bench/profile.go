package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU profiles. The product has no profiling option, and the benchmark adds none to it: instead it builds a
// second msupply-sync with one more file in package main, given to 'go build -overlay' so that the tree is
// never touched. The file does nothing unless one of two variables is set:
//   - profileEnv, naming a directory, for a server: SIGUSR1 starts a CPU profile into DIR/N.pprof and
//     SIGUSR2 ends it, each acknowledged by a marker file, so that a profile covers exactly the window a
//     target is measured in, and not the set-up before it;
//   - profileRunEnv, naming a file, for a command that runs to its end (record put, run --remote --once):
//     the profile covers the whole process. As main ends in os.Exit, which runs no deferred call, the
//     overlay also gives main.go with that exit passed through benchProfiledExit, which ends the profile.
const (
	profileEnv    = "MSUPPLY_BENCH_CPU_PROFILE"
	profileRunEnv = "MSUPPLY_BENCH_CPU_PROFILE_RUN"
)

// profiledExit is the call in main.go that the profiling build wraps; should main.go change, the profiling
// build fails and the report says so, rather than profiling nothing.
const profiledExit = "os.Exit(run())"

const profileHook = `package main

// Added by the benchmark (bench/profile.go) to its profiling build only; never part of the product.

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
)

var benchRunProfile *os.File

func init() {
	if path := os.Getenv("` + profileRunEnv + `"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				benchRunProfile = f
			} else {
				f.Close()
			}
		}
	}
	dir := os.Getenv("` + profileEnv + `")
	if dir == "" {
		return
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		var f *os.File
		n := 0
		for s := range sig {
			switch {
			case s == syscall.SIGUSR1 && f == nil:
				n++
				var err error
				if f, err = os.Create(filepath.Join(dir, fmt.Sprintf("%d.pprof", n))); err == nil {
					if err = pprof.StartCPUProfile(f); err != nil {
						f.Close()
						f = nil
					}
				}
				marker(dir, n, "started", err)
			case s == syscall.SIGUSR2 && f != nil:
				pprof.StopCPUProfile()
				marker(dir, n, "done", f.Close())
				f = nil
			}
		}
	}()
}

// benchProfiledExit ends the whole-run profile before the process exits with code.
func benchProfiledExit(code int) int {
	if benchRunProfile != nil {
		pprof.StopCPUProfile()
		benchRunProfile.Close()
	}
	return code
}

// marker says that a step is over, with its error if any.
func marker(dir string, n int, step string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.%s", n, step)), []byte(msg), 0o644)
}
`

// buildProfilingBinary builds the profiling msupply-sync into dir (see profileHook).
func buildProfilingBinary(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	hook := filepath.Join(dir, "bench_cpu_profile.go")
	if err := os.WriteFile(hook, []byte(profileHook), 0o644); err != nil {
		return "", err
	}
	mainGo, err := os.ReadFile(filepath.Join(root, "main.go"))
	if err != nil {
		return "", err
	}
	if !bytes.Contains(mainGo, []byte(profiledExit)) {
		return "", fmt.Errorf("main.go no longer calls %s, which the profiling build wraps: update bench/profile.go", profiledExit)
	}
	wrappedMain := filepath.Join(dir, "main.go")
	if err := os.WriteFile(wrappedMain, bytes.Replace(mainGo, []byte(profiledExit), []byte("os.Exit(benchProfiledExit(run()))"), 1), 0o644); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(root, "zz_bench_cpu_profile.go"): hook, filepath.Join(root, "main.go"): wrappedMain}})
	if err != nil {
		return "", err
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "msupply-sync-profiling")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-overlay", overlayFile, "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -overlay: %v\n%s", err, out)
	}
	return bin, nil
}

// buildProfiling makes the profiling build, or notes why there is none.
func (b *bench) buildProfiling(ctx context.Context) {
	b.logf("building msupply-sync with the benchmark's profiling hook (go build -overlay)")
	prof, err := buildProfilingBinary(ctx, b.dir)
	if err != nil {
		b.profErr = "no profile: " + err.Error()
		return
	}
	b.xprof = newExe(prof)
}

// profiled returns the binary to serve with when a profile is wanted: the profiling build, or the plain
// binary (and why) when there is none.
func (b *bench) profiled() (*exe, string) {
	if b.xprof != nil {
		return b.xprof, ""
	}
	if b.profErr == "" {
		b.profErr = "no profile: -bin names a prebuilt binary, and the profiling build is made from the module"
	}
	return b.x, b.profErr
}

// startProfile starts the server's CPU profile (a server of the profiling build, started with profileEnv).
func (s *server) startProfile() error {
	if s.profDir == "" {
		return errors.New("the server was not started for profiling")
	}
	s.profN++
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	return waitMarker(filepath.Join(s.profDir, fmt.Sprintf("%d.started", s.profN)))
}

// stopProfile ends the server's CPU profile and returns the file it is in.
func (s *server) stopProfile() (string, error) {
	if err := s.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		return "", err
	}
	if err := waitMarker(filepath.Join(s.profDir, fmt.Sprintf("%d.done", s.profN))); err != nil {
		return "", err
	}
	return filepath.Join(s.profDir, fmt.Sprintf("%d.pprof", s.profN)), nil
}

// waitMarker waits for the profiling hook's marker file and returns the error it holds, if any.
func waitMarker(path string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			if len(b) > 0 {
				return errors.New(string(b))
			}
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("the profiling hook wrote no %s within 15 s", filepath.Base(path))
}

// profileLine is one function of 'go tool pprof -top'.
type profileLine struct {
	flat, flatPct, cum, cumPct float64 // seconds and percent of the profile's samples
	name                       string
}

// cpuProfile is what the report says of one profile.
type cpuProfile struct {
	proc     string // whose it is; "" is the server
	step     string // the pipeline's step it covers (import, sync, idle or push); "" outside the pipeline
	what     string // the window it covers
	total    float64
	duration string
	flat     []profileLine // every function, by flat time
	err      string
}

// readProfile summarises a CPU profile with 'go tool pprof -top', every function kept.
func readProfile(ctx context.Context, path, what string) cpuProfile {
	return readProfiles(ctx, what, path)
}

// readProfiles summarises several CPU profiles as one, their samples added together.
func readProfiles(ctx context.Context, what string, paths ...string) cpuProfile {
	p := cpuProfile{what: what}
	args := append([]string{"tool", "pprof", "-top", "-nodecount=0", "-nodefraction=0", "-edgefraction=0"}, paths...)
	out, err := exec.CommandContext(ctx, goTool(), args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, lastLine(string(ee.Stderr)))
		}
		p.err = "go tool pprof: " + err.Error()
		return p
	}
	p.duration, p.total, p.flat, err = parsePprofTop(string(out))
	if err != nil {
		p.err = err.Error()
	}
	return p
}

// parsePprofTop reads the text of 'go tool pprof -top': the duration and the seconds sampled from its
// header ("Duration: 30.12s, Total samples = 12.50s (41.50%)"), then one line per function, "flat flat%
// sum% cum cum% name", in the units pprof chose (ns, us, ms, s, mins, hrs).
func parsePprofTop(text string) (duration string, total float64, lines []profileLine, err error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	table := false
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if d, ok := strings.CutPrefix(l, "Duration: "); ok {
			d, samples, _ := strings.Cut(d, ", Total samples = ")
			duration = d
			s, _, _ := strings.Cut(samples, " ")
			if total, err = pprofSeconds(s); err != nil {
				return "", 0, nil, fmt.Errorf("pprof header %q: %w", l, err)
			}
			continue
		}
		if strings.HasPrefix(l, "flat") && strings.Contains(l, "cum%") {
			table = true
			continue
		}
		if !table || l == "" {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 6 {
			return "", 0, nil, fmt.Errorf("pprof line %q", l)
		}
		var pl profileLine
		if pl.flat, err = pprofSeconds(f[0]); err == nil {
			if pl.flatPct, err = percent(f[1]); err == nil {
				if pl.cum, err = pprofSeconds(f[3]); err == nil {
					pl.cumPct, err = percent(f[4])
				}
			}
		}
		if err != nil {
			return "", 0, nil, fmt.Errorf("pprof line %q: %w", l, err)
		}
		pl.name = strings.Join(f[5:], " ")
		lines = append(lines, pl)
	}
	if !table {
		return duration, total, nil, errors.New("pprof printed no table")
	}
	return duration, total, lines, sc.Err()
}

func percent(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64) }

// pprofSeconds reads a duration as pprof prints it ("1.20s", "350ms", "0").
func pprofSeconds(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		secs   float64
	}{{"mins", 60}, {"hrs", 3600}, {"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}} { // the longest suffix first
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			x, err := strconv.ParseFloat(v, 64)
			return x * u.secs, err
		}
	}
	return strconv.ParseFloat(s, 64) // "0"
}

// cpuGroups are the kinds of work a function's flat time is counted under, by the start of its name: the
// first that matches.
var cpuGroups = []struct{ name, prefixes string }{
	{"SQLite (modernc.org/sqlite, C translated to Go)", "modernc.org/"},
	{"database/sql (connection pool, scanning rows)", "database/sql."},
	{"HTTP and networking", "net/ net. crypto/tls bufio. vendor/golang.org/x/net/"},
	{"password and credential hashing (argon2id, SHA-256)", "golang.org/x/crypto/ crypto/"},
	{"gzip", "compress/ hash/crc32"},
	{"JSON", "encoding/json github.com/goccy/go-json"},
	{"msupply-sync's own code", "github.com/msupply-foundation/"},
	{"system calls (I/O, sleeping, waking)", "syscall. internal/runtime/syscall runtime/internal/syscall internal/poll runtime.futex runtime.usleep runtime.epollwait runtime.netpoll runtime.write1 runtime.read runtime.nanotime runtime.madvise"},
	{"Go runtime: garbage collection and allocation", "runtime.gc runtime.scan runtime.mark runtime.greyobject runtime.findObject runtime.heapBits runtime.malloc runtime.newobject runtime.(*mspan) runtime.(*mheap) runtime.(*mcache) runtime.(*mcentral) runtime.(*gcWork) runtime.sweep runtime.(*sweepLocked) runtime.memclr runtime.typedmemclr runtime.bgsweep runtime.wbBuf runtime.bulkBarrier runtime.typePointers runtime.tryDeferToSpanScan runtime.(*gcControllerState) runtime.spanOf runtime.nextFreeFast runtime.pageIndexOf runtime.(*pageAlloc)"},
	{"Go runtime: scheduler, maps, locks and the rest", "runtime. sync. internal/"},
	{"Go standard library, the rest (reflection, time, strings)", "reflect. time. errors. context. path strings. strconv. bytes. unicode sort. slices. fmt. io. os. math indexbyte cmp. log/slog"},
}

// groupName is the cpuGroups entry a function belongs to, or "other".
func groupName(fn string) string {
	for _, g := range cpuGroups {
		for _, p := range strings.Fields(g.prefixes) {
			if strings.HasPrefix(fn, p) {
				return g.name
			}
		}
	}
	return "other"
}

// groupShare is a kind of work and its share of a profile's samples.
type groupShare struct {
	name string
	secs float64
}

// groups adds up the flat time of the profile's functions by kind of work, largest first.
func (p cpuProfile) groups() []groupShare {
	by := map[string]float64{}
	for _, l := range p.flat {
		by[groupName(l.name)] += l.flat
	}
	var out []groupShare
	for name, secs := range by {
		out = append(out, groupShare{name, secs})
	}
	slices.SortFunc(out, func(a, b groupShare) int {
		if a.secs != b.secs {
			if a.secs > b.secs {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return out
}

// ownByCum is the product's own functions in the profile by cumulative time, highest first: which of its
// paths the time is spent under. Closures are left out: here they are the HTTP handler's wrappers
// (authentication, gzip, recovery), which every request passes through and which say nothing.
func (p cpuProfile) ownByCum() []profileLine {
	var own []profileLine
	for _, l := range p.flat {
		if strings.HasPrefix(l.name, "github.com/msupply-foundation/") && !closure.MatchString(l.name) {
			own = append(own, l)
		}
	}
	slices.SortStableFunc(own, func(a, b profileLine) int {
		switch {
		case a.cum > b.cum:
			return -1
		case a.cum < b.cum:
			return 1
		}
		return 0
	})
	return own
}

// argon2Share is the share of the profile (0 to 1) in argon2id's own functions.
func (p cpuProfile) argon2Share() float64 {
	if p.total <= 0 {
		return 0
	}
	secs := 0.0
	for _, l := range p.flat {
		if strings.HasPrefix(l.name, "golang.org/x/crypto/argon2.") {
			secs += l.flat
		}
	}
	return secs / p.total
}

// prepareShare is the share of the profile (0 to 1) under SQLite's preparation of statements, which parses
// their SQL: what a statement prepared once and kept would not pay again.
func (p cpuProfile) prepareShare() float64 {
	cum := 0.0
	for _, l := range p.flat {
		name := strings.TrimSuffix(l.name, " (inline)")
		if strings.HasPrefix(name, "modernc.org/sqlite/lib.") && (strings.HasSuffix(name, "._sqlite3LockAndPrepare") || strings.HasSuffix(name, "._sqlite3Prepare")) {
			cum = max(cum, l.cum)
		}
	}
	if p.total <= 0 {
		return 0
	}
	return cum / p.total
}

// lever says where the next saving lies, from the profile: the preparing of statements when it is a large
// share, and the product's own function with most of the time under it.
func (p cpuProfile) lever() string {
	if p.err != "" || p.total <= 0 {
		return ""
	}
	var parts []string
	if share := p.argon2Share(); share >= 0.3 {
		if p.proc == "" {
			parts = append(parts, fmt.Sprintf("%.0f%% of the server's CPU is argon2id, checking sites' passwords (`syncengine.(*authenticator).authenticate`); its work runs in goroutines of its own, so no caller of it is on the profile's stacks", 100*share))
		} else {
			parts = append(parts, fmt.Sprintf("%.0f%% of the CPU of %s is argon2id, the check of the datafile's authorisation code (`datafile.(*DB).CheckAuthCode`) that a command given the code makes once; its work runs in goroutines of its own, so no caller of it is on the profile's stacks", 100*share, p.who()))
		}
	}
	if share := p.prepareShare(); share >= 0.1 {
		parts = append(parts, fmt.Sprintf("%.0f%% of the CPU of %s is SQLite preparing statements (parsing their SQL), which statements prepared once and kept would not pay again", 100*share, p.who()))
	}
	if work := p.workByCum(); len(work) > 0 {
		var names []string
		for _, l := range work[:min(3, len(work))] {
			names = append(names, fmt.Sprintf("`%s` (%.0f%%)", strings.TrimPrefix(l.name, "github.com/msupply-foundation/msupply-sync/"), l.cumPct))
		}
		parts = append(parts, "what to make cheaper lies under "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// passThrough is the product's functions that every piece of work passes through and that do none of it:
// the command line's dispatch, and the wrappers of transactions and queries.
var passThrough = regexp.MustCompile(`^github\.com/msupply-foundation/msupply-sync/(main\.|commands\.|datafile\.\(\*DB\)\.withTx$|datafile\.queryEach$)`)

// workByCum is ownByCum without the functions that only pass the work on: where a lever can be.
func (p cpuProfile) workByCum() []profileLine {
	var out []profileLine
	for _, l := range p.ownByCum() {
		if !passThrough.MatchString(strings.TrimSuffix(l.name, " (inline)")) {
			out = append(out, l)
		}
	}
	return out
}

var closure = regexp.MustCompile(`\.func\d+(\.\d+)*( \(inline\))?$`)

// write puts the profile in the report: its ten hottest functions, the time by kind of work, and the
// product's own functions that most time is spent under.
func (p cpuProfile) write(w *strings.Builder) {
	fmt.Fprintf(w, "CPU profile of %s, %s", p.who(), p.what)
	if p.err != "" {
		fmt.Fprintf(w, ": %s.\n\n", p.err)
		return
	}
	fmt.Fprintf(w, ": %.2f s of samples over %s.\n\n", p.total, p.duration)
	if p.total <= 0 {
		return
	}
	fmt.Fprintf(w, "| function (top 10 by flat time) | flat s | flat %% | cum s | cum %% |\n| --- | --: | --: | --: | --: |\n")
	for _, l := range p.flat[:min(10, len(p.flat))] {
		fmt.Fprintf(w, "| `%s` | %.2f | %.1f | %.2f | %.1f |\n", l.name, l.flat, l.flatPct, l.cum, l.cumPct)
	}
	fmt.Fprintf(w, "\nBy kind of work (flat time): ")
	var parts []string
	for _, g := range p.groups() {
		if share := 100 * g.secs / p.total; share >= 1 {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", g.name, share))
		}
	}
	fmt.Fprintf(w, "%s.", strings.Join(parts, ", "))
	if own := p.ownByCum(); len(own) > 0 {
		parts = parts[:0]
		for _, l := range own[:min(6, len(own))] {
			parts = append(parts, fmt.Sprintf("`%s` %.0f%%", strings.TrimPrefix(l.name, "github.com/msupply-foundation/msupply-sync/"), l.cumPct))
		}
		fmt.Fprintf(w, " The product's own functions with the most time under them (cum): %s.", strings.Join(parts, ", "))
	}
	if share := p.prepareShare(); share > 0 {
		fmt.Fprintf(w, " SQLite preparing statements (parsing their SQL) has %.0f%% of the time under it.", 100*share)
	}
	fmt.Fprintf(w, "\n\n")
}

// who is the process the profile is of.
func (p cpuProfile) who() string {
	if p.proc == "" {
		return "the server"
	}
	return p.proc
}

// dominant names the kind of work with most of the profile, for the list of targets.
func (p cpuProfile) dominant() string {
	if p.err != "" || p.total <= 0 {
		return ""
	}
	g := p.groups()
	if len(g) == 0 {
		return ""
	}
	s := fmt.Sprintf("%s %.0f%%", g[0].name, 100*g[0].secs/p.total)
	if len(g) > 1 {
		s += fmt.Sprintf(", then %s %.0f%%", g[1].name, 100*g[1].secs/p.total)
	}
	return s
}
