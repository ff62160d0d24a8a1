package datafile_test

import (
	"context"
	"errors"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func TestRehearse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpenCentral(t)
	before := storesOf(t, db)
	cursor := lastCursor(t, db)

	t.Run("checks as the real thing does, and keeps nothing", func(t *testing.T) {
		var added datafile.Site
		err := db.Rehearse(ctx, func(tx *datafile.DB) error {
			var err error
			if added, err = tx.AddSite(ctx, datafile.NewSite{Name: "North", Password: sitePassword("North")}); err != nil {
				return err
			}
			if _, err := tx.AddStore(ctx, "N1", "North One", "North"); err != nil {
				return err
			}
			// Within the rehearsal, what it did is there to be read.
			if _, err := tx.FindSite(ctx, "North"); err != nil {
				return err
			}
			_, err = tx.AddSite(ctx, datafile.NewSite{Name: "South", Password: "short"})
			return err
		})
		wantCode(t, err, datafile.EINVALID)
		wantErrContains(t, err, "at least 8 characters")
		if added.ID == 0 {
			t.Error("the first site was not added within the rehearsal")
		}
		if _, err := db.FindSite(ctx, "North"); datafile.ErrorCode(err) != datafile.ENOTFOUND {
			t.Errorf("the rehearsal kept a site: %v", err)
		}
		if after := storesOf(t, db); after != before {
			t.Errorf("the rehearsal kept a store")
		}
		assertChanges(t, changesAfter(t, db, cursor), nil)
	})

	t.Run("a rehearsal that succeeds keeps nothing either", func(t *testing.T) {
		if err := db.Rehearse(ctx, func(tx *datafile.DB) error {
			_, err := tx.AddSite(ctx, datafile.NewSite{Name: "North", Password: sitePassword("North")})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindSite(ctx, "North"); datafile.ErrorCode(err) != datafile.ENOTFOUND {
			t.Errorf("the rehearsal kept a site: %v", err)
		}
		assertChanges(t, changesAfter(t, db, cursor), nil)
		if _, err := db.AddSite(ctx, datafile.NewSite{Name: "North", Password: sitePassword("North")}); !errors.Is(err, datafile.ErrLocked) {
			t.Errorf("after a rehearsal the handle is unlocked: %v", err)
		}
	})

	t.Run("a wrong authorisation code is still refused", func(t *testing.T) {
		wrong := mustOpen(t, db.Path())
		wrong.SetAuthCode("not-the-code")
		err := wrong.Rehearse(ctx, func(tx *datafile.DB) error {
			_, err := tx.AddSite(ctx, datafile.NewSite{Name: "North", Password: sitePassword("North")})
			return err
		})
		wantErrIs(t, err, datafile.ErrWrongAuthCode)
	})

	t.Run("not inside another transaction", func(t *testing.T) {
		err := db.Atomically(ctx, func(tx *datafile.DB) error {
			return tx.Rehearse(ctx, func(*datafile.DB) error { return nil })
		})
		if err == nil {
			t.Error("a rehearsal inside a transaction was allowed")
		}
	})
}
