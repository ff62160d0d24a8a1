package commands

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/plural"
)

func (env *Env) siteCommand() *cli.Command {
	return &cli.Command{
		Name:  "site",
		Usage: "list and manage sync sites",
		Description: `SITE is a site's ID, code or name. Sites are managed on the central server; changes need the
sync settings unlocked ('msupply-sync unlock', or --auth-code for one command).`,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the sites, the active site first",
				UsageText: "msupply-sync site list [--filter PREFIX] [--sort FIELD[,-FIELD]] [--output table|json]",
				Description: `--filter keeps sites whose ID, code or name starts with the text, whatever its case. --sort orders by any column
(id, code, name, type, hardware_id, blocked, stores, last_sync_at, last_contact_at); a leading -
reverses it. The last sync is the last sync cycle the site completed; the last contact, the last time it
was heard from at all (check-connection, or a sync that failed half-way, counts).
The active site of this datafile always comes first.

Examples:
  msupply-sync site list --filter Nor
  msupply-sync site list --sort type,-name --output json`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "filter", Usage: "keep sites whose ID, code or name starts with this"},
					&cli.StringFlag{Name: "sort", Usage: "columns to sort by, comma-separated; prefix - to reverse"},
					outputFlag(),
				},
				Action: env.runSiteList,
			},
			{
				Name:      "add",
				Usage:     "add a site",
				UsageText: "msupply-sync site add --name NAME [--code CODE] [--type standalone|mobile] --password-stdin",
				Description: `The site ID is allocated automatically. The name and password are what the remote site
authenticates with; the password is stored only as a slow salted hash and can never be shown.

Example:
  printf '%s\n' "$NORTH_PASSWORD" | msupply-sync site add --name North --code NTH --password-stdin`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "the site name remotes authenticate with"},
					&cli.StringFlag{Name: "code", Usage: "a short code for people; changeable at any time"},
					&cli.StringFlag{Name: "type", Usage: "standalone or mobile", Value: datafile.SiteStandalone},
					passwordStdinFlag(), outputFlag(),
				},
				Action: env.runSiteAdd,
			},
			{
				Name:        "show",
				Usage:       "show one site",
				UsageText:   "msupply-sync site show SITE [--output table|json]",
				ArgsUsage:   "SITE",
				Description: "Example:\n  msupply-sync site show North",
				Flags:       []cli.Flag{outputFlag()},
				Action:      env.runSiteShow,
			},
			{
				Name:      "edit",
				Usage:     "change a site's name, code, type or password",
				UsageText: "msupply-sync site edit SITE [--name NAME] [--code CODE] [--type TYPE] [--password-stdin] [--yes]",
				ArgsUsage: "SITE",
				Description: `All the changes of one edit are made together or not at all. Changing the name or password of
a site that has already synced stops its remote from syncing until the remote is given the same
change ('site edit' on the remote datafile, for its own site): you are asked to confirm, or pass --yes.

Examples:
  msupply-sync site edit 3 --code STH
  printf '%s\n' "$NEW_PASSWORD" | msupply-sync site edit North --password-stdin --yes`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "the new name"},
					&cli.StringFlag{Name: "code", Usage: "the new code"},
					&cli.StringFlag{Name: "type", Usage: "standalone or mobile"},
					passwordStdinFlag(), yesFlag(), outputFlag(),
				},
				Action: env.runSiteEdit,
			},
			{
				Name:        "delete",
				Usage:       "delete a site that has no stores",
				UsageText:   "msupply-sync site delete SITE",
				ArgsUsage:   "SITE",
				Description: "A site can be deleted only when it has no stores and is not the active site of this datafile.\n\nExample:\n  msupply-sync site delete 7",
				Action:      env.runSiteDelete,
			},
			{
				Name:        "reset-hardware-id",
				Usage:       "let a site sync from a new device",
				UsageText:   "msupply-sync site reset-hardware-id SITE",
				ArgsUsage:   "SITE",
				Description: "The next device to authenticate as the site becomes its device.\n\nExample:\n  msupply-sync site reset-hardware-id North",
				Action:      env.siteAuthAction("hardware ID reset for site %q: the next device to sync as it is bound to it\n", (*datafile.DB).ResetHardwareID),
			},
			{
				Name:        "unblock",
				Usage:       "unblock a site blocked after failed logins",
				UsageText:   "msupply-sync site unblock SITE",
				ArgsUsage:   "SITE",
				Description: "Example:\n  msupply-sync site unblock North",
				Action:      env.siteAuthAction("site %q unblocked\n", (*datafile.DB).UnblockSite),
			},
		},
	}
}

