package commands

import (
	"fmt"

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
--dry-run prints what would change and changes nothing. Needs the sync settings unlocked.

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
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := db.Settings(c.Context)
	if err != nil {
		return err
	}
	if s.Role != datafile.RoleCentral {
		return failf("provisioning is done on the central server's datafile")
	}
	dry := c.Bool("dry-run")
	var steps []provision.Step
	err = db.Atomically(c.Context, func(tx *datafile.DB) error {
		var err error
		if steps, err = provision.Plan(c.Context, tx, f); err != nil {
			return err
		}
		if dry || len(steps) == 0 {
			return nil
		}
		return provision.Apply(c.Context, tx, steps)
	})
	if err != nil {
		return err
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
