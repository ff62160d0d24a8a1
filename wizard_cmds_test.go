package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["expandenv"] = cmdExpandenv
	scriptCmds["genlines"] = cmdGenlines
}

// cmdGenlines implements 'genlines N FILE FORMAT': it writes N lines to FILE, line i being FORMAT with
// %[1]d replaced by i, for imports too large to spell out in a script.
func cmdGenlines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: genlines N FILE FORMAT")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, args[2]+"\n", i)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
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
