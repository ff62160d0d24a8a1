package commands

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/syncengine"
)

func (env *Env) serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve the sync API of the central datafile to remote sites",
		UsageText: "msupply-sync serve --central [--listen ADDR] [--tls-cert FILE --tls-key FILE] [--addr-file FILE]",
		Description: `Serves the mSupply v5 sync API, plus /healthz and Prometheus metrics at /metrics. It runs until
SIGINT or SIGTERM, then lets requests in flight finish and exits 0. With --tls-cert and --tls-key it
serves HTTPS (TLS 1.2 or later). --addr-file receives the URL it listens on once it is ready, which
with --listen 127.0.0.1:0 is how scripts learn the port. Records the server holds back ('sync
parked') are tried again after each push of their site and every --retry-parked.

open-mSupply remotes are also told a URL for the calls they make to an open-mSupply central server
(sync v6), which this server answers: by default the address each remote reached it by. Behind a
reverse proxy, give the address remotes use with --public-url.

Examples:
  msupply-sync serve --central --listen :8443 --tls-cert server.crt --tls-key server.key
  msupply-sync serve --central --listen 127.0.0.1:0 --addr-file server.url`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "central", Usage: "serve the central datafile (the only role that serves)"},
			&cli.StringFlag{Name: "listen", Usage: "address to listen on", Value: ":8080", EnvVars: []string{"MSUPPLY_LISTEN"}},
			&cli.StringFlag{Name: "tls-cert", Usage: "PEM certificate for HTTPS"},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM private key for HTTPS"},
			&cli.StringFlag{Name: "addr-file", Usage: "write the server's URL here when it is ready"},
			&cli.StringFlag{Name: "public-url", Usage: "the URL remotes reach this server by, when a proxy stands between (default: the address each request came to)", EnvVars: []string{"MSUPPLY_PUBLIC_URL"}},
			&cli.DurationFlag{Name: "retry-parked", Usage: "how often to try parked records again (1s to 24h)", Value: syncengine.DefaultRetryParked},
			logFormatFlag(), logLevelFlag(),
		},
		Action: env.runServe,
	}
}

func (env *Env) runServe(c *cli.Context) error {
	if err := requireArgs(c); err != nil {
		return err
	}
	if !c.Bool("central") {
		return usageErrorf("serve needs --central").withHint("only the central server serves; remote sites run 'msupply-sync run --remote'")
	}
	if (c.String("tls-cert") == "") != (c.String("tls-key") == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	if d := c.Duration("retry-parked"); d < time.Second || d > 24*time.Hour {
		return usageErrorf("--retry-parked must be from 1s to 24h, not %s", d)
	}
	publicURL := c.String("public-url")
	if publicURL != "" {
		if err := datafile.ValidateServerURL(publicURL); err != nil {
			return asUsage(err)
		}
		publicURL = strings.TrimSuffix(publicURL, "/") + "/"
	}
	log, err := env.newLogger(c)
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if c.String("tls-cert") != "" {
		cert, err := tls.LoadX509KeyPair(c.String("tls-cert"), c.String("tls-key"))
		if err != nil {
			return failf("load TLS certificate: %v", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	db, s, err := openWithSettings(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if s.Role != datafile.RoleCentral {
		return failf("%s is a remote datafile; only the central datafile is served", db.Path())
	}
	// Two servers on one datafile would each keep their own view of which sites are mid-push.
	lock, err := datafile.TryWorkLock(db.Path(), "serving")
	if err != nil {
		return err
	}
	defer lock.Release()
	srv, err := syncengine.NewServer(db, syncengine.ServerOptions{Logger: log, RetryParked: c.Duration("retry-parked"), PublicURL: publicURL})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return failf("listen on %s: %v", c.String("listen"), err).withHint("choose a free address with --listen")
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(addr.Port)))
	if path := c.String("addr-file"); path != "" {
		if err := writeFileAtomically(path, []byte(url+"\n")); err != nil {
			ln.Close()
			return failf("cannot write --addr-file %s: %v", path, err).withHint("name a file in a directory this account can write to")
		}
	}
	log.Info("serving the sync API", "url", url, "listen", ln.Addr().String(), "datafile", db.Path())
	if err := srv.Serve(c.Context, ln, tlsConfig); err != nil {
		return failf("serve: %v", err)
	}
	log.Info("server stopped")
	return nil
}

// writeFileAtomically writes data so that a reader sees all of it or no file. Its errors name no file:
// the temporary file is the program's own business, and the caller names the file it was asked for.
func writeFileAtomically(path string, data []byte) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("it is a directory")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return withoutPath(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return withoutPath(err)
	}
	if err := tmp.Close(); err != nil {
		return withoutPath(err)
	}
	return withoutPath(os.Rename(tmp.Name(), path))
}

// withoutPath returns the cause of a file error without the file's name ("permission denied").
func withoutPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
