package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/plural"
	"github.com/msupply-foundation/msupply-sync/progress"
	"github.com/msupply-foundation/msupply-sync/syncengine"
)

// newLogger builds the slog logger the flags ask for, writing to standard error.
func (env *Env) newLogger(c *cli.Context) (*slog.Logger, error) {
	return env.logger(c.String("log-format"), c.String("log-level"))
}

func (env *Env) logger(format, levelName string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(levelName)); err != nil {
		return nil, usageErrorf("unknown log level %q", levelName).withHint("use debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, usageErrorf("unknown log format %q", format).withHint("use text or json")
}

// stderrIsTerminal says whether progress can be drawn as a bar.
func (env *Env) stderrIsTerminal() bool {
	f, ok := env.Stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// openRemote opens a remote datafile and the client for its central server.
func (env *Env) openRemote(c *cli.Context) (*datafile.DB, *syncengine.Client, datafile.Settings, error) {
	db, s, err := openWithSettings(c)
	if err != nil {
		return nil, nil, s, err
	}
	if s.Role != datafile.RoleRemote {
		db.Close()
		return nil, nil, s, failf("%s is the central server's datafile; this command is run on a remote site", db.Path()).
			withHint("on the central server, 'msupply-sync serve --central' answers the remotes")
	}
	name, digest, err := db.RemoteCredential(c.Context)
	if err != nil {
		db.Close()
		return nil, nil, s, err
	}
	env.warnOpenKeyFile(datafile.KeyFilePath(db.Path()))
	client, err := syncengine.NewClient(syncengine.ClientConfig{
		ServerURL: s.ServerURL, SiteName: name, PasswordDigest: digest,
		HardwareID: syncengine.HardwareID(env.Getenv), AppVersion: Version,
		AltHTTPClient: s.AltHTTPClient, CAFile: c.String("ca-file"),
	})
	if err != nil {
		db.Close()
		var de *datafile.Error
		if errors.As(err, &de) {
			return nil, nil, s, err // a stored server URL that is no longer accepted, with its hint
		}
		return nil, nil, s, failf("%v", err)
	}
	return db, client, s, nil
}

// syncSession is a remote datafile opened for syncing: its sync cycle, the progress bar the cycle reports
// to, and the settings its errors are explained by. Its holder closes db.
type syncSession struct {
	*syncengine.Remote
	db       *datafile.DB
	bar      *progress.Reporter
	settings datafile.Settings
}

// openSync opens a remote datafile for syncing as every command syncs: three retries of a failed request
// within a cycle, and the cycle ends after the batch in flight once stop is closed. With a nil log, the
// command's --log-format and --log-level decide.
func (env *Env) openSync(c *cli.Context, log *slog.Logger, stop <-chan struct{}) (*syncSession, error) {
	if log == nil {
		var err error
		if log, err = env.newLogger(c); err != nil {
			return nil, err
		}
	}
	db, client, settings, err := env.openRemote(c)
	if err != nil {
		return nil, err
	}
	bar, progress := env.newProgress()
	return &syncSession{
		Remote:   &syncengine.Remote{DB: db, Client: client, Log: log, Progress: progress, Retries: 3, Stop: stop},
		db:       db,
		bar:      bar,
		settings: settings,
	}, nil
}

// warnOpenKeyFile warns when the key that unseals this remote's credential can be read by other accounts
// than its owner: with it and a copy of the datafile, anyone could log in as this site.
func (env *Env) warnOpenKeyFile(path string) {
	fi, err := os.Stat(path)
	if err != nil || runtime.GOOS == "windows" || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	fmt.Fprintf(env.Stderr, "warning: the credential key file %s can be read by other accounts (mode %04o)\n", terminalSafe(path), fi.Mode().Perm())
	fmt.Fprintf(env.Stderr, "hint: make it readable by this account only: chmod 600 %s\n", terminalSafe(path))
}

// claimSync claims the datafile for one sync cycle. Two cycles on one datafile at once would each push
// what the other is pushing, and a retried older batch could then land after a newer one. With wait set
// (the sync service) it waits for the other cycle to end, logging once that it waits; otherwise it fails
// at once, saying who holds the datafile.
func claimSync(ctx context.Context, db *datafile.DB, log *slog.Logger, wait bool) (*datafile.WorkLock, error) {
	if !wait {
		return datafile.TryWorkLock(db.Path(), "syncing")
	}
	return datafile.WaitWorkLock(ctx, db.Path(), "syncing", func(holder error) {
		log.Info("waiting for another sync of this datafile to finish", "holder", holder.Error())
	})
}

// incomplete reports, as an error with exit status 3, a cycle that finished but left records behind.
func incomplete(res *syncengine.CycleResult) error {
	r := res.Run
	if r.Rejected+r.Parked+r.IntegrationErrors == 0 {
		return nil
	}
	return (&cliError{code: exitIncomplete, msg: fmt.Sprintf("sync finished, but %s refused by the central server, %d %s parked there and %d could not be integrated here",
		plural.Count(r.Rejected, "record was", "records were"), r.Parked, plural.Choose(r.Parked, "is", "are"), r.IntegrationErrors)}).
		withHint("the log says why for each; on the central server 'msupply-sync sync parked' lists what it holds back, and parked records are integrated by themselves once what they wait for arrives")
}

// explainSyncError turns what went wrong talking to the central server into words and advice.
func explainSyncError(err error, s datafile.Settings) error {
	var ae *syncengine.APIError
	switch {
	case errors.As(err, &ae):
		switch ae.Code {
		case syncengine.CodeSiteNameNotFound:
			return failf("the central server has no site called %q", s.SiteName).
				withHint("check the site name; on a remote, 'msupply-sync site edit %q --name NAME' changes the name it uses", s.SiteName)
		case syncengine.CodeSiteIncorrectPassword:
			return failf("wrong password for site %q", s.SiteName).
				withHint("set the password the central server has with 'msupply-sync site edit %q --password-stdin'; 5 wrong tries in a row from the site's own device block it", s.SiteName)
		case syncengine.CodeSiteIncorrectHardware:
			return failf("site %q is bound to another device", s.SiteName).
				withHint("if this machine replaces it, an administrator runs 'msupply-sync site reset-hardware-id %q' on the central server", s.SiteName)
		case syncengine.CodeSiteAuthTimeout:
			return failf("site %q is blocked after too many failed logins", s.SiteName).
				withHint("the central server's administrator runs 'msupply-sync site unblock %q' there; if the site's password was changed on central, give this remote the same one first ('msupply-sync site edit %q --password-stdin')", s.SiteName, s.SiteName)
		case syncengine.CodeTooManyFailedLogins:
			wait := "a while"
			var data struct {
				RetryAfterSeconds int64 `json:"retryAfterSeconds"`
			}
			if json.Unmarshal(ae.Data, &data) == nil && data.RetryAfterSeconds > 0 {
				wait = (time.Duration(data.RetryAfterSeconds) * time.Second).String()
			}
			return failf("the central server refuses logins from this network address for %s, after too many failed logins from it", wait).
				withHint("wait and try again (a running sync does so on its own); the failures need not be this site's: if they go on, the central server's log names the address")
		case syncengine.CodeAPIVersionIncompatible:
			return failf("the central server does not accept this version of the sync protocol: %s", ae.Message).
				withHint("upgrade msupply-sync on this site or on the server so that they match")
		case syncengine.CodeSiteHasNoStore:
			return failf("site %q has no store on the central server, so there is nothing to sync", s.SiteName).
				withHint("an administrator adds a store with 'msupply-sync store add --site %q' or 'store move'", s.SiteName)
		case syncengine.CodeSyncIsRunning:
			return failf("the central server is busy with another sync of this site").withHint("try again in a minute")
		}
		return failf("the central server refused the request: %s (%s, HTTP %d)", ae.Message, ae.Code, ae.Status)
	case errors.Is(err, syncengine.ErrUnreachable):
		return failf("cannot reach the central server at %s (%s)", s.ServerURL, strings.TrimPrefix(err.Error(), syncengine.ErrUnreachable.Error()+": ")).
			withHint("check the server URL ('msupply-sync prefs show'), the network, and that the server is running")
	case errors.Is(err, syncengine.ErrUntrusted):
		return failf("the central server's certificate is not trusted (%s)", strings.TrimPrefix(err.Error(), syncengine.ErrUntrusted.Error()+": ")).
			withHint("if the server uses a private CA, pass its certificate with --ca-file (or MSUPPLY_CA_FILE); otherwise check the server URL")
	case errors.Is(err, syncengine.ErrPlainHTTP):
		return failf("the central server at %s speaks plain HTTP, not HTTPS", s.ServerURL).
			withHint("use http:// in the server URL ('msupply-sync prefs set --server-url http://...'), or serve HTTPS with 'serve --tls-cert FILE --tls-key FILE'")
	case errors.Is(err, syncengine.ErrHTTPSOnly):
		return failf("the central server at %s speaks HTTPS only", s.ServerURL).
			withHint("use https:// in the server URL ('msupply-sync prefs set --server-url https://...')")
	case errors.Is(err, syncengine.ErrTimeout):
		return failf("the central server at %s took too long to answer", s.ServerURL).
			withHint("the link may be slow or down; sync tries again on its own, and a smaller request size helps on bad links")
	case errors.Is(err, context.Canceled), errors.Is(err, syncengine.ErrStopped):
		return failf("sync interrupted; everything received so far is kept and the next sync carries on")
	}
	return err
}

// newProgress returns the progress display for long sync work.
func (env *Env) newProgress() (*progress.Reporter, syncengine.Progress) {
	p := progress.New(env.Stderr, env.stderrIsTerminal())
	return p, func(step string, done, total int64) { p.Update(step, done, total) }
}

// summary says what a cycle did where: what it pushed and central accepted, and what it pulled and
// integrated here. A bare "integrated 0" after a push read as if central had integrated nothing.
func summary(res *syncengine.CycleResult) string {
	r := res.Run
	accepted := max(r.PushDone-r.Rejected-r.Parked, 0)
	return fmt.Sprintf("pushed %d (central accepted %d), pulled %d (integrated here %d), refused %d, parked %d, errors %d in %s",
		r.PushDone, accepted, r.PullCentralDone+r.PullQueueDone, r.IntegrateDone, r.Rejected, r.Parked, r.IntegrationErrors, res.Duration.Round(1e6))
}

// logCycle logs the end of a cycle at the level it deserves: a cycle cut short by SIGINT or SIGTERM
// stopped as asked, which is no error.
func logCycle(log *slog.Logger, what string, res *syncengine.CycleResult, err error) {
	switch {
	case res == nil:
	case err == nil:
		log.Info(what+" done", "initialised", res.Initialising, "summary", summary(res))
	case errors.Is(err, syncengine.ErrStopped), errors.Is(err, context.Canceled):
		log.Info(what+" stopped on request; what it did is kept", "summary", summary(res))
	default:
		log.Error(what+" failed", "error", err, "summary", summary(res))
	}
}

func logFormatFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-format", Usage: "log format: text or json", Value: "text", EnvVars: []string{"MSUPPLY_LOG_FORMAT"}}
}

func logLevelFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-level", Usage: "least severe level logged: debug, info, warn or error", Value: "info", EnvVars: []string{"MSUPPLY_LOG_LEVEL"}}
}

func caFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "ca-file", Usage: "PEM certificates to trust for the central server, for a private CA", EnvVars: []string{"MSUPPLY_CA_FILE"}}
}
