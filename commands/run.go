package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/syncengine"
)

func (env *Env) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "sync a remote datafile with the central server, every interval or once",
		UsageText: "msupply-sync run --remote [--once]",
		Description: `Each cycle pushes this site's changes, pulls master data and this site's store data, integrates
them and acknowledges them. The first cycle of a new remote datafile initialises it from the central
server, showing progress. Without --once it syncs every sync interval ('msupply-sync prefs set
--interval MIN'; 0 pauses) until SIGINT or SIGTERM, which end it after the batch in flight. A cycle
that the connection failed is tried again sooner: after 30 seconds, then 1, 2, 4 minutes and so on,
never later than the interval. Each cycle carries on where the one before stopped.
--once runs one cycle and exits 0 if it succeeded, 1 if it failed, and 3 if it ran to the end but
records were refused by the central server, parked there ('msupply-sync sync parked' on the server),
or could not be integrated here.

Examples:
  msupply-sync run --remote --once
  msupply-sync run --remote --log-format json`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "remote", Usage: "sync this remote datafile (the only role that runs a sync loop)"},
			&cli.BoolFlag{Name: "once", Usage: "run one sync cycle and exit"},
			caFileFlag(), logFormatFlag(), logLevelFlag(),
		},
		Action: env.runRun,
	}
}

func (env *Env) runRun(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	if !c.Bool("remote") {
		return usageErrorf("run needs --remote").withHint("the central server runs 'msupply-sync serve --central' instead")
	}
	s, err := env.openSync(c, nil, c.Context.Done())
	if err != nil {
		if c.Context.Err() != nil {
			// SIGINT or SIGTERM while the datafile was still being opened, as when a service manager stops the
			// service just after starting it: the service stops as it does between cycles.
			if !c.Bool("once") {
				return nil
			}
			return failf("sync interrupted before it began")
		}
		return err
	}
	defer s.db.Close()
	db, log := s.db, s.Log
	// Requests run to the end of their batch even after a signal: stopping between batches keeps a
	// half-received batch from being thrown away.
	work := context.WithoutCancel(c.Context)
	linkFailures := 0
	for {
		lock, err := claimSync(c.Context, db, log, !c.Bool("once"))
		if err != nil {
			if c.Context.Err() != nil {
				log.Info("sync stopped")
				return nil
			}
			return err
		}
		res, err := s.Cycle(work, true)
		lock.Release()
		s.bar.Finish()
		logCycle(log, "sync cycle", res, err)
		if c.Bool("once") {
			if err != nil {
				return explainSyncError(err, s.settings)
			}
			fmt.Fprintf(env.Stdout, "sync done: %s\n", summary(res))
			return incomplete(res)
		}
		if errors.Is(err, syncengine.ErrStopped) || c.Context.Err() != nil {
			log.Info("sync stopped")
			return nil
		}
		if err != nil && syncengine.Retryable(err) {
			linkFailures++
		} else {
			linkFailures = 0
		}
		if !waitInterval(c.Context, db.Settings, linkFailures) {
			log.Info("sync stopped")
			return nil
		}
	}
}

// retryFailedCycleAfter is the first wait after a cycle the link failed: a site on a link that drops now
// and then carries on within a minute, not an interval later, and waits longer each time it fails again.
var retryFailedCycleAfter = 30 * time.Second

// waitInterval sleeps for the sync interval, read afresh so that a change takes effect without a restart;
// while the interval is 0 (paused) it looks again every minute. After linkFailures cycles in a row that the
// connection failed it waits less: retryFailedCycleAfter, doubling with each, never past the interval. It
// returns false when told to stop.
func waitInterval(ctx context.Context, settings func(context.Context) (datafile.Settings, error), linkFailures int) bool {
	for {
		interval, paused := time.Minute, false
		if s, err := settings(ctx); err == nil {
			interval, paused = s.SyncWait()
		}
		if linkFailures > 0 && !paused {
			interval = min(interval, retryFailedCycleAfter<<min(linkFailures-1, 20))
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(interval):
		}
		if !paused {
			return true
		}
	}
}
