package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/provision"
)

func (env *Env) provisionCommand() *cli.Command {
	return &cli.Command{
		Name:      "provision",
		Usage:     "create or update sites and stores from a TOML file",
		UsageText: "msupply-sync provision FILE.toml [--dry-run]",
		ArgsUsage: "FILE.toml",
		Description: `Brings the central datafile's sites and stores to what the file describes, changing only what
differs: running it twice changes nothing the second time. All of it is applied or none of it.
Needs the sync settings unlocked. --dry-run makes every change and every check of the real run,
then undoes them all and prints what would change: it refuses what the real run would refuse,
and needs no unlocking. An error names the file and the site or store it is about.

The file:
  [[store]]
  code = "N1"
  name = "North Hospital"

  [[site]]
  name = "North"              # the site name remotes authenticate with
  code = "NTH"
  type = "standalone"         # or "mobile"
  password_env = "NORTH_PASSWORD"   # or password = "..."
  stores = ["N1"]

Example:
  NORTH_PASSWORD=... msupply-sync provision sites.toml --dry-run`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would change without changing it"},
		},
		Action: env.runProvision,
	}
}

func (env *Env) runProvision(c *cli.Context) error {
	if err := requireArgs(c, "FILE.toml"); err != nil {
		return err
	}
	f, err := provision.Load(c.Args().First(), env.Getenv)
	if err != nil {
		return failf("%v", err).withHint("fix the file and run again; nothing was changed")
	}
	db, s, err := openWithSettings(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if s.Role != datafile.RoleCentral {
		return failf("provisioning is done on the central server's datafile")
	}
	dry := c.Bool("dry-run")
	// A dry run carries out every step as the real run does and then rolls them all back, so that it
	// approves exactly what the real run would.
	run := db.Atomically
	if dry {
		run = db.Rehearse
	}
	var steps []provision.Step
	err = run(c.Context, func(tx *datafile.DB) error {
		var err error
		if steps, err = provision.Plan(c.Context, tx, f); err != nil || len(steps) == 0 {
			return err
		}
		return provision.Apply(c.Context, tx, steps)
	})
	if err != nil {
		return provisionError(c.Args().First(), err)
	}
	verb := "changed"
	if dry {
		verb = "would change"
	}
	for _, d := range provision.Descriptions(steps) {
		fmt.Fprintf(env.Stdout, "%s: %s\n", verb, terminalSafe(d))
	}
	if len(steps) == 0 {
		fmt.Fprintln(env.Stdout, "nothing to change: the datafile already matches the file")
	}
	return env.printPendingMoves(c, db)
}

// provisionError names the file, and the site or store a failed step was about, in front of what the
// datafile said was wrong; the lock and a wrong authorisation code are about the command, and stand as
// they are.
func provisionError(path string, err error) error {
	if errors.Is(err, datafile.ErrLocked) || errors.Is(err, datafile.ErrWrongAuthCode) || errors.Is(err, context.Canceled) {
		return err
	}
	var de *datafile.Error
	if !errors.As(err, &de) {
		return err // the datafile failed, not the file
	}
	msg, hint := de.Message, "fix the file and run again"
	if de.Hint != "" {
		hint = de.Hint
	}
	var se *provision.StepError
	if errors.As(err, &se) && !strings.Contains(msg, se.Subject) {
		msg = se.Subject + ": " + msg
	}
	return failf("%s: %s", path, msg).withHint("%s; nothing was changed", hint)
}
