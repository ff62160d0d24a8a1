package datafile

import (
	"bytes"
	"database/sql"
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
		if f.DefaultOne {
			return float64(1)
		}
		return float64(0)
	case Enum:
		return f.Enum[0]
	case DateTime:
		if f.Nullable {
			return nil
		}
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
		if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 || n > MaxNumber {
			return nil, errors.New("must be a number from 0 to 1e12") // MaxNumber
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
