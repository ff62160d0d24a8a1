package commands

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// datafilePath returns the --datafile path, refusing what cannot be a datafile: nothing (-d "", or
// MSUPPLY_DATAFILE set but empty) or a directory. Left to SQLite, both end in errors about files the
// person never named.
func datafilePath(c *cli.Context) (string, error) {
	path := flagString(c, "datafile")
	if strings.TrimSpace(path) == "" {
		return "", usageErrorf("--datafile is empty").
			withHint("give the datafile's path, e.g. --datafile /var/lib/msupply/central.db; without --datafile and MSUPPLY_DATAFILE it is ./msupply.db")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", usageErrorf("--datafile %s is a directory, not a datafile", path).
			withHint("name a file in it, e.g. --datafile %s", filepath.Join(path, "msupply.db"))
	}
	return path, nil
}
