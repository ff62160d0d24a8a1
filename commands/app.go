// Package commands is the command line of msupply-sync: it parses arguments, calls the packages that do
// the work, and prints. It is the only package that wires concrete types together.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/prompt"
)

// Version is the version of msupply-sync, set at build time.
var Version = "0.1.0-dev"

// Env is what a command may touch of the outside world; tests build their own.
type Env struct {
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	Prompter prompt.Prompter
	Getenv   func(string) string
}

// Run runs the command line args (without the program name) and returns the exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	if f, ok := stdin.(*os.File); ok {
		env.Prompter = &prompt.Terminal{Stdin: f}
	} else {
		env.Prompter = noPrompter{}
	}
	return env.Run(ctx, args)
}

// Run runs args in this environment and returns the exit status.
func (env *Env) Run(ctx context.Context, args []string) int {
	app := env.newApp()
	err := app.RunContext(ctx, append([]string{"msupply-sync"}, interspersed(app, helpWords(app, args))...))
	if err == nil {
		return 0
	}
	return env.reportError(err)
}

type noPrompter struct{}

func (noPrompter) Interactive() bool             { return false }
func (noPrompter) Secret(string) (string, error) { return "", prompt.ErrNoTerminal }
func (noPrompter) Line(string) (string, error)   { return "", prompt.ErrNoTerminal }

func (env *Env) newApp() *cli.App {
	app := &cli.App{
		Name:  "msupply-sync",
		Usage: "synchronise mSupply datafiles between a central server and remote sites",
		Description: `msupply-sync keeps the SQLite datafiles of an mSupply central server and its remote sites in step,
speaking the mSupply v5 sync protocol. Each command works on one datafile (--datafile, or
MSUPPLY_DATAFILE, default ./msupply.db).

Start with 'msupply-sync init --central' on the server, add sites and stores (or describe them
in a TOML file for 'msupply-sync provision'), serve them with 'msupply-sync serve --central', then
set up each remote with 'msupply-sync wizard' (or 'init --remote') and 'msupply-sync run --remote'.

'msupply-sync help CMD...' is the same as 'msupply-sync CMD... --help'.`,
		Version:         Version,
		Reader:          env.Stdin,
		Writer:          env.Stdout,
		ErrWriter:       env.Stderr,
		HideHelpCommand: true,
		// Completion asks the program itself for the words that fit, so scripts never go stale.
		EnableBashCompletion: true,
		Flags:                []cli.Flag{datafileFlag(), authCodeFlag(), configFlag()},
		ExitErrHandler:       func(*cli.Context, error) {},
		Commands: []*cli.Command{
			env.initCommand(),
			env.unlockCommand(),
			env.lockCommand(),
			env.prefsCommand(),
			env.siteCommand(),
			env.storeCommand(),
			env.transferCommand(),
			env.recordCommand(),
			env.provisionCommand(),
			env.syncCommand(),
			env.checkConnectionCommand(),
			env.serveCommand(),
			env.runCommand(),
			env.wizardCommand(),
			env.completionCommand(),
		},
	}
	app.Action = parentAction
	for _, c := range app.Commands {
		prepareCommand(c)
	}
	app.OnUsageError = onUsageError
	return app
}

// prepareCommand gives every command the same usage-error handling, and every leaf the common flags so
// that they may stand after the command name as well as before it.
func prepareCommand(c *cli.Command) {
	c.OnUsageError = onUsageError
	if len(c.Subcommands) > 0 {
		c.Action = parentAction
		for _, sub := range c.Subcommands {
			prepareCommand(sub)
		}
		return
	}
	c.Flags = append(c.Flags, datafileFlag(), authCodeFlag(), configFlag())
	c.Before = applyConfig
}

// parentAction runs for a command that needs a subcommand: it shows help, or refuses an unknown one.
func parentAction(c *cli.Context) error {
	if c.Args().Present() {
		return usageErrorf("unknown command %q", c.Args().First()).withHint("run '%s --help' to see the commands", c.Command.HelpName)
	}
	return cli.ShowSubcommandHelp(c)
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	name := "msupply-sync"
	if c.Command != nil && c.Command.HelpName != "" {
		name = c.Command.HelpName
	}
	return usageErrorf("%s", longFlagNames(err.Error())).withHint("run '%s --help' for usage", name)
}

