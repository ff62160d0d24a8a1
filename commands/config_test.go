package commands

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSampleConfigIsAccepted(t *testing.T) {
	env := &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Prompter: noPrompter{}, Getenv: os.Getenv}
	values, err := loadConfig(filepath.Join("..", "deploy", "msupply-sync.toml"), env.newApp())
	if err != nil {
		t.Fatal(err)
	}
	if values["datafile"] != "/var/lib/msupply-sync/msupply.db" {
		t.Fatalf("datafile = %v", values["datafile"])
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(t *testing.T, env map[string]string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Prompter: noPrompter{},
			Getenv: func(k string) string { return env[k] }}
		for k, v := range env {
			t.Setenv(k, v)
		}
		return e.Run(context.Background(), args), out.String(), errOut.String()
	}
	central := filepath.Join(dir, "central.db")
	if code, _, errOut := run(t, nil, "--datafile", central, "init", "--central", "--site-name", "HQ", "--auth-code", "code-123456"); code != 0 {
		t.Fatal(errOut)
	}
	cfg := write("c.toml", "datafile = \""+central+"\"\n[store]\noutput = \"json\"\n")

	t.Run("file supplies the datafile and a command's table its output", func(t *testing.T) {
		code, out, errOut := run(t, nil, "--config", cfg, "store", "list")
		if code != 0 || !strings.HasPrefix(out, "[") {
			t.Fatalf("%d %q %s", code, out, errOut)
		}
	})
	t.Run("a flag overrides the file", func(t *testing.T) {
		code, out, _ := run(t, nil, "--config", cfg, "store", "list", "--output", "table")
		if code != 0 || strings.HasPrefix(out, "[") {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("the environment overrides the file", func(t *testing.T) {
		code, out, _ := run(t, map[string]string{"MSUPPLY_OUTPUT": "table"}, "--config", cfg, "store", "list")
		if code != 0 || strings.HasPrefix(out, "[") {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("a section applies only to its command", func(t *testing.T) {
		code, out, _ := run(t, nil, "--config", cfg, "site", "list")
		if code != 0 || strings.HasPrefix(out, "[") {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("MSUPPLY_CONFIG names the file", func(t *testing.T) {
		code, out, _ := run(t, map[string]string{"MSUPPLY_CONFIG": cfg}, "store", "list")
		if code != 0 || !strings.HasPrefix(out, "[") {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("unknown keys are refused", func(t *testing.T) {
		bad := write("bad.toml", "datafle = \"x\"\n")
		code, _, errOut := run(t, nil, "--config", bad, "store", "list")
		if code != 2 || !strings.Contains(errOut, "unknown keys datafle") {
			t.Fatalf("%d %s", code, errOut)
		}
	})
	// A config file that cannot be used is a usage error, whatever is wrong with it.
	for _, tt := range []struct {
		name, file, content, want, hint string
	}{
		{"a missing file", "none.toml", "", "cannot read the config file: ", ""},
		{"a malformed file", "malformed.toml", "datafile = \n", "is not valid TOML", ""},
		{"a number for a path", "number.toml", "datafile = 5\n", "number.toml: datafile must be text (in quotes), not 5", `datafile = "..."`},
		{"a list for a path", "list.toml", "[store]\nsite = [\"a\"]\n", "list.toml: [store] site must be text (in quotes), not a list", ""},
		{"text for a switch", "switch.toml", "[site]\nyes = \"yes\"\n", `switch.toml: [site] yes must be true or false, not "yes"`, ""},
		{"text for a number", "count.toml", "[record]\nlimit = \"ten\"\n", `count.toml: [record] limit must be a whole number, not "ten"`, ""},
		{"a key of another command", "other.toml", "[site]\nlisten = \":8080\"\n", "other.toml: [site] listen is not a flag of 'site' or its subcommands", "([serve])"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if tt.content != "" {
				path = write(tt.file, tt.content)
			}
			code, _, errOut := run(t, nil, "--config", path, "store", "list")
			if code != 2 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, tt.hint) {
				t.Fatalf("exit %d, stderr %s; want 2 and %q, %q", code, errOut, tt.want, tt.hint)
			}
		})
	}
	t.Run("values of every kind are taken", func(t *testing.T) {
		good := write("good.toml", "datafile = \""+central+"\"\n[prefs]\nalt-http-client = true\n[record]\nlimit = 10\nwhere = [\"code=X\"]\n[unlock]\nfor = \"30m\"\n[site]\nyes = true\n")
		if code, _, errOut := run(t, nil, "--config", good, "record", "list", "item"); code != 0 {
			t.Fatalf("%d %s", code, errOut)
		}
	})
}
