package commands

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func (env *Env) unlockCommand() *cli.Command {
	return &cli.Command{
		Name:      "unlock",
		Usage:     "open the sync settings for editing for a while",
		UsageText: "msupply-sync unlock [--code CODE] [--for DURATION]",
		Description: `Sync settings (sites, stores, preferences) can be viewed at any time but changed only while
unlocked. unlock checks the authorisation code and opens an edit window (15 minutes unless --for
says otherwise); 'msupply-sync lock' closes it early. Without --code the code is taken from
--auth-code or MSUPPLY_AUTH_CODE, or asked for at the terminal.

Examples:
  msupply-sync unlock
  msupply-sync unlock --for 1h`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "code", Usage: "the authorisation code"},
			&cli.DurationFlag{Name: "for", Usage: "how long to stay unlocked, e.g. 30m or 2h (at most 24h)", DefaultText: "15m"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c); err != nil {
				return err
			}
			code := c.String("code")
			if code == "" {
				code = flagString(c, "auth-code")
			}
			if code == "" && env.Prompter.Interactive() {
				var err error
				if code, err = env.Prompter.Secret("Authorisation code: "); err != nil {
					return err
				}
			}
			if code == "" {
				return usageErrorf("no authorisation code given").withHint("pass --code, set MSUPPLY_AUTH_CODE, or run at a terminal to be asked")
			}
			if c.IsSet("for") && (c.Duration("for") < time.Second || c.Duration("for") > datafile.MaxUnlockWindow) {
				return usageErrorf("--for must be between 1s and 24h")
			}
			db, err := openDatafile(c)
			if err != nil {
				return err
			}
			defer db.Close()
			until, err := db.Unlock(c.Context, code, c.Duration("for"))
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "sync settings unlocked until %s\n", until.Local().Format("2006-01-02 15:04:05 MST"))
			return nil
		},
	}
}

func (env *Env) lockCommand() *cli.Command {
	return &cli.Command{
		Name:        "lock",
		Usage:       "close the edit window opened by unlock",
		UsageText:   "msupply-sync lock",
		Description: "Example:\n  msupply-sync lock",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c); err != nil {
				return err
			}
			db, err := openDatafile(c)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Lock(c.Context); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "sync settings locked")
			return nil
		},
	}
}
