package datafile_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func authVersion(t *testing.T, db *datafile.DB, siteID int64) int64 {
	t.Helper()
	return queryInt(t, db, `SELECT auth_version FROM site WHERE id = ?`, siteID)
}

func TestSiteIDs(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	add := func(name string) int64 {
		t.Helper()
		s, err := db.AddSite(ctx, datafile.NewSite{Name: name, Password: "password-1"})
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	if id := add("A"); id != 2 {
		t.Errorf("first site has ID %d, want 2 (1 is the central site)", id)
	}
	if id := add("B"); id != 3 {
		t.Errorf("second site has ID %d, want 3", id)
	}
	for _, ref := range []string{"3", "2"} {
		if _, err := db.DeleteSite(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	// A deleted site's ID is never given again: a remote still holding it must not become another site.
	if id := add("C"); id != 4 {
		t.Errorf("site added after deletes has ID %d, want 4", id)
	}
	// Reopening does not reset the sequence either.
	path := db.Path()
	db.Close()
	db = mustOpen(t, path)
	db.SetAuthCode(testAuthCode)
	if id := add("D"); id != 5 {
		t.Errorf("site added after reopening has ID %d, want 5", id)
	}
	sites, err := db.Sites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range sites {
		ids = append(ids, s.ID)
	}
	if fmt.Sprint(ids) != "[1 4 5]" {
		t.Errorf("site IDs = %v, want [1 4 5]", ids)
	}
}

func TestAddSiteValidation(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	mustAddSite(t, db, "North", datafile.SiteStandalone) // code North-code
	for _, tc := range []struct {
		name string
		site datafile.NewSite
		code string
		want string
	}{
		{"empty name", datafile.NewSite{Name: "  ", Password: "password-1"}, datafile.EINVALID, "needs a name"},
		{"colon in name", datafile.NewSite{Name: "North:East", Password: "password-1"}, datafile.EINVALID, "colon"},
		{"control character in name", datafile.NewSite{Name: "North\tEast", Password: "password-1"}, datafile.EINVALID, "control"},
		{"name too long", datafile.NewSite{Name: strings.Repeat("n", 101), Password: "password-1"}, datafile.EINVALID, "at most 100"},
		{"numeric code", datafile.NewSite{Name: "East", Code: "42", Password: "password-1"}, datafile.EINVALID, "must not be a number"},
		{"code too long", datafile.NewSite{Name: "East", Code: strings.Repeat("c", 51), Password: "password-1"}, datafile.EINVALID, "at most 50"},
		{"unknown type", datafile.NewSite{Name: "East", Type: "laptop", Password: "password-1"}, datafile.EINVALID, `"laptop"`},
		{"short password", datafile.NewSite{Name: "East", Password: "short"}, datafile.EINVALID, "at least 8"},
		{"no password", datafile.NewSite{Name: "East"}, datafile.EINVALID, "at least 8"},
		{"duplicate name", datafile.NewSite{Name: "North", Password: "password-1"}, datafile.ECONFLICT, "already called"},
		{"duplicate name in other case", datafile.NewSite{Name: "NORTH", Password: "password-1"}, datafile.ECONFLICT, "already called"},
		{"duplicate name with spaces", datafile.NewSite{Name: " north ", Password: "password-1"}, datafile.ECONFLICT, "already called"},
		{"central's name", datafile.NewSite{Name: "central", Password: "password-1"}, datafile.ECONFLICT, "already called"},
		{"duplicate code in other case", datafile.NewSite{Name: "East", Code: "NORTH-CODE", Password: "password-1"}, datafile.ECONFLICT, "already has the code"},
		{"code that is another site's name", datafile.NewSite{Name: "Spare", Code: "north", Password: "password-1"}, datafile.ECONFLICT, `the code "north" is already the name of site 2 "North"`},
		{"code that is the central site's name", datafile.NewSite{Name: "Spare", Code: "CENTRAL", Password: "password-1"}, datafile.ECONFLICT, `already the name of site 1`},
		{"name that is another site's code", datafile.NewSite{Name: "north-code", Password: "password-1"}, datafile.ECONFLICT, `the name "north-code" is already the code of site 2 "North"`},
		{"numeric name", datafile.NewSite{Name: "7", Password: "password-1"}, datafile.EINVALID, "must not be a number"},
		{"numeric name with zeros", datafile.NewSite{Name: "002", Password: "password-1"}, datafile.EINVALID, "must not be a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cursor := lastCursor(t, db)
			_, err := db.AddSite(ctx, tc.site)
			wantCode(t, err, tc.code)
			wantErrContains(t, err, tc.want)
			assertChanges(t, changesAfter(t, db, cursor), nil)
		})
	}

	t.Run("defaults and trimming", func(t *testing.T) {
		s, err := db.AddSite(ctx, datafile.NewSite{Name: "  East  ", Code: " E ", Password: "password-1"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "East" || s.Code != "E" || s.Type != datafile.SiteStandalone || !s.HasPassword || s.HasSynced() || s.Blocked {
			t.Errorf("site = %+v", s)
		}
		// Several sites may have no code.
		for _, name := range []string{"West", "South"} {
			if _, err := db.AddSite(ctx, datafile.NewSite{Name: name, Password: "password-1"}); err != nil {
				t.Errorf("second site without a code: %v", err)
			}
		}
	})

	t.Run("refused on a remote", func(t *testing.T) {
		remote := MustOpenRemote(t)
		remote.SetAuthCode(testAuthCode)
		_, err := remote.AddSite(ctx, datafile.NewSite{Name: "East2", Password: "password-1"})
		wantCode(t, err, datafile.EFORBIDDEN)
		wantCode(t, second(remote.DeleteSite(ctx, "1")), datafile.EFORBIDDEN)
		_, err = remote.AddStore(ctx, "X", "X", "")
		wantCode(t, err, datafile.EFORBIDDEN)
		_, _, err = remote.MoveStore(ctx, "X", "1", true)
		wantCode(t, err, datafile.EFORBIDDEN)
		_, err = remote.ResetHardwareID(ctx, "1")
		wantCode(t, err, datafile.EFORBIDDEN)
	})
}

func TestFindSite(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	mustAddStore(t, db, "N2", "North")
	mustAddStore(t, db, "N1", "North")
	for _, ref := range []string{"2", "North-code", "north-CODE", "North", "NORTH", " North "} {
		t.Run(ref, func(t *testing.T) {
			s, err := db.FindSite(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if s.ID != north.ID || !reflect.DeepEqual(s.Stores, []string{"N1", "N2"}) {
				t.Errorf("FindSite(%q) = %+v", ref, s)
			}
		})
	}
	for _, ref := range []string{"", "7", "South", "0"} {
		_, err := db.FindSite(ctx, ref)
		if ref == "" {
			wantCode(t, err, datafile.EINVALID)
		} else {
			wantCode(t, err, datafile.ENOTFOUND)
		}
	}
	sites, err := db.Sites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 2 || sites[0].ID != 1 || len(sites[0].Stores) != 0 || !reflect.DeepEqual(sites[1].Stores, []string{"N1", "N2"}) {
		t.Errorf("sites = %+v", sites)
	}
}

// TestFindSiteRefusesAmbiguousReferences: a datafile made before codes and names were kept apart may hold
// a code equal to another site's name; a reference to either is refused, naming both, instead of one of
// them being picked (and deleted).
func TestFindSiteRefusesAmbiguousReferences(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	spare := mustAddSite(t, db, "Spare", datafile.SiteStandalone)
	mustExec(t, db, `UPDATE site SET code = 'north' WHERE id = ?`, spare.ID)
	mustExec(t, db, `UPDATE site SET code = 'S' || id, name = '2' WHERE id = 1`)

	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"North", []string{`"North" could mean more than one site`, `the code of site 3 "Spare"`, `the name of site 2 "North"`}},
		{"NORTH", []string{`the code of site 3 "Spare"`, `the name of site 2 "North"`}},
		{"2", []string{`the name of site 1 "2"`, `the ID of site 2 "North"`}},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := db.FindSite(ctx, tc.ref)
			wantCode(t, err, datafile.ECONFLICT)
			wantErrContains(t, err, tc.want...)
			var de *datafile.Error
			if !errors.As(err, &de) || !strings.Contains(de.Hint, "site's ID") {
				t.Errorf("hint of %v does not point to the ID", err)
			}
		})
	}
	t.Run("delete refused, nothing deleted", func(t *testing.T) {
		wantCode(t, second(db.DeleteSite(ctx, "North")), datafile.ECONFLICT)
		for _, id := range []int64{north.ID, spare.ID} {
			if n := queryInt(t, db, `SELECT count(*) FROM site WHERE id = ?`, id); n != 1 {
				t.Errorf("site %d is gone", id)
			}
		}
	})
	t.Run("an unambiguous reference still works", func(t *testing.T) {
		for ref, want := range map[string]int64{"3": spare.ID, "Spare": spare.ID, "S1": 1} {
			s, err := db.FindSite(ctx, ref)
			if err != nil || s.ID != want {
				t.Errorf("FindSite(%q) = site %d, %v; want site %d", ref, s.ID, err, want)
			}
		}
	})
	t.Run("the clash can be mended by ID", func(t *testing.T) {
		if _, err := db.EditSite(ctx, "3", datafile.SiteUpdate{Code: ptr("SPR")}); err != nil {
			t.Fatal(err)
		}
		s, err := db.FindSite(ctx, "North")
		if err != nil || s.ID != north.ID {
			t.Errorf("FindSite(North) after the fix = site %d, %v", s.ID, err)
		}
	})
}

func TestDeleteSite(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	mustAddSite(t, db, "North", datafile.SiteStandalone)
	st := mustAddStore(t, db, "N1", "North")

	t.Run("refused while it has stores", func(t *testing.T) {
		_, err := db.DeleteSite(ctx, "North")
		wantCode(t, err, datafile.ECONFLICT)
		wantErrContains(t, err, "N1")
	})
	t.Run("refused for the active site", func(t *testing.T) {
		_, err := db.DeleteSite(ctx, "1")
		wantCode(t, err, datafile.ECONFLICT)
		wantErrContains(t, err, "active site")
	})
	t.Run("refused for an unknown site", func(t *testing.T) {
		wantCode(t, second(db.DeleteSite(ctx, "Nowhere")), datafile.ENOTFOUND)
	})
	t.Run("allowed once its stores are gone", func(t *testing.T) {
		if _, _, err := db.MoveStore(ctx, st.ID, "", true); err != nil {
			t.Fatal(err)
		}
		// Whatever was still queued for the site goes with it.
		mustExec(t, db, `INSERT INTO sync_queue (site_id, table_name, record_id, store_id, action) VALUES (2, 'stock_line', 'x', 'y', 'insert')`)
		if _, err := db.DeleteSite(ctx, "North"); err != nil {
			t.Fatal(err)
		}
		_, err := db.FindSite(ctx, "North")
		wantCode(t, err, datafile.ENOTFOUND)
		if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE site_id = 2`); n != 0 {
			t.Errorf("%d queue entries left for a deleted site", n)
		}
	})
}

func TestMobileSiteHoldsOneStore(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	mustAddSite(t, db, "Mobile", datafile.SiteMobile)
	standalone := mustAddSite(t, db, "Fixed", datafile.SiteStandalone)
	mustAddStore(t, db, "M1", "Mobile")
	mustAddStore(t, db, "F1", "Fixed")
	mustAddStore(t, db, "F2", "Fixed")
	mustAddStore(t, db, "C1", "")

	t.Run("add a second store", func(t *testing.T) {
		_, err := db.AddStore(ctx, "M2", "Second", "Mobile")
		wantCode(t, err, datafile.ECONFLICT)
		wantErrContains(t, err, "mobile", "M1")
		_, err = db.FindStore(ctx, "M2")
		wantCode(t, err, datafile.ENOTFOUND)
	})
	t.Run("move a second store onto it", func(t *testing.T) {
		for _, from := range []string{"C1", "F1"} {
			_, _, err := db.MoveStore(ctx, from, "Mobile", true)
			wantCode(t, err, datafile.ECONFLICT)
		}
		stores, err := db.Stores(ctx, "Mobile")
		if err != nil || len(stores) != 1 || stores[0].Code != "M1" {
			t.Errorf("mobile site stores = %+v, %v", stores, err)
		}
	})
	t.Run("make a site with two stores mobile", func(t *testing.T) {
		cursor := lastCursor(t, db)
		_, err := db.EditSite(ctx, "Fixed", datafile.SiteUpdate{Type: ptr(datafile.SiteMobile), Code: ptr("NEW")})
		wantCode(t, err, datafile.ECONFLICT)
		s, _ := db.FindSite(ctx, "Fixed")
		if s.Type != datafile.SiteStandalone || s.Code != standalone.Code {
			t.Errorf("refused edit changed the site: %+v", s)
		}
		assertChanges(t, changesAfter(t, db, cursor), nil)
	})
	t.Run("a mobile site can take a store once it has none", func(t *testing.T) {
		if _, _, err := db.MoveStore(ctx, "M1", "Fixed", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.MoveStore(ctx, "C1", "Mobile", true); err != nil {
			t.Fatal(err)
		}
		// A site with one store may become mobile.
		if _, _, err := db.MoveStore(ctx, "F1", "", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.MoveStore(ctx, "M1", "", true); err != nil {
			t.Fatal(err)
		}
		s, err := db.EditSite(ctx, "Fixed", datafile.SiteUpdate{Type: ptr(datafile.SiteMobile)})
		if err != nil || s.Type != datafile.SiteMobile {
			t.Errorf("site with one store made mobile: %+v, %v", s, err)
		}
	})
}

func TestEditSite(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	mustAddSite(t, db, "South", datafile.SiteStandalone)

	t.Run("all or nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			u    datafile.SiteUpdate
			code string
		}{
			{"valid code, duplicate name", datafile.SiteUpdate{Code: ptr("N2"), Name: ptr("south")}, datafile.ECONFLICT},
			{"valid name, duplicate code", datafile.SiteUpdate{Name: ptr("Northern"), Code: ptr("SOUTH-CODE")}, datafile.ECONFLICT},
			{"valid code, name with a colon", datafile.SiteUpdate{Code: ptr("N2"), Name: ptr("a:b")}, datafile.EINVALID},
			{"valid name, short password", datafile.SiteUpdate{Name: ptr("Northern"), Password: ptr("short")}, datafile.EINVALID},
			{"valid password, bad type", datafile.SiteUpdate{Password: ptr("long-enough-1"), Type: ptr("tablet")}, datafile.EINVALID},
			{"valid type, numeric code", datafile.SiteUpdate{Type: ptr(datafile.SiteMobile), Code: ptr("12")}, datafile.EINVALID},
			{"empty name", datafile.SiteUpdate{Name: ptr(" ")}, datafile.EINVALID},
			{"code that is another site's name", datafile.SiteUpdate{Code: ptr("SOUTH")}, datafile.ECONFLICT},
			{"name that is another site's code", datafile.SiteUpdate{Name: ptr("South-Code")}, datafile.ECONFLICT},
			{"numeric name", datafile.SiteUpdate{Name: ptr("3")}, datafile.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cursor := lastCursor(t, db)
				version := authVersion(t, db, north.ID)
				_, err := db.EditSite(ctx, "North", tc.u)
				wantCode(t, err, tc.code)
				s, err := db.FindSite(ctx, fmt.Sprint(north.ID))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(s, north) {
					t.Errorf("refused edit changed the site: %+v, was %+v", s, north)
				}
				if ok, _ := db.VerifySitePassword(ctx, north.ID, sitePassword("North")); !ok {
					t.Error("refused edit changed the password")
				}
				if authVersion(t, db, north.ID) != version {
					t.Error("refused edit bumped auth_version")
				}
				assertChanges(t, changesAfter(t, db, cursor), nil)
			})
		}
	})

	t.Run("several changes at once", func(t *testing.T) {
		s, err := db.EditSite(ctx, "North", datafile.SiteUpdate{Code: ptr("NTH"), Type: ptr(datafile.SiteMobile)})
		if err != nil {
			t.Fatal(err)
		}
		if s.Code != "NTH" || s.Type != datafile.SiteMobile || s.Name != "North" {
			t.Errorf("site = %+v", s)
		}
		// Changing only case of its own name or code is not a clash with itself.
		if _, err := db.EditSite(ctx, "NTH", datafile.SiteUpdate{Code: ptr("nth"), Name: ptr("North")}); err != nil {
			t.Errorf("edit keeping its own name: %v", err)
		}
	})

	t.Run("password change", func(t *testing.T) {
		version := authVersion(t, db, north.ID)
		u := datafile.SiteUpdate{Password: ptr("a-new-password")}
		if !u.BreaksSync(north) {
			t.Error("a password change does not say it breaks sync")
		}
		if _, err := db.EditSite(ctx, "North", u); err != nil {
			t.Fatal(err)
		}
		if v := authVersion(t, db, north.ID); v != version+1 {
			t.Errorf("auth_version %d after a password change, want %d", v, version+1)
		}
		for pw, want := range map[string]bool{"a-new-password": true, sitePassword("North"): false, "": false, "A-NEW-PASSWORD": false} {
			ok, err := db.VerifySitePassword(ctx, north.ID, pw)
			if err != nil || ok != want {
				t.Errorf("VerifySitePassword(%q) = %v, %v; want %v", pw, ok, err, want)
			}
		}
		// The central site has no password to check, and an unknown site is an error.
		if ok, err := db.VerifySitePassword(ctx, 1, ""); ok || err != nil {
			t.Errorf("VerifySitePassword(central) = %v, %v", ok, err)
		}
		if _, err := db.VerifySitePassword(ctx, 99, "x"); err == nil {
			t.Error("VerifySitePassword of an unknown site gave no error")
		}
	})

	t.Run("name change bumps auth_version, code change does not", func(t *testing.T) {
		version := authVersion(t, db, north.ID)
		if _, err := db.EditSite(ctx, "North", datafile.SiteUpdate{Code: ptr("N9")}); err != nil {
			t.Fatal(err)
		}
		if v := authVersion(t, db, north.ID); v != version {
			t.Errorf("code change bumped auth_version to %d", v)
		}
		u := datafile.SiteUpdate{Name: ptr("Northern")}
		if !u.BreaksSync(north) || (datafile.SiteUpdate{Name: ptr(" North ")}).BreaksSync(north) || (datafile.SiteUpdate{Code: ptr("X")}).BreaksSync(north) {
			t.Error("BreaksSync is wrong")
		}
		if _, err := db.EditSite(ctx, "North", u); err != nil {
			t.Fatal(err)
		}
		if v := authVersion(t, db, north.ID); v != version+1 {
			t.Errorf("name change left auth_version at %d", v)
		}
	})

	t.Run("central site", func(t *testing.T) {
		_, err := db.EditSite(ctx, "1", datafile.SiteUpdate{Password: ptr("long-enough-1")})
		wantCode(t, err, datafile.EINVALID)
		s, err := db.EditSite(ctx, "1", datafile.SiteUpdate{Name: ptr("Head office"), Code: ptr("HQ")})
		if err != nil || s.Name != "Head office" || s.Code != "HQ" {
			t.Errorf("central edit = %+v, %v", s, err)
		}
	})

	t.Run("unknown site", func(t *testing.T) {
		_, err := db.EditSite(ctx, "Nowhere", datafile.SiteUpdate{Code: ptr("X")})
		wantCode(t, err, datafile.ENOTFOUND)
	})
}

func TestSiteAuthResets(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	mustExec(t, db, `UPDATE site SET hardware_id = 'hw-1', blocked = 1, failed_logins = 5, last_sync_at = '2026-01-31T09:30:00Z' WHERE id = ?`, north.ID)

	s, err := db.FindSite(ctx, "North")
	if err != nil {
		t.Fatal(err)
	}
	if s.HardwareID != "hw-1" || !s.Blocked || s.FailedLogins != 5 || !s.HasSynced() || s.LastSyncAt == nil {
		t.Fatalf("site = %+v", s)
	}

	for _, tc := range []struct {
		name  string
		do    func(*datafile.DB, context.Context, string) (datafile.Site, error)
		check func(datafile.Site) bool
	}{
		{"reset hardware ID", (*datafile.DB).ResetHardwareID, func(s datafile.Site) bool { return s.HardwareID == "" && s.Blocked }},
		{"unblock", (*datafile.DB).UnblockSite, func(s datafile.Site) bool { return s.HardwareID == "" && !s.Blocked && s.FailedLogins == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			do := func(db *datafile.DB, ref string) (datafile.Site, error) { return tc.do(db, ctx, ref) }
			locked := mustOpen(t, db.Path())
			_, err := do(locked, "North")
			wantErrIs(t, err, datafile.ErrLocked)
			_, err = do(db, "1")
			wantCode(t, err, datafile.EINVALID)
			_, err = do(db, "Nowhere")
			wantCode(t, err, datafile.ENOTFOUND)

			version := authVersion(t, db, north.ID)
			s, err := do(db, "North")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("site after %s = %+v", tc.name, s)
			}
			if v := authVersion(t, db, north.ID); v != version+1 {
				t.Errorf("auth_version = %d after %s, want %d", v, tc.name, version+1)
			}
		})
	}
}
