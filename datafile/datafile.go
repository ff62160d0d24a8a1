// Package datafile owns the SQLite datafile of a central or remote site: its schema, the change capture
// that the sync engine reads, and every rule about who may write what.
package datafile

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is an open datafile.
type DB struct {
	sql  *sql.DB
	path string
	now  func() time.Time

	authCode   string
	authorized bool

	// marks are the sites' bookkeeping waiting for its group commit, shared by every handle on the file.
	marks *siteMarks
	// stmts are the hot queries kept prepared, shared by every handle on the file.
	stmts *statements

	// tx is set on the handle that Atomically passes on: everything it does joins that one transaction.
	tx *sql.Tx
}

// dbtx is what both a connection pool and a transaction offer.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func (db *DB) conn() dbtx {
	if db.tx != nil {
		return db.tx
	}
	return db.sql
}

// Path returns the file the datafile lives in.
func (db *DB) Path() string { return db.path }

// Close closes the datafile.
func (db *DB) Close() error {
	db.stmts.close()
	return db.sql.Close()
}

// SetClock replaces the clock, for tests of time-dependent rules such as the unlock window.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// maxIdleConnections is how many connections a datafile's pool keeps open while idle.
const maxIdleConnections = 16

// busyTimeout is how long a connection waits for another process's write lock before giving up.
const busyTimeout = 10 * time.Second

// readCacheKiB is the page cache of every connection, and bulkWriteCacheKiB that of a connection once it
// has written a bulk of records (see widenCacheForBulkWrites).
//
// A large cache pays only where one connection writes many records into large indexes: it keeps the
// upper levels of the indexes that random ids land all over in memory. Measured at 1,000,000 items, a
// bulk import took 30% longer with 8 MiB than with 32 MiB, and the server integrating a push of 100,000
// invoice lines 12% more CPU. A remote's pull gained nothing from it: its writes alternate between the
// two connections it holds (one writes a page while the other reads ahead), so each of them cached the
// same pages, and its initial sync of 1,000,000 items peaked at 185 MB with 32 MiB caches and at 93 MB
// with 8 MiB ones, in the same time.
const (
	readCacheKiB      = 8 * 1024
	bulkWriteCacheKiB = 32 * 1024
)

// widenCacheForBulkWrites gives the connection of tx the page cache of bulk writes. The connection keeps it
// after the transaction: shrinking it back would drop the pages the next batch needs.
func widenCacheForBulkWrites(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", bulkWriteCacheKiB))
	return err
}

func dsn(path string, mode string) string {
	u := url.URL{Scheme: "file", Opaque: path}
	q := url.Values{}
	q.Set("mode", mode)
	q.Set("_txlock", "immediate")
	// FULL makes every commit durable before it returns: a record acknowledged to a peer must survive a
	// power cut on this side.
	// temp_store MEMORY keeps the statement journals SQLite opens for every write that fires triggers in
	// memory; on disk they cost a system call per page on every record written.
	// cache_size: see readCacheKiB. soft_heap_limit would make the page caches of many connections recycle
	// pages rather than grow past 64 MiB together, but SQLite enforces it only with memory statistics, which
	// modernc.org/sqlite compiles out (SQLITE_DEFAULT_MEMSTATUS=0): as built, each connection's cache grows
	// to its own cache_size of pages.
	for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout/time.Millisecond), "foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)", "temp_store(2)",
		fmt.Sprintf("cache_size(-%d)", readCacheKiB), "soft_heap_limit(67108864)"} {
		q.Add("_pragma", p)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens an existing datafile. It never creates one: a missing file is ErrNoDatafile.
func Open(ctx context.Context, path string) (*DB, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoDatafile
	}
	if err != nil {
		return nil, fmt.Errorf("open datafile: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open datafile: %s is a directory", path)
	}
	if err := probeDatafile(ctx, path); err != nil {
		return nil, err
	}
	db, err := openSQL(ctx, path, "rw")
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	var n int
	if err := db.conn().QueryRowContext(ctx, `SELECT count(*) FROM settings`).Scan(&n); err != nil || n != 1 {
		db.Close()
		return nil, fmt.Errorf("open datafile: %s was not initialised by msupply-sync init", path)
	}
	return db, nil
}

