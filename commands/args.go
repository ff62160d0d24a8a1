package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves the flags of the leaf command in args ahead of its positional arguments. urfave/cli
// stops reading flags at the first positional argument, but administrators write 'site show North
// --output json' as readily as 'site show --output json North'.
func interspersed(app *cli.App, args []string) []string {
	for _, a := range args {
		if a == "--generate-bash-completion" {
			return args
		}
	}
	cmds := app.Commands
	i := 0
	var leaf *cli.Command
	for i < len(args) {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if takesValue(app.Flags, a) && !strings.Contains(a, "=") {
				i++
			}
			i++
			continue
		}
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(a) {
				next = c
			}
		}
		if next == nil {
			break
		}
		leaf = next
		cmds = next.Subcommands
		i++
		if len(cmds) == 0 {
			break
		}
	}
	if leaf == nil || len(leaf.Subcommands) > 0 || leaf.SkipFlagParsing {
		return args
	}
	// Common flags written before the command name are handed to the leaf, which takes them too. Left
	// before it, the leaf's own copy of the flag would read the environment variable and win over what
	// was typed: 'MSUPPLY_DATAFILE=a.db msupply-sync --datafile b.db ...' would work on a.db.
	var head, flags, positional []string
	for j := 0; j < i; j++ {
		a := args[j]
		if strings.HasPrefix(a, "-") && definesFlag(app.Flags, a) && definesFlag(leaf.Flags, a) {
			flags = append(flags, a)
			if takesValue(app.Flags, a) && !strings.Contains(a, "=") && j+1 < i {
				j++
				flags = append(flags, args[j])
			}
			continue
		}
		head = append(head, a)
	}
	rest := args[i:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j+1:]...)
			break
		}
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if takesValue(leaf.Flags, a) && !strings.Contains(a, "=") && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
			continue
		}
		positional = append(positional, a)
	}
	out := append(head, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// helpWords turns 'help CMD...' into 'CMD... --help', at any depth ('help site add', 'site help add'), as
// git and urfave/cli do. urfave/cli's own help command answers only one level down, and not at all once
// the top-level one is hidden, so the word is rewritten before parsing instead.
func helpWords(app *cli.App, args []string) []string {
	cmds := app.Commands
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args
		}
		if strings.HasPrefix(a, "-") {
			if takesValue(app.Flags, a) && !strings.Contains(a, "=") {
				i++
			}
			continue
		}
		if a == "help" {
			out := append(append(append([]string{}, args[:i]...), args[i+1:]...), "--help")
			return out
		}
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(a) {
				next = c
			}
		}
		if next == nil || len(next.Subcommands) == 0 {
			return args
		}
		cmds = next.Subcommands
	}
	return args
}

// takesValue reports whether the flag spelled arg (e.g. --output or -o) is one that reads a value.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				return false
			}
			return true
		}
	}
	return false
}

// definesFlag reports whether flags has the flag spelled arg (e.g. --datafile, -d or --datafile=x).
func definesFlag(flags []cli.Flag, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}
