package commands

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

var update = flag.Bool("update", false, "rewrite docs/reference.md from the command tree")

// TestReferenceIsCurrent fails when docs/reference.md no longer matches the command tree; 'make docs'
// rewrites it.
func TestReferenceIsCurrent(t *testing.T) {
	env := &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Prompter: noPrompter{}, Getenv: os.Getenv}
	md, err := env.newApp().ToMarkdown()
	if err != nil {
		t.Fatal(err)
	}
	got := "<!-- Generated from the command tree by 'make docs'; do not edit. -->\n\n" + md
	path := filepath.Join("..", "docs", "reference.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'make docs')", err)
	}
	if string(want) != got {
		t.Fatal("docs/reference.md is out of date with the command tree: run 'make docs' and commit the result")
	}
}

// TestEveryCommandHelpHasAnExample walks the command tree: --help of every command that runs teaches by
// example.
func TestEveryCommandHelpHasAnExample(t *testing.T) {
	env := &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Prompter: noPrompter{}, Getenv: os.Getenv}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(name, c.Subcommands)
				continue
			}
			if !strings.Contains(c.Description, "Example") || !strings.Contains(c.Description, "msupply-sync ") {
				t.Errorf("'%s --help' has no example", name)
			}
			if c.Usage == "" || c.UsageText == "" {
				t.Errorf("'%s' lacks a usage line", name)
			}
		}
	}
	walk("", env.newApp().Commands)
}

// TestEveryReadCommandTakesOutput: every command that only reads (lists, shows, statuses, the connection
// check) takes --output, so that a script can ask any of them for JSON.
func TestEveryReadCommandTakesOutput(t *testing.T) {
	env := &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Prompter: noPrompter{}, Getenv: os.Getenv}
	reads := map[string]bool{"list": true, "show": true, "get": true, "checksum": true, "status": true, "parked": true, "check-connection": true}
	seen := 0
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			walk(name, c.Subcommands)
			if len(c.Subcommands) > 0 || !reads[c.Name] {
				continue
			}
			seen++
			found := false
			for _, f := range c.Flags {
				if f.Names()[0] == "output" {
					found = true
				}
			}
			if !found {
				t.Errorf("'%s' is a read command without --output", name)
			}
		}
	}
	walk("", env.newApp().Commands)
	if seen < 10 {
		t.Fatalf("found only %d read commands; the walk is broken", seen)
	}
}
