package datafile

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// IntegrationResult counts what one integration pass did with the buffer.
type IntegrationResult struct {
	Integrated int // written into the tables
	Failed     int // kept in the buffer with an error, to be tried again
	Dropped    int // on a remote, refused for good (the store is no longer on the site) and removed from the buffer
	// Held are the records of the batch that went to the buffer instead, with the reason.
	Held []Rejection
}

type bufferWriter struct {
	stmt *sql.Stmt
	now  string
}

func newBufferWriter(ctx context.Context, tx *sql.Tx, now string) (*bufferWriter, error) {
	// The latest state received for a record replaces an older one still waiting.
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO sync_buffer (source_site_id, table_name, record_id, action, data, received_at, attempts, error, held, extra)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source_site_id, table_name, record_id) DO UPDATE SET
			action = excluded.action, data = excluded.data, received_at = excluded.received_at,
			attempts = excluded.attempts, error = excluded.error, held = excluded.held, extra = excluded.extra`)
	if err != nil {
		return nil, err
	}
	return &bufferWriter{stmt: stmt, now: now}, nil
}

func (b *bufferWriter) close() { b.stmt.Close() }

// holding says whether a buffered record waits to be retried or is held for an administrator, and why.
type holding int

const (
	// notHeld records are tried again with the next push and by RetryParked.
	notHeld holding = iota
	// heldStoreMovedAway records were changed on a site after their store was forced away from it. When
	// the store comes back to that site, it is sent central's state of them.
	heldStoreMovedAway
	// heldUnreadable records are of a table this server does not model, or have content it cannot read.
	// Nothing is sent back for them: the site's copy is the only one there is.
	heldUnreadable
)

// add buffers r; reason, when not empty, is why it could not be integrated on its first attempt, and held
// says whether it is kept for an administrator, never to be retried.
func (b *bufferWriter) add(ctx context.Context, source int64, r InRecord, reason string, held holding) error {
	action := strings.ToLower(r.Action)
	recordID := r.RecordID
	var data any
	switch action {
	case "insert", "update", "upsert":
		action = "upsert"
		data = string(r.Data)
	case "delete":
	case "merge":
		// Merges are kept apart from the record's own state, so neither replaces the other in the buffer.
		recordID = "merge:" + uuid.NewString()
		data = string(r.Data)
	default:
		return fmt.Errorf("unknown action %q", r.Action)
	}
	attempts, why := 0, any(nil)
	if reason != "" {
		attempts, why = 1, reason
	}
	var extra any
	if len(r.Extra) > 0 {
		extra = string(r.Extra)
	}
	_, err := b.stmt.ExecContext(ctx, source, r.Table, recordID, action, data, b.now, attempts, why, held, extra)
	return err
}

// Integrate writes everything buffered on a remote into its tables, in one transaction.
func (db *DB) Integrate(ctx context.Context) (IntegrationResult, error) {
	var res IntegrationResult
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		s, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		if res, err = integrate(ctx, tx, s.Role, s.ThisSiteID, CentralSiteID); err != nil || s.Role != RoleRemote {
			return err
		}
		// A store kept whole because it had unpushed changes goes once they have been pushed.
		// Marked as central's doing, like every purge, so the deletes are not pushed back as this site's.
		in, err := newIntegrator(ctx, tx, s.Role, s.ThisSiteID, CentralSiteID)
		if err != nil {
			return err
		}
		defer in.close()
		return in.finish(ctx, in.purgeStoresElsewhere(ctx))
	})
	return res, err
}

// BufferedCount returns how many received records wait in the buffer, and how many of them failed.
func (db *DB) BufferedCount(ctx context.Context) (waiting, failed int64, err error) {
	err = db.conn().QueryRowContext(ctx, `SELECT count(*), count(error) FROM sync_buffer`).Scan(&waiting, &failed)
	return
}

type bufferRow struct {
	id       int64
	recordID string
	action   string
	data     sql.NullString
	extra    sql.NullString
	rec      *Record // already decoded and normalised, when the record comes straight from checkPushed
	// receivedAt is when the record reached the buffer; empty for a record being received now.
	receivedAt string
	// absent: checkPushed found no record with this id in this transaction. A second copy of the same id
	// later in the batch still says so; writing it then finds the id taken and updates the first copy,
	// which this site was allowed to write.
	absent bool
}

// integrate applies the buffered records from source: upserts in dependency order, then deletes in the
// reverse order, then merges. A record that fails keeps its error in the buffer and the rest go on.
func integrate(ctx context.Context, tx *sql.Tx, role Role, thisSite, source int64) (IntegrationResult, error) {
	var res IntegrationResult
	in, err := newIntegrator(ctx, tx, role, thisSite, source)
	if err != nil {
		return res, err
	}
	defer in.close()
	waiting, err := hasBuffered(ctx, tx, source)
	if err != nil || !waiting {
		return res, in.finish(ctx, err)
	}
	tables := rankedTables()
	for _, t := range tables {
		if err := in.pass(ctx, t, "upsert", &res); err != nil {
			return res, err
		}
		if t == "store" && role == RoleRemote {
			if err := in.purgeStoresElsewhere(ctx); err != nil {
				return res, err
			}
		}
	}
	in.look.forget()
	for i := len(tables) - 1; i >= 0; i-- {
		if err := in.pass(ctx, tables[i], "delete", &res); err != nil {
			return res, err
		}
	}
	for _, t := range tables {
		if err := in.pass(ctx, t, "merge", &res); err != nil {
			return res, err
		}
	}
	return res, in.finish(ctx, nil)
}

// hasBuffered reports whether records from source wait in the buffer.
func hasBuffered(ctx context.Context, q queryer, source int64) (bool, error) {
	var waiting bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sync_buffer WHERE source_site_id = ?)`, source).Scan(&waiting)
	return waiting, err
}

