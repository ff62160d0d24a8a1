package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A child's peak memory, from its rusage, would be wrong if the benchmark started the child itself: Go
// starts a child with a clone that shares its own memory until exec, and Linux counts the peak of the memory
// exec leaves as the child's. A command started while the benchmark holds a million generated items or
// toxiproxy's buffers would be said to peak at hundreds of megabytes it never had. So every measured command
// is started by a launcher: this binary again, in a mode of its own, which holds a few megabytes when it
// starts the command, waits for it, and writes the command's own wall time, peak RSS and CPU time to the
// file named by launchEnv. It passes on the signals the benchmark sends and exits as the command did.
const launchEnv = "MSUPPLY_BENCH_LAUNCH_USAGE"

// launchChild runs the launcher when this process is one, and then does not return.
func launchChild() bool {
	usageFile, ok := os.LookupEnv(launchEnv)
	if !ok {
		return false
	}
	os.Unsetenv(launchEnv)
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "bench: launcher: no command\n")
		os.Exit(2)
	}
	// The command is killed with the thread that started it (Pdeathsig), so that thread must outlive it.
	runtime.LockOSThread()
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Should the benchmark kill the launcher (a context cancelled), the command goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: launcher: %v\n", err)
		os.Exit(127)
	}
	go func() {
		for s := range signals {
			cmd.Process.Signal(s) //nolint:errcheck // it may have exited
		}
	}()
	cmd.Wait() //nolint:errcheck // its status is passed on below
	wall := time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		line := fmt.Sprintf("%d %d %d %d\n", wall.Nanoseconds(), ru.Maxrss, ru.Utime.Nano()/1000, ru.Stime.Nano()/1000)
		if err := os.WriteFile(usageFile, []byte(line), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "bench: launcher: %v\n", err)
		}
	}
	status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		signal.Reset(status.Signal())
		syscall.Kill(os.Getpid(), status.Signal()) //nolint:errcheck // exits below otherwise
		time.Sleep(time.Second)
	}
	os.Exit(cmd.ProcessState.ExitCode() & 0xff)
	return true
}

// launched is a command to be started by the launcher, and where its usage will be.
type launched struct {
	usageFile string
}

// launch makes cmd start through the launcher; read, after it has exited, gives the command's own figures.
func launch(cmd *exec.Cmd) (*launched, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "bench-usage-*")
	if err != nil {
		return nil, err
	}
	f.Close()
	cmd.Args = append([]string{self, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = self
	cmd.Env = append(cmd.Env, launchEnv+"="+f.Name())
	return &launched{usageFile: f.Name()}, nil
}

// read fills res with the command's own wall time, peak RSS and CPU time, and removes the file. Without the
// launcher's figures (it was killed) the wall time stays as measured from outside and the memory is unknown.
func (l *launched) read(res *procResult) {
	b, err := os.ReadFile(l.usageFile)
	os.Remove(l.usageFile)
	if err != nil {
		return
	}
	fields := strings.Fields(string(b))
	if len(fields) != 4 {
		return
	}
	var v [4]int64
	for i, f := range fields {
		if v[i], err = strconv.ParseInt(f, 10, 64); err != nil {
			return
		}
	}
	res.Wall = time.Duration(v[0])
	res.MaxRSS = v[1] * 1024 // kilobytes on Linux
	res.CPU = float64(v[2]+v[3]) / 1e6
}
