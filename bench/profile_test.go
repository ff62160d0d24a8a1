package main

import (
	"math"
	"strings"
	"testing"
)

// pprofTop is 'go tool pprof -top' as it prints a server's profile, with each of the units it uses.
const pprofTop = `File: msupply-sync-profiling
Build ID: 9f0c
Type: cpu
Time: 2026-12-01 06:40:02 UTC
Duration: 30.08s, Total samples = 1.50s ( 4.99%)
Showing nodes accounting for 1.50s, 100% of 1.50s total
      flat  flat%   sum%        cum   cum%
     0.60s 40.00% 40.00%      0.90s 60.00%  modernc.org/sqlite/lib._sqlite3VdbeExec
     300ms 20.00% 60.00%      300ms 20.00%  internal/runtime/syscall/linux.Syscall6
     200ms 13.33% 73.33%      200ms 13.33%  golang.org/x/crypto/argon2.processBlocks
     150ms 10.00% 83.33%      150ms 10.00%  runtime.mallocgc
     100ms  6.67% 90.00%      100ms  6.67%  internal/sync.(*Mutex).Unlock (inline)
      90ms  6.00% 96.00%      1.20s 80.00%  github.com/msupply-foundation/msupply-sync/datafile.(*DB).SiteAuthByName
   60000us  4.00%   100%   60000us  4.00%  compress/flate.(*compressor).deflate
         0     0%   100%      1.45s 96.67%  github.com/msupply-foundation/msupply-sync/syncengine.NewServer.(*Server).recoverPanics.func17
         0     0%   100%      1.30s 86.67%  github.com/msupply-foundation/msupply-sync/syncengine.(*authenticator).authenticate
         0     0%   100%      1.40s 93.33%  net/http.(*conn).serve
         0     0%   100%      0.45s 30.00%  modernc.org/sqlite/lib._sqlite3LockAndPrepare
         0     0%   100%      0.30s 20.00%  modernc.org/sqlite/lib._sqlite3Prepare
`

func TestParsePprofTop(t *testing.T) {
	dur, total, lines, err := parsePprofTop(pprofTop)
	if err != nil {
		t.Fatal(err)
	}
	if dur != "30.08s" || total != 1.5 || len(lines) != 12 {
		t.Fatalf("duration %q, total %v, %d lines", dur, total, len(lines))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	first, fifth, seventh := lines[0], lines[4], lines[6]
	if first.name != "modernc.org/sqlite/lib._sqlite3VdbeExec" || !near(first.flat, 0.6) || !near(first.flatPct, 40) || !near(first.cum, 0.9) || !near(first.cumPct, 60) {
		t.Errorf("first line %+v", first)
	}
	if fifth.name != "internal/sync.(*Mutex).Unlock (inline)" || !near(fifth.flat, 0.1) {
		t.Errorf("an inlined function: %+v", fifth)
	}
	if !near(seventh.flat, 0.06) {
		t.Errorf("microseconds: %+v", seventh)
	}

	p := cpuProfile{what: "a test", total: total, duration: dur, flat: lines}
	groups := p.groups()
	if groups[0].name != "SQLite (modernc.org/sqlite, C translated to Go)" || !near(groups[0].secs, 0.6) {
		t.Errorf("largest group %+v", groups[0])
	}
	var sum float64
	for _, g := range groups {
		sum += g.secs
	}
	if !near(sum, total) {
		t.Errorf("the groups add up to %v of %v", sum, total)
	}
	own := p.ownByCum()
	if len(own) != 2 || own[0].name != "github.com/msupply-foundation/msupply-sync/syncengine.(*authenticator).authenticate" {
		t.Errorf("own functions by cum, closures left out: %+v", own)
	}
	var w strings.Builder
	p.write(&w)
	for _, want := range []string{"1.50 s of samples over 30.08s", "| `modernc.org/sqlite/lib._sqlite3VdbeExec` | 0.60 | 40.0 | 0.90 | 60.0 |",
		"password and credential hashing (argon2id, SHA-256) 13%", "`syncengine.(*authenticator).authenticate` 87%"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, w.String())
		}
	}
	if d := p.dominant(); !strings.HasPrefix(d, "SQLite (modernc.org/sqlite, C translated to Go) 40%, then system calls") {
		t.Errorf("dominant = %q", d)
	}
	if s := p.prepareShare(); !near(s, 0.3) {
		t.Errorf("prepareShare = %v, want the outermost preparation's 30%%", s)
	}
	if l := p.lever(); !strings.Contains(l, "30% of the CPU of the server is SQLite preparing statements") || !strings.Contains(l, "under `syncengine.(*authenticator).authenticate` (87%)") {
		t.Errorf("lever = %q", l)
	}
}

