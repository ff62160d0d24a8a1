package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/syncengine"
)

// TestWaitIntervalWaitsWhateverIsStored checks that the run loop waits between cycles however absurd the
// stored interval: a count of minutes multiplied into a time.Duration once overflowed to a negative wait,
// and the loop synced hundreds of times a second.
func TestWaitIntervalWaitsWhateverIsStored(t *testing.T) {
	for _, minutes := range []int{1, 10, datafile.MaxSyncInterval + 1, 2147483647, math.MaxInt} {
		settings := func(context.Context) (datafile.Settings, error) {
			return datafile.Settings{SyncInterval: minutes}, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		began := time.Now()
		again := waitInterval(ctx, settings, 0)
		cancel()
		if again {
			t.Errorf("interval of %d minutes: the loop went round again after %v instead of waiting", minutes, time.Since(began))
		}
	}
}

// TestStopIsNotAnError: SIGINT or SIGTERM ends a cycle early on purpose, so it is logged as INFO; a real
// failure is still an ERROR.
func TestStopIsNotAnError(t *testing.T) {
	res := &syncengine.CycleResult{Run: &datafile.RunLog{PushDone: 2}}
	for _, tt := range []struct {
		name  string
		err   error
		level string
	}{
		{"stopped", fmt.Errorf("push: %w", syncengine.ErrStopped), "level=INFO"},
		{"cancelled", context.Canceled, "level=INFO"},
		{"done", nil, "level=INFO"},
		{"failed", errors.New("push: the server answered 500"), "level=ERROR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			logCycle(slog.New(slog.NewTextHandler(&out, nil)), "sync cycle", res, tt.err)
			if !strings.HasPrefix(out.String(), "time=") || !strings.Contains(out.String(), tt.level+" ") {
				t.Errorf("logged %q, want %s", out.String(), tt.level)
			}
			if !strings.Contains(out.String(), "pushed 2 (central accepted 2)") {
				t.Errorf("logged %q, without the summary", out.String())
			}
		})
	}
}

// TestCycleTheLinkFailedIsTriedAgainSoon: after a cycle the connection failed, the service tries again
// after a short wait, doubling with each failure in a row, and never waits longer than the interval.
func TestCycleTheLinkFailedIsTriedAgainSoon(t *testing.T) {
	defer func(d time.Duration) { retryFailedCycleAfter = d }(retryFailedCycleAfter)
	retryFailedCycleAfter = 20 * time.Millisecond
	settings := func(context.Context) (datafile.Settings, error) { return datafile.Settings{SyncInterval: 10}, nil }
	for _, tt := range []struct {
		failures int
		want     time.Duration
	}{{1, 20 * time.Millisecond}, {2, 40 * time.Millisecond}, {3, 80 * time.Millisecond}} {
		began := time.Now()
		if !waitInterval(context.Background(), settings, tt.failures) {
			t.Fatal("told to stop")
		}
		if took := time.Since(began); took < tt.want || took > tt.want+2*time.Second {
			t.Errorf("after %d failures it waited %v, want %v", tt.failures, took, tt.want)
		}
	}
	// Many failures in a row never make the wait longer than the interval (nor overflow it).
	retryFailedCycleAfter = time.Hour
	oneMinute := func(context.Context) (datafile.Settings, error) { return datafile.Settings{SyncInterval: 1}, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if waitInterval(ctx, oneMinute, 1000) {
		t.Error("the wait after many failures ended before the interval")
	}
}

// TestServiceToldToStopWhileOpeningStopsCleanly: SIGTERM can reach the sync service while it is still
// opening its datafile (a service manager stopping it just after starting it). It stops as it does between
// cycles, with exit 0; a single cycle told to stop then says it was interrupted, in words.
func TestServiceToldToStopWhileOpeningStopsCleanly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "remote.db")
	if err := datafile.CreateRemote(context.Background(), path, datafile.RemoteOptions{
		ServerURL: "http://127.0.0.1:1", SiteName: "North", Password: "north-password", AuthCode: "auth-code"}); err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := Run(stopped, []string{"--datafile", path, "run", "--remote"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Errorf("the service stopped while opening: exit %d, want 0: %s", code, stderr.String())
	}
	stderr.Reset()
	code := Run(stopped, []string{"--datafile", path, "run", "--remote", "--once"}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "sync interrupted before it began") {
		t.Errorf("one cycle stopped while opening: exit %d, %q; want exit 1 saying it was interrupted before it began", code, stderr.String())
	}
}
