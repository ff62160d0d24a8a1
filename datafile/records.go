package datafile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on what a record may hold, so that hostile input cannot bloat a datafile.
const (
	MaxIDLength   = 128
	MaxTextLength = 4096
)

// Record is one row of a synced table. Values holds "id" and every field, normalised: strings for Text,
// Enum, Date, DateTime and Ref (nil where Nullable), bool for Bool, float64 for Number.
type Record struct {
	Table  *Table
	Values map[string]any
}

// ID returns the record's id.
func (r Record) ID() string { s, _ := r.Values["id"].(string); return s }

// StoreID returns the store the record belongs to, or "" for master data.
func (r Record) StoreID() string {
	if r.Table.Kind != StoreData {
		return ""
	}
	s, _ := r.Values[StoreField].(string)
	return s
}

// MarshalJSON writes id first and then the fields in the table's order, so output is stable.
func (r Record) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, col := range r.Table.Columns() {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(col)
		v, err := json.Marshal(r.Values[col])
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// FormatValue renders a value for a table cell.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// DecodeObject parses one JSON object, keeping numbers exact until they are validated.
func DecodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return nil, errorf(EINVALID, "invalid JSON: a record must be an object such as {\"id\": \"...\"}, not a %s", typeErr.Value)
		}
		return nil, errorf(EINVALID, "invalid JSON: %v", err)
	}
	if m == nil {
		return nil, errorf(EINVALID, "invalid JSON: expected an object")
	}
	// More() alone lets a stray closing bracket through ({"a":1}} or {"a":1}]); only the end of the input
	// may follow the object.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf(EINVALID, "invalid JSON: more than one value")
	}
	return m, nil
}

func validID(id string) error {
	if id == "" || len(id) > MaxIDLength || !utf8.ValidString(id) {
		return fmt.Errorf("id must be 1 to %d characters of text", MaxIDLength)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return errors.New("id must not contain control characters")
		}
	}
	return nil
}

// normalise validates raw against the table and merges it over base (the record as it stands, or nil for a
// new record), returning the complete record. References are not checked here: that needs the datafile.
func (t *Table) normalise(raw map[string]any, base *Record) (Record, error) {
	for k := range raw {
		if k == "id" {
			continue
		}
		if _, ok := t.Field(k); !ok {
			return Record{}, fmt.Errorf("unknown field %q (the fields of %s are %s)", k, t.Name, strings.Join(t.Columns(), ", "))
		}
	}
	rec := Record{Table: t, Values: map[string]any{}}
	if base != nil {
		for k, v := range base.Values {
			rec.Values[k] = v
		}
	} else {
		rec.Values["id"] = raw["id"]
	}
	for _, f := range t.Fields {
		v, given := raw[f.Name]
		if !given {
			if base != nil {
				continue
			}
			if f.Required {
				return Record{}, fmt.Errorf("field %s is required", f.Name)
			}
			rec.Values[f.Name] = defaultValue(f)
			continue
		}
		nv, err := normaliseValue(f, v)
		if err != nil {
			return Record{}, fmt.Errorf("field %s: %w", f.Name, err)
		}
		rec.Values[f.Name] = nv
	}
	return rec, nil
}

func defaultValue(f Field) any {
	switch f.Type {
	case Bool:
		return f.DefaultTrue
	case Number:
		return float64(0)
	case Enum:
		return f.Enum[0]
	case DateTime:
		return time.Now().UTC().Format(time.RFC3339)
	case Date, Ref:
		return nil
	default:
		return ""
	}
}

