// Package progress shows how far long work has got on standard error: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (logs and pipes).
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/msupply-foundation/msupply-sync/plural"
)

// Reporter prints progress of named steps.
type Reporter struct {
	w        io.Writer
	terminal bool
	every    time.Duration

	mu       sync.Mutex
	start    map[string]time.Time
	lastLine map[string]time.Time
	drawn    bool
}

// New returns a Reporter writing to w; terminal selects the redrawn bar.
func New(w io.Writer, terminal bool) *Reporter {
	return &Reporter{w: w, terminal: terminal, every: 3 * time.Second, start: map[string]time.Time{}, lastLine: map[string]time.Time{}}
}

// Update reports that step has done of total units. total may be 0 when unknown.
func (r *Reporter) Update(step string, done, total int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if _, ok := r.start[step]; !ok {
		r.start[step] = now
	}
	if total > 0 && done > total {
		// A total that was an estimate fell short; a count above its total reads as a fault.
		total = done
	}
	finished := total > 0 && done >= total
	if r.terminal {
		fmt.Fprintf(r.w, "\r\033[K%s", r.line(step, done, total, now))
		r.drawn = true
		if finished {
			fmt.Fprintln(r.w)
			r.drawn = false
		}
		return
	}
	if !finished && now.Sub(r.lastLine[step]) < r.every {
		return
	}
	r.lastLine[step] = now
	fmt.Fprintln(r.w, r.line(step, done, total, now))
}

func (r *Reporter) line(step string, done, total int64, now time.Time) string {
	elapsed := now.Sub(r.start[step]).Seconds()
	rate := ""
	if elapsed > 0.5 && done > 0 {
		perSec := float64(done) / elapsed
		rate = fmt.Sprintf(" %.0f/s", perSec)
		if total > done && perSec > 0 {
			rate += fmt.Sprintf(", %s left", (time.Duration(float64(total-done)/perSec) * time.Second).Round(time.Second))
		}
	}
	if total <= 0 {
		return fmt.Sprintf("%s %s%s", step, plural.Count(done, "record", "records"), rate)
	}
	if !r.terminal {
		return fmt.Sprintf("%s %d/%s%s", step, done, plural.Count(total, "record", "records"), rate)
	}
	const width = 30
	filled := int(float64(width) * float64(min(done, total)) / float64(total))
	return fmt.Sprintf("%-18s [%s%s] %d/%d%s", step, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total, rate)
}

// Finish ends a bar left open.
func (r *Reporter) Finish() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drawn {
		fmt.Fprintln(r.w)
		r.drawn = false
	}
}
