package commands

import (
	"fmt"
	"os"
	"slices"
	"strconv"
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

// loadConfig reads the file and refuses what no command could use: keys no command knows, a key in a
// command's table that is no flag of that command, and values of the wrong type, so that a typo is
// caught, not ignored. A config file that cannot be used is a usage error, as a bad flag is.
func loadConfig(path string, app *cli.App) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("cannot read the config file: %v", err).withHint("--config (or MSUPPLY_CONFIG) names a TOML file; see deploy/msupply-sync.toml")
	}
	var values map[string]any
	if err := toml.Unmarshal(data, &values); err != nil {
		return nil, usageErrorf("config file %s is not valid TOML: %v", path, err)
	}
	// kinds holds, for each flag name, the kinds of value its flags take; owners, the commands that have it.
	kinds := map[string]map[string]bool{}
	owners := map[string][]string{}
	var walk func(noun string, flags []cli.Flag, cmds []*cli.Command, known map[string]bool)
	note := func(noun string, f cli.Flag, known map[string]bool) {
		name := f.Names()[0]
		if kinds[name] == nil {
			kinds[name] = map[string]bool{}
		}
		kinds[name][flagKind(f)] = true
		if noun != "" && !slices.Contains(owners[name], noun) {
			owners[name] = append(owners[name], noun)
		}
		if known != nil {
			known[name] = true
		}
	}
	walk = func(noun string, flags []cli.Flag, cmds []*cli.Command, known map[string]bool) {
		for _, f := range flags {
			note(noun, f, known)
		}
		for _, cmd := range cmds {
			walk(noun, cmd.Flags, cmd.Subcommands, known)
		}
	}
	sections := map[string]map[string]bool{}
	for _, f := range app.Flags {
		note("", f, nil)
	}
	for _, cmd := range app.Commands {
		sections[cmd.Name] = map[string]bool{}
		walk(cmd.Name, cmd.Flags, cmd.Subcommands, sections[cmd.Name])
	}
	var unknown []string
	var problems []*cliError
	check := func(section, key string, v any) {
		name := key
		if section != "" {
			name = "[" + section + "] " + key
		}
		switch {
		case kinds[key] == nil:
			unknown = append(unknown, strings.TrimPrefix(strings.Replace(name, "] ", ".", 1), "["))
		case section != "" && !sections[section][key]:
			problems = append(problems, usageErrorf("config file %s: %s is not a flag of '%s' or its subcommands", path, name, section).
				withHint("move it to the table of a command that has it (%s), or to the top, where it applies to every command that has it", tables(owners[key])))
		default:
			if want := wrongKind(kinds[key], v); want != "" {
				e := usageErrorf("config file %s: %s must be %s, not %s", path, name, want, tomlValue(v))
				if strings.HasPrefix(want, "text") {
					e = e.withHint("text is quoted in TOML: %s = \"...\"", key)
				}
				problems = append(problems, e)
			}
		}
	}
	for k, v := range values {
		if table, ok := v.(map[string]any); ok {
			if sections[k] == nil {
				unknown = append(unknown, "["+k+"]")
				continue
			}
			for tk, tv := range table {
				check(k, tk, tv)
			}
			continue
		}
		check("", k, v)
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, usageErrorf("config file %s: unknown keys %s", path, strings.Join(unknown, ", ")).
			withHint("keys are flag names without the dashes, at the top or in a table named after a command")
	}
	if len(problems) > 0 {
		// Map order is random; the first in order of the message keeps the report the same every run.
		slices.SortFunc(problems, func(a, b *cliError) int { return strings.Compare(a.msg, b.msg) })
		return nil, problems[0]
	}
	return values, nil
}

// boolAsText lists the flags that take true or false as text, so that they can tell "not given" from
// false: the file may give them a TOML boolean.
var boolAsText = map[string]bool{"alt-http-client": true}

// flagKind names the kind of value a flag takes from the config file.
func flagKind(f cli.Flag) string {
	switch f := f.(type) {
	case *cli.BoolFlag:
		return "bool"
	case *cli.IntFlag, unsetIntFlag:
		return "int"
	case *cli.StringSliceFlag:
		return "list"
	case *cli.StringFlag:
		if boolAsText[f.Name] {
			return "bool-text"
		}
	}
	return "string" // strings, and durations such as "30m", which TOML has no type for
}

// wrongKind returns what the flag named key wants, when v is not one of the kinds it takes, or "".
func wrongKind(kinds map[string]bool, v any) string {
	var wants []string
	for kind := range kinds {
		ok, want := false, ""
		switch kind {
		case "bool":
			_, ok = v.(bool)
			want = "true or false"
		case "bool-text":
			_, isBool := v.(bool)
			_, isText := v.(string)
			ok, want = isBool || isText, "true or false"
		case "int":
			_, ok = v.(int64)
			want = "a whole number"
		case "list":
			ok, want = true, "text, or a list of texts"
			if list, isList := v.([]any); isList {
				for _, item := range list {
					if _, isText := item.(string); !isText {
						ok = false
					}
				}
			} else if _, isText := v.(string); !isText {
				ok = false
			}
		default:
			_, ok = v.(string)
			want = "text (in quotes)"
		}
		if ok {
			return ""
		}
		wants = append(wants, want)
	}
	slices.Sort(wants)
	return strings.Join(wants, " or ")
}

// tomlValue shows a value as the file wrote it.
func tomlValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprint(v)
}

// tables names the command tables a key may stand in: "[serve], [run]".
func tables(nouns []string) string {
	out := make([]string, len(nouns))
	for i, n := range nouns {
		out[i] = "[" + n + "]"
	}
	return strings.Join(out, ", ")
}

func configFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "config",
		Usage:   "a TOML file of flag values (flags and environment variables override it)",
		EnvVars: []string{"MSUPPLY_CONFIG"},
	}
}
