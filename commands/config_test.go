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
	t.Run("a missing file is an error", func(t *testing.T) {
		code, _, errOut := run(t, nil, "--config", filepath.Join(dir, "none.toml"), "store", "list")
		if code != 1 || !strings.Contains(errOut, "cannot read the config file") {
			t.Fatalf("%d %s", code, errOut)
		}
	})
}
