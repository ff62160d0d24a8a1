package datafile_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// addSiteErr tries an edit that needs the sync settings unlocked, for tests of the lock itself.
func addSiteErr(db *datafile.DB, name string) error {
	_, err := db.AddSite(context.Background(), datafile.NewSite{Name: name, Password: sitePassword(name)})
	return err
}

func TestLocking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpenCentral(t)

	t.Run("a new datafile is locked", func(t *testing.T) {
		err := addSiteErr(db, "One")
		wantErrIs(t, err, datafile.ErrLocked)
		wantCode(t, err, datafile.ELOCKED)
		for name, err := range map[string]error{
			"add store":  func() error { _, err := db.AddStore(ctx, "S1", "Store", ""); return err }(),
			"edit site":  func() error { _, err := db.EditSite(ctx, "1", datafile.SiteUpdate{Code: ptr("X")}); return err }(),
			"delete":     second(db.DeleteSite(ctx, "1")),
			"reset":      func() error { _, err := db.ResetHardwareID(ctx, "1"); return err }(),
			"unblock":    func() error { _, err := db.UnblockSite(ctx, "1"); return err }(),
			"move store": func() error { _, _, err := db.MoveStore(ctx, "S1", "1", true); return err }(),
		} {
			if !isLocked(err) {
				t.Errorf("%s while locked: %v, want ErrLocked", name, err)
			}
		}
		// Viewing is always possible.
		if _, err := db.Sites(ctx); err != nil {
			t.Error(err)
		}
		if _, err := db.Stores(ctx, ""); err != nil {
			t.Error(err)
		}
		if _, err := db.Settings(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("a wrong code is refused", func(t *testing.T) {
		for _, code := range []string{"", "wrong-code", testAuthCode + " ", "AUTH-CODE-Q7X9"} {
			_, err := db.Unlock(ctx, code, 0)
			wantErrIs(t, err, datafile.ErrWrongAuthCode)
			wantCode(t, err, datafile.EFORBIDDEN)
		}
		wantErrIs(t, db.CheckAuthCode(ctx, "wrong-code"), datafile.ErrWrongAuthCode)
		wantErrIs(t, addSiteErr(db, "One"), datafile.ErrLocked)
	})

	t.Run("unlock opens, lock closes", func(t *testing.T) {
		until, err := db.Unlock(ctx, testAuthCode, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(until); d < 14*time.Minute || d > 15*time.Minute+time.Second {
			t.Errorf("unlocked until %v, %v from now; want the default 15 minutes", until, d)
		}
		if err := addSiteErr(db, "One"); err != nil {
			t.Fatal(err)
		}
		// The window is the datafile's, so another handle on it (another command) is unlocked too.
		other := mustOpen(t, db.Path())
		if err := addSiteErr(other, "Two"); err != nil {
			t.Errorf("second handle inside the window: %v", err)
		}
		if err := db.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		wantErrIs(t, addSiteErr(db, "Three"), datafile.ErrLocked)
		wantErrIs(t, addSiteErr(other, "Three"), datafile.ErrLocked)
		s, err := db.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !s.UnlockedUntil.IsZero() {
			t.Errorf("after lock, unlocked until %v", s.UnlockedUntil)
		}
	})

	t.Run("an auth code unlocks one handle", func(t *testing.T) {
		one := mustOpen(t, db.Path())
		one.SetAuthCode(testAuthCode)
		if err := addSiteErr(one, "Four"); err != nil {
			t.Fatal(err)
		}
		if err := addSiteErr(one, "Five"); err != nil {
			t.Fatalf("second edit with the same handle: %v", err)
		}
		wantErrIs(t, addSiteErr(db, "Six"), datafile.ErrLocked)
		// Nothing was stored: a later handle is locked.
		wantErrIs(t, addSiteErr(mustOpen(t, db.Path()), "Six"), datafile.ErrLocked)

		wrong := mustOpen(t, db.Path())
		wrong.SetAuthCode("not-the-code")
		wantErrIs(t, addSiteErr(wrong, "Six"), datafile.ErrWrongAuthCode)
		// Replacing the code drops what the handle had earned.
		one.SetAuthCode("not-the-code")
		wantErrIs(t, addSiteErr(one, "Six"), datafile.ErrWrongAuthCode)
	})

	t.Run("the window expires", func(t *testing.T) {
		now := time.Now()
		clock := now
		db.SetClock(func() time.Time { return clock })
		defer db.SetClock(time.Now)
		if err := db.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			window  time.Duration
			after   time.Duration
			wantErr error
		}{
			{"default window, inside", 0, 14 * time.Minute, nil},
			{"default window, after", 0, 15*time.Minute + time.Second, datafile.ErrLocked},
			{"one hour, inside", time.Hour, 59 * time.Minute, nil},
			{"one hour, after", time.Hour, 61 * time.Minute, datafile.ErrLocked},
			{"ten seconds, after", 10 * time.Second, 11 * time.Second, datafile.ErrLocked},
		} {
			t.Run(tc.name, func(t *testing.T) {
				clock = now
				if _, err := db.Unlock(ctx, testAuthCode, tc.window); err != nil {
					t.Fatal(err)
				}
				clock = now.Add(tc.after)
				_, err := db.EditSite(ctx, "1", datafile.SiteUpdate{Code: ptr("CTL-" + tc.after.String())})
				if tc.wantErr == nil && err != nil {
					t.Errorf("%v after unlocking: %v", tc.after, err)
				}
				if tc.wantErr != nil {
					wantErrIs(t, err, tc.wantErr)
				}
			})
		}
	})

	t.Run("unlock window bounds", func(t *testing.T) {
		for _, d := range []time.Duration{-time.Minute, 25 * time.Hour} {
			_, err := db.Unlock(ctx, testAuthCode, d)
			wantCode(t, err, datafile.EINVALID)
		}
		until, err := db.Unlock(ctx, testAuthCode, 24*time.Hour)
		if err != nil || time.Until(until) < 23*time.Hour {
			t.Errorf("24 hour unlock: %v, %v", until, err)
		}
		if err := db.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a remote has its own code", func(t *testing.T) {
		remote := MustOpenRemote(t)
		if _, err := remote.Unlock(ctx, "wrong-code", 0); !errors.Is(err, datafile.ErrWrongAuthCode) {
			t.Errorf("wrong code on a remote: %v", err)
		}
		if _, err := remote.Unlock(ctx, testAuthCode, 0); err != nil {
			t.Error(err)
		}
	})
}

func isLocked(err error) bool { return errors.Is(err, datafile.ErrLocked) }

func TestUpdatePrefs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	prefs := func(t *testing.T, db *datafile.DB) datafile.Settings {
		t.Helper()
		s, err := db.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("remote before sync is configured", func(t *testing.T) {
		db := MustOpenRemote(t)
		if prefs(t, db).ThisSiteID != 0 {
			t.Fatal("a fresh remote already knows its site ID")
		}
		for name, u := range map[string]datafile.PrefsUpdate{
			"interval":     {SyncInterval: ptr(5)},
			"alt http":     {AltHTTPClient: ptr(true)},
			"request size": {RequestSize: ptr(100)},
			"server url":   {ServerURL: ptr("https://other.example.org")},
		} {
			if err := db.UpdatePrefs(ctx, u); !isLocked(err) {
				t.Errorf("%s while locked: %v, want ErrLocked", name, err)
			}
		}
		if s := prefs(t, db); s.SyncInterval != 10 || s.AltHTTPClient {
			t.Errorf("refused updates changed the settings: %+v", s)
		}
	})

	t.Run("remote once sync is configured", func(t *testing.T) {
		db := MustOpenRemote(t)
		mustExec(t, db, `UPDATE settings SET this_site_id = 2`)
		if !prefs(t, db).SyncConfigured() {
			t.Fatal("sync not configured")
		}
		// These two need no unlocking now.
		if err := db.UpdatePrefs(ctx, datafile.PrefsUpdate{SyncInterval: ptr(0), AltHTTPClient: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if s := prefs(t, db); s.SyncInterval != 0 || !s.AltHTTPClient {
			t.Errorf("settings = %+v, want interval 0 (paused) and the alternate client", s)
		}
		// These still do, even together with one that does not: the whole update is refused.
		for name, u := range map[string]datafile.PrefsUpdate{
			"request size":           {RequestSize: ptr(100)},
			"server url":             {ServerURL: ptr("https://other.example.org")},
			"interval with url":      {SyncInterval: ptr(7), ServerURL: ptr("https://other.example.org")},
			"alt http with req size": {AltHTTPClient: ptr(false), RequestSize: ptr(100)},
		} {
			if err := db.UpdatePrefs(ctx, u); !isLocked(err) {
				t.Errorf("%s while locked: %v, want ErrLocked", name, err)
			}
		}
		if s := prefs(t, db); s.SyncInterval != 0 || !s.AltHTTPClient || s.RequestSize != 500 || s.ServerURL != testServerURL {
			t.Errorf("refused updates changed the settings: %+v", s)
		}
	})

	t.Run("remote bounds", func(t *testing.T) {
		db := MustOpenRemote(t)
		db.SetAuthCode(testAuthCode)
		for _, tc := range []struct {
			name string
			u    datafile.PrefsUpdate
			ok   bool
		}{
			{"negative interval", datafile.PrefsUpdate{SyncInterval: ptr(-1)}, false},
			{"interval 1", datafile.PrefsUpdate{SyncInterval: ptr(1)}, true},
			{"interval 0 pauses", datafile.PrefsUpdate{SyncInterval: ptr(0)}, true},
			{"interval of a week", datafile.PrefsUpdate{SyncInterval: ptr(datafile.MaxSyncInterval)}, true},
			{"interval over a week", datafile.PrefsUpdate{SyncInterval: ptr(datafile.MaxSyncInterval + 1)}, false},
			{"interval at the int32 limit", datafile.PrefsUpdate{SyncInterval: ptr(2147483647)}, false},
			{"interval at the int64 limit", datafile.PrefsUpdate{SyncInterval: ptr(math.MaxInt)}, false},
			{"request size below minimum", datafile.PrefsUpdate{RequestSize: ptr(datafile.MinRequestSize - 1)}, false},
			{"request size minimum", datafile.PrefsUpdate{RequestSize: ptr(datafile.MinRequestSize)}, true},
			{"request size maximum", datafile.PrefsUpdate{RequestSize: ptr(datafile.MaxRequestSize)}, true},
			{"request size above maximum", datafile.PrefsUpdate{RequestSize: ptr(datafile.MaxRequestSize + 1)}, false},
			{"request size zero", datafile.PrefsUpdate{RequestSize: ptr(0)}, false},
			{"server url without scheme", datafile.PrefsUpdate{ServerURL: ptr("central.example.org:8443")}, false},
			{"server url ftp", datafile.PrefsUpdate{ServerURL: ptr("ftp://central.example.org")}, false},
			{"server url without host", datafile.PrefsUpdate{ServerURL: ptr("https://")}, false},
			{"server url empty", datafile.PrefsUpdate{ServerURL: ptr("")}, false},
			{"server url http", datafile.PrefsUpdate{ServerURL: ptr("http://10.0.0.5:2048")}, true},
			{"server url https", datafile.PrefsUpdate{ServerURL: ptr("https://central.example.org:8443/msupply")}, true},
			// A bad value refuses the whole update, including its good parts.
			{"good interval with bad size", datafile.PrefsUpdate{SyncInterval: ptr(30), RequestSize: ptr(1)}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := prefs(t, db)
				err := db.UpdatePrefs(ctx, tc.u)
				after := prefs(t, db)
				if !tc.ok {
					wantCode(t, err, datafile.EINVALID)
					if after != before {
						t.Errorf("refused update changed settings from %+v to %+v", before, after)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tc.u.SyncInterval != nil && after.SyncInterval != *tc.u.SyncInterval {
					t.Errorf("interval = %d", after.SyncInterval)
				}
				if tc.u.RequestSize != nil && (after.RequestSize != *tc.u.RequestSize || after.RequestSizeSetting != *tc.u.RequestSize) {
					t.Errorf("request size = %d, setting %d", after.RequestSize, after.RequestSizeSetting)
				}
				if tc.u.ServerURL != nil && after.ServerURL != *tc.u.ServerURL {
					t.Errorf("server URL = %q", after.ServerURL)
				}
			})
		}
	})

	t.Run("central", func(t *testing.T) {
		db := MustOpenUnlockedCentral(t)
		for name, u := range map[string]datafile.PrefsUpdate{
			"interval":     {SyncInterval: ptr(5)},
			"request size": {RequestSize: ptr(100)},
			"server url":   {ServerURL: ptr("https://other.example.org")},
		} {
			t.Run(name, func(t *testing.T) {
				err := db.UpdatePrefs(ctx, u)
				wantCode(t, err, datafile.EINVALID)
				wantErrContains(t, err, "apply only to remote sites")
			})
		}
		locked := mustOpen(t, db.Path())
		if err := locked.UpdatePrefs(ctx, datafile.PrefsUpdate{AltHTTPClient: ptr(true)}); err != nil {
			t.Errorf("alternate HTTP client on central: %v", err)
		}
		if !prefs(t, db).AltHTTPClient {
			t.Error("alternate HTTP client not set")
		}
		if err := db.UpdatePrefs(ctx, datafile.PrefsUpdate{}); err != nil {
			t.Errorf("empty update: %v", err)
		}
	})
}

// TestStoredDurationsAreBounded writes nonsense straight into the settings row, as a hand edit or an older
// version might, and checks that what the sync loop and unlock read from it is still a sane duration: a
// count of minutes multiplied into a time.Duration overflows to a negative wait, which made the loop spin.
func TestStoredDurationsAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpenRemote(t)
	week := time.Duration(datafile.MaxSyncInterval) * time.Minute
	for _, tc := range []struct {
		minutes    int64
		wantWait   time.Duration
		wantPaused bool
	}{
		{0, time.Minute, true},
		{1, time.Minute, false},
		{90, 90 * time.Minute, false},
		{datafile.MaxSyncInterval, week, false},
		{datafile.MaxSyncInterval + 1, week, false},
		{2147483647, week, false},
		{153722867281, week, false}, // the first count of minutes that overflows int64 nanoseconds
		{math.MaxInt64, week, false},
	} {
		if _, err := db.SQL().ExecContext(ctx, `UPDATE settings SET sync_interval_minutes = ?, unlock_window_minutes = ?`, tc.minutes, tc.minutes); err != nil {
			t.Fatal(err)
		}
		s, err := db.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wait, paused := s.SyncWait()
		if wait != tc.wantWait || paused != tc.wantPaused {
			t.Errorf("interval of %d minutes: wait %v paused %v, want %v %v", tc.minutes, wait, paused, tc.wantWait, tc.wantPaused)
		}
		if s.UnlockWindow < time.Minute || s.UnlockWindow > datafile.MaxUnlockWindow {
			t.Errorf("unlock window of %d minutes read as %v", tc.minutes, s.UnlockWindow)
		}
	}
	// A negative interval cannot be stored (the schema checks it), but a value read some other way is
	// held to the range too.
	if wait, paused := (datafile.Settings{SyncInterval: -5}).SyncWait(); wait != time.Minute || paused {
		t.Errorf("negative interval: wait %v paused %v", wait, paused)
	}
}