// newIntegrator prepares a transaction for writing records that came from source: the change log marks
// them as that site's, so they are never echoed back to it.
func newIntegrator(ctx context.Context, tx *sql.Tx, role Role, thisSite, source int64) (*integrator, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = ?`, source); err != nil {
		return nil, err
	}
	stmts := newStmtCache(tx)
	in := &integrator{tx: tx, stmts: stmts, look: newLookups(stmts), role: role, thisSite: thisSite, source: source, stores: map[string]*recordStore{}}
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM legacy_extra)`).Scan(&in.extrasKept); err != nil {
		return nil, err
	}
	if role == RoleRemote {
		var err error
		if in.unpushed, err = unpushedRecords(ctx, tx); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// finish clears the change context before the transaction commits.
func (in *integrator) finish(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	_, err = in.tx.ExecContext(ctx, `UPDATE change_context SET source_site_id = NULL`)
	return err
}

func rankedTables() []string {
	tables := append([]string{"site", "store"}, TableNames()...)
	slices.SortStableFunc(tables, func(a, b string) int {
		ra, _ := syncTableRank(a)
		rb, _ := syncTableRank(b)
		return cmp.Compare(ra, rb)
	})
	return tables
}

// IntegrateBatch writes a batch of received records straight into the tables, in dependency order, in
// one transaction that also moves the central cursor when cursor > 0. A record that cannot be written yet
// (it refers to one not yet received, or to a store this site does not know as its own yet) goes to the
// buffer instead, for Integrate to try again once the rest has arrived. Writing straight away saves
// storing and deleting every record in the buffer on the common path.
func (db *DB) IntegrateBatch(ctx context.Context, source int64, records []InRecord, cursor int64) (IntegrationResult, error) {
	var res IntegrationResult
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// A batch is at most a page of records and quick to write; watching ctx for each of its statements
		// would cost a goroutine apiece.
		ctx := context.WithoutCancel(ctx)
		res = IntegrationResult{}
		s, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		in, err := newIntegrator(ctx, tx, s.Role, s.ThisSiteID, source)
		if err != nil {
			return err
		}
		defer in.close()
		buf, err := newBufferWriter(ctx, tx, db.timestamp())
		if err != nil {
			return err
		}
		defer buf.close()
		buffered, err := hasBuffered(ctx, tx, source)
		if err != nil {
			return err
		}
		if err := in.direct(ctx, buf, buffered, records, &res); err != nil {
			return err
		}
		if cursor > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE sync_state SET central_cursor = max(central_cursor, ?)`, cursor); err != nil {
				return err
			}
		}
		return in.finish(ctx, nil)
	})
	return res, err
}

// direct applies records in dependency order: upserts by rising rank, deletes by falling rank, then merges.
// What fails goes to the buffer; what succeeds replaces any older copy still waiting there.
func (in *integrator) direct(ctx context.Context, buf *bufferWriter, bufferInUse bool, records []InRecord, res *IntegrationResult) error {
	type item struct {
		rec   InRecord
		rank  int
		phase int // 0 upsert, 1 delete, 2 merge
	}
	items := make([]item, 0, len(records))
	for _, r := range records {
		if r.Unreadable != "" {
			// Kept with its reason, never written: the sender sent what this project does not keep.
			if err := buf.add(ctx, in.source, r, r.Unreadable, heldUnreadable); err != nil {
				return err
			}
			res.Failed++
			continue
		}
		rank, ok := syncTableRank(r.Table)
		if !ok {
			return fmt.Errorf("received a record of unknown table %q", r.Table)
		}
		it := item{rec: r, rank: rank}
		switch strings.ToLower(r.Action) {
		case "delete":
			it.phase, it.rank = 1, -rank
		case "merge":
			it.phase = 2
		}
		items = append(items, it)
	}
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.phase, b.phase), cmp.Compare(a.rank, b.rank))
	})
	// A remote purges the data of stores that have left it only at the end of its cycle (Integrate), once it
	// has read all the master data. Judged on one page of it, a store that has come back to this site, as a
	// later page says, still looks another site's, and the changes just pushed for it, which central holds
	// and will not send back, would go with the rest.
	storesWritten := slices.ContainsFunc(items, func(it item) bool { return it.rec.Table == "store" })
	phase := 0
	for _, it := range items {
		r := it.rec
		if storesWritten && it.phase == 0 && it.rank > 1 {
			// Stores come first; what was looked up of them before is stale now.
			in.look.forget()
			storesWritten = false
		}
		if it.phase != phase {
			phase = it.phase
			in.look.forget()
		}
		action := strings.ToLower(r.Action)
		if action == "insert" || action == "update" {
			action = "upsert"
		}
		row := bufferRow{recordID: r.RecordID, action: action, data: sql.NullString{String: string(r.Data), Valid: r.Data != nil},
			extra: sql.NullString{String: string(r.Extra), Valid: len(r.Extra) > 0}, rec: r.checked, absent: r.absent}
		if action == "merge" {
			if err := buf.add(ctx, in.source, r, "", notHeld); err != nil {
				return err
			}
			continue
		}
		err := in.apply(ctx, r.Table, row)
		if err == nil {
			res.Integrated++
			if bufferInUse {
				if _, err := in.tx.ExecContext(ctx, `DELETE FROM sync_buffer WHERE source_site_id = ? AND table_name = ? AND record_id = ?`,
					in.source, r.Table, r.RecordID); err != nil {
					return err
				}
			}
			continue
		}
		var de *Error
		if !errors.Is(err, errDrop) && !errors.As(err, &de) && !isConstraintError(err) {
			return fmt.Errorf("integrate %s %s: %w", r.Table, r.RecordID, err)
		}
		held := in.holds(err)
		if err := buf.add(ctx, in.source, r, err.Error(), held); err != nil {
			return err
		}
		if held == heldStoreMovedAway {
			if err := returnParkedTransfer(ctx, in.tx, in.source, r.Table, r.RecordID); err != nil {
				return err
			}
		}
		if in.role == RoleCentral {
			res.Held = append(res.Held, Rejection{SyncOutID: r.SyncOutID, Code: ParkedCode, Message: err.Error()})
		}
	}
	return nil
}

type integrator struct {
	tx       *sql.Tx
	stmts    *stmtCache
	look     *lookups
	role     Role
	thisSite int64
	source   int64
	stores   map[string]*recordStore
	// unpushed holds the store records changed here and not yet pushed ("table\x00id"): this site owns
	// them, so a copy arriving from the central server (sent back by 'sync generate', say) is older and
	// must not overwrite them.
	unpushed map[string]bool
	// extrasKept says the datafile keeps extras for some record: until it does, a record that brings none
	// has none to remove.
	extrasKept bool
}

func unpushedRecords(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, record_id FROM changelog WHERE source_site_id IS NULL
		AND store_id IS NOT NULL AND cursor > (SELECT push_cursor FROM sync_state)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var table, id string
		if err := rows.Scan(&table, &id); err != nil {
			return nil, err
		}
		out[table+"\x00"+id] = true
	}
	return out, rows.Err()
}

func (in *integrator) close() {
	for _, rs := range in.stores {
		rs.close()
	}
	in.stmts.close()
}

func (in *integrator) recordStore(ctx context.Context, t *Table) (*recordStore, error) {
	if rs, ok := in.stores[t.Name]; ok {
		return rs, nil
	}
	rs, err := newRecordStore(ctx, in.tx, t)
	if err != nil {
		return nil, err
	}
	in.stores[t.Name] = rs
	return rs, nil
}

const integrateChunk = 1000

func (in *integrator) pass(ctx context.Context, table, action string, res *IntegrationResult) error {
	var last int64
	for {
		rows, err := in.tx.QueryContext(ctx, `SELECT id, record_id, action, data, received_at, extra FROM sync_buffer
			WHERE source_site_id = ? AND table_name = ? AND action = ? AND id > ? AND held = 0 ORDER BY id LIMIT ?`,
			in.source, table, action, last, integrateChunk)
		if err != nil {
			return err
		}
		var batch []bufferRow
		for rows.Next() {
			var r bufferRow
			if err := rows.Scan(&r.id, &r.recordID, &r.action, &r.data, &r.receivedAt, &r.extra); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			last = r.id
			err := in.apply(ctx, table, r)
			switch {
			case err == nil:
				res.Integrated++
			case errors.Is(err, errDrop) && in.role == RoleRemote:
				// Central holds the record; this site has no use for it. Central never drops what a
				// site pushed: it keeps it, with the reason, for an administrator.
				res.Dropped++
			default:
				var de *Error
				if !errors.Is(err, errDrop) && !errors.As(err, &de) && !isConstraintError(err) {
					return fmt.Errorf("integrate %s %s: %w", table, r.recordID, err)
				}
				res.Failed++
				held := in.holds(err)
				if _, err := in.tx.ExecContext(ctx, `UPDATE sync_buffer SET attempts = attempts + 1, error = ?, held = ? WHERE id = ?`,
					err.Error(), held, r.id); err != nil {
					return err
				}
				if held == heldStoreMovedAway {
					if err := returnParkedTransfer(ctx, in.tx, in.source, table, r.recordID); err != nil {
						return err
					}
				}
				continue
			}
			if _, err := in.tx.ExecContext(ctx, `DELETE FROM sync_buffer WHERE id = ?`, r.id); err != nil {
				return err
			}
		}
	}
}

// holds reports whether central keeps a record that failed with err for an administrator, never to retry
// it: its store has left the site that sent it (see mayWrite), which has dropped its copy.
func (in *integrator) holds(err error) holding {
	if in.role == RoleCentral && errors.Is(err, errDrop) {
		return heldStoreMovedAway
	}
	return notHeld
}

// returnToSource queues a record written on central from the buffer back to the site that sent it, when its
// store has moved to that site since central received it: the site dropped its copy when the store left
// it, and the queue the move filled was read before central had the record.
func (in *integrator) returnToSource(ctx context.Context, table, id, storeID, receivedAt string) error {
	if in.role != RoleCentral || receivedAt == "" {
		return nil
	}
	_, err := in.tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_queue (site_id, table_name, record_id, store_id, action)
		SELECT ?, ?, ?, ?, 'update' WHERE EXISTS (SELECT 1 FROM store_move WHERE store_id = ? AND to_site_id = ?
			AND how IS NOT NULL AND completed_at >= ?)`, in.source, table, id, storeID, storeID, in.source, receivedAt)
	return err
}

