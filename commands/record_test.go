package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// interruptingReader yields JSON lines and cancels the import after the first batch of them, as Ctrl-C
// part way through a long import does.
type interruptingReader struct {
	n, cancelAt, total int
	cancel             context.CancelFunc
	buf                bytes.Buffer
}

func (r *interruptingReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.n < r.total {
		r.n++
		if r.n == r.cancelAt {
			r.cancel()
		}
		fmt.Fprintf(&r.buf, `{"id":"item-%05d","name":"Item %d"}`+"\n", r.n, r.n)
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

func TestInterruptedImportSaysNothingWasWritten(t *testing.T) {
	datafile := filepath.Join(t.TempDir(), "central.db")
	run := func(ctx context.Context, stdin io.Reader, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(ctx, append([]string{"--datafile", datafile}, args...), stdin, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := run(context.Background(), strings.NewReader(""), "init", "--central", "--site-name", "Central", "--auth-code", "central-code"); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code, stdout, stderr := run(ctx, &interruptingReader{cancelAt: 1500, total: 50000, cancel: cancel}, "record", "put", "item", "-")
	if code != exitFailure || !strings.Contains(stderr, "msupply-sync: error: import interrupted; nothing was written") {
		t.Fatalf("interrupted import: exit %d, stderr %q", code, stderr)
	}
	if stdout != "" {
		t.Fatalf("an interrupted import printed ids: %.200q", stdout)
	}
	code, stdout, stderr = run(context.Background(), strings.NewReader(""), "record", "checksum", "--output", "json")
	if code != 0 || !strings.Contains(stdout, "\"item\": {\n    \"count\": 0,") {
		t.Fatalf("after the interrupted import: %d %s %s", code, stdout, stderr)
	}
}

func TestReadAheadKeepsOrderAndTheError(t *testing.T) {
	bad := errors.New("invalid JSON: record 3001")
	n := 0
	next, stop := readAhead(func() (map[string]any, error) {
		if n == 3000 {
			return nil, bad
		}
		n++
		return map[string]any{"id": n}, nil
	}, 64)
	defer stop()
	for want := 1; want <= 3000; want++ {
		raw, err := next()
		if err != nil || raw["id"] != want {
			t.Fatalf("record %d: %v %v", want, raw, err)
		}
	}
	for i := 0; i < 2; i++ {
		if _, err := next(); err != bad {
			t.Fatalf("after the records: %v, want the source's error", err)
		}
	}
}

// A write that fails early must not wait for input that may never come (a pipe left open).
func TestReadAheadStopsWithoutWaitingForInput(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	reading := make(chan struct{})
	_, stop := readAhead(func() (map[string]any, error) {
		close(reading)
		<-block
		return nil, io.EOF
	}, 8)
	<-reading
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop waited for the blocked read")
	}
}

// itemLines yields n items as JSON lines, every third without an id (which the import then makes up), and
// calls at, if set, with the number of each line as it is read.
type itemLines struct {
	n, done int
	bad     int // a line whose record is refused; 0 for none
	at      func(line int)
	buf     bytes.Buffer
}

func itemID(i int) string { return fmt.Sprintf("0000%04x-4c1e-4a2b-9d3f-%012x", i%65536, i) }

func (r *itemLines) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.done < r.n {
		r.done++
		if r.at != nil {
			r.at(r.done)
		}
		switch {
		case r.done == r.bad:
			fmt.Fprintf(&r.buf, `{"id":%q,"name":42}`+"\n", itemID(r.done))
		case r.done%3 == 0:
			fmt.Fprintf(&r.buf, `{"code":"C%d","name":"Item %d"}`+"\n", r.done, r.done)
		default:
			fmt.Fprintf(&r.buf, `{"id":%q,"code":"C%d","name":"Item %d"}`+"\n", itemID(r.done), r.done, r.done)
		}
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

// newCentral makes a central datafile in its own directory and returns its path.
func newCentral(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "central.db")
	var stderr bytes.Buffer
	if code := Run(context.Background(), []string{"--datafile", path, "init", "--central", "--site-name", "Central", "--auth-code", "central-code"},
		strings.NewReader(""), io.Discard, &stderr); code != 0 {
		t.Fatalf("init: %d %s", code, stderr.String())
	}
	return path
}

// datafileDirHolds fails the test if the directory of the datafile at path holds anything but it and
// SQLite's own files beside it.
func datafileDirHolds(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); strings.TrimSuffix(strings.TrimSuffix(name, "-wal"), "-shm") != filepath.Base(path) {
			t.Errorf("left beside the datafile: %s", name)
		}
	}
}

// Far more ids than an import keeps in memory: every one printed, once, in input order.
func TestRecordPutPrintsEveryIDInOrder(t *testing.T) {
	path := newCentral(t)
	const n = 20000 // 37 bytes an id: about ten times spillAt
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"--datafile", path, "record", "put", "item", "-"}, &itemLines{n: n}, &stdout, &stderr); code != 0 {
		t.Fatalf("record put: %d %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d ids printed, want %d", len(lines), n)
	}
	made := map[string]bool{}
	for i, id := range lines {
		line := i + 1
		if line%3 != 0 {
			if id != itemID(line) {
				t.Fatalf("line %d: id %q, want %q", line, id, itemID(line))
			}
			continue
		}
		if len(id) != 36 || made[id] {
			t.Fatalf("line %d: made-up id %q is not a new UUID", line, id)
		}
		made[id] = true
	}
	var got bytes.Buffer
	if code := Run(context.Background(), []string{"--datafile", path, "record", "get", "item", lines[n-1]}, strings.NewReader(""), &got, &stderr); code != 0 ||
		!strings.Contains(got.String(), fmt.Sprintf(`"code": "C%d"`, n)) {
		t.Fatalf("the last id printed: %d %s %s", code, got.String(), stderr.String())
	}
	datafileDirHolds(t, path)
}

