package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/plural"
)

// checkWaitNotice is how long check-connection waits for an answer before saying that it is waiting.
const checkWaitNotice = time.Second

func (env *Env) checkConnectionCommand() *cli.Command {
	return &cli.Command{
		Name:      "check-connection",
		Usage:     "check that this remote can reach and log in to the central server",
		UsageText: "msupply-sync check-connection [--timeout DURATION] [--output table|json]",
		Description: `Sends one authenticated request and says whether this site can reach the server, and if not,
why: unreachable, no answer within --timeout, wrong name or password, bound to another device,
blocked, a protocol version the server does not accept, or a site with no store (which has nothing
to sync). It needs no unlocking and changes nothing here.

--output json gives server_url, site_id, site_name, initialisation and queue_length.

Examples:
  msupply-sync check-connection
  msupply-sync check-connection --timeout 1m --output json`,
		Flags: []cli.Flag{
			caFileFlag(),
			&cli.DurationFlag{Name: "timeout", Usage: "how long to wait for the server's answer", Value: 15 * time.Second, DefaultText: "15s"},
			outputFlag(),
		},
		Action: env.runCheckConnection,
	}
}

func (env *Env) runCheckConnection(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	timeout := c.Duration("timeout")
	if timeout < time.Second || timeout > time.Hour {
		return usageErrorf("--timeout must be from 1s to 1h, not %s", timeout)
	}
	db, client, settings, err := env.openRemote(c)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(c.Context, timeout)
	defer cancel()
	// A server that accepts the connection and never answers would otherwise leave the command silent for
	// as long as the transport's own timeouts, a minute and a half.
	notice := time.AfterFunc(checkWaitNotice, func() {
		fmt.Fprintf(env.Stderr, "waiting for an answer from %s (up to %s) ...\n", terminalSafe(settings.ServerURL), timeout)
	})
	info, err := client.SiteInfo(ctx)
	notice.Stop()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && c.Context.Err() == nil {
			return failf("no answer from the central server at %s within %s", settings.ServerURL, timeout).
				withHint("check that the URL ('msupply-sync prefs show') is where 'msupply-sync serve' listens, and the network; --timeout waits longer on a slow link")
		}
		return explainSyncError(err, settings)
	}
	if info.HasStore != nil && !*info.HasStore {
		return failf("the connection works, but site %q has no store on the central server, so there is nothing to sync", info.Name).
			withHint("an administrator adds a store with 'msupply-sync store add --site %q' or 'store move' on the central server", info.Name)
	}
	if format == "json" {
		return writeJSON(env.Stdout, connectionView{ServerURL: settings.ServerURL, SiteID: info.SiteID, SiteName: info.Name,
			Initialisation: info.InitialisationStatus, QueueLength: info.QueueLength})
	}
	fmt.Fprintf(env.Stdout, "connection ok: %s knows this remote as site %d %q (initialisation %s, %s waiting)\n",
		settings.ServerURL, info.SiteID, info.Name, info.InitialisationStatus, plural.Count(info.QueueLength, "record", "records"))
	return nil
}

// connectionView is check-connection's JSON: what the central server said about this remote.
type connectionView struct {
	ServerURL      string `json:"server_url"`
	SiteID         int64  `json:"site_id"`
	SiteName       string `json:"site_name"`
	Initialisation string `json:"initialisation"`
	QueueLength    int64  `json:"queue_length"`
}