// probeDatafile checks, read-only and without the WAL setting, that path is a datafile made by init: the
// read-write open that follows would otherwise switch another application's SQLite file (or an empty file)
// to WAL and write this package's schema into it before finding out that it is not a datafile.
func probeDatafile(ctx context.Context, path string) error {
	u := url.URL{Scheme: "file", Opaque: path}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	u.RawQuery = q.Encode()
	sqldb, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("open datafile: %w", err)
	}
	defer sqldb.Close()
	var n int
	if err := sqldb.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE type = 'table' AND name IN ('schema_migrations', 'settings')`).Scan(&n); err != nil {
		return fmt.Errorf("open datafile: %s is not a readable SQLite datafile: %w", path, err)
	}
	if n != 2 {
		return fmt.Errorf("open datafile: %s was not initialised by msupply-sync init", path)
	}
	return nil
}

func openSQL(ctx context.Context, path, mode string) (*DB, error) {
	sqldb, err := sql.Open("sqlite", dsn(path, mode))
	if err != nil {
		return nil, fmt.Errorf("open datafile: %w", err)
	}
	// Idle connections are kept rather than closed (database/sql keeps two): a server answering many sites
	// at once would otherwise open a connection, set it up and prepare its statements for most requests.
	sqldb.SetMaxIdleConns(maxIdleConnections)
	db := &DB{sql: sqldb, path: path, now: time.Now, marks: &siteMarks{pending: map[int64]siteMark{}},
		stmts: &statements{byQuery: map[string]*sql.Stmt{}}}
	if err := db.checkPragmas(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// checkPragmas confirms the connection settings took effect: a datafile silently opened without foreign
// keys or WAL would break the guarantees the rest of the package relies on.
func (db *DB) checkPragmas(ctx context.Context) error {
	var journal string
	if err := db.conn().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
		return fmt.Errorf("open datafile: %s is not a readable SQLite datafile: %w", db.path, err)
	}
	if !strings.EqualFold(journal, "wal") {
		return fmt.Errorf("open datafile: journal mode is %q, want wal", journal)
	}
	var fk, sync int
	if err := db.conn().QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
		return fmt.Errorf("open datafile: %w", err)
	}
	if fk != 1 {
		return errors.New("open datafile: foreign keys could not be enabled")
	}
	if err := db.conn().QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
		return fmt.Errorf("open datafile: %w", err)
	}
	if sync != 2 {
		return fmt.Errorf("open datafile: synchronous is %d, want 2 (full)", sync)
	}
	return nil
}

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		var v int
		if _, err := fmt.Sscanf(e.Name(), "%04d_", &v); err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a 4-digit number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			// Only one of the two would ever be applied: the version is what a datafile records.
			return nil, fmt.Errorf("migrations %s and %s have the same number", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies every migration not yet recorded, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Most opens find nothing to do; checking first keeps them from taking the write lock.
	var tables int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return fmt.Errorf("open datafile: %s is not a readable SQLite datafile: %w", db.path, err)
	}
	if tables == 1 {
		// Every migration recorded, not only the newest: one missing in between is applied too.
		var applied int
		if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if applied >= len(migrations) {
			return nil
		}
	} else if _, err := db.sql.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range migrations {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UTC().Format(time.RFC3339)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.conn().QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// createAtomically builds a new datafile at a temporary path beside path, lets build fill it, and only then
// links it into place, so that a failure or a kill part way leaves no datafile rather than half of one.
// It refuses to replace anything already at path.
func createAtomically(ctx context.Context, path string, build func(*DB) error) error {
	if _, err := os.Lstat(path); err == nil {
		return ErrDatafileExists
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".init-*")
	if err != nil {
		return fmt.Errorf("create datafile: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath)
	defer os.Remove(tmpPath + "-wal")
	defer os.Remove(tmpPath + "-shm")

	db, err := openSQL(ctx, tmpPath, "rwc")
	if err != nil {
		return err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return err
	}
	if err := build(db); err != nil {
		db.Close()
		return err
	}
	if _, err := db.conn().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		db.Close()
		return fmt.Errorf("create datafile: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("create datafile: %w", err)
	}
	// A hard link fails if path appeared meanwhile, where a rename would silently replace it.
	if err := os.Link(tmpPath, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrDatafileExists
		}
		return fmt.Errorf("create datafile: %w", err)
	}
	return nil
}

// withTx runs fn in one write transaction, committing only if it returns nil.
func (db *DB) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.tx != nil {
		return fn(db.tx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return db.explainBusy(err)
	}
	err = fn(tx)
	if err == nil {
		// Whatever the write was (a command, an import, a received batch, a store's move), the transfers it
		// touched are brought up to date before it commits.
		err = db.processTransfers(ctx, tx)
	}
	if err != nil {
		tx.Rollback()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return db.explainBusy(err)
	}
	return db.explainBusy(tx.Commit())
}

// begin starts a write transaction, giving up as soon as ctx ends. Taking the write lock waits for as long
// as the busy timeout while another process writes, and SQLite's wait does not heed ctx: the wait runs
// on its own goroutine, and an interrupted caller leaves it to roll back whatever it gets.
//
// The transaction itself is not tied to ctx: database/sql would then watch ctx with a goroutine for every
// query in it. A cancelled ctx still ends the work, through the statements the caller runs with it.
func (db *DB) begin(ctx context.Context) (*sql.Tx, error) {
	if ctx.Done() == nil {
		return db.sql.BeginTx(ctx, nil)
	}
	type begun struct {
		tx  *sql.Tx
		err error
	}
	ch := make(chan begun, 1)
	go func() {
		tx, err := db.sql.BeginTx(context.WithoutCancel(ctx), nil)
		ch <- begun{tx, err}
	}()
	select {
	case b := <-ch:
		return b.tx, b.err
	case <-ctx.Done():
		go func() {
			if b := <-ch; b.tx != nil {
				b.tx.Rollback()
			}
		}()
		return nil, ctx.Err()
	}
}

// ErrBusy means another process held the datafile's write lock for longer than this one would wait.
var ErrBusy = errors.New("another msupply-sync process is using the datafile")

// explainBusy turns SQLite's "database is locked" into words an administrator can act on.
func (db *DB) explainBusy(err error) error {
	if !IsBusy(err) {
		return err
	}
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("%v (%s) and kept it busy for over %d seconds", ErrBusy, db.path, busyTimeout/time.Second),
		Hint: "wait for it to finish (an import, a sync or a server integrating a push), then try again", cause: ErrBusy}
}

// Atomically runs fn with a handle whose every read and write joins one transaction, committed only if fn
// returns nil: a multi-step change such as a provisioning run is then all made or none of it.
func (db *DB) Atomically(ctx context.Context, fn func(*DB) error) error {
	if db.tx != nil {
		return fn(db)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		inner := *db
		inner.tx = tx
		err := fn(&inner)
		db.authorized = inner.authorized
		return err
	})
}
