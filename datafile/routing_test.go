package datafile_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// queued is one sync_queue entry.
type queued struct {
	ID       int64
	SiteID   int64
	Table    string
	RecordID string
	StoreID  string
	Action   string
}

func queueEntries(t *testing.T, db *datafile.DB) []queued {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT id, site_id, table_name, record_id, store_id, action FROM sync_queue ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []queued{}
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.ID, &q.SiteID, &q.Table, &q.RecordID, &q.StoreID, &q.Action); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// queuedFor returns "table/record action" for every entry of a site's queue, sorted, for comparisons that
// do not care about entry ids.
func queuedFor(t *testing.T, db *datafile.DB, siteID int64, storeID string) []string {
	t.Helper()
	out := []string{}
	for _, q := range queueEntries(t, db) {
		if q.SiteID == siteID && (storeID == "" || q.StoreID == storeID) {
			out = append(out, q.Table+"/"+q.RecordID+" "+q.Action)
		}
	}
	sort.Strings(out)
	return out
}

// routingFixture is a central datafile with two remote sites, North (holding store N) and South (holding
// store S), a store C on the central site, and master data for store data to refer to.
type routingFixture struct {
	db           *datafile.DB
	north, south datafile.Site
	n, s, c      datafile.Store
}

func newRoutingFixture(t *testing.T) routingFixture {
	t.Helper()
	db := MustOpenUnlockedCentral(t)
	f := routingFixture{db: db}
	f.north = mustAddSite(t, db, "North", datafile.SiteStandalone)
	f.south = mustAddSite(t, db, "South", datafile.SiteStandalone)
	f.n = mustAddStore(t, db, "N", "North")
	f.s = mustAddStore(t, db, "S", "South")
	f.c = mustAddStore(t, db, "C", "")
	mustPut(t, db, "item", `{"id":"item-1","name":"item-1"}`, `{"id":"item-2","name":"item-2"}`)
	mustPut(t, db, "name", `{"id":"name-1"}`)
	return f
}

func stockLineSQL(id, storeID string, qty int) string {
	return fmt.Sprintf(`INSERT INTO stock_line (id, store_id, item_id, quantity) VALUES ('%s', '%s', 'item-1', %d)`, id, storeID, qty)
}

func TestRoutingToSyncQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("store data of a remote store is queued for its site", func(t *testing.T) {
		f := newRoutingFixture(t)
		// Central cannot put records into a remote's store itself; a write that reaches the store from
		// anywhere but its own site (here another site, and a raw local write) is what gets queued.
		syncWrite(t, f.db, f.south.ID, stockLineSQL("sl-1", f.n.ID, 1))
		mustExec(t, f.db, stockLineSQL("sl-2", f.n.ID, 2))
		got := queueEntries(t, f.db)
		if len(got) != 2 {
			t.Fatalf("queue = %+v, want two entries", got)
		}
		for i, id := range []string{"sl-1", "sl-2"} {
			want := queued{ID: got[i].ID, SiteID: f.north.ID, Table: "stock_line", RecordID: id, StoreID: f.n.ID, Action: "insert"}
			if got[i] != want {
				t.Errorf("queue entry %d = %+v, want %+v", i, got[i], want)
			}
		}
		if n, err := f.db.QueuedForSite(ctx, f.north.ID, ""); err != nil || n != 2 {
			t.Errorf("QueuedForSite(North) = %d, %v; want 2", n, err)
		}
		if n, err := f.db.QueuedForSite(ctx, f.south.ID, ""); err != nil || n != 0 {
			t.Errorf("QueuedForSite(South) = %d, %v; want 0", n, err)
		}
	})

	t.Run("a later change replaces the entry under a higher id", func(t *testing.T) {
		f := newRoutingFixture(t)
		mustExec(t, f.db, stockLineSQL("sl-1", f.n.ID, 1))
		first := queueEntries(t, f.db)
		if len(first) != 1 {
			t.Fatalf("queue = %+v, want one entry", first)
		}
		// The entry has been sent under first[0].ID; the record changes before the remote acknowledges it.
		mustExec(t, f.db, `UPDATE stock_line SET quantity = 9 WHERE id = 'sl-1'`)
		second := queueEntries(t, f.db)
		if len(second) != 1 {
			t.Fatalf("queue = %+v, want still one entry for the record", second)
		}
		if second[0].ID <= first[0].ID || second[0].Action != "update" {
			t.Fatalf("after a second change the entry is %+v, want action update under an id above %d", second[0], first[0].ID)
		}
		// The acknowledgement of the old id arrives: the newer change must survive it.
		mustExec(t, f.db, `DELETE FROM sync_queue WHERE id = ?`, first[0].ID)
		if got := queueEntries(t, f.db); len(got) != 1 || got[0] != second[0] {
			t.Errorf("after acknowledging the old id the queue is %+v, want %+v", got, second)
		}
		mustExec(t, f.db, `DELETE FROM stock_line WHERE id = 'sl-1'`)
		third := queueEntries(t, f.db)
		if len(third) != 1 || third[0].ID <= second[0].ID || third[0].Action != "delete" {
			t.Errorf("after a delete the queue is %+v, want one delete above id %d", third, second[0].ID)
		}
	})

	t.Run("changes from the store's own site are not echoed", func(t *testing.T) {
		f := newRoutingFixture(t)
		syncWrite(t, f.db, f.north.ID,
			stockLineSQL("sl-1", f.n.ID, 1),
			`UPDATE stock_line SET quantity = 2 WHERE id = 'sl-1'`,
			fmt.Sprintf(`INSERT INTO invoice (id, store_id, name_id, type, created_at) VALUES ('inv-1', '%s', 'name-1', 'customer_invoice', '%s')`, f.n.ID, testCreatedAt),
			fmt.Sprintf(`INSERT INTO invoice_line (id, invoice_id, store_id, item_id) VALUES ('il-1', 'inv-1', '%s', 'item-1')`, f.n.ID),
		)
		if got := queueEntries(t, f.db); len(got) != 0 {
			t.Errorf("queue = %+v, want nothing queued back to the site that sent it", got)
		}
		if n := len(changesAfter(t, f.db, 0)); n == 0 {
			t.Error("the received changes were not logged")
		}
	})

	t.Run("store data of a central store is not queued", func(t *testing.T) {
		f := newRoutingFixture(t)
		mustPut(t, f.db, "invoice", obj(t, map[string]any{"id": "inv-c", "store_id": f.c.ID, "name_id": "name-1", "type": "customer_invoice", "created_at": testCreatedAt}))
		mustPut(t, f.db, "invoice_line", `{"id":"il-c","invoice_id":"inv-c","item_id":"item-1","quantity":1}`)
		mustPut(t, f.db, "stock_line", obj(t, map[string]any{"id": "sl-c", "store_id": f.c.ID, "item_id": "item-1"}))
		if err := f.db.DeleteRecord(ctx, "stock_line", "sl-c"); err != nil {
			t.Fatal(err)
		}
		if got := queueEntries(t, f.db); len(got) != 0 {
			t.Errorf("queue = %+v, want nothing for a central store", got)
		}
	})

	t.Run("master data is not queued", func(t *testing.T) {
		f := newRoutingFixture(t)
		mustPut(t, f.db, "item", `{"id":"item-3","name":"x"}`)
		mustPut(t, f.db, "name", obj(t, map[string]any{"id": "name-n", "store_id": f.n.ID}))
		if got := queueEntries(t, f.db); len(got) != 0 {
			t.Errorf("queue = %+v, want nothing: master data is read by cursor", got)
		}
	})

	t.Run("a remote datafile queues nothing", func(t *testing.T) {
		db := MustOpenRemote(t)
		becomeSite(t, db, 2, "north-store")
		mustPut(t, db, "stock_line", `{"id":"sl-r","store_id":"north-store","item_id":"item-1"}`)
		if got := queueEntries(t, db); len(got) != 0 {
			t.Errorf("queue = %+v, want the remote to push from its change log instead", got)
		}
	})
}

// becomeSite makes a fresh remote datafile look like one that has synced as site siteID: it knows its ID,
// holds the central and its own site, one store of its own and a store of another site, and some master
// data, all received from the central site.
func becomeSite(t *testing.T, db *datafile.DB, siteID int64, storeID string) {
	t.Helper()
	mustExec(t, db, `UPDATE settings SET this_site_id = ?`, siteID)
	syncWrite(t, db, datafile.CentralSiteID,
		`INSERT INTO site (id, code, name) VALUES (1, 'CTL', 'Central')`,
		fmt.Sprintf(`INSERT INTO site (id, code, name) VALUES (%d, 'OWN', '%s')`, siteID, testRemoteSiteName),
		`INSERT INTO site (id, code, name) VALUES (99, 'OTHER', 'Other')`,
		fmt.Sprintf(`INSERT INTO store (id, code, name, site_id) VALUES ('%s', 'OWN1', 'Own store', %d)`, storeID, siteID),
		`INSERT INTO store (id, code, name, site_id) VALUES ('other-store', 'OTH1', 'Other store', 99)`,
		`INSERT INTO store (id, code, name, site_id) VALUES ('central-store', 'CTL1', 'Central store', 1)`,
		`INSERT INTO item (id, name) VALUES ('item-1', 'Item 1')`,
		`INSERT INTO name (id, name) VALUES ('name-1', 'Name 1')`,
	)
}

