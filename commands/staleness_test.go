package commands

import (
	"testing"
	"time"
)

func TestStaleness(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	tests := []struct {
		name      string
		last      *time.Time
		wantLevel string
		wantCell  string
	}{
		{"never", nil, stalenessNever, "never"},
		{"minutes", at(5 * time.Minute), stalenessOK, "5m ago"},
		{"hours", at(23 * time.Hour), stalenessOK, "23h ago"},
		{"over a day", at(25 * time.Hour), stalenessOver1Day, "25h ago (over a day)"},
		{"over three days", at(80 * time.Hour), stalenessOver3Day, "3d ago (OVER 3 DAYS)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := staleness(tt.last, now); got != tt.wantLevel {
				t.Errorf("staleness = %q, want %q", got, tt.wantLevel)
			}
			if got := lastSyncCell(tt.last, now); got != tt.wantCell {
				t.Errorf("cell = %q, want %q", got, tt.wantCell)
			}
		})
	}
	if got := (colourer{on: true}).staleness(stalenessOver3Day); got != "31" {
		t.Errorf("colour of a site over 3 days behind = %q, want red", got)
	}
	if got := (colourer{}).staleness(stalenessOver3Day); got != "" {
		t.Errorf("colour without a terminal = %q, want none", got)
	}
}

func TestEstimateTotal(t *testing.T) {
	tests := []struct{ done, read, size, want int64 }{
		{1000, 50_000, 200_000, 4000}, // a quarter of the file held 1000 records
		{1000, 50_000, 0, 0},          // not a file: unknown
		{1000, 0, 200_000, 0},
		{4000, 200_000, 200_000, 4000},
		{4100, 200_000, 200_000, 4100}, // never below what is done
	}
	for _, tt := range tests {
		if got := estimateTotal(tt.done, tt.read, tt.size); got != tt.want {
			t.Errorf("estimateTotal(%d, %d, %d) = %d, want %d", tt.done, tt.read, tt.size, got, tt.want)
		}
	}
}