// argon2id runs in goroutines of its own, so the profile cannot show who asked for it: the lever says.
func TestLeverNamesTheArgon2Check(t *testing.T) {
	_, total, lines, err := parsePprofTop(`Type: cpu
Duration: 600ms, Total samples = 500ms (83.33%)
Showing nodes accounting for 500ms, 100% of 500ms total
      flat  flat%   sum%        cum   cum%
     300ms 60.00% 60.00%      300ms 60.00%  golang.org/x/crypto/argon2.xorBlocksSSE2
     100ms 20.00% 80.00%      100ms 20.00%  golang.org/x/crypto/argon2.mixBlocksSSE2
     100ms 20.00%   100%      100ms 20.00%  internal/runtime/syscall/linux.Syscall6
         0     0%   100%      400ms 80.00%  golang.org/x/crypto/argon2.processBlocks.func1
`)
	if err != nil {
		t.Fatal(err)
	}
	remote := cpuProfile{proc: "the remote", total: total, flat: lines}
	if l := remote.lever(); !strings.Contains(l, "80% of the CPU of the remote is argon2id, the check of the datafile's authorisation code") {
		t.Errorf("remote's lever = %q", l)
	}
	server := cpuProfile{total: total, flat: lines}
	if l := server.lever(); !strings.Contains(l, "80% of the server's CPU is argon2id, checking sites' passwords") {
		t.Errorf("server's lever = %q", l)
	}
}

// A command's profile has its dispatch and its transaction at the top of the product's functions; the lever
// names the work under them.
func TestLeverLooksBelowTheCommandLayer(t *testing.T) {
	const own = "github.com/msupply-foundation/msupply-sync/"
	_, total, lines, err := parsePprofTop(`Type: cpu
Duration: 60s, Total samples = 50s (83.33%)
Showing nodes accounting for 50s, 100% of 50s total
      flat  flat%   sum%        cum   cum%
       30s 60.00% 60.00%        30s 60.00%  modernc.org/sqlite/lib._sqlite3VdbeExec
       20s 40.00%   100%        20s 40.00%  runtime.mallocgc
         0     0%   100%      42.5s 85.00%  ` + own + `commands.(*Env).Run
         0     0%   100%      42.5s 85.00%  ` + own + `commands.(*Env).runRecordPut
         0     0%   100%      42.5s 85.00%  ` + own + `datafile.(*DB).withTx
         0     0%   100%      42.5s 85.00%  ` + own + `datafile.(*DB).PutRecordsEach
         0     0%   100%        40s 80.00%  ` + own + `datafile.(*DB).writeTable
         0     0%   100%        40s 80.00%  ` + own + `main.run
`)
	if err != nil {
		t.Fatal(err)
	}
	p := cpuProfile{proc: "`record put item -`", total: total, flat: lines}
	l := p.lever()
	if !strings.Contains(l, "under `datafile.(*DB).PutRecordsEach` (85%), `datafile.(*DB).writeTable` (80%)") {
		t.Errorf("lever = %q", l)
	}
	for _, dispatch := range []string{"commands.", "withTx", "main.run"} {
		if strings.Contains(l, dispatch) {
			t.Errorf("lever names %s: %q", dispatch, l)
		}
	}
}

func TestParsePprofTopOfAnEmptyProfile(t *testing.T) {
	_, total, lines, err := parsePprofTop("Type: cpu\nDuration: 482.20us, Total samples = 0 \nShowing nodes accounting for 0, 0% of 0 total\n      flat  flat%   sum%        cum   cum%\n")
	if err != nil || total != 0 || len(lines) != 0 {
		t.Errorf("total %v, %d lines, %v", total, len(lines), err)
	}
	if _, _, _, err := parsePprofTop("pprof: something went wrong\n"); err == nil {
		t.Error("no table parsed without an error")
	}
}

func TestPprofSeconds(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "1.20s": 1.2, "350ms": 0.35, "60000us": 0.06, "12µs": 12e-6, "1.5mins": 90, "2hrs": 7200, "800ns": 8e-7} {
		got, err := pprofSeconds(in)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("pprofSeconds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := pprofSeconds("soon"); err == nil {
		t.Error("no error for a duration pprof never prints")
	}
}
