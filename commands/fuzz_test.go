package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzJSONRecords feeds 'record put' input reading arbitrary bytes. It must not panic or loop: every record
// it yields is an object, and input that is plainly one object, an array of objects or objects one after
// another yields exactly those objects. ('record put' stops at the first error, so what comes after one
// does not matter.)
func FuzzJSONRecords(f *testing.F) {
	for _, seed := range []string{
		`{"id":"item-1","name":"Amoxicillin"}`,
		`[{"id":"a"},{"id":"b","quantity":1.50}]`,
		"{\"id\":\"a\"}\n{\"id\":\"b\"}\n",
		" \t\r\n[ ]  ",
		`[]`, ``, `   `, `[`, `]`, `[}`, `[]]`, `[{}] {}`, `[{}] x`, `[{},]`, `[{} {}]`, `[1,2]`, `[null]`, `[[{}]]`,
		`{}`, `{}}`, `{} []`, `null`, `"text"`, `12`, `true`, "\ufeff{}", `{"a":`, `{"a":1e400}`,
		`{"a":123456789012345678901234567890}`, "{\"a\":\"\xff\"}", `{"a":1,"a":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		next := jsonRecords(bytes.NewReader(data))
		var got []map[string]any
		var err error
		// Every record takes at least two bytes ("{}"), so more calls than that means a loop.
		for calls := 0; ; calls++ {
			if calls > len(data)/2+2 {
				t.Fatalf("%d records from %d bytes", calls, len(data))
			}
			var rec map[string]any
			rec, err = next()
			if err != nil {
				break
			}
			if rec == nil {
				t.Fatal("a record that is not an object")
			}
			got = append(got, rec)
		}
		if !errors.Is(err, io.EOF) && err.Error() == "" {
			t.Fatal("an empty error")
		}
		want, plain := plainRecords(data)
		if !plain {
			return
		}
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%q refused: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q gave %v, want %v", data, got, want)
		}
	})
}

// plainRecords reads data when it is unmistakably one object, an array of objects, or objects one after
// another, in UTF-8 after an optional byte-order mark, with numbers kept exact; plain is false for anything
// else.
func plainRecords(data []byte) (records []map[string]any, plain bool) {
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	if !utf8.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var values []any
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, false
		}
		values = append(values, v)
	}
	if len(values) == 1 && strings.HasPrefix(strings.TrimLeft(string(data), " \t\r\n"), "[") {
		arr, _ := values[0].([]any)
		values = arr
	}
	for _, v := range values {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		records = append(records, m)
	}
	return records, true
}
