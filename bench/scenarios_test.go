package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of a hundred is the 99th", ms(hundred...), 99, 99 * time.Millisecond},
		{"p99 of ten is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 100), 99, 100 * time.Millisecond},
		{"p50 of ten is the fifth", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 100), 50, 5 * time.Millisecond},
		{"p100", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p0 is the smallest", ms(1, 2, 3), 0, time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.sorted, c.p); got != c.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", c.sorted, c.p, got, c.want)
			}
		})
	}
}

func TestEndpointName(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/sync/v5/site", "site"},
		{"GET", "/sync/v5/queued_records", "queued_records"},
		{"POST", "/sync/v5/queued_records", "queued_records (push)"},
		{"POST", "/sync/v5/acknowledged_records", "acknowledged_records"},
		{"GET", "/sync/v5/central_records", "central_records"},
	} {
		if got := endpointName(c.method, c.path); got != c.want {
			t.Errorf("endpointName(%s, %s) = %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

func TestLatenciesByEndpointWithinTheWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ex := func(start, waitMS int, method, path string, answered bool, status int) exchange {
		return exchange{method: method, path: path, start: at(start), end: at(start).Add(time.Duration(waitMS) * time.Millisecond), answered: answered, status: status}
	}
	exs := []exchange{
		ex(0, 900, "POST", "/sync/v5/initialise", true, 200), // before the window
		ex(10, 5, "GET", "/sync/v5/site", true, 200),
		ex(11, 7, "GET", "/sync/v5/site", true, 200),
		ex(12, 300, "GET", "/sync/v5/site", true, 503),
		ex(13, 40, "POST", "/sync/v5/queued_records", false, 0),
		ex(14, 2, "GET", "/sync/v5/queued_records", true, 200),
		ex(20, 1, "GET", "/sync/v5/site", true, 200), // at the window's end: after it
	}
	got := latencies(exs, at(10), at(20))
	want := []endpointStats{
		{name: "queued_records", n: 1, p50: 2 * time.Millisecond, p99: 2 * time.Millisecond, max: 2 * time.Millisecond},
		{name: "queued_records (push)", n: 1, errors: 1, p50: 40 * time.Millisecond, p99: 40 * time.Millisecond, max: 40 * time.Millisecond},
		{name: "site", n: 3, errors: 1, p50: 7 * time.Millisecond, p99: 300 * time.Millisecond, max: 300 * time.Millisecond},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("latencies:\n got %v\nwant %v", got, want)
	}
	r := &fleetResult{runStats: got, pushers: 0}
	if w := r.worst(); w.name != "site" {
		t.Errorf("worst = %q, want site", w.name)
	}
	if n := r.errorsOfRun(); n != 2 {
		t.Errorf("errorsOfRun = %d, want 2", n)
	}
	if r.ok() {
		t.Error("a run with a p99 of 300 ms and failed requests is ok")
	}
}

func TestJitterStaysInThePeriod(t *testing.T) {
	period := 6 * time.Second
	var lo, hi time.Duration = period, 0
	for i := range 1000 {
		j := jitter(i, period)
		if j < 0 || j >= period {
			t.Fatalf("jitter(%d) = %v, outside [0, %v)", i, j, period)
		}
		lo, hi = min(lo, j), max(hi, j)
	}
	if lo > period/20 || hi < period-period/20 {
		t.Errorf("a thousand sites start between %v and %v: not spread over the period", lo, hi)
	}
}

func TestFleetSizes(t *testing.T) {
	if n := fleetSitesAt(1000, 1); n != 1000 {
		t.Errorf("sites at scale 1 = %d", n)
	}
	if n := fleetSitesAt(1000, 0.001); n != 5 {
		t.Errorf("sites at scale 0.001 = %d, want the handful of 5", n)
	}
	for _, c := range []struct {
		scale float64
		want  time.Duration
	}{{1, 15 * time.Second}, {0.1, 15 * time.Second}, {0.05, 7500 * time.Millisecond}, {0.01, 1500 * time.Millisecond}, {0.001, time.Second}} {
		if got := fleetPeriodAt(15*time.Second, c.scale); got != c.want {
			t.Errorf("period at scale %v = %v, want %v", c.scale, got, c.want)
		}
	}
	if s, b := historyRowsAt(1); s != 100_000 || b != 10_000_000 {
		t.Errorf("history at scale 1: %d and %d", s, b)
	}
	if s, b := historyRowsAt(0.01); s != 1000 || b != 100_000 {
		t.Errorf("history at scale 0.01: %d and %d", s, b)
	}
}

func TestScanServerLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	log := `time=2026-01-01T00:00:00Z level=INFO msg="serving the sync API"
time=2026-01-01T00:00:01Z level=WARN msg="record completed sync" error="database is locked (5) (SQLITE_BUSY)"
time=2026-01-01T00:00:02Z level=ERROR msg="request failed" endpoint=push error="disk I/O error"
{"time":"2026-01-01T00:00:03Z","level":"ERROR","msg":"request failed","error":"SQLITE_BUSY"}
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	errs, warns, locked := scanServerLog(path, 1)
	if errs != 2 || warns != 1 || locked != 3 {
		t.Errorf("scanServerLog = %d errors, %d warnings, %d locked; want 2, 1 and 3 (1 carried in)", errs, warns, locked)
	}
}

func TestFitSize(t *testing.T) {
	est := func(n int) float64 { return 10 + float64(n)/100 } // 10 s that never shrink
	if got := fitSize(1000, 5, 30, est); got != 1000 {
		t.Errorf("fits already: %d", got)
	}
	got := fitSize(10_000, 5, 50, est)
	if est(got) > 50 || got < 3000 {
		t.Errorf("fitSize = %d (estimate %.0f s), want the largest round size under 50 s", got, est(got))
	}
	if got := fitSize(10_000, 500, 5, est); got != 500 {
		t.Errorf("cannot fit: %d, want the least, 500", got)
	}
}

// TestBuildHistory builds a change log on a real central datafile and checks that it is what the report
// says: the length asked for, one row in a hundred master data, every row naming a record that exists, the
// routing trigger back as it was, the transfer cursor at the end and the datafile in WAL mode.
func TestBuildHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	if err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{SiteName: "Central", AuthCode: authCode}); err != nil {
		t.Fatal(err)
	}
	db, err := datafile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuthCode(authCode)
	if _, err := db.AddSite(ctx, datafile.NewSite{Name: "Other", Password: "other-bench-password"}); err != nil {
		t.Fatal(err)
	}
	store, err := db.AddStore(ctx, "O1", "Other store", "Other")
	if err != nil {
		t.Fatal(err)
	}
	put := func(table string, recs ...map[string]any) {
		t.Helper()
		if _, err := db.PutRecords(ctx, table, datafile.Records(recs...)); err != nil {
			t.Fatal(err)
		}
	}
	put("name", map[string]any{"id": supplierID, "name": "Supplier", "is_supplier": true})
	var items []map[string]any
	for i := range 30 {
		it := itemRow(i)
		items = append(items, map[string]any{"id": it.id, "code": it.code, "name": it.name})
	}
	put("item", items...)
	db.Close()

	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	triggerSQL := func() string {
		var s string
		if err := raw.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'changelog_route'`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := triggerSQL()
	raw.Close()

	h := &historySize{rows: 5000}
	if err := buildHistory(ctx, path, store.ID, 50, h); err != nil {
		t.Fatal(err)
	}
	raw, err = sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	one := func(q string) int64 {
		t.Helper()
		var n int64
		if err := raw.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if h.rows != 5000 || one(`SELECT count(*) FROM changelog`) != 5000 || one(`SELECT max(cursor) FROM changelog`) != 5000 {
		t.Errorf("log of %d rows, want 5000", h.rows)
	}
	if got := one(`SELECT count(*) FROM changelog WHERE store_id IS NULL AND table_name = 'item' AND cursor % 100 = 0`); got != 50 {
		t.Errorf("%d item updates at multiples of 100, want 50", got)
	}
	if h.masters != one(`SELECT count(*) FROM changelog WHERE store_id IS NULL`) || h.masters < 50 {
		t.Errorf("masters = %d", h.masters)
	}
	if n := one(`SELECT count(*) FROM changelog c WHERE table_name = 'item' AND NOT EXISTS (SELECT 1 FROM item WHERE id = c.record_id)`); n != 0 {
		t.Errorf("%d rows name items that do not exist", n)
	}
	if n := one(`SELECT count(*) FROM changelog c WHERE table_name = 'invoice_line' AND NOT EXISTS (SELECT 1 FROM invoice_line WHERE id = c.record_id AND store_id = c.store_id)`); n != 0 {
		t.Errorf("%d rows name invoice lines that do not exist in their store", n)
	}
	if n := one(`SELECT count(*) FROM invoice_line`); n != 50 {
		t.Errorf("%d invoice lines, want 50", n)
	}
	if n := one(`SELECT count(*) FROM changelog WHERE store_id IS NOT NULL AND source_site_id IS NOT (SELECT site_id FROM store WHERE id = changelog.store_id)`); n != 0 {
		t.Errorf("%d store-data rows are not the other site's", n)
	}
	if n := one(`SELECT count(*) FROM sync_queue`); n != 0 {
		t.Errorf("%d queue entries: the other site's own changes are queued for nobody", n)
	}
	if got := triggerSQL(); got != before {
		t.Errorf("changelog_route is now\n%s\nwas\n%s", got, before)
	}
	// The routing the build skips would have queued nothing: a row like the built ones, logged with the
	// routing in place, queues nothing; the same change made on central is queued for the site.
	var line string
	if err := raw.QueryRow(`SELECT record_id FROM changelog WHERE table_name = 'invoice_line' ORDER BY cursor DESC LIMIT 1`).Scan(&line); err != nil {
		t.Fatal(err)
	}
	site := one(`SELECT site_id FROM store WHERE code = 'O1'`)
	for _, source := range []any{site, nil} {
		if _, err := raw.Exec(`INSERT INTO changelog (table_name, record_id, action, store_id, source_site_id) VALUES ('invoice_line', ?, 'update', ?, ?)`,
			line, store.ID, source); err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if source == nil {
			want = 1
		}
		if n := one(`SELECT count(*) FROM sync_queue`); n != want {
			t.Errorf("after a row from site %v, %d queue entries, want %d", source, n, want)
		}
	}
	if _, err := raw.Exec(`DELETE FROM changelog WHERE cursor > 5000; DELETE FROM sync_queue`); err != nil {
		t.Fatal(err)
	}
	if one(`SELECT cursor FROM transfer_state`) != 5000 {
		t.Error("the transfer cursor is not at the end of the log")
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v), want wal", mode, err)
	}
	if h.cursorNewest != one(`SELECT max(cursor) FROM changelog WHERE store_id IS NULL`) ||
		one(fmt.Sprintf(`SELECT count(*) FROM changelog WHERE store_id IS NULL AND cursor > %d`, h.cursorFew)) != historyFew {
		t.Errorf("cursors %d and %d", h.cursorFew, h.cursorNewest)
	}
	raw.Close()
	// The product still opens it, and sees the log.
	db, err = datafile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, maxCursor, err := db.CentralRecords(ctx, 0, h.cursorFew, 500)
	if err != nil || len(recs) != historyFew || maxCursor != h.cursorNewest {
		t.Errorf("CentralRecords after %d: %d records, max cursor %d, %v", h.cursorFew, len(recs), maxCursor, err)
	}
	if !strings.HasPrefix(recs[0].Table, "item") {
		t.Errorf("the newest master data is %q, want item updates", recs[0].Table)
	}
}
