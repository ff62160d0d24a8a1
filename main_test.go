package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/commands"
	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"msupply-sync": func() {
			detachTerminal()
			// Scripts move the clock on with MSUPPLY_TEST_TIME_OFFSET rather than sleep; only the test
			// binary reads it.
			if offset, err := time.ParseDuration(os.Getenv("MSUPPLY_TEST_TIME_OFFSET")); err == nil {
				commands.Clock = func() time.Time { return time.Now().Add(offset) }
			}
			os.Exit(run())
		},
	})
}

// scriptCmds are the custom testscript commands the flows in testscripts/ use.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exitcode":       cmdExitcode,
	"stdout2env":     cmdStdout2env,
	"waitfile":       cmdWaitfile,
	"file2env":       cmdFile2env,
	"sigterm":        cmdSigterm,
	"waitfor":        cmdWaitfor,
	"v5":             cmdV5,
	"checksum-match": cmdChecksumMatch,
	"holdwrite":      cmdHoldwrite,
	"gencert":        cmdGencert,
	"tlsprobe":       cmdTLSProbe,
	"expandenv":      cmdExpandenv,
	"genlines":       cmdGenlines,
	"silentserver":   cmdSilentServer,
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

// cmdHoldwrite implements 'holdwrite FILE DURATION': it takes the write lock of the SQLite datafile FILE,
// as another process writing to it would, and lets go after DURATION or when the script ends. It returns
// at once, so the commands that follow meet the lock.
func cmdHoldwrite(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: holdwrite FILE DURATION")
	}
	hold, err := time.ParseDuration(args[1])
	ts.Check(err)
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0])+"?_pragma=busy_timeout(10000)")
	ts.Check(err)
	conn, err := db.Conn(context.Background())
	ts.Check(err)
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	ts.Check(err)
	done := make(chan struct{})
	ts.Defer(func() { close(done) })
	go func() {
		select {
		case <-time.After(hold):
		case <-done:
		}
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
	}()
}

// cmdGencert implements 'gencert': it writes ca.pem (a private CA) and server.crt and server.key (a
// certificate it signed for 127.0.0.1) in the script's directory.
func cmdGencert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: gencert")
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "msupply-sync test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	ts.Check(err)
	caCert, err := x509.ParseCertificate(caDER)
	ts.Check(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, caCert, &key.PublicKey, caKey)
	ts.Check(err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	ts.Check(err)
	write := func(name, kind string, b []byte) {
		ts.Check(os.WriteFile(ts.MkAbs(name), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: b}), 0o600))
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("server.crt", "CERTIFICATE", der)
	write("server.key", "EC PRIVATE KEY", keyDER)
}

// cmdTLSProbe implements 'tlsprobe HOST:PORT 1.0|1.1|1.2|1.3': it tries a TLS handshake offering at
// most that version and fails when the handshake fails.
func cmdTLSProbe(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: tlsprobe HOST:PORT VERSION")
	}
	versions := map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}
	v, ok := versions[args[1]]
	if !ok {
		ts.Fatalf("unknown TLS version %q", args[1])
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", strings.TrimPrefix(args[0], "https://"),
		&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: v, InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
	}
	if neg && err == nil {
		ts.Fatalf("a TLS %s handshake succeeded", args[1])
	}
	if !neg && err != nil {
		ts.Fatalf("TLS %s handshake: %v", args[1], err)
	}
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

// cmdSilentServer implements 'silentserver FILE': it listens on loopback, accepts every connection and
// never answers, until the script ends, and writes its http:// URL to FILE: a server that hangs.
func cmdSilentServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: silentserver FILE")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	ts.Defer(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte("http://"+ln.Addr().String()+"\n"), 0o644))
}
