package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// Exit statuses.
const (
	exitFailure = 1
	exitUsage   = 2
	// exitIncomplete: a sync cycle ran to the end, but records were refused, parked on the central server,
	// or could not be integrated here; a script watching sync needs to tell that from success and failure.
	exitIncomplete = 3
)

// cliError is an error with its exit status and an optional hint on what to do.
type cliError struct {
	code int
	msg  string
	hint string
}

func (e *cliError) Error() string { return e.msg }

func (e *cliError) withHint(format string, args ...any) *cliError {
	e.hint = fmt.Sprintf(format, args...)
	return e
}

func usageErrorf(format string, args ...any) *cliError {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// asUsage turns a datafile error about a value given on the command line into a usage error, keeping its
// message and hint: a malformed flag value is a mistake on the line, like a missing flag.
func asUsage(err error) error {
	var de *datafile.Error
	if errors.As(err, &de) {
		return &cliError{code: exitUsage, msg: de.Message, hint: de.Hint}
	}
	return err
}

func failf(format string, args ...any) *cliError {
	return &cliError{code: exitFailure, msg: fmt.Sprintf(format, args...)}
}

// reportError prints err as one line, with a hint line when there is advice, and returns its exit status.
// Errors quote names and values from the datafile or a remote, so they are shown terminalSafe.
func (env *Env) reportError(err error) int {
	code, msg, hint := exitFailure, err.Error(), ""
	var ce *cliError
	var de *datafile.Error
	switch {
	case errors.As(err, &ce):
		code, msg, hint = ce.code, ce.msg, ce.hint
	case errors.As(err, &de):
		msg, hint = de.Message, de.Hint
	case errors.Is(err, context.Canceled):
		msg = "interrupted"
	case datafile.IsBusy(err):
		msg, hint = datafile.ErrBusy.Error()+" and kept it busy too long", "wait for it to finish (an import, a sync or a server integrating a push), then try again"
	}
	fmt.Fprintf(env.Stderr, "msupply-sync: error: %s\n", terminalSafe(oneLine(msg)))
	if hint != "" {
		fmt.Fprintf(env.Stderr, "hint: %s\n", terminalSafe(oneLine(hint)))
	}
	return code
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
