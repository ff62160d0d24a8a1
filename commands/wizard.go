package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/prompt"
	"github.com/msupply-foundation/msupply-sync/secret"
	"github.com/msupply-foundation/msupply-sync/syncengine"
	"github.com/msupply-foundation/msupply-sync/wizard"
)

func (env *Env) wizardCommand() *cli.Command {
	return &cli.Command{
		Name:      "wizard",
		Usage:     "set up a remote or central datafile by answering questions",
		UsageText: "msupply-sync wizard",
		Description: `Asks, one question a line, for the role, the central server's URL, the site name, its password
(not shown) and an authorisation code; checks the connection and explains any failure; then creates
the datafile and, for a remote, initialises it from the central server with progress. Answers can
also be piped in, one a line.

Example:
  msupply-sync --datafile north.db wizard`,
		Flags:  []cli.Flag{caFileFlag()},
		Action: env.runWizard,
	}
}

func (env *Env) runWizard(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	path, err := datafilePath(c)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return datafile.ErrDatafileExists
	}
	var ask prompt.Prompter = env.Prompter
	if !ask.Interactive() {
		ask = &prompt.Lines{In: env.Stdin, Out: env.Stdout}
	}
	w := &wizard.Wizard{Ask: ask, Out: env.Stdout, Datafile: path, Do: &wizardActions{env: env, c: c, path: path}}
	if err := w.Run(c.Context); err != nil {
		if errors.Is(err, prompt.ErrNoMoreAnswers) {
			return failf("%v; nothing was created", err).withHint("pipe one answer a line for every question, an empty line to take a default")
		}
		return failf("%v", err)
	}
	return nil
}

// wizardActions carries out the wizard's answers with the same code the other commands use.
type wizardActions struct {
	env  *Env
	c    *cli.Context
	path string
}

func (a *wizardActions) ValidateURL(u string) error      { return datafile.ValidateServerURL(u) }
func (a *wizardActions) ValidateSiteName(n string) error { return datafile.ValidateSiteName(n) }

func (a *wizardActions) CheckConnection(ctx context.Context, serverURL, siteName, password string) error {
	client, err := syncengine.NewClient(syncengine.ClientConfig{
		ServerURL: serverURL, SiteName: siteName, PasswordDigest: secret.PasswordDigest(password),
		HardwareID: syncengine.HardwareID(a.env.Getenv), AppVersion: Version, CAFile: a.c.String("ca-file"),
	})
	if err != nil {
		return err
	}
	// Bounded as check-connection is: a server that never answers would leave the question hanging.
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	info, err := client.SiteInfo(ctx)
	if err == nil && info.HasStore != nil && !*info.HasStore {
		err = &syncengine.APIError{Code: syncengine.CodeSiteHasNoStore}
	}
	if err != nil {
		explained := explainSyncError(err, datafile.Settings{ServerURL: serverURL, SiteName: siteName})
		if ce, ok := explained.(*cliError); ok && ce.hint != "" {
			return fmt.Errorf("%s (%s)", ce.msg, ce.hint)
		}
		return explained
	}
	return nil
}

func (a *wizardActions) authCode(code string) (string, error) {
	if code != "" {
		return code, nil
	}
	generated, err := generateAuthCode()
	if err != nil {
		return "", err
	}
	a.env.printGeneratedCode(generated, true)
	return generated, nil
}

func (a *wizardActions) CreateCentral(ctx context.Context, siteName, siteCode, authCode string) error {
	code, err := a.authCode(authCode)
	if err != nil {
		return err
	}
	return datafile.CreateCentral(ctx, a.path, datafile.CentralOptions{SiteName: siteName, SiteCode: siteCode, AuthCode: code})
}

func (a *wizardActions) CreateRemote(ctx context.Context, serverURL, siteName, password, authCode string) error {
	code, err := a.authCode(authCode)
	if err != nil {
		return err
	}
	return datafile.CreateRemote(ctx, a.path, datafile.RemoteOptions{ServerURL: serverURL, SiteName: siteName, Password: password, AuthCode: code})
}

func (a *wizardActions) FirstSync(ctx context.Context) error {
	log, _ := a.env.logger("text", "warn")
	s, err := a.env.openSync(a.c, log, ctx.Done())
	if err != nil {
		return err
	}
	defer s.db.Close()
	lock, err := claimSync(ctx, s.db, log, false)
	if err != nil {
		return err
	}
	defer lock.Release()
	res, err := s.Cycle(context.WithoutCancel(ctx), true)
	s.bar.Finish()
	if err != nil {
		return explainSyncError(err, s.settings)
	}
	fmt.Fprintf(a.env.Stdout, "initialised: %s\n", summary(res))
	return nil
}
