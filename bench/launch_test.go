package main

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A command started while the benchmark holds much memory is measured at its own peak, not the
// benchmark's: started directly, Linux reports the benchmark's resident memory as the child's peak.
func TestLaunchedCommandsPeakIsTheirOwn(t *testing.T) {
	held := make([]byte, 300<<20)
	for i := 0; i < len(held); i += 4096 {
		held[i] = 1
	}
	direct := exec.Command("/bin/true")
	if err := direct.Run(); err != nil {
		t.Fatal(err)
	}
	if ru, ok := direct.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.Logf("/bin/true started directly: peak RSS %d MB", ru.Maxrss>>10)
	}
	res, err := newExe("/bin/true").run(context.Background(), call{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRSS <= 0 || res.MaxRSS > 100<<20 {
		t.Errorf("/bin/true through the launcher: peak RSS %d MB, want its own few MB, not the %d MB this test holds", res.MaxRSS>>20, len(held)>>20)
	}
	if res.Wall <= 0 || res.Wall > time.Minute {
		t.Errorf("wall time %v", res.Wall)
	}
	held[len(held)-1] = 2 // held until here
}

// The launcher exits as its command did, so failures are still failures, with their message.
func TestLauncherPassesOnTheExitAndTheSignals(t *testing.T) {
	_, err := newExe("/bin/sh").run(context.Background(), call{args: []string{"-c", "echo 'error: no such store' >&2; exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "error: no such store") {
		t.Errorf("a command exiting 3: err %v, want its message", err)
	}
	cmd, _, _, cleanup, err := newExe("/bin/sleep").command(context.Background(), call{args: []string{"30"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	l, err := launch(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	err = cmd.Wait()
	var res procResult
	l.read(&res)
	if time.Since(start) > 10*time.Second {
		t.Errorf("SIGTERM to the launcher did not end its command")
	}
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() || status.Signal() != syscall.SIGTERM {
		t.Errorf("launcher of a command ended by SIGTERM: %v, want it ended by SIGTERM too", err)
	}
	if res.MaxRSS <= 0 {
		t.Errorf("no usage read from the launcher of a signalled command")
	}
}

// Sync is measured as its service runs it, without the authorisation code; other commands are given it.
func TestSyncRunsWithoutTheAuthorisationCode(t *testing.T) {
	e := newExe("/bin/true")
	for _, c := range []struct {
		args []string
		want bool
	}{{[]string{"run", "--remote", "--once"}, false}, {[]string{"record", "put", "item", "-"}, true}} {
		cmd, _, _, cleanup, err := e.command(context.Background(), call{datafile: "x.db", args: c.args})
		if err != nil {
			t.Fatal(err)
		}
		cleanup()
		has := slices.Contains(cmd.Env, "MSUPPLY_AUTH_CODE="+authCode)
		if has != c.want {
			t.Errorf("%v: given the authorisation code %v, want %v", c.args, has, c.want)
		}
	}
}
