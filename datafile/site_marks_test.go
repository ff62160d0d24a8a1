package datafile_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// addBareSites adds n sites by SQL, without the password hashing that AddSite spends on each, and returns
// their ids.
func addBareSites(tb testing.TB, db *datafile.DB, n int) []int64 {
	tb.Helper()
	ids := make([]int64, n)
	for i := range ids {
		res, err := db.SQL().Exec(`INSERT INTO site (code, name) VALUES (?, ?)`, fmt.Sprintf("S%04d", i), fmt.Sprintf("Site %04d", i))
		if err != nil {
			tb.Fatal(err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

// TestSiteMarksAreCommittedWhenTheCallReturns: many sites noting contact and completed syncs at once share
// commits, and each call returns only once its own mark is in the datafile.
func TestSiteMarksAreCommittedWhenTheCallReturns(t *testing.T) {
	ctx := context.Background()
	db := MustOpenCentral(t)
	sites := addBareSites(t, db, 200)
	var wg sync.WaitGroup
	for _, id := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.RecordLoginSuccess(ctx, id); err != nil {
				t.Error(err)
				return
			}
			if err := db.RecordSyncCompleted(ctx, id); err != nil {
				t.Error(err)
				return
			}
			var contact, synced *string
			if err := db.SQL().QueryRow(`SELECT last_contact_at, last_sync_at FROM site WHERE id = ?`, id).Scan(&contact, &synced); err != nil {
				t.Error(err)
			} else if contact == nil || synced == nil {
				t.Errorf("site %d: the marks returned before they were committed (contact %v, sync %v)", id, contact, synced)
			}
		}()
	}
	wg.Wait()
	if n := queryInt(t, db, `SELECT count(*) FROM site WHERE id IN (SELECT value FROM json_each(?)) AND last_sync_at IS NOT NULL AND last_contact_at IS NOT NULL`, jsonIDs(sites)); n != int64(len(sites)) {
		t.Errorf("%d of %d sites marked", n, len(sites))
	}
}

// TestSiteMarkJoinsTheTransactionItIsMadeIn: inside Atomically a mark is part of that transaction, written
// or rolled back with it, rather than waiting for a group commit that the transaction itself would block.
func TestSiteMarkJoinsTheTransactionItIsMadeIn(t *testing.T) {
	ctx := context.Background()
	db := MustOpenCentral(t)
	site := addBareSites(t, db, 1)[0]
	done := make(chan error, 1)
	go func() {
		done <- db.Atomically(ctx, func(tx *datafile.DB) error {
			if err := tx.RecordSyncCompleted(ctx, site); err != nil {
				return err
			}
			return fmt.Errorf("rolled back")
		})
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "rolled back" {
			t.Fatalf("Atomically: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a mark made inside a transaction waited for a commit that the transaction blocks")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM site WHERE id = ? AND last_sync_at IS NOT NULL`, site); n != 0 {
		t.Error("the mark outlived the transaction rolled back")
	}
}

func jsonIDs(ids []int64) string {
	s := "["
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(id)
	}
	return s + "]"
}

// BenchmarkSiteMarks: sites completing their idle cycles at once, each noting its sync, as central does
// with group commits, beside one commit per mark in the same run (the way it was done before).
func BenchmarkSiteMarks(b *testing.B) {
	ctx := context.Background()
	db := MustOpenCentral(b)
	sites := addBareSites(b, db, 1000)
	run := func(b *testing.B, mark func(site int64) error) {
		var next atomic.Int64
		b.SetParallelism(50) // requests in flight at once, as many sites' idle cycles overlap
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := mark(sites[next.Add(1)%int64(len(sites))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("group commit", func(b *testing.B) {
		run(b, func(site int64) error { return db.RecordSyncCompleted(ctx, site) })
	})
	b.Run("a commit each", func(b *testing.B) {
		run(b, func(site int64) error {
			_, err := db.SQL().ExecContext(ctx, `UPDATE site SET last_sync_at = ? WHERE id = ?`, time.Now().UTC().Format(time.RFC3339), site)
			return err
		})
	})
}
