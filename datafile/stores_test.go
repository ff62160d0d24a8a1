package datafile_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/msupply-foundation/msupply-sync/datafile"
)

func TestAddStore(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	north := mustAddSite(t, db, "North", datafile.SiteStandalone)
	c1 := mustAddStore(t, db, "C1", "")

	t.Run("defaults to the central site", func(t *testing.T) {
		if c1.SiteID != datafile.CentralSiteID || c1.Name != "Store C1" {
			t.Errorf("store = %+v", c1)
		}
		if _, err := uuid.Parse(c1.ID); err != nil {
			t.Errorf("store ID %q is not a UUID", c1.ID)
		}
	})

	t.Run("on a named site", func(t *testing.T) {
		st, err := db.AddStore(ctx, " N1 ", " North store ", "North-code")
		if err != nil {
			t.Fatal(err)
		}
		if st.SiteID != north.ID || st.Code != "N1" || st.Name != "North store" {
			t.Errorf("store = %+v", st)
		}
		// A new store has no data, so nothing is queued for it.
		if n, err := db.QueuedForSite(ctx, north.ID, st.ID); err != nil || n != 0 {
			t.Errorf("queued for a new store: %d, %v", n, err)
		}
	})

	for _, tc := range []struct {
		name, code, storeName, site string
		errCode, want               string
	}{
		{"duplicate code", "C1", "Other", "", datafile.ECONFLICT, "already has that code"},
		{"duplicate code in other case", "c1", "Other", "", datafile.ECONFLICT, "already has that code"},
		{"empty code", " ", "Other", "", datafile.EINVALID, "store code"},
		{"code too long", strings.Repeat("c", 51), "Other", "", datafile.EINVALID, "store code"},
		{"control character in code", "C\x002", "Other", "", datafile.EINVALID, "control"},
		{"empty name", "C2", "  ", "", datafile.EINVALID, "needs a name"},
		{"name too long", "C2", strings.Repeat("n", datafile.MaxStoreNameLength+1), "", datafile.EINVALID, "at most 100 characters"},
		{"escape sequence in name", "C2", "North\x1b[2J", "", datafile.EINVALID, "control characters"},
		{"newline in name", "C2", "North\nSouth", "", datafile.EINVALID, "control characters"},
		{"name not UTF-8", "C2", "Caf\xe9", "", datafile.EINVALID, "UTF-8"},
		{"unknown site", "C2", "Other", "Nowhere", datafile.ENOTFOUND, "Nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cursor := lastCursor(t, db)
			_, err := db.AddStore(ctx, tc.code, tc.storeName, tc.site)
			wantCode(t, err, tc.errCode)
			wantErrContains(t, err, tc.want)
			assertChanges(t, changesAfter(t, db, cursor), nil)
		})
	}

	t.Run("find and list", func(t *testing.T) {
		for _, ref := range []string{c1.ID, "C1", "c1"} {
			st, err := db.FindStore(ctx, ref)
			if err != nil || st != c1 {
				t.Errorf("FindStore(%q) = %+v, %v", ref, st, err)
			}
		}
		_, err := db.FindStore(ctx, "C9")
		wantCode(t, err, datafile.ENOTFOUND)

		all, err := db.Stores(ctx, "")
		if err != nil || len(all) != 2 || all[0].Code != "C1" || all[1].Code != "N1" {
			t.Errorf("Stores() = %+v, %v", all, err)
		}
		onNorth, err := db.Stores(ctx, "North")
		if err != nil || len(onNorth) != 1 || onNorth[0].Code != "N1" {
			t.Errorf("Stores(North) = %+v, %v", onNorth, err)
		}
		_, err = db.Stores(ctx, "Nowhere")
		wantCode(t, err, datafile.ENOTFOUND)
	})

	t.Run("refused while locked", func(t *testing.T) {
		locked := mustOpen(t, db.Path())
		_, err := locked.AddStore(ctx, "C3", "Third", "")
		wantErrIs(t, err, datafile.ErrLocked)
	})
}

// TestFindStorePrefersID checks that a store whose code is another store's ID does not shadow it.
func TestFindStorePrefersID(t *testing.T) {
	ctx, db := parallelUnlockedCentral(t)
	first := mustAddStore(t, db, "FIRST", "")
	second, err := db.AddStore(ctx, first.ID[:8], "Code looks like an ID", "")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `UPDATE store SET code = ? WHERE id = ?`, first.ID, second.ID)
	st, err := db.FindStore(ctx, first.ID)
	if err != nil || st.ID != first.ID {
		t.Errorf("FindStore(first's ID) = %+v, %v; want the store with that ID", st, err)
	}
}
