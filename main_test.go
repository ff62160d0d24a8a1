package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"msupply-sync": func() {
			detachTerminal()
			os.Exit(run())
		},
	})
}

// scriptCmds are the custom testscript commands; files that add more register them in init.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exitcode":   cmdExitcode,
	"stdout2env": cmdStdout2env,
}

// TestScripts runs the end-to-end flows in testscripts/ against the real binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testscripts",
		Cmds: scriptCmds,
	})
}

// cmdExitcode implements 'exitcode N program [args...]': it runs program like exec and fails unless the
// exit status is exactly N, so that a script can tell a usage error (2) from a run-time failure (1).
// stdout and stderr are kept for the stdout and stderr commands that follow.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdStdout2env implements 'stdout2env NAME REGEXP': it sets the environment variable NAME to the first
// capture group of REGEXP (multi-line mode) in the last command's stdout, for values the program makes up,
// such as a store's generated ID or a generated authorisation code.
func cmdStdout2env(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: stdout2env NAME REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("no match for %q with a capture group in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}