func (in *integrator) apply(ctx context.Context, table string, r bufferRow) error {
	switch r.action {
	case "upsert":
		switch table {
		case "site":
			return in.upsertSite(ctx, r)
		case "store":
			if err := in.upsertStore(ctx, r); err != nil {
				return err
			}
			return in.keepExtra(ctx, table, r)
		}
		if err := in.upsertRecord(ctx, tablesByName[table], r); err != nil {
			return err
		}
		return in.keepExtra(ctx, table, r)
	case "delete":
		return in.deleteRecord(ctx, table, r.recordID, r.receivedAt)
	case "merge":
		return in.merge(ctx, table, r)
	}
	return errorf(EINVALID, "unknown action %q", r.action)
}

// keepExtra keeps what the sender sent of a record beyond our fields, as the latest copy brought it: a copy
// that brings none leaves none.
func (in *integrator) keepExtra(ctx context.Context, table string, r bufferRow) error {
	if r.extra.Valid && r.extra.String != "{}" {
		in.extrasKept = true
		_, err := in.tx.ExecContext(ctx, `INSERT OR REPLACE INTO legacy_extra (table_name, record_id, fields) VALUES (?, ?, ?)`,
			table, r.recordID, r.extra.String)
		return err
	}
	if !in.extrasKept {
		return nil // none kept for any record: nothing to remove
	}
	_, err := in.tx.ExecContext(ctx, `DELETE FROM legacy_extra WHERE table_name = ? AND record_id = ?`, table, r.recordID)
	return err
}