// flagInMessage finds a flag name in the messages of Go's flag package, which spells every flag with one
// dash ("flag provided but not defined: -bogus") however it was typed.
var flagInMessage = regexp.MustCompile(`(: |flag |for )-([A-Za-z0-9][-A-Za-z0-9_]+)`)

// longFlagNames spells the long flags of a flag-parsing error with two dashes, as they are written here.
func longFlagNames(msg string) string {
	return flagInMessage.ReplaceAllString(msg, "$1--$2")
}

// flagString returns the value of a string flag from the innermost command where it was set, so that a
// common flag counts wherever it stands on the line.
func flagString(c *cli.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return c.String(name)
}

// Clock is the time every datafile the commands open goes by. The test binary moves it on, so that
// scripts can let an unlock window run out without sleeping.
var Clock = time.Now

// openDatafile opens the datafile named on the command line, with the authorisation code if one was given.
func openDatafile(c *cli.Context) (*datafile.DB, error) {
	path, err := datafilePath(c)
	if err != nil {
		return nil, err
	}
	db, err := datafile.Open(c.Context, path)
	if err != nil {
		if errors.Is(err, datafile.ErrNoDatafile) {
			return nil, &cliError{code: 1, msg: fmt.Sprintf("no datafile at %s", path), hint: datafile.ErrNoDatafile.Hint}
		}
		return nil, err
	}
	db.SetClock(Clock)
	if code := flagString(c, "auth-code"); code != "" {
		// Checked even where nothing needs unlocking: a view command that took a wrong code without a
		// word would let a script believe the code it holds is right.
		if err := db.UseAuthCode(c.Context, code); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// openWithSettings opens the datafile named on the command line and reads its settings, which say whether
// it is central's or a remote's: the first thing most commands need to know.
func openWithSettings(c *cli.Context) (*datafile.DB, datafile.Settings, error) {
	db, err := openDatafile(c)
	if err != nil {
		return nil, datafile.Settings{}, err
	}
	s, err := db.Settings(c.Context)
	if err != nil {
		db.Close()
		return nil, s, err
	}
	return db, s, nil
}

// requireArgs checks the number of positional arguments.
func requireArgs(c *cli.Context, names ...string) error {
	if c.NArg() < len(names) {
		return usageErrorf("missing %s", strings.Join(names[c.NArg():], " and ")).
			withHint("usage: %s %s", c.Command.HelpName, c.Command.ArgsUsage)
	}
	if c.NArg() > len(names) {
		return usageErrorf("unexpected argument %q", c.Args().Get(len(names))).
			withHint("usage: %s %s", c.Command.HelpName, c.Command.ArgsUsage)
	}
	return nil
}

// The flags are built afresh for every run: urfave/cli writes what it parses into the flag values themselves,
// so a shared flag would carry one run's values into the next (in tests, and in the wizard's first sync).

func datafileFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "datafile",
		Aliases: []string{"d"},
		Usage:   "the SQLite datafile to work on",
		EnvVars: []string{"MSUPPLY_DATAFILE"},
		Value:   "./msupply.db",
	}
}

func authCodeFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "auth-code",
		Usage:   "the authorisation code, to unlock sync settings for this one command",
		EnvVars: []string{"MSUPPLY_AUTH_CODE"},
	}
}

func outputFlag() cli.Flag { return outputFlagDefault("table") }

func outputFlagDefault(format string) cli.Flag {
	return &cli.StringFlag{
		Name:    "output",
		Aliases: []string{"o"},
		Usage:   "output format: table or json",
		EnvVars: []string{"MSUPPLY_OUTPUT"},
		Value:   format,
	}
}

// openFor opens the datafile for a command, once its positional arguments (named by args) and --output
// have been checked, and reads the datafile's settings. It returns the output format; the caller closes db.
func openFor(c *cli.Context, args ...string) (db *datafile.DB, format string, s datafile.Settings, err error) {
	if err := requireArgs(c, args...); err != nil {
		return nil, "", s, err
	}
	if format, err = outputFormat(c); err != nil {
		return nil, "", s, err
	}
	if db, s, err = openWithSettings(c); err != nil {
		return nil, "", s, err
	}
	return db, format, s, nil
}
