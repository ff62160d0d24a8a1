package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// machine is what the report says about where it ran.
type machine struct {
	CPUs      int
	CPUModel  string
	MemTotal  string
	GoVersion string
	OS        string
	Date      string
	Code      string
}

func describeMachine(ctx context.Context) machine {
	m := machine{
		CPUs:     runtime.NumCPU(),
		CPUModel: "unknown",
		MemTotal: "unknown",
		OS:       runtime.GOOS + "/" + runtime.GOARCH,
		Date:     time.Now().UTC().Format("2006-01-02 15:04 MST"),
	}
	if out, err := exec.CommandContext(ctx, "nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.CPUs = n
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m.MemTotal = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if out, err := exec.CommandContext(ctx, goTool(), "version").Output(); err == nil {
		m.GoVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	} else {
		m.GoVersion = runtime.Version()
	}
	if out, err := exec.CommandContext(ctx, "uname", "-r").Output(); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(out))
	}
	return m
}

// describeCode names the source that was built: the commit, and whether the working tree had changes
// (untracked files count, since an untracked .go file is compiled too; the benchmark's own files do not).
func describeCode(ctx context.Context) string {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "unknown"
	}
	rev, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	s := "commit " + strings.TrimSpace(string(rev))
	st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output()
	if err != nil {
		return s
	}
	changed := 0
	for _, line := range strings.Split(string(st), "\n") {
		if len(line) < 4 {
			continue
		}
		path := line[3:]
		if strings.HasPrefix(path, "bench/") || path == "BENCHMARKS.md" {
			continue
		}
		changed++
	}
	if changed > 0 {
		s += fmt.Sprintf(" with uncommitted changes (%d files)", changed)
	}
	return s
}

// machineBusy is the CPU time (seconds, all CPUs) the machine has spent busy since boot, from /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / clockTicks
}

func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tvSecs(ru.Utime) + tvSecs(ru.Stime)
}

// childrenCPU is the CPU time of every child process this one has waited for.
func childrenCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return tvSecs(ru.Utime) + tvSecs(ru.Stime)
}

// meter measures how busy other processes kept the CPUs while a step ran: the machine's busy time minus
// this benchmark's own (its process and the CPU time of the processes it ran for the step).
type meter struct {
	t0           time.Time
	busy0, self0 float64
}

func startMeter() meter { return meter{t0: time.Now(), busy0: machineBusy(), self0: selfCPU()} }

// othersCores is the average number of CPUs that processes other than ours kept busy since the meter started.
func (m meter) othersCores(ours float64) float64 {
	wall := time.Since(m.t0).Seconds()
	if wall <= 0 || m.busy0 == 0 {
		return -1
	}
	return max(0, (machineBusy()-m.busy0-(selfCPU()-m.self0)-ours)/wall)
}

// loadAverage is the one-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
