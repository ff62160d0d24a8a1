package datafile

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
)

// TableChecksum is the count and digest of one table's records.
type TableChecksum struct {
	Count  int    `json:"count"`
	Digest string `json:"digest"`
}

// Checksum returns, for every synced table, the number of records and a SHA-256 over their synced content
// in id order. It reads only synced fields, so two datafiles holding the same records agree whatever their
// local bookkeeping. With storeID set it covers only that store's store data.
func (db *DB) Checksum(ctx context.Context, storeID string) (map[string]TableChecksum, error) {
	out := map[string]TableChecksum{}
	var tx dbtx = db.conn()
	if db.tx == nil {
		rtx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer rtx.Rollback()
		tx = rtx
	}
	for _, t := range Tables() {
		if storeID != "" && t.Kind != StoreData {
			continue
		}
		q := `SELECT ` + strings.Join(t.Columns(), ", ") + ` FROM ` + t.Name
		var args []any
		if storeID != "" {
			q += ` WHERE store_id = ?`
			args = append(args, storeID)
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY id`, args...)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		n := 0
		for rows.Next() {
			rec, err := scanRecord(t, rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			line, err := rec.MarshalJSON()
			if err != nil {
				rows.Close()
				return nil, err
			}
			h.Write(line)
			h.Write([]byte{'\n'})
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[t.Name] = TableChecksum{Count: n, Digest: hex.EncodeToString(h.Sum(nil))}
	}
	return out, nil
}
