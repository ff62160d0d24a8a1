package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/plural"
)

func (env *Env) checkConnectionCommand() *cli.Command {
	return &cli.Command{
		Name:      "check-connection",
		Usage:     "check that this remote can reach and log in to the central server",
		UsageText: "msupply-sync check-connection",
		Description: `Sends one authenticated request and says whether this site can reach the server, and if not,
why: unreachable, wrong name or password, bound to another device, blocked, or a protocol version
the server does not accept. It needs no unlocking and changes nothing here.

--output json gives server_url, site_id, site_name, initialisation and queue_length.

Examples:
  msupply-sync check-connection
  msupply-sync check-connection --output json`,
		Flags: []cli.Flag{caFileFlag(), outputFlag()},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c); err != nil {
				return err
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			db, client, settings, err := env.openRemote(c)
			if err != nil {
				return err
			}
			defer db.Close()
			info, err := client.SiteInfo(c.Context)
			if err != nil {
				return explainSyncError(err, settings)
			}
			if format == "json" {
				return writeJSON(env.Stdout, connectionView{ServerURL: settings.ServerURL, SiteID: info.SiteID, SiteName: info.Name,
					Initialisation: info.InitialisationStatus, QueueLength: info.QueueLength})
			}
			fmt.Fprintf(env.Stdout, "connection ok: %s knows this remote as site %d %q (initialisation %s, %s waiting)\n",
				settings.ServerURL, info.SiteID, info.Name, info.InitialisationStatus, plural.Count(info.QueueLength, "record", "records"))
			return nil
		},
	}
}

// connectionView is check-connection's JSON: what the central server said about this remote.
type connectionView struct {
	ServerURL      string `json:"server_url"`
	SiteID         int64  `json:"site_id"`
	SiteName       string `json:"site_name"`
	Initialisation string `json:"initialisation"`
	QueueLength    int64  `json:"queue_length"`
}