func siteRow(v siteView, now time.Time) []string {
	blocked := yesNo(v.Blocked)
	last, contact := lastSyncCell(v.LastSyncAt, now), ago(v.LastContactAt, now)
	if v.ID == datafile.CentralSiteID {
		last, contact = "-", "-"
	}
	return []string{strconv.FormatInt(v.ID, 10), v.Code, v.Name, v.Type, v.HardwareID, blocked, strings.Join(v.Stores, " "),
		last, contact, strconv.Itoa(v.QueuedRecords), strconv.Itoa(v.Parked)}
}

var siteHeader = []string{"id", "code", "name", "type", "hardware id", "blocked", "stores", "last sync", "last contact", "waiting", "parked"}

// siteLastSyncColumn is where siteRow puts the last sync, which is coloured when the site falls behind.
const siteLastSyncColumn = 7

// lastSyncColour is the colour of a site's last sync cell.
func lastSyncColour(col colourer, v siteView) string {
	if v.ID == datafile.CentralSiteID {
		return ""
	}
	return col.staleness(v.Staleness)
}

// siteViews adds to each site what the central server knows of its sync: how long ago, what waits for it.
func siteViews(sites []datafile.Site, now time.Time) []siteView {
	views := make([]siteView, 0, len(sites))
	for _, s := range sites {
		views = append(views, newSiteView(s, now))
	}
	return views
}

// siteSortKeys compares two sites on one column.
var siteSortKeys = map[string]func(a, b datafile.Site) int{
	"id":          func(a, b datafile.Site) int { return cmp.Compare(a.ID, b.ID) },
	"code":        func(a, b datafile.Site) int { return strings.Compare(strings.ToLower(a.Code), strings.ToLower(b.Code)) },
	"name":        func(a, b datafile.Site) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) },
	"type":        func(a, b datafile.Site) int { return strings.Compare(a.Type, b.Type) },
	"hardware_id": func(a, b datafile.Site) int { return strings.Compare(a.HardwareID, b.HardwareID) },
	"blocked":     func(a, b datafile.Site) int { return cmpBool(a.Blocked, b.Blocked) },
	"stores": func(a, b datafile.Site) int {
		return strings.Compare(strings.Join(a.Stores, " "), strings.Join(b.Stores, " "))
	},
	"last_sync_at":    func(a, b datafile.Site) int { return cmpTime(a.LastSyncAt, b.LastSyncAt) },
	"last_contact_at": func(a, b datafile.Site) int { return cmpTime(a.LastContactAt, b.LastContactAt) },
}

// cmpTime orders never (nil) first.
func cmpTime(a, b *time.Time) int {
	var x, y time.Time
	if a != nil {
		x = *a
	}
	if b != nil {
		y = *b
	}
	return x.Compare(y)
}

func cmpBool(a, b bool) int {
	if a == b {
		return 0
	}
	if !a {
		return -1
	}
	return 1
}

func (env *Env) runSiteList(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	type key struct {
		cmp     func(a, b datafile.Site) int
		reverse bool
	}
	var keys []key
	if spec := c.String("sort"); spec != "" {
		for _, part := range strings.Split(spec, ",") {
			part = strings.TrimSpace(part)
			reverse := strings.HasPrefix(part, "-")
			name := strings.TrimPrefix(part, "-")
			cmp, ok := siteSortKeys[name]
			if !ok {
				return usageErrorf("cannot sort by %q", name).withHint("sort by id, code, name, type, hardware_id, blocked, stores, last_sync_at or last_contact_at")
			}
			keys = append(keys, key{cmp, reverse})
		}
	}
	db, settings, err := openWithSettings(c)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := db.Sites(c.Context)
	if err != nil {
		return err
	}
	filter := strings.ToLower(c.String("filter"))
	sites := []datafile.Site{}
	for _, s := range all {
		if filter == "" || strings.HasPrefix(strconv.FormatInt(s.ID, 10), filter) || strings.HasPrefix(strings.ToLower(s.Code), filter) ||
			strings.HasPrefix(strings.ToLower(s.Name), filter) {
			sites = append(sites, s)
		}
	}
	active := settings.ThisSiteID
	slices.SortStableFunc(sites, func(a, b datafile.Site) int {
		if (a.ID == active) != (b.ID == active) {
			if a.ID == active {
				return -1
			}
			return 1
		}
		for _, k := range keys {
			if r := k.cmp(a, b); r != 0 {
				if k.reverse {
					return -r
				}
				return r
			}
		}
		return 0
	})
	now := Clock()
	views := siteViews(sites, now)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, views)
	}
	col := env.colours()
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		rows = append(rows, siteRow(v, now))
	}
	paint := func(r, c int) string {
		if c != siteLastSyncColumn {
			return ""
		}
		return lastSyncColour(col, views[r])
	}
	return writePaintedTable(env.Stdout, siteHeader, rows, fmt.Sprintf("%d of %s", len(sites), plural.Count(len(all), "site", "sites")), paint)
}

