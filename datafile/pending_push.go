package datafile

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// PushBatch is the next batch of local changes to push.
type PushBatch struct {
	Records []OutRecord
	// Remaining is how many changes remain after these.
	Remaining int64
	// HandedOver lists, when nothing remains after this batch, the stores moving away from this site: with
	// their writes stopped and every change made for them in this batch or before it, they are handed
	// over once the batch is committed on central.
	HandedOver []string
}

// PendingPush returns up to limit local changes not yet pushed, oldest first, and how many remain after
// them. Each carries the record's current content.
func (db *DB) PendingPush(ctx context.Context, limit int) (PushBatch, error) {
	return db.PendingPushAfter(ctx, -1, limit)
}

// PendingPushAfter is PendingPush from the change after cursor on, rather than from what central is known
// to hold: the batch after one still on its way, read while it travels. A cursor behind the push cursor
// (-1 included) counts as the push cursor.
func (db *DB) PendingPushAfter(ctx context.Context, cursor int64, limit int) (PushBatch, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return PushBatch{}, err
	}
	defer tx.Rollback()
	recs, remaining, err := pendingPush(ctx, tx, cursor, limit)
	if err != nil || remaining > 0 {
		return PushBatch{Records: recs, Remaining: remaining}, err
	}
	// Read in the same snapshot as the batch: a store that started moving after it was read may have
	// changes the batch does not hold.
	var site sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT this_site_id FROM settings`).Scan(&site); err != nil {
		return PushBatch{}, err
	}
	handed, err := handingOver(ctx, tx, site.Int64)
	return PushBatch{Records: recs, HandedOver: handed}, err
}

func pendingPush(ctx context.Context, tx *sql.Tx, from int64, limit int) ([]OutRecord, int64, error) {
	var after, total int64
	var source string
	if err := tx.QueryRowContext(ctx, `SELECT max(push_cursor, ?), (SELECT datafile_id FROM settings) FROM sync_state`, from).Scan(&after, &source); err != nil {
		return nil, 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE cursor > ? AND source_site_id IS NULL AND store_id IS NOT NULL`, after).Scan(&total); err != nil {
		return nil, 0, err
	}
	var out []OutRecord
	var passed int64 // changes at or before the last one kept, skipped ones included
	for len(out) == 0 {
		page, err := readLocalChanges(ctx, tx, after, limit)
		if err != nil || len(page) == 0 {
			return nil, 0, err
		}
		kept, err := withoutSuperseded(ctx, tx, page)
		if err != nil {
			return nil, 0, err
		}
		if len(kept) == 0 {
			passed += int64(len(page))
			after = page[len(page)-1].Cursor
			continue
		}
		last := kept[len(kept)-1].Cursor
		for _, r := range page {
			if r.Cursor <= last {
				passed++
			}
		}
		out = kept
	}
	for i := range out {
		out[i].SyncOutID = source + ":" + strconv.FormatInt(out[i].Cursor, 10)
	}
	return out, total - passed, nil
}

// readLocalChanges reads up to limit local changes after cursor with their records' current content,
// keeping in Logged what each change was when it was made.
func readLocalChanges(ctx context.Context, tx *sql.Tx, after int64, limit int) ([]OutRecord, error) {
	return readChanges(ctx, tx, `WHERE cursor > ? AND source_site_id IS NULL AND store_id IS NOT NULL ORDER BY cursor LIMIT ?`, after, limit)
}

// withoutSuperseded drops the changes that would go out as deletes only because their record was deleted
// here later, by a change still to be pushed. Sent now, such a delete would reach central ahead of the
// deletes of the record's lines, which it cannot be applied before; the later change deletes the record in
// its place, after them.
func withoutSuperseded(ctx context.Context, tx *sql.Tx, page []OutRecord) ([]OutRecord, error) {
	var ids []any
	for _, r := range page {
		if r.Action == "delete" && r.Logged != "delete" {
			ids = append(ids, r.RecordID)
		}
	}
	if len(ids) == 0 {
		return page, nil
	}
	laterChange := map[[2]string]int64{} // table and record -> its newest pending change
	args := append([]any{page[0].Cursor}, ids...)
	err := queryEach(ctx, tx, func(rows *sql.Rows) error {
		var table, id string
		var cursor int64
		if err := rows.Scan(&table, &id, &cursor); err != nil {
			return err
		}
		laterChange[[2]string{table, id}] = cursor
		return nil
	}, `SELECT table_name, record_id, max(cursor) FROM changelog
		WHERE cursor > ? AND source_site_id IS NULL AND store_id IS NOT NULL AND record_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)
		GROUP BY table_name, record_id`, args...)
	if err != nil {
		return nil, err
	}
	kept := page[:0:0]
	for _, r := range page {
		if r.Action == "delete" && r.Logged != "delete" && laterChange[[2]string{r.Table, r.RecordID}] > r.Cursor {
			continue
		}
		kept = append(kept, r)
	}
	return kept, nil
}

// UnsentCount returns how many local changes wait to be pushed.
func (db *DB) UnsentCount(ctx context.Context) (int64, error) {
	var n int64
	err := db.conn().QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE source_site_id IS NULL AND store_id IS NOT NULL
		AND cursor > (SELECT push_cursor FROM sync_state)`).Scan(&n)
	return n, err
}

// AdvancePushCursor records that the central server has the local changes up to cursor.
func (db *DB) AdvancePushCursor(ctx context.Context, cursor int64) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE sync_state SET push_cursor = max(push_cursor, ?)`, cursor)
	return err
}
