package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// heapWatcher discards what is written to it, noting the most heap in use seen while it was written to.
type heapWatcher struct {
	writes, bytes int
	peak          uint64
}

func (h *heapWatcher) Write(p []byte) (int, error) {
	h.writes++
	h.bytes += len(p)
	if h.writes%64 == 1 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return len(p), nil
}

// TestRecordListStreams lists far more records than the heap it may use, as a table and as JSON: rows are
// printed as they are read, never all held. Holding them, as record list once did, takes several times
// the bound.
func TestRecordListStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60,000 records")
	}
	const records = 60000
	path := filepath.Join(t.TempDir(), "central.db")
	run := func(stdin io.Reader, stdout io.Writer, args ...string) {
		t.Helper()
		var stderr bytes.Buffer
		if code := Run(context.Background(), append([]string{"--datafile", path}, args...), stdin, stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
	}
	run(strings.NewReader(""), io.Discard, "init", "--central", "--site-name", "Central", "--auth-code", "central-code")
	var lines strings.Builder
	for i := 0; i < records; i++ {
		fmt.Fprintf(&lines, `{"id":"item-%06d","code":"C%06d","name":"Amoxicillin %d mg capsules, blister of ten, for oral use","unit":"capsule"}`+"\n", i, i, i)
	}
	run(strings.NewReader(lines.String()), io.Discard, "record", "put", "item", "-")
	lines.Reset()

	// A low GC target keeps the heap close to what is live, so that the peak measures what is held.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	const bound = 8 << 20
	for _, format := range []string{"json", "table"} {
		t.Run(format, func(t *testing.T) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			out := &heapWatcher{}
			run(strings.NewReader(""), out, "record", "list", "item", "--output", format)
			if out.bytes < 4<<20 {
				t.Fatalf("listed only %d bytes", out.bytes)
			}
			grew := int64(out.peak) - int64(before.HeapAlloc)
			t.Logf("%d bytes listed; heap grew by at most %d KB", out.bytes, grew>>10)
			if grew > bound {
				t.Errorf("listing %d bytes grew the heap by %d MB, over %d MB", out.bytes, grew>>20, bound>>20)
			}
		})
	}
}
