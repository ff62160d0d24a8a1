package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
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
