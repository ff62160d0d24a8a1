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
			if got := (colourer{}).lastSyncCell(tt.last, now); got != tt.wantCell {
				t.Errorf("cell = %q, want %q", got, tt.wantCell)
			}
		})
	}
	if got := (colourer{on: true}).lastSyncCell(at(80*time.Hour), now); got != "\033[31m3d ago (OVER 3 DAYS)\033[0m" {
		t.Errorf("coloured cell = %q", got)
	}
}
