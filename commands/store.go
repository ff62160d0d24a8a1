package commands

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func (env *Env) storeCommand() *cli.Command {
	return &cli.Command{
		Name:  "store",
		Usage: "list, add, edit and delete stores, and move them between sites",
		Description: `STORE is a store's ID or code. A store is active on exactly one site, and its store data
(invoices, stock) is entered only there. Stores are managed on the central server with the sync
settings unlocked.`,
		Subcommands: []*cli.Command{
			{
				Name:        "list",
				Usage:       "list the stores",
				UsageText:   "msupply-sync store list [--site SITE] [--output table|json]",
				Description: "Example:\n  msupply-sync store list --site North",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "site", Usage: "only the stores of this site"},
					outputFlag(),
				},
				Action: env.runStoreList,
			},
			{
				Name:      "add",
				Usage:     "add a store",
				UsageText: "msupply-sync store add --code CODE --name NAME [--site SITE]",
				Description: `The store is active on the central site unless --site names another. A mobile site holds at
most one store.

Example:
  msupply-sync store add --code N1 --name "North Hospital" --site North`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "code", Usage: "the store's code"},
					&cli.StringFlag{Name: "name", Usage: "the store's name"},
					&cli.StringFlag{Name: "site", Usage: "the site to make it active on (default: the central site)"},
					outputFlag(),
				},
				Action: env.runStoreAdd,
			},
			{
				Name:      "edit",
				Usage:     "rename a store or change its code",
				UsageText: "msupply-sync store edit STORE [--name NAME] [--code CODE]",
				ArgsUsage: "STORE",
				Description: `The changes are made together or not at all, and reach every remote site with its next sync.
Store codes are unique whatever their case.

Example:
  msupply-sync store edit N1 --name "North District Hospital" --code NDH`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "the store's new name"},
					&cli.StringFlag{Name: "code", Usage: "the store's new code"},
					outputFlag(),
				},
				Action: env.runStoreEdit,
			},
			{
				Name:      "delete",
				Usage:     "delete an empty store",
				UsageText: "msupply-sync store delete STORE",
				ArgsUsage: "STORE",
				Description: `Only an empty store can be deleted: one with no store data (invoices, invoice lines, stock
lines), no name standing for it, and no records of it waiting to be integrated. A store on a remote
site is deleted only once that site has sent all its changes. The delete reaches every remote site
with its next sync.

Example:
  msupply-sync store delete N9`,
				Action: env.runStoreDelete,
			},
			{
				Name:      "move",
				Usage:     "make a store active on another site",
				UsageText: "msupply-sync store move STORE --to SITE [--yes]",
				ArgsUsage: "STORE",
				Description: `All of the store's data is queued to its new site. If the site it leaves still has changes
for it that have not reached the central server, you are warned with their number and asked to
confirm (--yes in scripts): let that site sync first, or those changes are refused.

Example:
  msupply-sync store move N1 --to South`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "to", Usage: "the site to move the store to"},
					yesFlag(), outputFlag(),
				},
				Action: env.runStoreMove,
			},
			{
				Name:        "remove",
				Usage:       "move a store off its remote site back to the central site",
				UsageText:   "msupply-sync store remove STORE [--yes]",
				ArgsUsage:   "STORE",
				Description: "Example:\n  msupply-sync store remove N1",
				Flags:       []cli.Flag{yesFlag(), outputFlag()},
				Action:      env.runStoreMove,
			},
		},
	}
}

var storeHeader = []string{"id", "code", "name", "site id"}

func storeRow(s datafile.Store) []string {
	return []string{s.ID, s.Code, s.Name, strconv.FormatInt(s.SiteID, 10)}
}

func (env *Env) printStore(c *cli.Context, s datafile.Store) error {
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, s)
	}
	return writeTable(env.Stdout, storeHeader, [][]string{storeRow(s)}, "")
}

func (env *Env) runStoreList(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	stores, err := db.Stores(c.Context, c.String("site"))
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, stores)
	}
	rows := make([][]string, 0, len(stores))
	for _, s := range stores {
		rows = append(rows, storeRow(s))
	}
	return writeTable(env.Stdout, storeHeader, rows, fmt.Sprintf("%d stores", len(stores)))
}

func (env *Env) runStoreAdd(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	if _, err := outputFormat(c); err != nil {
		return err
	}
	if c.String("code") == "" || c.String("name") == "" {
		return usageErrorf("--code and --name are required")
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.AddStore(c.Context, c.String("code"), c.String("name"), c.String("site"))
	if err != nil {
		return err
	}
	return env.printStore(c, st)
}

// runStoreMove serves both move (to --to) and remove (to the central site).
func (env *Env) runStoreMove(c *cli.Context) error {
	if err := requireArgs(c, "STORE"); err != nil {
		return err
	}
	if _, err := outputFormat(c); err != nil {
		return err
	}
	to := ""
	if c.Command.Name == "move" {
		if to = c.String("to"); to == "" {
			return usageErrorf("--to is required").withHint("name the site to move the store to; 'store remove' moves it back to the central site")
		}
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RequireCentralUnlocked(c.Context, "moving a store"); err != nil {
		return err
	}
	plan, err := db.PlanStoreMove(c.Context, c.Args().First(), to)
	if err != nil {
		return err
	}
	if plan.Unsent > 0 || plan.InFlight > 0 {
		warning := fmt.Sprintf("site %q still has %d unsent change(s) for store %s and %d record(s) of it not yet delivered; changes it has not sent will be refused once the store has moved",
			plan.From.Name, plan.Unsent, plan.Store.Code, plan.InFlight)
		if err := env.confirm(c, warning); err != nil {
			return err
		}
	}
	st, err := db.MoveStore(c.Context, c.Args().First(), to)
	if err != nil {
		return err
	}
	return env.printStore(c, st)
}

func (env *Env) runStoreEdit(c *cli.Context) error {
	if err := requireArgs(c, "STORE"); err != nil {
		return err
	}
	if _, err := outputFormat(c); err != nil {
		return err
	}
	var u datafile.StoreUpdate
	for name, field := range map[string]**string{"name": &u.Name, "code": &u.Code} {
		if c.IsSet(name) {
			v := c.String(name)
			*field = &v
		}
	}
	if u == (datafile.StoreUpdate{}) {
		return usageErrorf("nothing to change").withHint("give --name, --code or both")
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.EditStore(c.Context, c.Args().First(), u)
	if err != nil {
		return err
	}
	return env.printStore(c, st)
}

func (env *Env) runStoreDelete(c *cli.Context) error {
	if err := requireArgs(c, "STORE"); err != nil {
		return err
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.DeleteStore(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "store %s %q deleted\n", st.Code, st.Name)
	return nil
}
