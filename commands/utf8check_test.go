package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// firstInvalid is the plain definition utf8Check must agree with: the offset of the first byte that does not
// begin a valid UTF-8 character, or -1.
func firstInvalid(b []byte) int64 {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return int64(i)
		}
		i += size
	}
	return -1
}

func checkAll(t *testing.T, r io.Reader) *utf8Check {
	t.Helper()
	c := newUTF8Check(r)
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUTF8Check(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		bad  int64
	}{
		{"empty", "", -1},
		{"ascii", `{"name":"Paracetamol"}`, -1},
		{"utf-8", `{"name":"Café – 500µg 💊"}`, -1},
		{"latin-1", "{\"name\":\"Caf\xe9\"}", 12},
		{"latin-1 before a quote", "{\"name\":\"\xe9\"}", 9},
		{"cut off at the end", "{\"name\":\"\xe2\x82", 9},
		{"a lone continuation byte", "ab\x80cd", 2},
		{"an overlong encoding", "ab\xc0\xafcd", 2},
		{"a surrogate", "ab\xed\xa0\x80", 2},
		{"0xff", "\xff", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if want := firstInvalid([]byte(tc.in)); want != tc.bad {
				t.Fatalf("the case is wrong: the first invalid byte is at %d", want)
			}
			for name, r := range map[string]io.Reader{
				"whole":       strings.NewReader(tc.in),
				"a byte":      iotest.OneByteReader(strings.NewReader(tc.in)),
				"half":        iotest.HalfReader(strings.NewReader(tc.in)),
				"eof at once": iotest.DataErrReader(strings.NewReader(tc.in)),
			} {
				if c := checkAll(t, r); c.bad != tc.bad {
					t.Errorf("%s reads: bad = %d, want %d", name, c.bad, tc.bad)
				}
			}
		})
	}
}

// TestUTF8CheckRandom compares utf8Check with firstInvalid on random text of multi-byte characters and the
// odd stray byte, read in random pieces, so that characters straddle reads in every way.
func TestUTF8CheckRandom(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	pieces := []string{"a", "{", "\"", "é", "€", "💊", "µ", "\xe9", "\x80", "\xf0\x9f", "\xc3"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			piece := pieces[rng.IntN(len(pieces))]
			if piece[0] >= 0x80 && !utf8.ValidString(piece) && rng.IntN(4) != 0 {
				piece = "x" // stray bytes are the exception, so that many inputs are valid
			}
			b.WriteString(piece)
		}
		in := []byte(b.String())
		c := checkAll(t, &randomReads{r: bytes.NewReader(in), rng: rng})
		if want := firstInvalid(in); c.bad != want {
			t.Fatalf("seed %d: %q: bad = %d, want %d", seed, in, c.bad, want)
		}
	}
}

// randomReads returns between 1 and 7 bytes a read.
type randomReads struct {
	r   io.Reader
	rng *rand.Rand
}

func (r *randomReads) Read(p []byte) (int, error) {
	return r.r.Read(p[:min(len(p), 1+r.rng.IntN(7))])
}

// TestRecordsRefuseInvalidUTF8 checks every input form of 'record put': the record that holds a byte that
// is not UTF-8 is refused, returned with the error so that it can be named, and the error gives the byte's
// offset in the input. A byte-order mark at the start is skipped.
func TestRecordsRefuseInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		records int   // read before the refusal
		offset  int64 // of the bad byte
		id      string
	}{
		{"one object", "{\"id\":\"cafe\",\"name\":\"Caf\xe9\"}", 0, 24, "cafe"},
		{"an array", "[{\"id\":\"a\"},\n {\"id\":\"cafe\",\"name\":\"Caf\xe9\"},{\"id\":\"b\"}]", 1, 38, "cafe"},
		{"JSON lines", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"cafe\",\"name\":\"Caf\xe9 noir\"}\n{\"id\":\"c\"}\n", 2, 46, "cafe"},
		{"a byte-order mark and JSON lines", utf8BOM + "{\"id\":\"a\"}\n{\"name\":\"Caf\xe9\"}\n", 1, 26, ""},
		{"in a key", "{\"id\":\"cafe\",\"n\xe4me\":\"x\"}", 0, 15, "cafe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := jsonRecords(strings.NewReader(tc.in))
			for i := 0; i < tc.records; i++ {
				if _, err := next(); err != nil {
					t.Fatalf("record %d: %v", i+1, err)
				}
			}
			raw, err := next()
			if err == nil {
				t.Fatalf("record %d was taken: %v", tc.records+1, raw)
			}
			if want := fmt.Sprintf("invalid UTF-8 at byte offset %d of the input", tc.offset); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if tc.in[tc.offset] < 0x80 {
				t.Errorf("the case is wrong: byte %d is %q", tc.offset, tc.in[tc.offset])
			}
			if id, _ := raw["id"].(string); id != tc.id {
				t.Errorf("the refused record came back with id %q, want %q", id, tc.id)
			}
			if _, err := next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the refusal: %v, want io.EOF", err)
			}
		})
	}
}

