package commands

import (
	"crypto/rand"
	"encoding/base32"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/prompt"
)

// readPassword gets a password from standard input, the hidden flag, or a prompt; confirm asks twice.
// It returns "" without error when the password is optional and none was offered.
func (env *Env) readPassword(c *cli.Context, what string, required, confirm bool) (string, error) {
	switch {
	case c.Bool("password-stdin"):
		p, err := prompt.ReadSecretLine(env.Stdin)
		if err != nil {
			return "", usageErrorf("--password-stdin: %v", err).withHint("pipe the password in, e.g. printf '%%s\\n' \"$PASSWORD\" | msupply-sync ...")
		}
		return p, nil
	case !required:
		return "", nil
	case env.Prompter.Interactive():
		p, err := env.Prompter.Secret(what + ": ")
		if err != nil {
			return "", err
		}
		if confirm {
			again, err := env.Prompter.Secret("Again, to confirm: ")
			if err != nil {
				return "", err
			}
			if again != p {
				return "", failf("the two entries differ; nothing was changed")
			}
		}
		return p, nil
	}
	return "", usageErrorf("no password given").withHint("pass it on standard input with --password-stdin")
}

// newAuthCode returns the authorisation code for a new datafile: the flag's, one typed at the terminal,
// or a generated one that the caller prints once.
func (env *Env) newAuthCode(c *cli.Context) (code string, generated bool, err error) {
	if code := flagString(c, "auth-code"); code != "" {
		return code, false, nil
	}
	if env.Prompter.Interactive() {
		code, err := env.Prompter.Secret("Authorisation code for this datafile (empty to generate one): ")
		if err != nil {
			return "", false, err
		}
		if code != "" {
			again, err := env.Prompter.Secret("Again, to confirm: ")
			if err != nil {
				return "", false, err
			}
			if again != code {
				return "", false, failf("the two entries differ; nothing was created")
			}
			return code, false, nil
		}
	}
	code, err = generateAuthCode()
	return code, err == nil, err
}

// generateAuthCode returns a random code that is easy to read out and type: 16 base32 characters.
func generateAuthCode() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := base32.StdEncoding.EncodeToString(b)
	return strings.Join([]string{s[0:4], s[4:8], s[8:12], s[12:16]}, "-"), nil
}

func passwordStdinFlag() cli.Flag {
	return &cli.BoolFlag{Name: "password-stdin", Usage: "read the site password from the first line of standard input"}
}
