package datafile_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// Secrets the test datafiles are made with. The secret tests look for them in the datafile bytes.
const (
	testAuthCode       = "auth-code-Q7x9"
	testRemotePassword = "remote-password-Zk42"
	testCentralName    = "Central"
	testRemoteSiteName = "North"
	testServerURL      = "https://central.example.org:8443"
)

// MustOpenCentral creates a central datafile in a fresh temporary directory and opens it. The handle is
// locked: tests that edit sync settings unlock it themselves.
func MustOpenCentral(tb testing.TB) *datafile.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "central.db")
	ctx := context.Background()
	if err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{
		SiteName: testCentralName, SiteCode: "CTL", AuthCode: testAuthCode,
	}); err != nil {
		tb.Fatalf("create central datafile: %v", err)
	}
	return mustOpen(tb, path)
}

// MustOpenRemote creates a remote datafile (and its key file) in a fresh temporary directory and opens it.
// Like a remote that has never synced, it does not yet know its site ID.
func MustOpenRemote(tb testing.TB) *datafile.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "remote.db")
	ctx := context.Background()
	if err := datafile.CreateRemote(ctx, path, datafile.RemoteOptions{
		ServerURL: testServerURL, SiteName: testRemoteSiteName, Password: testRemotePassword, AuthCode: testAuthCode,
	}); err != nil {
		tb.Fatalf("create remote datafile: %v", err)
	}
	return mustOpen(tb, path)
}

func mustOpen(tb testing.TB, path string) *datafile.DB {
	tb.Helper()
	db, err := datafile.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustOpenUnlockedCentral is MustOpenCentral with the sync settings unlocked for this handle.
func MustOpenUnlockedCentral(tb testing.TB) *datafile.DB {
	tb.Helper()
	db := MustOpenCentral(tb)
	db.SetAuthCode(testAuthCode)
	return db
}

// parallelUnlockedCentral marks t as one to run in parallel and gives it an unlocked central datafile of
// its own, the opening of most central tests.
func parallelUnlockedCentral(t *testing.T) (context.Context, *datafile.DB) {
	t.Parallel()
	return context.Background(), MustOpenUnlockedCentral(t)
}

// mustAddSite adds a remote site with a password derived from its name.
func mustAddSite(tb testing.TB, db *datafile.DB, name, typ string) datafile.Site {
	tb.Helper()
	s, err := db.AddSite(context.Background(), datafile.NewSite{Name: name, Code: name + "-code", Type: typ, Password: sitePassword(name)})
	if err != nil {
		tb.Fatalf("add site %s: %v", name, err)
	}
	return s
}

func sitePassword(siteName string) string { return "pw-" + siteName + "-secret" }

func mustAddStore(tb testing.TB, db *datafile.DB, code, siteRef string) datafile.Store {
	tb.Helper()
	st, err := db.AddStore(context.Background(), code, "Store "+code, siteRef)
	if err != nil {
		tb.Fatalf("add store %s: %v", code, err)
	}
	return st
}

// objects returns a RecordSource over JSON objects, decoded the way 'record put' decodes them.
func objects(tb testing.TB, jsons ...string) datafile.RecordSource {
	tb.Helper()
	var raws []map[string]any
	for _, j := range jsons {
		m, err := datafile.DecodeObject([]byte(j))
		if err != nil {
			tb.Fatalf("decode %s: %v", j, err)
		}
		raws = append(raws, m)
	}
	return datafile.Records(raws...)
}

// mustPut writes records of one table and fails the test on any error.
func mustPut(tb testing.TB, db *datafile.DB, table string, jsons ...string) []string {
	tb.Helper()
	ids, err := db.PutRecords(context.Background(), table, objects(tb, jsons...))
	if err != nil {
		tb.Fatalf("put %s: %v", table, err)
	}
	return ids
}

// obj renders a map as a JSON object, for building records in table tests.
func obj(tb testing.TB, m map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// lastCursor returns the newest change-log cursor (0 when the log is empty).
func lastCursor(tb testing.TB, db *datafile.DB) int64 {
	tb.Helper()
	var c int64
	if err := db.SQL().QueryRow(`SELECT coalesce(max(cursor), 0) FROM changelog`).Scan(&c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// changesAfter returns every change-log entry after cursor.
func changesAfter(tb testing.TB, db *datafile.DB, cursor int64) []datafile.Change {
	tb.Helper()
	cs, err := db.Changes(context.Background(), cursor, 1_000_000)
	if err != nil {
		tb.Fatalf("changes: %v", err)
	}
	return cs
}

// change is a change-log entry without its cursor, for comparisons.
type change struct {
	Table, RecordID, Action, StoreID string
	Source                           int64
}

func stripCursors(cs []datafile.Change) []change {
	out := []change{}
	for _, c := range cs {
		out = append(out, change{c.Table, c.RecordID, c.Action, c.StoreID, c.SourceSiteID})
	}
	return out
}

func assertChanges(tb testing.TB, got []datafile.Change, want []change) {
	tb.Helper()
	g := stripCursors(got)
	if want == nil {
		want = []change{}
	}
	if len(g) != len(want) {
		tb.Fatalf("change log has %d new entries, want %d:\n got  %+v\n want %+v", len(g), len(want), g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			tb.Errorf("change %d = %+v, want %+v", i, g[i], want[i])
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i].Cursor <= got[i-1].Cursor {
			tb.Errorf("cursors not rising: %d then %d", got[i-1].Cursor, got[i].Cursor)
		}
	}
}

// syncWrite runs statements the way the sync integrator writes: in one transaction with change_context
// naming the site the change came from, cleared again before commit.
func syncWrite(tb testing.TB, db *datafile.DB, source int64, stmts ...string) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = ?`, source); err != nil {
		tb.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = NULL`); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// mustExec runs raw SQL on the datafile, as another program (or a careless script) might.
func mustExec(tb testing.TB, db *datafile.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.SQL().Exec(query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func queryValue(tb testing.TB, db *datafile.DB, query string, args ...any) any {
	tb.Helper()
	var v any
	if err := db.SQL().QueryRow(query, args...).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return v
}

func queryInt(tb testing.TB, db *datafile.DB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// wantCode fails unless err is a datafile error with the given code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want a %s error", code)
	}
	if got := datafile.ErrorCode(err); got != code {
		tb.Fatalf("error %q has code %q, want %q", err, got, code)
	}
}

// wantErrIs fails unless errors.Is(err, target).
func wantErrIs(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("error = %v, want %v", err, target)
	}
}

// wantErrContains fails unless err's message contains every fragment.
func wantErrContains(tb testing.TB, err error, fragments ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			tb.Fatalf("error %q does not contain %q", err, f)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// second returns the error of a call that also returns a value.
func second[T any](_ T, err error) error { return err }
