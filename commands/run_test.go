package commands

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
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
		again := waitInterval(ctx, settings)
		cancel()
		if again {
			t.Errorf("interval of %d minutes: the loop went round again after %v instead of waiting", minutes, time.Since(began))
		}
	}
}
