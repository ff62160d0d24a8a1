package datafile_test

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestCommittedWritesSurviveAProcessCrash copies the datafile and its WAL at random moments while records
// are being committed, as a process killed at that moment would leave them, and opens each copy: it must
// pass SQLite's integrity check and hold every batch whose commit had returned before the copy began.
// Checkpoints are turned off for the writer so that the main file stays still and the WAL only grows, which
// is what makes a copy taken over time equal to the files frozen at one instant.
//
// A copy reads the operating system's cache, not the disk, so this cannot tell whether commits reach the
// disk before they return: that is synchronous=FULL, which TestOpenPragmas checks is in force.
func TestCommittedWritesSurviveAProcessCrash(t *testing.T) {
	db := MustOpenCentral(t)
	ctx := context.Background()
	db.SQL().SetMaxOpenConns(1)
	if _, err := db.SQL().ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for batch := 0; ; batch++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			i := 0
			_, err := db.PutRecords(ctx, "item", func() (map[string]any, error) {
				if i == 20 {
					return nil, io.EOF
				}
				i++
				return map[string]any{"id": fmt.Sprintf("b%05d-%02d", batch, i), "name": "durable"}, nil
			})
			if err != nil {
				done <- err
				return
			}
			committed.Add(20)
		}
	}()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	dir := t.TempDir()
	for n := 0; n < 15; n++ {
		time.Sleep(time.Duration(rng.Intn(40)) * time.Millisecond)
		atLeast := committed.Load()
		copyDir := filepath.Join(dir, fmt.Sprint(n))
		os.Mkdir(copyDir, 0o755)
		for _, suffix := range []string{"", "-wal"} {
			copyFile(t, db.Path()+suffix, filepath.Join(copyDir, "central.db"+suffix))
		}
		copied, err := datafile.Open(ctx, filepath.Join(copyDir, "central.db"))
		if err != nil {
			t.Fatalf("copy %d does not open: %v", n, err)
		}
		var check string
		if err := copied.SQL().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("copy %d: integrity_check = %q, %v", n, check, err)
		}
		var items int64
		if err := copied.SQL().QueryRowContext(ctx, `SELECT count(*) FROM item`).Scan(&items); err != nil {
			t.Fatal(err)
		}
		copied.Close()
		if items < atLeast || items%20 != 0 {
			t.Fatalf("copy %d holds %d items; %d were committed before it was taken, in whole batches of 20", n, items, atLeast)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}