func TestRecordsSkipAByteOrderMark(t *testing.T) {
	for name, in := range map[string]string{
		"one object": utf8BOM + `{"id":"a"}`,
		"an array":   utf8BOM + `[{"id":"a"},{"id":"b"}]`,
		"JSON lines": utf8BOM + "{\"id\":\"a\"}\r\n{\"id\":\"b\"}\r\n",
		"and spaces": utf8BOM + "\n  {\"id\":\"a\"}",
	} {
		t.Run(name, func(t *testing.T) {
			next := jsonRecords(strings.NewReader(in))
			var ids []string
			for {
				raw, err := next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, raw["id"].(string))
			}
			if len(ids) == 0 || ids[0] != "a" {
				t.Errorf("read %v", ids)
			}
		})
	}
	if _, err := jsonRecords(strings.NewReader("\xff\xfe{\x00}\x00"))(); err == nil || !strings.Contains(err.Error(), "UTF-16") {
		t.Errorf("UTF-16 input: %v", err)
	}
}

// TestBulkImportRefusesInvalidUTF8 runs 'record put' on a large input read ahead in chunks, as an import of
// a spreadsheet export is: a Latin-1 byte deep in it is refused with the record's position, id and byte
// offset, and nothing is written; the same input in UTF-8 behind a byte-order mark is taken whole.
func TestBulkImportRefusesInvalidUTF8(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	run := func(stdin io.Reader, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"--datafile", path}, args...), stdin, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := run(strings.NewReader(""), "init", "--central", "--site-name", "Central", "--auth-code", "central-code"); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	lines := func(name func(i int) string) (string, int64) {
		var b strings.Builder
		var offset int64 = -1
		for i := 1; i <= 3000; i++ {
			line := fmt.Sprintf(`{"id":"item-%05d","name":"%s"}`+"\n", i, name(i))
			if j := firstInvalid([]byte(line)); j >= 0 && offset < 0 {
				offset = int64(b.Len()) + j
			}
			b.WriteString(line)
		}
		return b.String(), offset
	}
	latin1, offset := lines(func(i int) string {
		if i == 2500 {
			return "Caf\xe9 cr\xe8me"
		}
		return fmt.Sprintf("Item %d", i)
	})
	code, stdout, stderr := run(strings.NewReader(latin1), "record", "put", "item", "-")
	want := fmt.Sprintf("\nmsupply-sync: error: record 2500 (id \"item-02500\"): invalid UTF-8 at byte offset %d of the input\n", offset)
	if code != exitFailure || !strings.Contains("\n"+stderr, want) || !strings.Contains(stderr, "nothing was written") {
		t.Errorf("exit %d, stderr %q, want the line %q", code, stderr, want)
	}
	if stdout != "" {
		t.Errorf("the refused import printed ids: %.100q", stdout)
	}
	if code, stdout, _ := run(strings.NewReader(""), "record", "checksum", "--output", "json"); code != 0 || !strings.Contains(stdout, "\"item\": {\n    \"count\": 0,") {
		t.Errorf("after the refused import: %s", stdout)
	}
	utf8Lines, _ := lines(func(i int) string { return fmt.Sprintf("Café %d", i) })
	if code, stdout, stderr := run(strings.NewReader(utf8BOM+utf8Lines), "record", "put", "item", "-"); code != 0 || strings.Count(stdout, "\n") != 3000 {
		t.Fatalf("UTF-8 import behind a byte-order mark: exit %d, %d ids, %s", code, strings.Count(stdout, "\n"), stderr)
	}
	if code, stdout, _ := run(strings.NewReader(""), "record", "get", "item", "item-00001"); code != 0 || !strings.Contains(stdout, `"name": "Café 1"`) {
		t.Errorf("item-00001: %s", stdout)
	}
}
