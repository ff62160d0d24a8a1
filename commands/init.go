package commands

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

func (env *Env) initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a new central or remote datafile",
		UsageText: `msupply-sync init --central --site-name NAME [--site-code CODE] [--currency CODE] [--auth-code CODE]
msupply-sync init --remote --server-url URL --site-name NAME [--auth-code CODE] --password-stdin`,
		Description: `init creates the datafile and never touches one that exists. The central datafile holds site 1,
the central site, and the home currency (--currency, USD unless told): every invoice without another
currency is in it. A remote datafile holds the server URL and the name and password it authenticates
with; the first 'msupply-sync run --remote' initialises it from the central server. The remote's
password is sealed with a key kept beside the datafile in DATAFILE.key: keep the two together.

The authorisation code unlocks sync settings later. Without --auth-code it is asked for at a
terminal, or generated and printed once.

Examples:
  msupply-sync init --central --site-name "Ministry Central" --site-code HQ --auth-code "$CODE"
  printf '%s\n' "$SITE_PASSWORD" | msupply-sync --datafile north.db init --remote \
      --server-url http://central.example.org:8080 --site-name North --password-stdin`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "central", Usage: "create the central server's datafile"},
			&cli.BoolFlag{Name: "remote", Usage: "create a remote site's datafile"},
			&cli.StringFlag{Name: "site-name", Usage: "the site's name (for a remote: the name it authenticates with)"},
			&cli.StringFlag{Name: "site-code", Usage: "a short code for the central site"},
			&cli.StringFlag{Name: "currency", Usage: "the central server's home currency, an ISO 4217 code", Value: datafile.DefaultCurrency},
			&cli.StringFlag{Name: "server-url", Usage: "the central server's URL, with its port"},
			passwordStdinFlag(),
		},
		Action: env.runInit,
	}
}

func (env *Env) runInit(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	central, remote := c.Bool("central"), c.Bool("remote")
	if central && remote {
		return usageErrorf("--central and --remote exclude each other: a datafile is one or the other").
			withHint("give --central on the central server, --remote on a remote site")
	}
	if !central && !remote {
		return usageErrorf("say which datafile to create: --central or --remote")
	}
	name := c.String("site-name")
	if name == "" {
		return usageErrorf("--site-name is required")
	}
	path, err := datafilePath(c)
	if err != nil {
		return err
	}
	if central {
		if c.IsSet("server-url") || c.Bool("password-stdin") {
			return usageErrorf("--server-url and passwords belong to init --remote")
		}
		currency := strings.ToUpper(strings.TrimSpace(c.String("currency")))
		if err := datafile.ValidateCurrencyCode(currency); err != nil {
			return asUsage(err)
		}
		code, generated, err := env.newAuthCode(c)
		if err != nil {
			return err
		}
		if err := datafile.CreateCentral(c.Context, path, datafile.CentralOptions{SiteName: name, SiteCode: c.String("site-code"), AuthCode: code, Currency: currency}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created central datafile %s: site 1 is %q\n", path, name)
		env.printGeneratedCode(code, generated)
		return nil
	}
	if c.IsSet("site-code") || c.IsSet("currency") {
		return usageErrorf("--site-code and --currency belong to init --central; a remote gets them from the central server")
	}
	url := c.String("server-url")
	if url == "" {
		return usageErrorf("--server-url is required with --remote")
	}
	if err := datafile.ValidateServerURL(url); err != nil {
		return asUsage(err)
	}
	password, err := env.readPassword(c, "Password of site "+name, true, false)
	if err != nil {
		return err
	}
	code, generated, err := env.newAuthCode(c)
	if err != nil {
		return err
	}
	if err := datafile.CreateRemote(c.Context, path, datafile.RemoteOptions{ServerURL: url, SiteName: name, Password: password, AuthCode: code}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created remote datafile %s for site %q of %s (credential key in %s)\n", path, name, url, datafile.KeyFilePath(path))
	fmt.Fprintf(env.Stdout, "next: 'msupply-sync --datafile %s run --remote --once' initialises it from the central server\n", path)
	env.printGeneratedCode(code, generated)
	return nil
}

func (env *Env) printGeneratedCode(code string, generated bool) {
	if !generated {
		return
	}
	fmt.Fprintf(env.Stdout, "authorisation code: %s\n", code)
	fmt.Fprintln(env.Stdout, "this code is shown only this once: record it securely; it unlocks the sync settings")
}