func normaliseValue(f Field, v any) (any, error) {
	if v == nil {
		if f.Nullable {
			return nil, nil
		}
		return nil, errors.New("must not be null")
	}
	switch f.Type {
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	case Number:
		var n float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if n, err = x.Float64(); err != nil {
				return nil, errors.New("must be a number")
			}
		case float64:
			n = x
		default:
			return nil, errors.New("must be a number")
		}
		if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
			return nil, errors.New("must be a finite number, zero or more")
		}
		return n, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, errors.New("must be a string")
	}
	if len(s) > MaxTextLength || !utf8.ValidString(s) {
		return nil, fmt.Errorf("must be valid text of at most %d bytes", MaxTextLength)
	}
	switch f.Type {
	case Enum:
		for _, e := range f.Enum {
			if s == e {
				return s, nil
			}
		}
		return nil, fmt.Errorf("must be one of %s", strings.Join(f.Enum, ", "))
	case Date:
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, errors.New("must be a date as YYYY-MM-DD")
		}
	case DateTime:
		ts, err := time.Parse(time.RFC3339, s)
		// A time whose UTC form falls outside years 0000 to 9999 would be stored as text that RFC 3339
		// cannot express, which no datafile could then read back or accept by sync.
		if err != nil || ts.UTC().Year() < 0 || ts.UTC().Year() > 9999 {
			return nil, errors.New("must be a date and time in RFC 3339 form, e.g. 2026-01-31T09:30:00Z")
		}
		return ts.UTC().Format(time.RFC3339), nil
	case Ref:
		if err := validID(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// sqlValue turns a normalised value into what SQLite stores.
func sqlValue(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return 1
		}
		return 0
	}
	return v
}

// recordStore reads and writes records of one table inside a transaction with prepared statements.
type recordStore struct {
	t      *Table
	tx     *sql.Tx
	get    *sql.Stmt
	upsert *sql.Stmt
	insert *sql.Stmt
}

func newRecordStore(ctx context.Context, tx *sql.Tx, t *Table) (*recordStore, error) {
	cols := t.Columns()
	get, err := tx.PrepareContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+t.Name+` WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	var sets, changed []string
	for _, f := range t.Fields {
		sets = append(sets, f.Name+" = excluded."+f.Name)
		changed = append(changed, f.Name+" IS NOT excluded."+f.Name)
	}
	// The WHERE keeps a write of identical content from touching the row, so a replayed record leaves no
	// trace in the change log.
	q := `INSERT INTO ` + t.Name + ` (` + strings.Join(cols, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(cols)-1) + `)
		ON CONFLICT (id) DO UPDATE SET ` + strings.Join(sets, ", ") + ` WHERE ` + strings.Join(changed, " OR ")
	upsert, err := tx.PrepareContext(ctx, q)
	if err != nil {
		get.Close()
		return nil, err
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO `+t.Name+` (`+strings.Join(cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`)`)
	if err != nil {
		get.Close()
		upsert.Close()
		return nil, err
	}
	return &recordStore{t: t, tx: tx, get: get, upsert: upsert, insert: insert}, nil
}

func (rs *recordStore) close() {
	rs.get.Close()
	rs.upsert.Close()
	rs.insert.Close()
}

// insertNew writes rec only if no record has its id; taken reports that one has.
func (rs *recordStore) insertNew(ctx context.Context, rec Record) (taken bool, err error) {
	args := make([]any, 0, len(rs.t.Fields)+1)
	for _, col := range rs.t.Columns() {
		args = append(args, sqlValue(rec.Values[col]))
	}
	_, err = rs.insert.ExecContext(ctx, args...)
	if isPrimaryKeyTaken(err) {
		return true, nil
	}
	return false, err
}