// allowed returns an error wrapping errDrop, with the reason, unless the record of t in storeID that
// came from in.source may be written here; mayWrite decides.
func (in *integrator) allowed(ctx context.Context, t *Table, storeID string, receivedAt string) error {
	site := in.source
	if in.role != RoleCentral {
		site = in.thisSite
	}
	o, err := mayWrite(ctx, in.look, writeRequest{path: integration, role: in.role, site: site, table: t, storeID: storeID, receivedAt: receivedAt})
	if err != nil {
		return err
	}
	return o.asIntegrationError()
}

// allowedOrCopy is allowed for the row id of t as it stands, which a remote also holds when it is a
// transfer made out to a store of its own.
func (in *integrator) allowedOrCopy(ctx context.Context, t *Table, storeID, id, receivedAt string) error {
	err := in.allowed(ctx, t, storeID, receivedAt)
	if err == nil || in.role != RoleRemote || !isTransferTable(t.Name) {
		return err
	}
	counterpart, cerr := counterpartOfRow(ctx, in.tx, t.Name, id)
	if cerr != nil {
		return cerr
	}
	if copied, cerr := in.transferCopy(ctx, counterpart); cerr != nil || !copied {
		return cmp.Or(cerr, err)
	}
	return nil
}

// staleCopy reports whether a remote may take central's delete of a record of a store not active here: a
// transfer it held as a copy, whose store it made out to has gone, or which it has not yet seen as its own
// store's. Central holds no such record any more, so neither should this site; what the site changed itself
// and has not pushed stays, as ever.
func (in *integrator) staleCopy(t *Table, id string) bool {
	return in.role == RoleRemote && isTransferTable(t.Name) && !in.unpushed[t.Name+"\x00"+id]
}

