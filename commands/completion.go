package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

const bashCompletion = `# msupply-sync completion for bash: source it, or save it in /etc/bash_completion.d/msupply-sync
_msupply_sync_complete() {
	local cur words
	COMPREPLY=()
	cur="${COMP_WORDS[COMP_CWORD]}"
	words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
	if [[ "$cur" == -* ]]; then
		words+=("$cur")
	fi
	COMPREPLY=($(compgen -W "$("${words[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _msupply_sync_complete msupply-sync
`

const zshCompletion = `#compdef msupply-sync
# msupply-sync completion for zsh: save it as _msupply-sync in a directory on $fpath
_msupply_sync() {
	local -a opts
	local cur=${words[-1]}
	if [[ "$cur" == -* ]]; then
		opts=("${(@f)$(${words[@]:0:#words[@]-1} $cur --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
	fi
	if [[ -n "${opts[1]}" ]]; then
		_describe 'values' opts
	else
		_files
	fi
}
compdef _msupply_sync msupply-sync
`

func (env *Env) completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		UsageText: "msupply-sync completion bash|zsh|fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Examples:
  msupply-sync completion bash > /etc/bash_completion.d/msupply-sync
  msupply-sync completion zsh > "${fpath[1]}/_msupply-sync"
  msupply-sync completion fish > ~/.config/fish/completions/msupply-sync.fish`,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, "SHELL"); err != nil {
				return err
			}
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(env.Stdout, bashCompletion)
			case "zsh":
				fmt.Fprint(env.Stdout, zshCompletion)
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(env.Stdout, script)
			default:
				return usageErrorf("no completion for shell %q", c.Args().First()).withHint("choose bash, zsh or fish")
			}
			return nil
		},
	}
}