func (env *Env) printSite(c *cli.Context, db *datafile.DB, s datafile.Site) error {
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	now := Clock()
	views := siteViews([]datafile.Site{s}, now)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, views[0])
	}
	row := siteRow(views[0], now)
	rows := make([][]string, len(siteHeader))
	for i, h := range siteHeader {
		rows[i] = []string{h, row[i]}
	}
	col := env.colours()
	paint := func(r, c int) string {
		if r != siteLastSyncColumn || c != 1 {
			return ""
		}
		return lastSyncColour(col, views[0])
	}
	return writePaintedTable(env.Stdout, []string{"field", "value"}, rows, "", paint)
}

func (env *Env) runSiteAdd(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	if _, err := outputFormat(c); err != nil {
		return err
	}
	if c.String("name") == "" {
		return usageErrorf("--name is required").withHint("the name is what the remote site authenticates with")
	}
	if err := checkSiteType(c); err != nil {
		return err
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RequireCentralUnlocked(c.Context, "adding a site"); err != nil {
		return err
	}
	password, err := env.readPassword(c, "Password for site "+c.String("name"), true, true)
	if err != nil {
		return err
	}
	site, err := db.AddSite(c.Context, datafile.NewSite{Name: c.String("name"), Code: c.String("code"), Type: c.String("type"), Password: password})
	if err != nil {
		return err
	}
	return env.printSite(c, db, site)
}

func (env *Env) runSiteShow(c *cli.Context) error {
	db, _, _, err := openFor(c, "SITE")
	if err != nil {
		return err
	}
	defer db.Close()
	site, err := db.FindSite(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	return env.printSite(c, db, site)
}

func (env *Env) runSiteEdit(c *cli.Context) error {
	if err := requireArgs(c, "SITE"); err != nil {
		return err
	}
	if _, err := outputFormat(c); err != nil {
		return err
	}
	var u datafile.SiteUpdate
	for name, field := range map[string]**string{"name": &u.Name, "code": &u.Code, "type": &u.Type} {
		if c.IsSet(name) {
			v := c.String(name)
			*field = &v
		}
	}
	if err := checkSiteType(c); err != nil {
		return err
	}
	if !c.Bool("password-stdin") && u == (datafile.SiteUpdate{}) {
		return usageErrorf("nothing to change").withHint("give at least one of --name, --code, --type, --password-stdin")
	}
	db, settings, err := openWithSettings(c)
	if err != nil {
		return err
	}
	defer db.Close()
	password, err := env.readPassword(c, "New password", false, false)
	if err != nil {
		return err
	}
	if password != "" {
		u.Password = &password
	}
	if settings.Role == datafile.RoleCentral {
		if err := db.RequireCentralUnlocked(c.Context, "editing a site"); err != nil {
			return err
		}
		site, err := db.FindSite(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		if u.BreaksSync(site) && site.HasSynced() {
			warning := fmt.Sprintf("site %q has synced before: changing its name or password stops its remote from syncing until the remote is given the same change", site.Name)
			if err := env.confirm(c, warning); err != nil {
				return err
			}
		}
	}
	site, err := db.EditSite(c.Context, c.Args().First(), u)
	if err != nil {
		return err
	}
	if settings.Role == datafile.RoleRemote {
		fmt.Fprintln(env.Stdout, "this remote's credential updated")
		return nil
	}
	return env.printSite(c, db, site)
}

func checkSiteType(c *cli.Context) error {
	if t := c.String("type"); c.IsSet("type") && t != datafile.SiteStandalone && t != datafile.SiteMobile {
		return usageErrorf("site type %q is not standalone or mobile", t)
	}
	return nil
}

// confirm shows a warning and asks to go on; --yes answers for a script, and without a terminal or
// --yes the answer is no.
func (env *Env) confirm(c *cli.Context, warning string) error {
	fmt.Fprintf(env.Stderr, "warning: %s\n", warning)
	if c.Bool("yes") {
		return nil
	}
	if !env.Prompter.Interactive() {
		return failf("not confirmed; nothing was changed").withHint("pass --yes to confirm in a script")
	}
	answer, err := env.Prompter.Line("Go ahead? [y/N] ")
	if err != nil {
		return err
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return failf("not confirmed; nothing was changed")
	}
	return nil
}

func (env *Env) runSiteDelete(c *cli.Context) error {
	db, _, _, err := openFor(c, "SITE")
	if err != nil {
		return err
	}
	defer db.Close()
	site, err := db.DeleteSite(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "site %d %q deleted\n", site.ID, site.Name)
	return nil
}

func (env *Env) siteAuthAction(done string, op func(*datafile.DB, context.Context, string) (datafile.Site, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := requireArgs(c, "SITE"); err != nil {
			return err
		}
		db, err := openDatafile(c)
		if err != nil {
			return err
		}
		defer db.Close()
		site, err := op(db, c.Context, c.Args().First())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, done, site.Name)
		return nil
	}
}

func yesFlag() cli.Flag {
	return &cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do it without asking for confirmation (for scripts)"}
}
