// Command msupply-sync synchronises mSupply datafiles between a central server and remote sites.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/msupply-foundation/msupply-sync/commands"
)

func main() {
	os.Exit(run())
}

// run is main without the exit, shared with the end-to-end tests: SIGINT and SIGTERM cancel the
// command's context so that servers and sync loops stop cleanly.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return commands.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
