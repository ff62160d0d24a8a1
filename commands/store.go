package commands

import (
	"context"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/plural"
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
				UsageText: "msupply-sync store move STORE --to SITE [--force [--yes]]",
				ArgsUsage: "STORE",
				Description: `A store leaving a remote site is handed over, so that no change made there is lost: the move
is pending, and the store read-only on its old site, until that site has synced and sent every
change it made for the store. Then the move completes by itself and the new site gets all of the
store's data. 'store list' shows pending moves. A store leaving the central site, or a site that
has never synced, moves at once. Moving a store back to the site it is leaving cancels the move.

--force completes the move now, without the old site: for a site that is gone for good. Changes
that site sends for the store afterwards are parked on the central server ('sync parked'), never
lost. You are asked to confirm (--yes in scripts).

Examples:
  msupply-sync store move N1 --to South
  msupply-sync store move N1 --to South --force --yes`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "to", Usage: "the site to move the store to"},
					forceMoveFlag(), yesFlag(), outputFlag(),
				},
				Action: env.runStoreMove,
			},
			{
				Name:      "remove",
				Usage:     "move a store off its remote site back to the central site",
				UsageText: "msupply-sync store remove STORE [--force [--yes]]",
				ArgsUsage: "STORE",
				Description: `The same as 'store move STORE --to' the central site: pending until the remote site has
handed the store over, or completed now with --force.

Example:
  msupply-sync store remove N1`,
				Flags:  []cli.Flag{forceMoveFlag(), yesFlag(), outputFlag()},
				Action: env.runStoreMove,
			},
		},
	}
}

var storeHeader = []string{"id", "code", "name", "site", "moving to"}

// storeRow shows the sites a store is on and moves to by name, and code when it has one: an ID means
// nothing to the person reading.
func storeRow(s datafile.Store, sites map[int64]string) []string {
	site := func(id int64) string {
		if label, ok := sites[id]; ok {
			return label
		}
		return "site " + strconv.FormatInt(id, 10)
	}
	moving := ""
	if s.MovingToSiteID != nil {
		moving = site(*s.MovingToSiteID) + " (pending)"
	}
	return []string{s.ID, s.Code, s.Name, site(s.SiteID), moving}
}

// siteLabels names every site as the store table shows it: "North (NTH)", or "North" without a code.
func siteLabels(ctx context.Context, db *datafile.DB) (map[int64]string, error) {
	sites, err := db.Sites(ctx)
	if err != nil {
		return nil, err
	}
	labels := make(map[int64]string, len(sites))
	for _, s := range sites {
		labels[s.ID] = s.Name
		if s.Code != "" {
			labels[s.ID] += " (" + s.Code + ")"
		}
	}
	return labels, nil
}

func (env *Env) printStore(c *cli.Context, db *datafile.DB, s datafile.Store) error {
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, s)
	}
	sites, err := siteLabels(c.Context, db)
	if err != nil {
		return err
	}
	return writeTable(env.Stdout, storeHeader, [][]string{storeRow(s, sites)}, "")
}

func (env *Env) runStoreList(c *cli.Context) error {
	db, format, _, err := openFor(c)
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
	sites, err := siteLabels(c.Context, db)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(stores))
	for _, s := range stores {
		rows = append(rows, storeRow(s, sites))
	}
	return writeTable(env.Stdout, storeHeader, rows, plural.Count(len(stores), "store", "stores"))
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
	return env.printStore(c, db, st)
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
	force := c.Bool("force")
	plan, err := db.PlanStoreMove(c.Context, c.Args().First(), to)
	if err != nil {
		return err
	}
	if force && plan.Handover && !plan.Cancels {
		warning := fmt.Sprintf("site %q has not handed store %s over: it said it had %s when it last pushed, and %s of the store %s for it; what it sends for the store from now on will be parked on the central server, not integrated",
			plan.From.Name, plan.Store.Code, plural.Count(plan.Unsent, "unsent change", "unsent changes"), plural.Count(plan.InFlight, "record", "records"), plural.Choose(plan.InFlight, "waits", "wait"))
		if err := env.confirm(c, warning); err != nil {
			return err
		}
	}
	plan, st, err := db.MoveStore(c.Context, c.Args().First(), to, force)
	if err != nil {
		return err
	}
	if format, _ := outputFormat(c); format != "json" {
		fmt.Fprintln(env.Stdout, plan.Describe(st, force))
	}
	return env.printStore(c, db, st)
}

func forceMoveFlag() cli.Flag {
	return &cli.BoolFlag{Name: "force", Usage: "complete the move now, without the old site's handover (for a site that is gone for good)"}
}

// printPendingMoves lists the stores whose moves wait for a handover, after a change that may have started one.
func (env *Env) printPendingMoves(c *cli.Context, db *datafile.DB) error {
	stores, err := db.Stores(c.Context, "")
	if err != nil {
		return err
	}
	for _, st := range stores {
		if st.MovingToSiteID == nil {
			continue
		}
		plan, err := db.PlanStoreMove(c.Context, st.ID, strconv.FormatInt(*st.MovingToSiteID, 10))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "pending: %s\n", plan.Describe(st, false))
	}
	return nil
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
	return env.printStore(c, db, st)
}

func (env *Env) runStoreDelete(c *cli.Context) error {
	db, _, _, err := openFor(c, "STORE")
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
