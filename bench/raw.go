package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

// rawEnv names the environment variable that turns this program into the raw-insert child: its value is
// "ROWS:MODE:PATH", MODE "uuid", "fair" (uuid ids, and a datafile's page cache and temporary store) or
// "sequential" (ids item-0000001, ... in key order: the reference only).
// The baseline runs as its own process so that its peak memory is its own, like every scenario's.
const rawEnv = "MSUPPLY_BENCH_RAW_CHILD"

// rawChild runs the raw baseline when this process was started as its child, and reports whether it did.
// The child prints the seconds the insert took (open to close) on stdout.
func rawChild() bool {
	spec, ok := os.LookupEnv(rawEnv)
	if !ok {
		return false
	}
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 {
		fmt.Fprintf(os.Stderr, "bench: bad %s=%q\n", rawEnv, spec)
		os.Exit(2)
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: bad %s=%q\n", rawEnv, spec)
		os.Exit(2)
	}
	secs, err := rawInsert(context.Background(), parts[2], n, parts[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: raw insert: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%.6f\n", secs)
	os.Exit(0)
	return true
}

// rawInsert writes n item rows into a fresh SQLite file in one transaction through one prepared statement:
// the same columns as the product's item table, no triggers, no other tables, and the product's connection
// settings (WAL, synchronous=FULL). It is the cost of writing the rows into SQLite at all. Mode "fair" also
// gives it the page cache a datafile gives its bulk writes (32 MiB, where SQLite's default is 2 MiB) and a
// datafile's temporary store, which it has to keep random ids cheap: measured against that, no ratio is
// flattered by a cache the baseline lacks.
func rawInsert(ctx context.Context, path string, n int, mode string) (float64, error) {
	start := time.Now()
	q := url.Values{}
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"}
	if mode == "fair" {
		pragmas = append(pragmas, "temp_store(2)", "cache_size(-32768)")
	}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	sequential := mode == "sequential"
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE item (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT ''
)`); err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO item (id, code, name, unit) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	for i := 0; i < n; i++ {
		it := itemRow(i)
		if sequential {
			it.id = "item-" + strconv.Itoa(10_000_000 + i)[1:]
		}
		if _, err := stmt.ExecContext(ctx, it.id, it.code, it.name, it.unit); err != nil {
			return 0, fmt.Errorf("row %d: %w", i, err)
		}
	}
	if err := stmt.Close(); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	if err := db.Close(); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}
