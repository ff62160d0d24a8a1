package commands

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/plural"
)

func (env *Env) syncCommand() *cli.Command {
	return &cli.Command{
		Name:  "sync",
		Usage: "generate, retrieve and inspect sync records",
		Subcommands: []*cli.Command{
			{
				Name:      "generate",
				Usage:     "queue records to be sent again",
				UsageText: "msupply-sync sync generate --new | --existing [--site SITE]",
				Description: `On the central server, --new queues everything a site (default: every remote site) needs to
initialise a new datafile: master data and all store data of its stores; --existing queues the store
data only. With --site, the master data goes into that site's own queue and no other site downloads
anything; without it, every remote site reads all master data again. Needs the sync settings
unlocked. On a remote, both queue all store data of its stores to be pushed again, to refresh the
central server's copy.

Examples:
  msupply-sync sync generate --new --site North
  msupply-sync sync generate --existing`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "new", Usage: "everything a new datafile needs"},
					&cli.BoolFlag{Name: "existing", Usage: "store data only"},
					&cli.StringFlag{Name: "site", Usage: "only for this site (central)"},
				},
				Action: env.runSyncGenerate,
			},
			{
				Name:      "retrieve",
				Usage:     "pull what waits for this remote on the central server, without pushing",
				UsageText: "msupply-sync sync retrieve",
				Description: `Pulls master data and this site's store data, integrates and acknowledges them; this site's
own changes stay here until the next full sync.

Example:
  msupply-sync sync retrieve`,
				Flags:  []cli.Flag{caFileFlag(), logFormatFlag(), logLevelFlag()},
				Action: env.runSyncRetrieve,
			},
			{
				Name:      "parked",
				Usage:     "list the records the central server holds back, with their reasons",
				UsageText: "msupply-sync sync parked [--output table|json]",
				Description: `A record a site pushed that cannot be integrated yet is parked on the central server, never
dropped: it refers to a record the server does not have (not yet sent, or master data deleted on the
server), or its store was moved away from the site by 'store move --force'. The server tries parked
records again after each push of their site and every minute ('serve --retry-parked'); restoring
what they refer to (for example 'record put item' with the deleted item's id) lets them in.
--output json gives site_id, site, table, id, reason, since and attempts for each.

Example:
  msupply-sync sync parked --output json`,
				Flags:  []cli.Flag{outputFlag()},
				Action: env.runSyncParked,
			},
			{
				Name:      "status",
				Usage:     "show how sync stands",
				UsageText: "msupply-sync sync status [--output table|json]",
				Description: `On a remote: the last run with its steps, changes waiting to be pushed, records waiting on the
server and in the local buffer, and whether the datafile is initialised. On the central server:
each site's last completed sync, when it was last heard from at all, and the records queued for it.

Example:
  msupply-sync sync status --output json`,
				Flags:  []cli.Flag{outputFlag()},
				Action: env.runSyncStatus,
			},
		},
	}
}