func (in *integrator) upsertRecord(ctx context.Context, t *Table, r bufferRow) error {
	if t.Kind == Master {
		if err := in.allowed(ctx, t, "", r.receivedAt); err != nil {
			return err
		}
	}
	var rec Record
	if r.rec != nil && r.rec.Table == t {
		rec = *r.rec
	} else {
		var err error
		if rec, err = decodeReceived(t, r.recordID, []byte(r.data.String)); err != nil {
			return err
		}
	}
	rs, err := in.recordStore(ctx, t)
	if err != nil {
		return err
	}
	exists := false
	if t.Kind == StoreData {
		if err := in.allowed(ctx, t, rec.StoreID(), r.receivedAt); err != nil {
			counterpart, cerr := counterpartOfRecord(ctx, in.tx, rec)
			if cerr != nil {
				return cerr
			}
			if copied, cerr := in.transferCopy(ctx, counterpart); cerr != nil || !copied {
				return cmp.Or(cerr, err)
			}
		}
		if in.unpushed[t.Name+"\x00"+r.recordID] {
			return errDrop
		}
		if !r.absent {
			existing, err := rs.load(ctx, r.recordID)
			if err != nil {
				return err
			}
			exists = existing != nil
			if existing != nil && existing.StoreID() != rec.StoreID() {
				if err := in.allowedOrCopy(ctx, t, existing.StoreID(), r.recordID, r.receivedAt); err != nil {
					return err
				}
			}
		}
	}
	if !exists {
		// A plain insert is much cheaper than an upsert, and an initialisation inserts everything. SQLite
		// checks the references as the row goes in.
		if err := in.look.checkLineStore(ctx, rec); err != nil {
			return errorf(EINVALID, "%v", err)
		}
		taken, err := rs.insertNew(ctx, rec)
		if isForeignKeyError(err) {
			if refErr := in.look.checkRefs(ctx, rec); refErr != nil {
				return errorf(EINVALID, "%v", refErr)
			}
		}
		if err != nil {
			return err
		}
		if !taken {
			return in.returnToSource(ctx, t.Name, rec.ID(), rec.StoreID(), r.receivedAt)
		}
	}
	if err := in.look.checkRefs(ctx, rec); err != nil {
		return errorf(EINVALID, "%v", err)
	}
	if err := rs.write(ctx, rec); err != nil {
		return err
	}
	return in.returnToSource(ctx, t.Name, rec.ID(), rec.StoreID(), r.receivedAt)
}

