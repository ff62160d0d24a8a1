package main

import (
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["expandenv"] = cmdExpandenv
}

// cmdExpandenv implements 'expandenv FILE': it replaces $NAME and ${NAME} in FILE with the script's
// environment, for answers that must hold a value known only at run time, such as the server's URL.
func cmdExpandenv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: expandenv FILE")
	}
	path := ts.MkAbs(args[0])
	ts.Check(os.WriteFile(path, []byte(os.Expand(ts.ReadFile(args[0]), ts.Getenv)), 0o644))
}