func (env *Env) runSyncGenerate(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	if c.Bool("new") == c.Bool("existing") {
		return usageErrorf("say what to generate: --new or --existing")
	}
	db, s, err := openWithSettings(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if s.Role == datafile.RoleRemote {
		if c.IsSet("site") {
			return usageErrorf("--site is for the central server; a remote generates its own stores' data")
		}
		bar, _ := env.newProgress()
		n, err := db.GenerateForCentral(c.Context)
		if err != nil {
			return err
		}
		bar.Update("queued", n, n)
		fmt.Fprintf(env.Stdout, "queued %s to push to the central server\n", plural.Count(n, "record", "records"))
		return nil
	}
	var siteID int64
	if ref := c.String("site"); ref != "" {
		site, err := db.FindSite(c.Context, ref)
		if err != nil {
			return err
		}
		if site.ID == datafile.CentralSiteID {
			return failf("the central site holds everything already; name a remote site")
		}
		siteID = site.ID
	}
	bar, _ := env.newProgress()
	n, err := db.GenerateForSites(c.Context, siteID, c.Bool("new"))
	if err != nil {
		return err
	}
	bar.Update("queued", n, n)
	fmt.Fprintf(env.Stdout, "queued %s for remote sites\n", plural.Count(n, "record", "records"))
	return nil
}

func (env *Env) runSyncRetrieve(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	s, err := env.openSync(c, nil, c.Context.Done())
	if err != nil {
		return err
	}
	defer s.db.Close()
	lock, err := claimSync(c.Context, s.db, s.Log, false)
	if err != nil {
		return err
	}
	defer lock.Release()
	res, err := s.Cycle(context.WithoutCancel(c.Context), false)
	s.bar.Finish()
	logCycle(s.Log, "sync retrieve", res, err)
	if err != nil {
		return explainSyncError(err, s.settings)
	}
	fmt.Fprintf(env.Stdout, "retrieved: %s\n", summary(res))
	return incomplete(res)
}

type remoteStatus struct {
	Role              string           `json:"role"`
	SiteID            int64            `json:"site_id"`
	SiteName          string           `json:"site_name"`
	ServerURL         string           `json:"server_url"`
	Initialisation    string           `json:"initialisation"`
	LastSyncAt        *time.Time       `json:"last_sync_at"`
	LastSyncAgo       *int64           `json:"last_sync_ago_seconds"`
	Staleness         string           `json:"staleness"`
	UnsentRecords     int64            `json:"unsent_records"`
	ServerQueueLength int64            `json:"server_queue_length"`
	BufferedRecords   int64            `json:"buffered_records"`
	BufferedErrors    int64            `json:"buffered_errors"`
	TransfersPending  int              `json:"transfers_pending"`
	LastRun           *datafile.RunLog `json:"last_run"`
}

type centralSiteStatus struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	LastSyncAt    *time.Time `json:"last_sync_at"`
	LastContactAt *time.Time `json:"last_contact_at"`
	LastSyncAgo   *int64     `json:"last_sync_ago_seconds"`
	Staleness     string     `json:"staleness"`
	QueuedRecords int64      `json:"queued_records"`
	UnsentRecords int64      `json:"unsent_records"`
	ParkedRecords int64      `json:"parked_records"`
	Blocked       bool       `json:"blocked"`
	// TransfersPending counts the transfers from or to the site's stores still on their way.
	TransfersPending int `json:"transfers_pending"`
}

func (env *Env) runSyncStatus(c *cli.Context) error {
	db, format, s, err := openFor(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if s.Role == datafile.RoleCentral {
		return env.centralStatus(c, db, format)
	}
	st, err := db.SyncState(c.Context)
	if err != nil {
		return err
	}
	now := Clock()
	v := remoteStatus{Role: string(s.Role), SiteID: s.ThisSiteID, SiteName: s.SiteName, ServerURL: s.ServerURL,
		LastSyncAt: st.LastSuccessAt, ServerQueueLength: st.ServerQueueLength, Initialisation: "new",
		Staleness: staleness(st.LastSuccessAt, now)}
	if st.LastSuccessAt != nil {
		secs := int64(now.Sub(*st.LastSuccessAt).Seconds())
		v.LastSyncAgo = &secs
	}
	switch {
	case st.Initialised:
		v.Initialisation = "completed"
	case st.InitRequested:
		v.Initialisation = "started"
	}
	if v.UnsentRecords, err = db.UnsentCount(c.Context); err != nil {
		return err
	}
	if v.BufferedRecords, v.BufferedErrors, err = db.BufferedCount(c.Context); err != nil {
		return err
	}
	if v.LastRun, err = db.LastRun(c.Context); err != nil {
		return err
	}
	if v.TransfersPending, err = db.PendingTransfers(c.Context); err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, v)
	}
	last := lastSyncCell(v.LastSyncAt, now)
	if v.LastSyncAt != nil {
		last = v.LastSyncAt.Local().Format("2006-01-02 15:04:05") + ", " + last
	}
	rows := [][]string{
		{"site", fmt.Sprintf("%d %s", v.SiteID, v.SiteName)},
		{"server", v.ServerURL},
		{"initialisation", v.Initialisation},
		{"last successful sync", last},
		{"changes waiting to be pushed", strconv.FormatInt(v.UnsentRecords, 10)},
		{"records waiting on the server", strconv.FormatInt(v.ServerQueueLength, 10)},
		{"records buffered here", fmt.Sprintf("%d (%d with errors)", v.BufferedRecords, v.BufferedErrors)},
		{"transfers on their way", fmt.Sprintf("%d ('msupply-sync transfer list --pending')", v.TransfersPending)},
	}
	if r := v.LastRun; r != nil {
		state := "running or interrupted"
		if r.FinishedAt != nil {
			state = "finished " + r.FinishedAt.Local().Format("2006-01-02 15:04:05")
		}
		if r.Error != "" {
			state += ": " + r.Error
		}
		rows = append(rows,
			[]string{"last run", fmt.Sprintf("%s, started %s, %s", r.Kind, r.StartedAt.Local().Format("2006-01-02 15:04:05"), state)},
			[]string{"  push", fmt.Sprintf("%d/%d (%d refused, %d parked on the server)", r.PushDone, r.PushTotal, r.Rejected, r.Parked)},
			[]string{"  pull master data", strconv.FormatInt(r.PullCentralDone, 10)},
			[]string{"  pull store data", fmt.Sprintf("%d/%d", r.PullQueueDone, r.PullQueueTotal)},
			[]string{"  integrate", fmt.Sprintf("%d/%d (%s)", r.IntegrateDone, r.IntegrateTotal, plural.Count(r.IntegrationErrors, "error", "errors"))},
		)
	}
	col := env.colours()
	paint := func(r, c int) string {
		if r != 3 || c != 1 { // the last successful sync
			return ""
		}
		return col.staleness(v.Staleness)
	}
	return writePaintedTable(env.Stdout, []string{"sync", "status"}, rows, "", paint)
}

