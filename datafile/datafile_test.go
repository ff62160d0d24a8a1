package datafile_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	_ "modernc.org/sqlite"
)

// migrationNames lists the migration files in the source tree, which is what the binary embeds.
func migrationNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no migrations found")
	}
	return names
}

type appliedMigration struct {
	Version   int
	Name      string
	AppliedAt string
}

func appliedMigrations(t *testing.T, db *datafile.DB) []appliedMigration {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []appliedMigration
	for rows.Next() {
		var m appliedMigration
		if err := rows.Scan(&m.Version, &m.Name, &m.AppliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(testing.TB) *datafile.DB
	}{
		{"central", MustOpenCentral},
		{"remote", MustOpenRemote},
	} {
		t.Run(tc.name+"/fresh datafile records every migration", func(t *testing.T) {
			db := tc.open(t)
			names := migrationNames(t)
			applied := appliedMigrations(t, db)
			if len(applied) != len(names) {
				t.Fatalf("schema_migrations has %d rows, want %d (%v)", len(applied), len(names), names)
			}
			for i, m := range applied {
				if m.Name != names[i] {
					t.Errorf("migration %d is %q, want %q", i, m.Name, names[i])
				}
				if !strings.HasPrefix(names[i], strings.Repeat("0", 4-len(itoa(m.Version)))+itoa(m.Version)+"_") {
					t.Errorf("migration %q recorded as version %d", m.Name, m.Version)
				}
				if m.AppliedAt == "" {
					t.Errorf("migration %q has no applied_at", m.Name)
				}
			}
			v, err := db.SchemaVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v != applied[len(applied)-1].Version {
				t.Errorf("SchemaVersion = %d, want %d", v, applied[len(applied)-1].Version)
			}
		})
		t.Run(tc.name+"/reopening applies nothing twice", func(t *testing.T) {
			db := tc.open(t)
			before := appliedMigrations(t, db)
			path := db.Path()
			db.Close()
			for i := 0; i < 2; i++ {
				again, err := datafile.Open(ctx, path)
				if err != nil {
					t.Fatalf("reopen %d: %v", i, err)
				}
				after := appliedMigrations(t, again)
				again.Close()
				if len(after) != len(before) {
					t.Fatalf("reopen %d: %d migrations recorded, want %d", i, len(after), len(before))
				}
				for j := range before {
					if after[j] != before[j] {
						t.Errorf("reopen %d: migration %+v became %+v", i, before[j], after[j])
					}
				}
			}
		})
	}
}

// TestMigrationLastContact: last_sync_at used to be set by every authenticated request. Upgrading keeps
// what it held as the site's last contact, and as its last sync until the next completed cycle.
func TestMigrationLastContact(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	mustAddSite(t, db, "South", datafile.SiteStandalone)
	// The datafile as the version before 0006 left it.
	mustExec(t, db, `ALTER TABLE site DROP COLUMN last_contact_at`)
	mustExec(t, db, `DELETE FROM schema_migrations WHERE name = '0006_site_last_contact.sql'`)
	mustExec(t, db, `UPDATE site SET last_sync_at = '2026-01-31T09:30:00Z' WHERE id = ?`, north.ID)
	path := db.Path()
	db.Close()
	db = mustOpen(t, path)
	for name, want := range map[string]string{"North": "2026-01-31 09:30:00 +0000 UTC", "South": "<nil>"} {
		s, err := db.FindSite(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(s.LastContactAt); got != want {
			t.Errorf("%s: last contact %s after the upgrade, want %s", name, got, want)
		}
		if got := fmt.Sprint(s.LastSyncAt); got != want {
			t.Errorf("%s: last sync %s after the upgrade, want %s", name, got, want)
		}
	}
}

func TestOpenPragmas(t *testing.T) {
	t.Parallel()
	db := MustOpenCentral(t)
	// Check several connections of the pool at once: each must have been set up the same way.
	ctx := context.Background()
	var conns []*sql.Conn
	for i := 0; i < 3; i++ {
		c, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i, c := range conns {
		for _, tc := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"synchronous", "2"},
			{"busy_timeout", "10000"},
		} {
			t.Run(tc.pragma, func(t *testing.T) {
				var got string
				if err := c.QueryRowContext(ctx, `PRAGMA `+tc.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if !strings.EqualFold(got, tc.want) {
					t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, tc.pragma, got, tc.want)
				}
			})
		}
	}
	// Foreign keys are enforced, not just reported.
	_, err := db.SQL().Exec(`INSERT INTO stock_line (id, store_id, item_id) VALUES ('fk', 'no-such-store', 'no-such-item')`)
	if err == nil {
		t.Fatal("a stock line referring to nothing was accepted: foreign keys are off")
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("missing path", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "missing.db")
		db, err := datafile.Open(ctx, path)
		if db != nil {
			db.Close()
		}
		wantErrIs(t, err, datafile.ErrNoDatafile)
		wantCode(t, err, datafile.ENOTFOUND)
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("Open of a missing datafile left files behind: %v", entries)
		}
	})

	t.Run("directory", func(t *testing.T) {
		db, err := datafile.Open(ctx, t.TempDir())
		if db != nil {
			db.Close()
		}
		wantErrContains(t, err, "is a directory")
	})

	garbage := bytes.Repeat([]byte("this is a spreadsheet, not a datafile\n"), 200)
	t.Run("not SQLite", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "notes.db")
		if err := os.WriteFile(path, garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := datafile.Open(ctx, path)
		if db != nil {
			db.Close()
		}
		wantErrContains(t, err, "open datafile", "not a readable SQLite datafile")
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, garbage) {
			t.Error("Open changed a file that is not a datafile")
		}
	})

	// SQLite files that msupply-sync did not create must be refused, and left as they were.
	foreign := func(t *testing.T, setup string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "other.db")
		other, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if setup != "" {
			if _, err := other.Exec(setup); err != nil {
				t.Fatal(err)
			}
		}
		if err := other.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	for _, tc := range []struct {
		name  string
		setup string
	}{
		{"empty file", ""},
		{"another application's SQLite database", `CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO patients (name) VALUES ('A')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := foreign(t, tc.setup)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := datafile.Open(ctx, path)
			if db != nil {
				db.Close()
			}
			wantErrContains(t, err, "was not initialised by msupply-sync init")
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("Open changed a SQLite file that is not an msupply-sync datafile")
			}
			for _, suffix := range []string{"-wal", "-shm"} {
				if _, err := os.Stat(path + suffix); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Open left %s behind", filepath.Base(path+suffix))
				}
			}
		})
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("central leaves only the datafile", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "c.db")
		if err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{SiteName: "Central", AuthCode: testAuthCode}); err != nil {
			t.Fatal(err)
		}
		assertDirHolds(t, dir, "c.db")
		db := mustOpen(t, path)
		s, err := db.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Role != datafile.RoleCentral || s.ThisSiteID != datafile.CentralSiteID || !s.SyncConfigured() {
			t.Errorf("central settings = %+v", s)
		}
		if s.UnlockWindow != datafile.DefaultUnlockWindow {
			t.Errorf("unlock window = %v, want %v", s.UnlockWindow, datafile.DefaultUnlockWindow)
		}
		site, err := db.FindSite(ctx, "1")
		if err != nil || site.Name != "Central" {
			t.Errorf("site 1 = %+v, %v; want the central site", site, err)
		}
	})

	t.Run("remote leaves the datafile and its key file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.db")
		if err := datafile.CreateRemote(ctx, path, datafile.RemoteOptions{
			ServerURL: testServerURL, SiteName: " North ", Password: testRemotePassword, AuthCode: testAuthCode,
		}); err != nil {
			t.Fatal(err)
		}
		assertDirHolds(t, dir, "r.db", "r.db.key")
		info, err := os.Stat(datafile.KeyFilePath(path))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("key file mode %v is readable by others", perm)
		}
		db := mustOpen(t, path)
		s, err := db.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := datafile.Settings{Role: datafile.RoleRemote, ServerURL: testServerURL, SiteName: "North",
			SyncInterval: 10, RequestSize: 500, RequestSizeSetting: datafile.MaxRequestSize, UnlockWindow: datafile.DefaultUnlockWindow}
		s.CreatedAt = time.Time{}
		if s != want {
			t.Errorf("remote settings = %+v, want %+v", s, want)
		}
		if s.SyncConfigured() {
			t.Error("a fresh remote reports sync as configured")
		}
	})

	t.Run("refuses an existing path", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.db")
		if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{SiteName: "C", AuthCode: testAuthCode})
		wantErrIs(t, err, datafile.ErrDatafileExists)
		err = datafile.CreateRemote(ctx, path, datafile.RemoteOptions{ServerURL: testServerURL, SiteName: "N", Password: testRemotePassword, AuthCode: testAuthCode})
		wantErrIs(t, err, datafile.ErrDatafileExists)
		if b, _ := os.ReadFile(path); string(b) != "precious" {
			t.Error("init changed an existing file")
		}
		assertDirHolds(t, dir, "x.db")
	})

	for _, tc := range []struct {
		name   string
		create func(path string) error
		want   string
	}{
		{"central without a name", func(p string) error {
			return datafile.CreateCentral(ctx, p, datafile.CentralOptions{SiteName: "  ", AuthCode: testAuthCode})
		}, "needs a name"},
		{"central with a short auth code", func(p string) error {
			return datafile.CreateCentral(ctx, p, datafile.CentralOptions{SiteName: "C", AuthCode: "12345"})
		}, "at least 6 characters"},
		{"remote with a bad server URL", func(p string) error {
			return datafile.CreateRemote(ctx, p, datafile.RemoteOptions{ServerURL: "central:8443", SiteName: "N", Password: testRemotePassword, AuthCode: testAuthCode})
		}, "not an http:// or https:// URL"},
		{"central name with a control character", func(p string) error {
			return datafile.CreateCentral(ctx, p, datafile.CentralOptions{SiteName: "Cent\x00ral", AuthCode: testAuthCode})
		}, "control characters"},
		{"central name too long", func(p string) error {
			return datafile.CreateCentral(ctx, p, datafile.CentralOptions{SiteName: strings.Repeat("c", 101), AuthCode: testAuthCode})
		}, "at most 100"},
		// SITE arguments take numbers as IDs, so a numeric code could never name the central site.
		{"central with a numeric code", func(p string) error {
			return datafile.CreateCentral(ctx, p, datafile.CentralOptions{SiteName: "C", SiteCode: "7", AuthCode: testAuthCode})
		}, "must not be a number"},
		// Nor a numeric name: site 2, added later, would share it.
		{"central with a numeric name", func(p string) error {
			return datafile.CreateCentral(ctx, p, datafile.CentralOptions{SiteName: "2", AuthCode: testAuthCode})
		}, "must not be a number"},
		// The name is the user name of HTTP Basic auth, where a colon would end it: such a remote could
		// never authenticate, so init must say so rather than the first sync.
		{"remote name with a colon", func(p string) error {
			return datafile.CreateRemote(ctx, p, datafile.RemoteOptions{ServerURL: testServerURL, SiteName: "North:1", Password: testRemotePassword, AuthCode: testAuthCode})
		}, "colon"},
		{"remote without a site name", func(p string) error {
			return datafile.CreateRemote(ctx, p, datafile.RemoteOptions{ServerURL: testServerURL, Password: testRemotePassword, AuthCode: testAuthCode})
		}, "site name"},
		{"remote without a password", func(p string) error {
			return datafile.CreateRemote(ctx, p, datafile.RemoteOptions{ServerURL: testServerURL, SiteName: "N", AuthCode: testAuthCode})
		}, "password"},
		{"remote with a short auth code", func(p string) error {
			return datafile.CreateRemote(ctx, p, datafile.RemoteOptions{ServerURL: testServerURL, SiteName: "N", Password: testRemotePassword, AuthCode: "abc"})
		}, "at least 6 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := tc.create(filepath.Join(dir, "d.db"))
			wantCode(t, err, datafile.EINVALID)
			wantErrContains(t, err, tc.want)
			assertDirHolds(t, dir)
		})
	}
}

// assertDirHolds fails unless dir holds exactly the named files.
func assertDirHolds(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(names)
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestAtomically(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	mustPut(t, db, "item", `{"id":"item-1","name":"item-1"}`)
	mustPut(t, db, "name", `{"id":"name-1"}`)

	t.Run("an error rolls back every step", func(t *testing.T) {
		cursor := lastCursor(t, db)
		before, err := db.Checksum(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = db.Atomically(ctx, func(tx *datafile.DB) error {
			st, err := tx.AddStore(ctx, "ATOM", "Atomic", "")
			if err != nil {
				return err
			}
			if _, err := tx.PutRecords(ctx, "invoice", objects(t, obj(t, map[string]any{
				"id": "inv-atom", "store_id": st.ID, "name_id": "name-1", "type": "customer_invoice", "created_at": "2026-01-01T00:00:00Z",
			}))); err != nil {
				return err
			}
			if _, err := tx.PutRecords(ctx, "item", objects(t, `{"id":"item-1","name":"renamed"}`)); err != nil {
				return err
			}
			// Reads inside see the writes made so far.
			if _, err := tx.GetRecord(ctx, "invoice", "inv-atom"); err != nil {
				return err
			}
			return boom
		})
		wantErrIs(t, err, boom)
		if _, err := db.FindStore(ctx, "ATOM"); datafile.ErrorCode(err) != datafile.ENOTFOUND {
			t.Errorf("store of a rolled-back run exists: %v", err)
		}
		after, err := db.Checksum(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for table, sum := range before {
			if after[table] != sum {
				t.Errorf("%s changed by a rolled-back run", table)
			}
		}
		assertChanges(t, changesAfter(t, db, cursor), nil)
	})

	t.Run("success commits every step", func(t *testing.T) {
		err := db.Atomically(ctx, func(tx *datafile.DB) error {
			st, err := tx.AddStore(ctx, "ATOM2", "Atomic", "")
			if err != nil {
				return err
			}
			_, err = tx.PutRecords(ctx, "stock_line", objects(t, obj(t, map[string]any{"id": "sl-atom", "store_id": st.ID, "item_id": "item-1"})))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindStore(ctx, "ATOM2"); err != nil {
			t.Error(err)
		}
		if _, err := db.GetRecord(ctx, "stock_line", "sl-atom"); err != nil {
			t.Error(err)
		}
	})

	t.Run("a locked handle stays locked inside", func(t *testing.T) {
		locked, err := datafile.Open(ctx, db.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer locked.Close()
		err = locked.Atomically(ctx, func(tx *datafile.DB) error {
			_, err := tx.AddStore(ctx, "ATOM3", "Atomic", "")
			return err
		})
		wantErrIs(t, err, datafile.ErrLocked)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestOpenAfterCrash opens copies of a datafile taken while it was in use, as a killed process or a power
// cut leaves it: committed writes still only in the -wal file, with or without the -shm index.
func TestOpenAfterCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpenCentral(t)
	mustPut(t, db, "item", `{"id":"committed-before-the-crash","name":"committed-before-the-crash"}`)
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"wal and shm", []string{"", "-wal", "-shm"}},
		{"wal without shm", []string{"", "-wal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "copy.db")
			for _, suffix := range tc.files {
				b, err := os.ReadFile(db.Path() + suffix)
				if err != nil {
					t.Fatal(err)
				}
				if suffix == "-wal" && len(b) == 0 {
					t.Fatal("the write was checkpointed already; the test needs it in the -wal file")
				}
				if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			copied := mustOpen(t, dst)
			if _, err := copied.GetRecord(ctx, "item", "committed-before-the-crash"); err != nil {
				t.Errorf("committed record lost: %v", err)
			}
		})
	}
}

// TestConcurrentWriters checks that writers on several handles (as a server and an admin command would be)
// wait for each other instead of failing with "database is locked".
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := MustOpenCentral(t)
	second := mustOpen(t, first.Path())
	start := lastCursor(t, first)
	const writers, each = 6, 15
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		db := first
		if w%2 == 1 {
			db = second
		}
		go func(w int) {
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				if _, err := db.PutRecords(ctx, "item", datafile.Records(map[string]any{"id": id, "name": id})); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(changesAfter(t, first, start)); n != writers*each {
		t.Errorf("%d changes logged, want %d", n, writers*each)
	}
}

// TestSyncLogKeepsTheLastRuns: the sync log is pruned as runs are written, keeping the newest.
func TestSyncLogKeepsTheLastRuns(t *testing.T) {
	datafile.SetKeepRuns(t, 5)
	ctx := context.Background()
	db := MustOpenRemote(t)
	var last *datafile.RunLog
	for i := 0; i < 12; i++ {
		r, err := db.StartRun(ctx, "sync")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SaveRun(ctx, r, true); err != nil {
			t.Fatal(err)
		}
		last = r
	}
	var n, oldest int64
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*), min(id) FROM sync_log`).Scan(&n, &oldest); err != nil {
		t.Fatal(err)
	}
	if n != 5 || oldest != last.ID-4 {
		t.Errorf("sync_log holds %d runs from %d, want the last 5 (%d to %d)", n, oldest, last.ID-4, last.ID)
	}
	if got, err := db.LastRun(ctx); err != nil || got.ID != last.ID {
		t.Errorf("last run %+v (%v), want %d", got, err, last.ID)
	}
}
