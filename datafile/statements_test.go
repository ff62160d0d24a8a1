package datafile_test

import (
	"context"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestPreparedQueriesAnswerAsBefore: the reads a site's idle cycle makes give the same answers with their
// statements kept prepared, on the pool and in transactions, as freshly prepared.
func TestPreparedQueriesAnswerAsBefore(t *testing.T) {
	ctx := context.Background()
	db := MustOpenUnlockedCentral(t)
	site := mustAddSite(t, db, "North", datafile.SiteStandalone)
	store := mustAddStore(t, db, "N1", "North")
	mustPut(t, db, "item", `{"id":"item-1","name":"A"}`, `{"id":"item-2","name":"B"}`)
	// A queue entry as routing leaves one, for a record since gone: it is read as a delete.
	mustExec(t, db, `INSERT INTO sync_queue (site_id, table_name, record_id, store_id, action) VALUES (?, 'stock_line', 'stock-1', ?, 'insert')`, site.ID, store.ID)
	read := func() (datafile.SiteAuth, int, int64, int, int64) {
		auth, err := db.SiteAuthByName(ctx, "North")
		if err != nil {
			t.Fatal(err)
		}
		central, max, err := db.CentralRecords(ctx, site.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		queued, total, err := db.QueuedRecords(ctx, site.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return auth, len(central), max, len(queued), total
	}
	datafile.SetReuseStatements(t, false)
	a1, c1, m1, q1, t1 := read()
	datafile.SetReuseStatements(t, true)
	for range 3 { // the first prepares, the next reuse
		a2, c2, m2, q2, t2 := read()
		if a1 != a2 || c1 != c2 || m1 != m2 || q1 != q2 || t1 != t2 {
			t.Fatalf("prepared: %+v %d %d %d %d; unprepared: %+v %d %d %d %d", a2, c2, m2, q2, t2, a1, c1, m1, q1, t1)
		}
	}
	if c1 == 0 || q1 == 0 {
		t.Fatalf("the test reads nothing: %d central records, %d queued", c1, q1)
	}
}

// BenchmarkIdleCycleReads: what central reads for a site's idle cycle (its credentials, an empty page of
// master data, an empty queue), many sites at once, with the statements kept prepared and, in the same run,
// prepared afresh for every query.
func BenchmarkIdleCycleReads(b *testing.B) {
	ctx := context.Background()
	db := MustOpenUnlockedCentral(b)
	site := mustAddSite(b, db, "North", datafile.SiteStandalone)
	_, head, err := db.CentralRecords(ctx, site.ID, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B) {
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.SiteAuthByName(ctx, "North"); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := db.CentralRecords(ctx, site.ID, head, 1000); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := db.QueuedRecords(ctx, site.ID, 1000); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("prepared once", func(b *testing.B) { run(b) })
	b.Run("prepared each time", func(b *testing.B) {
		datafile.SetReuseStatements(b, false)
		run(b)
	})
}
