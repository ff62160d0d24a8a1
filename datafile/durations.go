package datafile

import "time"

// Bounds on the durations an administrator sets. A week between syncs is already longer than any site
// should go unsynced, so a larger number is a typo; and a number of minutes near the integer limits
// overflows once it is turned into a time.Duration, which is how a huge interval once made the sync loop
// spin instead of wait.
const (
	MaxSyncInterval = 7 * 24 * 60 // minutes: a week
	MaxUnlockWindow = 24 * time.Hour
)

// minutesToDuration turns a count of minutes into a duration held within [lo, hi]. The bounds are
// compared in minutes, before multiplying, so that no count can overflow.
func minutesToDuration(n int64, lo, hi time.Duration) time.Duration {
	switch {
	case n <= int64(lo/time.Minute):
		return lo
	case n >= int64(hi/time.Minute):
		return hi
	}
	return time.Duration(n) * time.Minute
}

// SyncWait returns how long a remote waits between sync cycles, and whether sync is paused (an interval of
// 0, when it looks again after a minute). A stored interval outside 1 minute to a week, written by hand or
// by an older version, is held to that range: a nonsense value must neither spin the loop nor stop it.
func (s Settings) SyncWait() (wait time.Duration, paused bool) {
	if s.SyncInterval == 0 {
		return time.Minute, true
	}
	return minutesToDuration(int64(s.SyncInterval), time.Minute, MaxSyncInterval*time.Minute), false
}

// ValidateSyncInterval checks a sync interval in minutes: 0 (paused) or 1 minute to a week.
func ValidateSyncInterval(minutes int) error {
	if minutes < 0 || minutes > MaxSyncInterval {
		return errorf(EINVALID, "the sync interval must be 0 (paused) or 1 to %d minutes (a week), not %d", MaxSyncInterval, minutes)
	}
	return nil
}
