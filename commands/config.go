package commands

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
)

// applyConfig fills the flags of the command being run from the --config file, where neither the command
// line nor the environment set them. Top-level keys apply to every command with such a flag; a table named
// after a command ([serve], [run], [site]) applies to that command and its subcommands, and wins.
func applyConfig(c *cli.Context) error {
	path := flagString(c, "config")
	if path == "" {
		return nil
	}
	values, err := loadConfig(path, c.App)
	if err != nil {
		return err
	}
	noun := commandNoun(c)
	merged := map[string]any{}
	for k, v := range values {
		if _, isTable := v.(map[string]any); !isTable {
			merged[k] = v
		}
	}
	if section, ok := values[noun].(map[string]any); ok {
		for k, v := range section {
			merged[k] = v
		}
	}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		v, ok := merged[name]
		if !ok || setOnLine(c, name) {
			continue
		}
		var items []any
		if list, isList := v.([]any); isList {
			items = list
		} else {
			items = []any{v}
		}
		for _, item := range items {
			if err := c.Set(name, fmt.Sprint(item)); err != nil {
				return usageErrorf("config file %s: %s: %v", path, name, err)
			}
		}
	}
	return nil
}

// commandNoun returns the top-level command being run ("site" for 'site list').
func commandNoun(c *cli.Context) string {
	noun := ""
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && c.App.Command(ctx.Command.Name) != nil {
			noun = ctx.Command.Name
		}
	}
	return noun
}

// setOnLine reports whether a flag was given on the command line or by its environment variable.
func setOnLine(c *cli.Context, name string) bool {
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil || ctx.App != nil {
			if ctx.IsSet(name) {
				return true
			}
		}
	}
	return false
}

// loadConfig reads the file and refuses keys no command knows, so that a typo is caught, not ignored.
func loadConfig(path string, app *cli.App) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, failf("cannot read the config file: %v", err).withHint("--config (or MSUPPLY_CONFIG) names a TOML file; see deploy/msupply-sync.toml")
	}
	var values map[string]any
	if err := toml.Unmarshal(data, &values); err != nil {
		return nil, usageErrorf("config file %s is not valid TOML: %v", path, err)
	}
	known := map[string]bool{}
	sections := map[string]bool{}
	var walk func(cmds []*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			for _, f := range cmd.Flags {
				known[f.Names()[0]] = true
			}
			walk(cmd.Subcommands)
		}
	}
	for _, f := range app.Flags {
		known[f.Names()[0]] = true
	}
	walk(app.Commands)
	for _, cmd := range app.Commands {
		sections[cmd.Name] = true
	}
	var unknown []string
	check := func(prefix string, m map[string]any) {
		for k := range m {
			if !known[k] {
				unknown = append(unknown, prefix+k)
			}
		}
	}
	for k, v := range values {
		if table, ok := v.(map[string]any); ok {
			if !sections[k] {
				unknown = append(unknown, "["+k+"]")
				continue
			}
			check(k+".", table)
		} else if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, usageErrorf("config file %s: unknown keys %s", path, strings.Join(unknown, ", ")).
			withHint("keys are flag names without the dashes, at the top or in a table named after a command")
	}
	return values, nil
}

func configFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "config",
		Usage:   "a TOML file of flag values (flags and environment variables override it)",
		EnvVars: []string{"MSUPPLY_CONFIG"},
	}
}
