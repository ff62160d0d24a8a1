package commands

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// How far behind a site may fall before it is flagged.
const (
	staleAfter     = 24 * time.Hour
	veryStaleAfter = 72 * time.Hour
)

// Staleness values, as JSON carries them.
const (
	stalenessNever    = "never_synced"
	stalenessOK       = "ok"
	stalenessOver1Day = "over_1_day"
	stalenessOver3Day = "over_3_days"
)

func staleness(last *time.Time, now time.Time) string {
	switch {
	case last == nil:
		return stalenessNever
	case now.Sub(*last) > veryStaleAfter:
		return stalenessOver3Day
	case now.Sub(*last) > staleAfter:
		return stalenessOver1Day
	}
	return stalenessOK
}

// ago says how long ago t was, the way a person would: "5m ago", "3h ago", "4d ago".
func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// siteView is a site as list and show print it: the stored fields and how far behind it is.
type siteView struct {
	datafile.Site
	LastSyncAgoSeconds *int64 `json:"last_sync_ago_seconds"`
	Staleness          string `json:"staleness"`
	QueuedRecords      int    `json:"queued_records"`
	UnsentRecords      int    `json:"unsent_records"`
	ParkedRecords      int    `json:"parked_records"`
}

func newSiteView(s datafile.Site, now time.Time) siteView {
	v := siteView{Site: s, Staleness: staleness(s.LastSyncAt, now), QueuedRecords: s.Queued, UnsentRecords: s.UnsentRecords, ParkedRecords: s.Parked}
	if s.LastSyncAt != nil {
		secs := int64(now.Sub(*s.LastSyncAt).Seconds())
		v.LastSyncAgoSeconds = &secs
	}
	return v
}

// colourer gives the colours of flagged cells on a terminal, and none elsewhere or when NO_COLOR is set.
type colourer struct{ on bool }

func (env *Env) colours() colourer {
	f, ok := env.Stdout.(*os.File)
	return colourer{on: ok && term.IsTerminal(int(f.Fd())) && env.Getenv("NO_COLOR") == ""}
}

// staleness returns the SGR colour code for a staleness level, for writePaintedTable: "" when the level is
// not flagged or colours are off.
func (c colourer) staleness(level string) string {
	if !c.on {
		return ""
	}
	switch level {
	case stalenessOver1Day:
		return "33" // yellow
	case stalenessOver3Day, stalenessNever:
		return "31" // red
	}
	return ""
}

// lastSyncCell is the "last sync" cell: how long ago, flagged when a site is a day or three behind.
func lastSyncCell(last *time.Time, now time.Time) string {
	text := ago(last, now)
	switch staleness(last, now) {
	case stalenessOver1Day:
		text += " (over a day)"
	case stalenessOver3Day:
		text += " (OVER 3 DAYS)"
	}
	return text
}
