package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The commands below serve the sync flows in testscripts (sync_*.txtar, serve.txtar, check_connection.txtar):
// they wait for a background server or for state it reaches, talk raw v5 to it, stop it with SIGTERM, and
// compare the checksums of two datafiles.
func init() {
	scriptCmds["waitfile"] = cmdWaitfile
	scriptCmds["file2env"] = cmdFile2env
	scriptCmds["sigterm"] = cmdSigterm
	scriptCmds["waitfor"] = cmdWaitfor
	scriptCmds["v5"] = cmdV5
	scriptCmds["checksum-match"] = cmdChecksumMatch
}

// scriptWait bounds every wait in these commands, so that a broken server fails a script rather than hanging it.
const scriptWait = 10 * time.Second

// cmdWaitfile implements 'waitfile FILE': it polls until FILE exists and is not empty, for at most ten
// seconds, such as the --addr-file a background server writes once it is ready.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(scriptWait); ; time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within %s", args[0], scriptWait)
		}
	}
}

// cmdFile2env implements 'file2env NAME FILE': it sets the environment variable NAME to the content of
// FILE without surrounding white space, such as the server URL from an --addr-file.
func cmdFile2env(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: file2env NAME FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// cmdSigterm implements 'sigterm [WORD]': it sends SIGTERM to every background command started since the
// last wait, or with WORD only to those that have WORD among their arguments (such as serve or run);
// testscript's own kill knows only INT and KILL. The 'wait' that follows checks the exit status and makes
// the command's stdout and stderr available.
func cmdSigterm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: sigterm [WORD]")
	}
	n := 0
	for _, cmd := range ts.BackgroundCmds() {
		if cmd.Process == nil || (len(args) == 1 && !slices.Contains(cmd.Args[1:], args[0])) {
			continue
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			ts.Fatalf("signal %s: %v", cmd.Path, err)
		}
		n++
	}
	if n == 0 {
		ts.Fatalf("no background command to signal")
	}
}

// cmdWaitfor implements 'waitfor REGEXP program [args...]': it runs program like exec, again every 100ms
// for at most ten seconds, until it succeeds with stdout matching REGEXP (multi-line mode), for state that
// a background command reaches in its own time.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: waitfor REGEXP program [args...]")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	for deadline := time.Now().Add(scriptWait); ; time.Sleep(100 * time.Millisecond) {
		if err := ts.Exec(args[1], args[2:]...); err == nil && re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not print a match for %q within %s", args[1], args[0], scriptWait)
		}
	}
}

// cmdV5 implements 'v5 METHOD URL [-user NAME:PASSWORD] [-rawpassword] [-hw ID] [-version N] [-app NAME]
// [-body JSON|@FILE]', a curl for the sync API: it sends one request the way a v5 client does (Basic auth
// with the lowercase hex SHA-256 of the password, unless -rawpassword sends it as given; the
// msupply-site-uuid, app-name, app-version and version headers; version 14 unless -version says otherwise,
// and none when -version is empty) and prints the HTTP status on the first line and the body after it. Any
// status is a success of the command itself; scripts assert on the output.
func cmdV5(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: v5 METHOD URL [-user NAME:PASSWORD] [-rawpassword] [-hw ID] [-version N] [-app NAME] [-body JSON|@FILE]"
	if neg || len(args) < 2 {
		ts.Fatalf("%s", usage)
	}
	method, url := args[0], args[1]
	var user, password, hw, body string
	version, app := "14", "msupply-sync-testscript"
	raw, auth := false, false
	for rest := args[2:]; len(rest) > 0; {
		flag := rest[0]
		if flag == "-rawpassword" {
			raw, rest = true, rest[1:]
			continue
		}
		if len(rest) < 2 {
			ts.Fatalf("%s needs a value\n%s", flag, usage)
		}
		val := rest[1]
		rest = rest[2:]
		switch flag {
		case "-user":
			var ok bool
			if user, password, ok = strings.Cut(val, ":"); !ok {
				ts.Fatalf("-user takes NAME:PASSWORD")
			}
			auth = true
		case "-hw":
			hw = val
		case "-version":
			version = val
		case "-app":
			app = val
		case "-body":
			if name, ok := strings.CutPrefix(val, "@"); ok {
				val = ts.ReadFile(name)
			}
			body = val
		default:
			ts.Fatalf("unknown option %s\n%s", flag, usage)
		}
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	ts.Check(err)
	if auth {
		if !raw {
			sum := sha256.Sum256([]byte(password))
			password = hex.EncodeToString(sum[:])
		}
		req.SetBasicAuth(user, password)
	}
	if hw != "" {
		req.Header.Set("msupply-site-uuid", hw)
	}
	if version != "" {
		req.Header.Set("version", version)
	}
	req.Header.Set("app-name", app)
	req.Header.Set("app-version", "0.0.0-test")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: scriptWait}).Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n%s", resp.StatusCode, data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		fmt.Fprintln(ts.Stdout())
	}
}

// cmdChecksumMatch implements 'checksum-match [--store STORE] A.db B.db [TABLE...]': it runs 'record
// checksum --output json' (with --store when given) on both datafiles and fails unless the named tables,
// or with none named every table printed, have the same count and digest on both. It prints one line a
// table compared. Negated, it fails unless at least one of them differs.
func cmdChecksumMatch(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: checksum-match [--store STORE] A.db B.db [TABLE...]"
	var store []string
	if len(args) > 0 && args[0] == "--store" {
		if len(args) < 2 {
			ts.Fatalf("%s", usage)
		}
		store, args = []string{"--store", args[1]}, args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("%s", usage)
	}
	type sum struct {
		Count  int    `json:"count"`
		Digest string `json:"digest"`
	}
	checksum := func(db string) map[string]sum {
		cmd := append([]string{"--datafile", db, "record", "checksum", "--output", "json"}, store...)
		if err := ts.Exec("msupply-sync", cmd...); err != nil {
			ts.Fatalf("checksum of %s: %v\n%s", db, err, ts.ReadFile("stderr"))
		}
		var out map[string]sum
		if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &out); err != nil {
			ts.Fatalf("checksum of %s: %v", db, err)
		}
		return out
	}
	a, b := checksum(args[0]), checksum(args[1])
	tables := args[2:]
	if len(tables) == 0 {
		for t := range a {
			tables = append(tables, t)
		}
		for t := range b {
			if _, ok := a[t]; !ok {
				tables = append(tables, t)
			}
		}
		sort.Strings(tables)
	}
	var differ []string
	for _, t := range tables {
		sa, oka := a[t]
		sb, okb := b[t]
		if !oka || !okb {
			ts.Fatalf("table %s is missing from a checksum", t)
		}
		if sa == sb {
			fmt.Fprintf(ts.Stdout(), "%s: same (%d)\n", t, sa.Count)
			continue
		}
		fmt.Fprintf(ts.Stdout(), "%s: differs (%d, %d)\n", t, sa.Count, sb.Count)
		differ = append(differ, t)
	}
	switch {
	case neg && len(differ) == 0:
		ts.Fatalf("%s and %s agree on %s", args[0], args[1], strings.Join(tables, ", "))
	case !neg && len(differ) > 0:
		ts.Fatalf("%s and %s differ on %s", args[0], args[1], strings.Join(differ, ", "))
	}
}