func (rs *recordStore) load(ctx context.Context, id string) (*Record, error) {
	return scanRecord(rs.t, rs.get.QueryRowContext(ctx, id))
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(t *Table, row scanner) (*Record, error) {
	cols := t.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(any)
	}
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	rec := Record{Table: t, Values: map[string]any{}}
	rec.Values["id"] = asString(*(dest[0].(*any)))
	for i, f := range t.Fields {
		v := *(dest[i+1].(*any))
		switch f.Type {
		case Bool:
			n, _ := v.(int64)
			rec.Values[f.Name] = n != 0
		case Number:
			switch x := v.(type) {
			case float64:
				rec.Values[f.Name] = x
			case int64:
				rec.Values[f.Name] = float64(x)
			default:
				rec.Values[f.Name] = float64(0)
			}
		default:
			if v == nil {
				rec.Values[f.Name] = nil
			} else {
				rec.Values[f.Name] = asString(v)
			}
		}
	}
	return &rec, nil
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func (rs *recordStore) write(ctx context.Context, rec Record) error {
	args := make([]any, 0, len(rs.t.Fields)+1)
	for _, col := range rs.t.Columns() {
		args = append(args, sqlValue(rec.Values[col]))
	}
	_, err := rs.upsert.ExecContext(ctx, args...)
	return err
}

// refExists reports whether table holds a record with id.
func refExists(ctx context.Context, tx queryer, table, id string) (bool, error) {
	cache, _ := tx.(*stmtCache)
	if cache != nil && cache.exists[table+"\x00"+id] {
		return true, nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err == nil && cache != nil {
		cache.exists[table+"\x00"+id] = true
	}
	return err == nil, err
}

// invoiceStoreOf returns the store of an invoice.
func invoiceStoreOf(ctx context.Context, tx queryer, invoiceID string) (string, error) {
	cache, _ := tx.(*stmtCache)
	if cache != nil {
		if s, ok := cache.invoiceStore[invoiceID]; ok {
			return s, nil
		}
	}
	var storeID string
	if err := tx.QueryRowContext(ctx, `SELECT store_id FROM invoice WHERE id = ?`, invoiceID).Scan(&storeID); err != nil {
		return "", err
	}
	if cache != nil {
		cache.invoiceStore[invoiceID] = storeID
	}
	return storeID, nil
}

// checkRefs confirms that every reference of rec points at a record that exists, and that a line's store
// is its invoice's.
func checkRefs(ctx context.Context, tx queryer, rec Record) error {
	for _, f := range rec.Table.Fields {
		if f.Type != Ref {
			continue
		}
		id, _ := rec.Values[f.Name].(string)
		if id == "" {
			continue
		}
		ok, err := refExists(ctx, tx, f.Ref, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("field %s: no %s with id %q", f.Name, f.Ref, id)
		}
	}
	return checkLineStore(ctx, tx, rec)
}

// checkLineStore confirms that an invoice line's store is its invoice's: the one rule about references
// that the schema's foreign keys do not enforce.
func checkLineStore(ctx context.Context, tx queryer, rec Record) error {
	if rec.Table.Name != "invoice_line" {
		return nil
	}
	invoiceID, _ := rec.Values["invoice_id"].(string)
	invoiceStore, err := invoiceStoreOf(ctx, tx, invoiceID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("field invoice_id: no invoice with id %q", invoiceID)
	}
	if err != nil {
		return err
	}
	if invoiceStore != rec.Values[StoreField] {
		return fmt.Errorf("field store_id: the line's invoice belongs to store %q", invoiceStore)
	}
	return nil
}

// writer holds what every local write checks: who this datafile is.
type writer struct {
	settings Settings
}

// checkOwnership refuses a local write of store data of storeID (or of master data) that this site may not
// make; mayWrite decides.
func (w writer) checkOwnership(ctx context.Context, tx queryer, t *Table, storeID string) error {
	o, err := mayWrite(ctx, tx, writeRequest{path: localWrite, role: w.settings.Role, site: w.settings.ThisSiteID, table: t, storeID: storeID})
	if err != nil || o.verdict == writeAllowed {
		return err
	}
	return o.err
}

// RecordSource yields raw records one at a time and io.EOF after the last. With an error about a record it
// has read, it may return that record too, so that the error names the record's id.
type RecordSource func() (map[string]any, error)

// PutRecords creates or updates records of one table from src, all of them or none: the first invalid record
// rolls back the whole batch and its error names the record. Fields left out of an update keep their values.
// It returns the id of each record in input order.
func (db *DB) PutRecords(ctx context.Context, tableName string, src RecordSource) ([]string, error) {
	t, err := LookupTable(tableName)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		s, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		w := writer{settings: s}
		rs, err := newRecordStore(ctx, tx, t)
		if err != nil {
			return err
		}
		defer rs.close()
		cache := newStmtCache(tx)
		defer cache.close()
		// An import can be millions of records: ctx is checked once a record rather than watched by a
		// goroutine for each statement.
		quiet := context.WithoutCancel(ctx)
		for n := 1; ; n++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			raw, err := src()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return recordError(n, raw, err)
			}
			id, err := w.put(quiet, cache, rs, raw)
			if err != nil {
				return recordError(n, raw, err)
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return errorf(EINVALID, "no records given")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func recordError(n int, raw map[string]any, err error) error {
	where := fmt.Sprintf("record %d", n)
	if id, ok := raw["id"].(string); ok && id != "" {
		where += fmt.Sprintf(" (id %q)", id)
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: where + ": " + e.Message, Hint: e.Hint + nothingWritten(e.Hint)}
	}
	return &Error{Code: EINVALID, Message: where + ": " + err.Error(), Hint: "nothing was written; correct the record and run the command again"}
}

func nothingWritten(hint string) string {
	if hint == "" {
		return "nothing was written; correct the record and run the command again"
	}
	return "; nothing was written"
}

func (w writer) put(ctx context.Context, tx queryer, rs *recordStore, raw map[string]any) (string, error) {
	t := rs.t
	if v, given := raw["id"]; given {
		id, ok := v.(string)
		if !ok {
			return "", errors.New("id must be a string")
		}
		if err := validID(id); err != nil {
			return "", err
		}
	} else {
		raw["id"] = uuid.NewString()
	}
	id := raw["id"].(string)
	// Most records of a bulk import are new: write them as new first, and only when the id turns out to be
	// taken read the record as it stands and merge. A record that is not valid as new (an update naming
	// only some fields) goes the long way too, which also gives the right error when it is invalid.
	if inserted, err := w.putNew(ctx, tx, rs, raw); err != nil || inserted {
		return id, err
	}
	existing, err := rs.load(ctx, id)
	if err != nil {
		return "", err
	}
	if t.Name == "invoice_line" && existing == nil && raw[StoreField] == nil {
		// A line belongs to its invoice's store; saying so twice is optional.
		if invoiceID, ok := raw["invoice_id"].(string); ok {
			if storeID, err := invoiceStoreOf(ctx, tx, invoiceID); err == nil {
				raw[StoreField] = storeID
			}
		}
	}
	rec, err := t.normalise(raw, existing)
	if err != nil {
		return "", err
	}
	if t.Kind == StoreData && existing != nil {
		if err := w.checkOwnership(ctx, tx, t, existing.StoreID()); err != nil {
			return "", err
		}
		if existing.StoreID() != rec.StoreID() {
			return "", errors.New("field store_id: a record cannot move to another store")
		}
	}
	if err := w.checkOwnership(ctx, tx, t, rec.StoreID()); err != nil {
		return "", err
	}
	if err := checkRefs(ctx, tx, rec); err != nil {
		return "", err
	}
	if err := rs.write(ctx, rec); err != nil {
		return "", err
	}
	return id, nil
}

// putNew writes raw as a new record when it is valid as one; inserted is false when it is not, or when
// its id is taken, and nothing was written.
func (w writer) putNew(ctx context.Context, tx queryer, rs *recordStore, raw map[string]any) (inserted bool, err error) {
	t := rs.t
	if t.Name == "invoice_line" && raw[StoreField] == nil {
		if invoiceID, ok := raw["invoice_id"].(string); ok {
			if storeID, err := invoiceStoreOf(ctx, tx, invoiceID); err == nil {
				raw[StoreField] = storeID
			}
		}
	}
	rec, err := t.normalise(raw, nil)
	if err != nil {
		return false, nil
	}
	if w.checkOwnership(ctx, tx, t, rec.StoreID()) != nil || checkLineStore(ctx, tx, rec) != nil {
		return false, nil
	}
	taken, err := rs.insertNew(ctx, rec)
	if isForeignKeyError(err) {
		return false, nil // the long way names the reference that points at nothing
	}
	if err != nil || taken {
		return false, err
	}
	return true, nil
}

// GetRecord returns the record of table with id, or a not_found error.
func (db *DB) GetRecord(ctx context.Context, tableName, id string) (Record, error) {
	t, err := LookupTable(tableName)
	if err != nil {
		return Record{}, err
	}
	rec, err := scanRecord(t, db.conn().QueryRowContext(ctx, `SELECT `+strings.Join(t.Columns(), ", ")+` FROM `+t.Name+` WHERE id = ?`, id))
	if err != nil {
		return Record{}, err
	}
	if rec == nil {
		return Record{}, errorf(ENOTFOUND, "no %s with id %q", t.Name, id)
	}
	return *rec, nil
}

// Condition is one FIELD=VALUE filter of ListRecords.
type Condition struct {
	Field string
	Value string
}

// ListRecords returns the records of table that match every condition, in id order.
func (db *DB) ListRecords(ctx context.Context, tableName string, where []Condition) ([]Record, error) {
	t, err := LookupTable(tableName)
	if err != nil {
		return nil, err
	}
	var clauses []string
	var args []any
	for _, c := range where {
		if c.Field == "id" {
			clauses = append(clauses, "id = ?")
			args = append(args, c.Value)
			continue
		}
		f, ok := t.Field(c.Field)
		if !ok {
			return nil, errorf(EINVALID, "unknown field %q in --where", c.Field).
				withHint("the fields of %s are %s", t.Name, strings.Join(t.Columns(), ", "))
		}
		switch f.Type {
		case Bool:
			b, err := strconv.ParseBool(c.Value)
			if err != nil {
				return nil, errorf(EINVALID, "--where %s= takes true or false", f.Name)
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, sqlValue(b))
		case Number:
			n, err := strconv.ParseFloat(c.Value, 64)
			if err != nil {
				return nil, errorf(EINVALID, "--where %s= takes a number", f.Name)
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, n)
		default:
			if c.Value == "" && f.Nullable {
				clauses = append(clauses, f.Name+" IS NULL")
				continue
			}
			clauses = append(clauses, f.Name+" = ?")
			args = append(args, c.Value)
		}
	}
	q := `SELECT ` + strings.Join(t.Columns(), ", ") + ` FROM ` + t.Name
	if len(clauses) > 0 {
		q += ` WHERE ` + strings.Join(clauses, " AND ")
	}
	q += ` ORDER BY id`
	rows, err := db.conn().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		rec, err := scanRecord(t, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *rec)
	}
	return out, rows.Err()
}

// DeleteRecord deletes one record, refusing where this site may not write it or other records refer to it.
// An item or a name is refused on a central server with remote sites: a remote may hold records that use
// it and that it has not pushed yet. It is made inactive instead (is_active false), or deleted with
// ForceDeleteRecord.
func (db *DB) DeleteRecord(ctx context.Context, tableName, id string) error {
	return db.deleteRecord(ctx, tableName, id, false)
}

// ForceDeleteRecord deletes one record like DeleteRecord, without refusing an item or a name that remote
// sites may use. What they push that uses it is parked on central until it is restored.
func (db *DB) ForceDeleteRecord(ctx context.Context, tableName, id string) error {
	return db.deleteRecord(ctx, tableName, id, true)
}

func (db *DB) deleteRecord(ctx context.Context, tableName, id string, force bool) error {
	t, err := LookupTable(tableName)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		s, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		rs, err := newRecordStore(ctx, tx, t)
		if err != nil {
			return err
		}
		defer rs.close()
		existing, err := rs.load(ctx, id)
		if err != nil {
			return err
		}
		if existing == nil {
			return errorf(ENOTFOUND, "no %s with id %q", t.Name, id)
		}
		if err := (writer{settings: s}).checkOwnership(ctx, tx, t, existing.StoreID()); err != nil {
			return err
		}
		for _, ref := range referrers(t.Name) {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+ref.table+` WHERE `+ref.field+` = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errorf(ECONFLICT, "cannot delete %s %q: %d %s record(s) refer to it", t.Name, id, n, ref.table).
					withHint("delete or change those records first")
			}
		}
		if _, activeFlag := t.Field("is_active"); activeFlag && !force && s.Role == RoleCentral {
			var remotes int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM site WHERE id <> ?`, CentralSiteID).Scan(&remotes); err != nil {
				return err
			}
			if remotes > 0 {
				return errorf(ECONFLICT, "%s %q may be in use on remote sites, in records they have not sent yet", t.Name, id).
					withHint(`make it inactive instead: msupply-sync record put %s '{"id":%q,"is_active":false}'; --force deletes it anyway, and what remotes send that uses it is parked until it is restored`, t.Name, id)
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE id = ?`, id)
		return err
	})
}

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
