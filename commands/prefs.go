package commands

import (
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/plural"
)

func (env *Env) prefsCommand() *cli.Command {
	return &cli.Command{
		Name:  "prefs",
		Usage: "view or change this site's sync preferences",
		Subcommands: []*cli.Command{
			{
				Name:        "show",
				Usage:       "show the sync preferences",
				UsageText:   "msupply-sync prefs show [--output table|json]",
				Description: "Example:\n  msupply-sync prefs show --output json",
				Flags:       []cli.Flag{outputFlag()},
				Action:      env.runPrefsShow,
			},
			{
				Name:      "set",
				Usage:     "change sync preferences",
				UsageText: "msupply-sync prefs set [--interval MIN] [--request-size N] [--server-url URL] [--alt-http-client BOOL]",
				Description: `The sync interval and the alternate-HTTP-client switch can be changed without unlocking once
this site takes part in sync; the request size and server URL need the sync settings unlocked.
An interval of 0 pauses sync. The interval, request size and server URL apply to remote sites.
The request size is a ceiling: the remote asks for fewer records after failures or slow answers
and grows back while requests succeed, never past it; setting it starts again from it.

Examples:
  msupply-sync prefs set --interval 5
  msupply-sync prefs set --alt-http-client true
  msupply-sync prefs set --server-url https://central.example.org:8443 --auth-code "$CODE"`,
				Flags: []cli.Flag{
					unsetIntFlag{&cli.IntFlag{Name: "interval", Usage: fmt.Sprintf("minutes between syncs (1 to %d, a week); 0 pauses sync", datafile.MaxSyncInterval)}},
					unsetIntFlag{&cli.IntFlag{Name: "request-size", Usage: fmt.Sprintf("records per sync request (%d to %d)", datafile.MinRequestSize, datafile.MaxRequestSize)}},
					&cli.StringFlag{Name: "server-url", Usage: "the central server's URL"},
					&cli.StringFlag{Name: "alt-http-client", Usage: "true to use the alternate HTTP client (HTTP/1.1, no keep-alive, proxy from the environment)"},
				},
				Action: env.runPrefsSet,
			},
		},
	}
}

// prefsView is prefs show's JSON. The fields that apply only to a remote are left out on central, where
// they would hold settings nothing reads.
type prefsView struct {
	Role         string  `json:"role"`
	SiteID       int64   `json:"site_id"`
	SiteName     string  `json:"site_name"`
	ServerURL    *string `json:"server_url,omitempty"`
	SyncInterval *int    `json:"sync_interval_minutes,omitempty"`
	// RequestSize is what a remote asks for now, adapted to its connection; RequestSizeSetting is what the
	// administrator set, the most it may grow to.
	RequestSize        *int       `json:"request_size,omitempty"`
	RequestSizeSetting *int       `json:"request_size_setting,omitempty"`
	AltHTTPClient      bool       `json:"alt_http_client"`
	Locked             bool       `json:"locked"`
	UnlockedUntil      *time.Time `json:"unlocked_until"`
}

func (env *Env) runPrefsShow(c *cli.Context) error {
	db, format, s, err := openFor(c)
	if err != nil {
		return err
	}
	defer db.Close()
	v := prefsView{Role: string(s.Role), SiteID: s.ThisSiteID, SiteName: s.SiteName, AltHTTPClient: s.AltHTTPClient, Locked: true}
	if s.Role == datafile.RoleRemote {
		size := s.CurrentRequestSize()
		v.ServerURL, v.SyncInterval, v.RequestSize, v.RequestSizeSetting = &s.ServerURL, &s.SyncInterval, &size, &s.RequestSizeSetting
	}
	if s.Role == datafile.RoleCentral {
		if site, err := db.FindSite(c.Context, "1"); err == nil {
			v.SiteName = site.Name
		}
	}
	if Clock().Before(s.UnlockedUntil) {
		v.Locked = false
		v.UnlockedUntil = &s.UnlockedUntil
	}
	if format == "json" {
		return writeJSON(env.Stdout, v)
	}
	siteID := "not yet known (set by the first sync)"
	if v.SiteID > 0 {
		siteID = strconv.FormatInt(v.SiteID, 10)
	}
	lock := "locked"
	if !v.Locked {
		lock = "unlocked until " + v.UnlockedUntil.Local().Format("2006-01-02 15:04:05 MST")
	}
	rows := [][]string{
		{"role", v.Role},
		{"site ID", siteID},
		{"site name", v.SiteName},
	}
	if s.Role == datafile.RoleRemote {
		interval := plural.Count(s.SyncInterval, "minute", "minutes")
		if s.SyncInterval == 0 {
			interval = "0 (sync paused)"
		}
		rows = append(rows, []string{"server URL", s.ServerURL}, []string{"sync interval", interval},
			[]string{"sync request size setting", plural.Count(s.RequestSizeSetting, "record", "records") + " (the most a request asks for)"},
			[]string{"sync request size now", plural.Count(s.CurrentRequestSize(), "record", "records") + " (adapted to the connection)"})
	}
	rows = append(rows, []string{"alternate HTTP client", strconv.FormatBool(v.AltHTTPClient)}, []string{"sync settings", lock})
	return writeTable(env.Stdout, []string{"preference", "value"}, rows, "")
}

func (env *Env) runPrefsSet(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	var u datafile.PrefsUpdate
	if c.IsSet("interval") {
		v := c.Int("interval")
		if err := datafile.ValidateSyncInterval(v); err != nil {
			return asUsage(err)
		}
		u.SyncInterval = &v
	}
	if c.IsSet("request-size") {
		v := c.Int("request-size")
		if v < datafile.MinRequestSize || v > datafile.MaxRequestSize {
			return usageErrorf("the sync request size must be between %d and %d records", datafile.MinRequestSize, datafile.MaxRequestSize)
		}
		u.RequestSize = &v
	}
	if c.IsSet("server-url") {
		v := c.String("server-url")
		if err := datafile.ValidateServerURL(v); err != nil {
			return asUsage(err)
		}
		u.ServerURL = &v
	}
	if c.IsSet("alt-http-client") {
		b, err := strconv.ParseBool(c.String("alt-http-client"))
		if err != nil {
			return usageErrorf("--alt-http-client takes true or false, not %q", c.String("alt-http-client"))
		}
		u.AltHTTPClient = &b
	}
	if u == (datafile.PrefsUpdate{}) {
		return usageErrorf("nothing to change").withHint("give at least one of --interval, --request-size, --server-url, --alt-http-client")
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.UpdatePrefs(c.Context, u); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "sync preferences updated")
	return nil
}

// unsetIntFlag is an int flag whose help shows no default: left out, it changes nothing, and urfave/cli
// would otherwise print the zero value as if it were one ("(default: 0)").
type unsetIntFlag struct{ *cli.IntFlag }

func (unsetIntFlag) GetDefaultText() string { return "" }

func (unsetIntFlag) GetValue() string { return "" }

func (f unsetIntFlag) String() string { return cli.FlagStringer(f) }
