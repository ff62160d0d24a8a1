package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procResult is one finished child process: its wall time and its peak resident memory.
type procResult struct {
	Wall   time.Duration
	MaxRSS int64   // bytes
	CPU    float64 // user + system seconds
	Stdout string
	Stderr string // the last few kilobytes
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// lastLine is the last non-empty line of s, for one-line error reports.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "hint:") {
			return l
		}
	}
	return ""
}

// exe runs the product binary on one datafile.
type exe struct {
	bin string
	env []string // the child environment: ours without any MSUPPLY_* inherited from the caller
}

func newExe(bin string) *exe {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MSUPPLY_") {
			env = append(env, kv)
		}
	}
	env = append(env, "MSUPPLY_AUTH_CODE="+authCode)
	return &exe{bin: bin, env: env}
}

// call describes one run of the binary.
type call struct {
	datafile   string
	hardwareID string    // MSUPPLY_HARDWARE_ID, for remotes
	stdin      io.Reader // nil: empty
	stdinFile  string    // a file to feed as standard input instead
	discardOut bool      // send stdout to /dev/null instead of capturing it (record put of a million rows)
	profile    string    // a file for the CPU profile of the whole run (a profiling build; see profile.go)
	args       []string
}

func (e *exe) command(ctx context.Context, c call) (*exec.Cmd, *bytes.Buffer, *tailBuffer, func(), error) {
	args := append([]string{"--datafile", c.datafile}, c.args...)
	if c.datafile == "" {
		args = c.args
	}
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = append([]string(nil), e.env...)
	if len(c.args) > 0 && c.args[0] == "run" {
		// Sync runs as its service does, without the authorisation code, which it does not need: given
		// one, a command checks it with argon2id, most of an idle cycle's work.
		cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "MSUPPLY_AUTH_CODE=") })
	}
	if c.hardwareID != "" {
		cmd.Env = append(cmd.Env, "MSUPPLY_HARDWARE_ID="+c.hardwareID)
	}
	if c.profile != "" {
		cmd.Env = append(cmd.Env, profileRunEnv+"="+c.profile)
	}
	cleanup := func() {}
	switch {
	case c.stdinFile != "":
		f, err := os.Open(c.stdinFile)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		cmd.Stdin = f
		cleanup = func() { f.Close() }
	case c.stdin != nil:
		cmd.Stdin = c.stdin
	}
	out := &bytes.Buffer{}
	if !c.discardOut {
		cmd.Stdout = out
	}
	errTail := &tailBuffer{max: 16 << 10}
	cmd.Stderr = errTail
	cmd.WaitDelay = 5 * time.Second
	return cmd, out, errTail, cleanup, nil
}

// run runs the binary to completion and returns its wall time (start to exit), peak RSS and CPU time, as
// the launcher measured them (see launch.go).
func (e *exe) run(ctx context.Context, c call) (procResult, error) {
	cmd, out, errTail, cleanup, err := e.command(ctx, c)
	if err != nil {
		return procResult{}, err
	}
	defer cleanup()
	l, err := launch(cmd)
	if err != nil {
		return procResult{}, err
	}
	start := time.Now()
	err = cmd.Run()
	res := procResult{Wall: time.Since(start), Stdout: out.String(), Stderr: errTail.String()}
	l.read(&res)
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("%s: %w (%v)", strings.Join(c.args, " "), ctx.Err(), err)
		}
		msg := lastLine(res.Stderr)
		if msg == "" {
			msg = err.Error()
		}
		return res, fmt.Errorf("%s: %s", strings.Join(c.args, " "), msg)
	}
	return res, nil
}

// server is a running 'serve --central'.
type server struct {
	cmd    *exec.Cmd
	url    string
	addr   string // host:port
	stderr *tailBuffer
	done   chan struct{}
	err    error

	logFile string // where all of its standard error goes, when asked for (serverOptions.logFile)
	log     *os.File
	profDir string // where its CPU profiles go, when started for them (see profile.go)
	profN   int
}

// serverOptions are what some scenarios want of a server beyond the default.
type serverOptions struct {
	logFile string // keep the whole of its standard error here, not only the tail
	profDir string // start it able to profile itself (a profiling build; see profile.go)
}

func (e *exe) startServer(ctx context.Context, datafile, dir string) (*server, error) {
	return e.startServerWith(ctx, datafile, dir, serverOptions{})
}

func (e *exe) startServerWith(ctx context.Context, datafile, dir string, o serverOptions) (*server, error) {
	addrFile := filepath.Join(dir, fmt.Sprintf("server-%d.url", time.Now().UnixNano()))
	cmd, _, errTail, _, err := e.command(context.Background(), call{datafile: datafile, args: []string{"serve", "--central",
		"--listen", "127.0.0.1:0", "--addr-file", addrFile}})
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	s := &server{cmd: cmd, stderr: errTail, done: make(chan struct{}), logFile: o.logFile, profDir: o.profDir}
	if o.profDir != "" {
		if err := os.MkdirAll(o.profDir, 0o755); err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, profileEnv+"="+o.profDir)
	}
	if o.logFile != "" {
		if s.log, err = os.Create(o.logFile); err != nil {
			return nil, err
		}
		cmd.Stderr = io.MultiWriter(errTail, s.log)
	}
	if err := cmd.Start(); err != nil {
		if s.log != nil {
			s.log.Close()
		}
		return nil, err
	}
	go func() {
		s.err = cmd.Wait()
		if s.log != nil {
			s.log.Close()
		}
		close(s.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			s.url = strings.TrimSpace(string(b))
			s.addr = strings.TrimPrefix(s.url, "http://")
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("serve exited: %s", lastLine(errTail.String()))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("serve did not write its address within 30s")
		}
	}
}

// procStatus reads one field (in kB) of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func tvSecs(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// clockTicks is Linux's USER_HZ, the unit of the CPU times in /proc.
const clockTicks = 100

// cpu is the user + system seconds the server has used so far (/proc/PID/stat).
func (s *server) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks
}

// hwm is the server's peak resident memory so far (VmHWM).
func (s *server) hwm() int64 { return procStatus(s.cmd.Process.Pid, "VmHWM") }

// resetHWM restarts the peak-memory count (Linux 4.0+: "5" > clear_refs) so that the next phase's peak is its
// own; it reports whether that worked.
func (s *server) resetHWM() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0) == nil
}

// stop reads the server's peak memory, then stops it with SIGTERM (SIGKILL after 30 seconds).
func (s *server) stop() (peak int64, err error) {
	select {
	case <-s.done:
		return 0, fmt.Errorf("server had already exited: %s", lastLine(s.stderr.String()))
	default:
	}
	peak = s.hwm()
	s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be exiting on its own
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill() //nolint:errcheck
		<-s.done
		return peak, errors.New("server did not stop within 30s of SIGTERM")
	}
	if s.err != nil {
		return peak, fmt.Errorf("server exited with %v: %s", s.err, lastLine(s.stderr.String()))
	}
	return peak, nil
}