func (env *Env) centralStatus(c *cli.Context, db *datafile.DB, format string) error {
	sites, err := db.SiteSummaries(c.Context)
	if err != nil {
		return err
	}
	now := Clock()
	out := []centralSiteStatus{}
	for _, s := range sites {
		v := centralSiteStatus{ID: s.ID, Name: s.Name, LastSyncAt: s.LastSyncAt, LastContactAt: s.LastContactAt, Staleness: staleness(s.LastSyncAt, now),
			QueuedRecords: s.Queued, UnsentRecords: s.Unsent, ParkedRecords: s.Parked, Blocked: s.Blocked, TransfersPending: s.TransfersPending}
		if s.LastSyncAt != nil {
			secs := int64(now.Sub(*s.LastSyncAt).Seconds())
			v.LastSyncAgo = &secs
		}
		out = append(out, v)
	}
	if format == "json" {
		return writeJSON(env.Stdout, out)
	}
	col := env.colours()
	rows := [][]string{}
	parked := int64(0)
	for _, s := range out {
		rows = append(rows, []string{strconv.FormatInt(s.ID, 10), s.Name, lastSyncCell(s.LastSyncAt, now), ago(s.LastContactAt, now),
			strconv.FormatInt(s.QueuedRecords, 10), strconv.FormatInt(s.UnsentRecords, 10), strconv.FormatInt(s.ParkedRecords, 10),
			strconv.Itoa(s.TransfersPending), yesNo(s.Blocked)})
		parked += s.ParkedRecords
	}
	paint := func(r, c int) string {
		if c != 2 {
			return ""
		}
		return col.staleness(out[r].Staleness)
	}
	footer := plural.Count(len(out), "remote site", "remote sites")
	if parked > 0 {
		footer += fmt.Sprintf("; %s ('msupply-sync sync parked')", plural.Count(parked, "parked record", "parked records"))
	}
	return writePaintedTable(env.Stdout, []string{"id", "site", "last sync", "last contact", "queued for it", "unsent there", "parked here", "transfers on their way", "blocked"}, rows, footer, paint)
}

func (env *Env) runSyncParked(c *cli.Context) error {
	db, format, s, err := openFor(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if s.Role != datafile.RoleCentral {
		return failf("records are parked on the central server; run this there").
			withHint("on a remote, 'msupply-sync sync status' shows what waits in its own buffer")
	}
	parked, err := db.ParkedRecords(c.Context)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, parked)
	}
	rows := make([][]string, 0, len(parked))
	for _, p := range parked {
		rows = append(rows, []string{fmt.Sprintf("%d %s", p.SiteID, p.Site), p.Table, p.RecordID, p.Reason,
			p.Since.Local().Format("2006-01-02 15:04:05"), strconv.Itoa(p.Attempts)})
	}
	return writeTable(env.Stdout, []string{"site", "table", "id", "reason", "since", "attempts"}, rows, plural.Count(len(parked), "parked record", "parked records"))
}