func (in *integrator) upsertSite(ctx context.Context, r bufferRow) error {
	if in.role == RoleCentral {
		return errDrop
	}
	var s struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(r.data.String), &s); err != nil || s.ID <= 0 || validateSiteType(s.Type) != nil || validateSiteName(s.Name) != nil {
		return errorf(EINVALID, "invalid site record")
	}
	_, err := in.tx.ExecContext(ctx, `INSERT INTO site (id, code, name, type) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, type = excluded.type
		WHERE code IS NOT excluded.code OR name IS NOT excluded.name OR type IS NOT excluded.type`, s.ID, s.Code, s.Name, s.Type)
	return err
}

func (in *integrator) upsertStore(ctx context.Context, r bufferRow) error {
	if in.role == RoleCentral {
		return errDrop
	}
	var s Store
	if err := json.Unmarshal([]byte(r.data.String), &s); err != nil || validID(s.ID) != nil || s.ID != r.recordID || validateStoreCode(s.Code) != nil {
		return errorf(EINVALID, "invalid store record")
	}
	_, err := in.tx.ExecContext(ctx, `INSERT INTO store (id, code, name, site_id, moving_to_site_id) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, site_id = excluded.site_id,
			moving_to_site_id = excluded.moving_to_site_id
		WHERE code IS NOT excluded.code COLLATE BINARY OR name IS NOT excluded.name OR site_id IS NOT excluded.site_id
			OR moving_to_site_id IS NOT excluded.moving_to_site_id`, s.ID, s.Code, s.Name, s.SiteID, s.MovingToSiteID)
	return err
}