func TestMoveStoreRequeues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRoutingFixture(t)
	db := f.db
	c := f.c.ID
	mustPut(t, db, "invoice", obj(t, map[string]any{"id": "inv-1", "store_id": c, "name_id": "name-1", "type": "supplier_invoice", "created_at": testCreatedAt}))
	mustPut(t, db, "invoice_line", `{"id":"il-1","invoice_id":"inv-1","item_id":"item-1","quantity":5}`, `{"id":"il-2","invoice_id":"inv-1","item_id":"item-2","quantity":6}`)
	mustPut(t, db, "stock_line", obj(t, map[string]any{"id": "sl-1", "store_id": c, "item_id": "item-1", "quantity": 5}))
	// A record that existed and was deleted: the store's new site never had it and needs no delete.
	mustPut(t, db, "stock_line", obj(t, map[string]any{"id": "sl-gone", "store_id": c, "item_id": "item-2"}))
	if err := db.DeleteRecord(ctx, "stock_line", "sl-gone"); err != nil {
		t.Fatal(err)
	}
	// Another store's pending entry must not be disturbed by moving C.
	mustExec(t, db, stockLineSQL("sl-n", f.n.ID, 1))
	northStoreN := queuedFor(t, db, f.north.ID, f.n.ID)

	allOfC := []string{"invoice/inv-1 insert", "invoice_line/il-1 insert", "invoice_line/il-2 insert", "stock_line/sl-1 insert"}
	steps := []struct {
		name      string
		to        string
		wantNorth []string
		wantSouth []string
	}{
		{"to North queues all of its data there", "North", allOfC, []string{}},
		{"to South drops North's entries", "South", []string{}, allOfC},
		{"back to central leaves none", "", []string{}, []string{}},
		{"to North again", "2", allOfC, []string{}},
		{"to the central site by ID", "1", []string{}, []string{}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			_, st, err := db.MoveStore(ctx, "C", step.to, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := queuedFor(t, db, f.north.ID, c); fmt.Sprint(got) != fmt.Sprint(step.wantNorth) {
				t.Errorf("North's queue for C = %v, want %v", got, step.wantNorth)
			}
			if got := queuedFor(t, db, f.south.ID, c); fmt.Sprint(got) != fmt.Sprint(step.wantSouth) {
				t.Errorf("South's queue for C = %v, want %v", got, step.wantSouth)
			}
			if n := queryInt(t, db, `SELECT count(*) FROM sync_queue WHERE store_id = ? AND site_id = 1`, c); n != 0 {
				t.Errorf("%d entries queued for the central site itself", n)
			}
			if got := queuedFor(t, db, f.north.ID, f.n.ID); fmt.Sprint(got) != fmt.Sprint(northStoreN) {
				t.Errorf("moving C changed North's entries for store N: %v, want %v", got, northStoreN)
			}
			found, err := db.FindStore(ctx, c)
			if err != nil || found.SiteID != st.SiteID {
				t.Errorf("store after move = %+v, %v; MoveStore said site %d", found, err, st.SiteID)
			}
		})
	}

	t.Run("changes after a move go to the new site", func(t *testing.T) {
		if _, _, err := db.MoveStore(ctx, "C", "South", true); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `DELETE FROM sync_queue WHERE store_id = ?`, c) // South has received everything
		mustExec(t, db, `UPDATE stock_line SET quantity = 4 WHERE id = 'sl-1'`)
		if got := queuedFor(t, db, f.south.ID, c); fmt.Sprint(got) != "[stock_line/sl-1 update]" {
			t.Errorf("South's queue = %v", got)
		}
	})

	t.Run("plan reports what is in flight", func(t *testing.T) {
		mustExec(t, db, `UPDATE site SET unsent_records = 7 WHERE id = ?`, f.south.ID)
		m, err := db.PlanStoreMove(ctx, "C", "North")
		if err != nil {
			t.Fatal(err)
		}
		if m.From.ID != f.south.ID || m.To.ID != f.north.ID || m.Store.ID != c || m.Unsent != 7 || m.InFlight != 1 {
			t.Errorf("plan = %+v", m)
		}
		// Planning changes nothing.
		if got := queuedFor(t, db, f.south.ID, c); len(got) != 1 {
			t.Errorf("planning changed the queue: %v", got)
		}
		m, err = db.PlanStoreMove(ctx, "N", "")
		if err != nil {
			t.Fatal(err)
		}
		if m.To.ID != datafile.CentralSiteID || m.InFlight != 1 {
			t.Errorf("plan for N to central = %+v", m)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		_, _, err := db.MoveStore(ctx, "C", "South", true)
		wantCode(t, err, datafile.ECONFLICT)
		_, _, err = db.MoveStore(ctx, "no-such-store", "South", true)
		wantCode(t, err, datafile.ENOTFOUND)
		_, _, err = db.MoveStore(ctx, "C", "Nowhere", true)
		wantCode(t, err, datafile.ENOTFOUND)
		locked, err := datafile.Open(ctx, db.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer locked.Close()
		_, _, err = locked.MoveStore(ctx, "C", "North", true)
		wantErrIs(t, err, datafile.ErrLocked)
		if got := queuedFor(t, db, f.south.ID, c); fmt.Sprint(got) != "[stock_line/sl-1 update]" {
			t.Errorf("a refused move changed South's queue: %v", got)
		}
	})
}