// A record refused after thousands of ids were kept: nothing printed, and no file of them left behind.
func TestRefusedRecordPutPrintsNothingAndLeavesNoFile(t *testing.T) {
	path := newCentral(t)
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"--datafile", path, "record", "put", "item", "-"}, &itemLines{n: 20000, bad: 15000}, &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "record 15000 (id \""+itemID(15000)+"\"): field name") {
		t.Fatalf("record put: exit %d, stderr %q", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("a refused import printed ids: %.200q", stdout.String())
	}
	datafileDirHolds(t, path)
}

// firstWrite calls fn before the first write to w.
type firstWrite struct {
	w  io.Writer
	fn func()
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if f.fn != nil {
		f.fn()
		f.fn = nil
	}
	return f.w.Write(p)
}

// The ids of an import wait for the commit outside the heap: a million of them held there once took 64 MB
// of live heap, twice that before the collector ran.
func TestRecordPutKeepsIDsOutOfMemory(t *testing.T) {
	path := newCentral(t)
	const n = 80000
	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	var before, printing int64
	in := &itemLines{n: n, at: func(line int) {
		if line == 10000 { // read ahead of the import by up to a few thousand lines
			before = heap()
		}
	}}
	out := &firstWrite{w: io.Discard, fn: func() { printing = heap() }}
	var stderr bytes.Buffer
	if code := Run(context.Background(), []string{"--datafile", path, "record", "put", "item", "-"}, in, out, &stderr); code != 0 {
		t.Fatalf("record put: %d %s", code, stderr.String())
	}
	t.Logf("heap grew by %d bytes", printing-before)
	// Held in the heap, the ids would take at least a string header each (16 bytes) and their text (48).
	if grown := printing - before; grown > n*16 {
		t.Fatalf("the heap grew by %d bytes over the import of %d records: the ids are kept in memory", grown, n)
	}
}