// purgeStoresElsewhere removes from a remote the store data of stores that are no longer active on it: a
// remote holds only its own stores' data. A store with changes made here and not yet pushed stays whole
// until they have been pushed, so that a store taken away by a forced move loses nothing: central parks
// what arrives late, and the next integration purges the store.
func (in *integrator) purgeStoresElsewhere(ctx context.Context) error {
	if in.thisSite == 0 {
		return nil
	}
	tables := Tables()
	for i := len(tables) - 1; i >= 0; i-- {
		t := tables[i]
		if t.Kind != StoreData {
			continue
		}
		// Transfers made out to a store here stay, read-only.
		if _, err := in.tx.ExecContext(ctx, `DELETE FROM `+t.Name+` AS r WHERE store_id IN (SELECT id FROM store WHERE site_id <> ?
			AND id NOT IN (SELECT store_id FROM changelog WHERE source_site_id IS NULL AND store_id IS NOT NULL
				AND cursor > (SELECT push_cursor FROM sync_state)))
			AND coalesce(`+counterpartSQL(t.Name)+` IN (SELECT id FROM store WHERE site_id = ?), 0) = 0`, in.thisSite, in.thisSite); err != nil {
			return err
		}
	}
	return nil
}

func (in *integrator) deleteRecord(ctx context.Context, table, id, receivedAt string) error {
	switch table {
	case "site", "store":
		if in.role == RoleCentral {
			return errDrop
		}
		_, err := in.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
		return err
	}
	t := tablesByName[table]
	if t.Kind == Master {
		if err := in.allowed(ctx, t, "", receivedAt); err != nil {
			return err
		}
	}
	if t.Kind == StoreData {
		var storeID string
		err := in.tx.QueryRowContext(ctx, `SELECT store_id FROM `+t.Name+` WHERE id = ?`, id).Scan(&storeID)
		if errors.Is(err, sql.ErrNoRows) {
			if t.Name == "invoice" {
				return shipmentDeletedUnseen(ctx, in.tx, in.thisSite, id)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := in.allowedOrCopy(ctx, t, storeID, id, receivedAt); err != nil && !in.staleCopy(t, id) {
			return err
		}
		if in.unpushed[t.Name+"\x00"+id] {
			return errDrop
		}
		if _, err := in.tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE id = ?`, id); err != nil {
			return err
		}
		return in.returnToSource(ctx, t.Name, id, storeID, receivedAt)
	}
	_, err := in.tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE id = ?`, id)
	return err
}

// merge folds one master record into another: everything that referred to the one deleted refers to the
// one kept.
func (in *integrator) merge(ctx context.Context, table string, r bufferRow) error {
	t, ok := tablesByName[table]
	if !ok || t.Kind != Master || in.role == RoleCentral {
		return errDrop
	}
	var m struct {
		Keep   string `json:"mergeIdToKeep"`
		Delete string `json:"mergeIdToDelete"`
	}
	if err := json.Unmarshal([]byte(r.data.String), &m); err != nil || validID(m.Keep) != nil || validID(m.Delete) != nil || m.Keep == m.Delete {
		return errorf(EINVALID, "invalid merge record")
	}
	if ok, err := in.look.refExists(ctx, t.Name, m.Keep); err != nil || !ok {
		if err != nil {
			return err
		}
		return errorf(EINVALID, "merge: no %s with id %q to keep", t.Name, m.Keep)
	}
	for _, ref := range referrers(t.Name) {
		if _, err := in.tx.ExecContext(ctx, `UPDATE `+ref.table+` SET `+ref.field+` = ? WHERE `+ref.field+` = ?`, m.Keep, m.Delete); err != nil {
			return err
		}
	}
	_, err := in.tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE id = ?`, m.Delete)
	return err
}
