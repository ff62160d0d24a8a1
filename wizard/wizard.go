// Package wizard sets up a datafile by asking one question a line: the role, the server, the site's name,
// password and authorisation code. Every answer has a default or is asked again with the reason.
package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Asker asks questions.
type Asker interface {
	Line(question string) (string, error)
	Secret(question string) (string, error)
}

// Actions does what the answers decide.
type Actions interface {
	// ValidateURL explains what is wrong with a server URL, or returns nil.
	ValidateURL(u string) error
	// ValidateSiteName explains what is wrong with a site name, or returns nil.
	ValidateSiteName(name string) error
	// CheckConnection tries the credentials against the server and explains a failure in plain words.
	CheckConnection(ctx context.Context, serverURL, siteName, password string) error
	CreateCentral(ctx context.Context, siteName, siteCode, authCode string) error
	CreateRemote(ctx context.Context, serverURL, siteName, password, authCode string) error
	// FirstSync initialises a new remote datafile from the server, showing progress.
	FirstSync(ctx context.Context) error
}

// Wizard holds the conversation.
type Wizard struct {
	Ask      Asker
	Out      io.Writer
	Do       Actions
	Datafile string
	// MaxTries bounds how often one question is asked again before the wizard gives up.
	MaxTries int
}

// ErrGaveUp means the same question got no usable answer MaxTries times.
var ErrGaveUp = errors.New("no usable answer; nothing was created")

// Run asks the questions and sets the datafile up.
func (w *Wizard) Run(ctx context.Context) error {
	if w.MaxTries == 0 {
		w.MaxTries = 5
	}
	fmt.Fprintf(w.Out, "This sets up the mSupply sync datafile %s. Press Enter to take the answer in brackets.\n", w.Datafile)
	role, err := w.choose("Set up a remote site or the central server? [remote/central] (remote): ", "remote", "remote", "central")
	if err != nil {
		return err
	}
	if role == "central" {
		return w.central(ctx)
	}
	return w.remote(ctx)
}

func (w *Wizard) central(ctx context.Context) error {
	name, err := w.ask("Name of the central site (Central): ", "Central", w.Do.ValidateSiteName)
	if err != nil {
		return err
	}
	code, err := w.ask("Short code for it, optional: ", "", nil)
	if err != nil {
		return err
	}
	auth, err := w.authCode()
	if err != nil {
		return err
	}
	if err := w.Do.CreateCentral(ctx, name, code, auth); err != nil {
		return err
	}
	fmt.Fprintf(w.Out, "Created the central datafile. Next: add sites and stores, then run 'msupply-sync serve --central'.\n")
	return nil
}

func (w *Wizard) remote(ctx context.Context) error {
	for {
		serverURL, err := w.ask("Central server URL, with its port (e.g. https://central.example.org:8443): ", "", func(s string) error {
			if s == "" {
				return errors.New("the URL is needed")
			}
			if !strings.Contains(s, "://") {
				return fmt.Errorf("start it with https:// or http://, e.g. https://%s", s)
			}
			return w.Do.ValidateURL(s)
		})
		if err != nil {
			return err
		}
		name, err := w.ask("Site name, as set on the central server: ", "", func(s string) error {
			if s == "" {
				return errors.New("the site name is needed")
			}
			return w.Do.ValidateSiteName(s)
		})
		if err != nil {
			return err
		}
		password, err := w.secret("Site password (not shown): ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w.Out, "Checking the connection to %s ...\n", hostOf(serverURL))
		if err := w.Do.CheckConnection(ctx, serverURL, name, password); err != nil {
			fmt.Fprintf(w.Out, "The connection did not work: %v\n", err)
			next, err := w.choose("Try other answers, create the datafile anyway and sync later, or quit? [retry/create/quit] (retry): ", "retry", "retry", "create", "quit")
			if err != nil {
				return err
			}
			switch next {
			case "retry":
				continue
			case "quit":
				return errors.New("stopped; nothing was created")
			}
			auth, err := w.authCode()
			if err != nil {
				return err
			}
			if err := w.Do.CreateRemote(ctx, serverURL, name, password, auth); err != nil {
				return err
			}
			fmt.Fprintf(w.Out, "Created the datafile. Once the connection works, 'msupply-sync run --remote --once' initialises it.\n")
			return nil
		}
		fmt.Fprintln(w.Out, "The connection works.")
		auth, err := w.authCode()
		if err != nil {
			return err
		}
		if err := w.Do.CreateRemote(ctx, serverURL, name, password, auth); err != nil {
			return err
		}
		fmt.Fprintln(w.Out, "Created the datafile; initialising it from the central server ...")
		if err := w.Do.FirstSync(ctx); err != nil {
			return fmt.Errorf("the datafile was created but its first sync failed: %w", err)
		}
		fmt.Fprintln(w.Out, "Done. Run 'msupply-sync run --remote' (or its service) to keep it in sync.")
		return nil
	}
}

// ask asks until check accepts the answer (an empty answer takes def).
func (w *Wizard) ask(question, def string, check func(string) error) (string, error) {
	for try := 0; try < w.MaxTries; try++ {
		answer, err := w.Ask.Line(question)
		if err != nil {
			return "", err
		}
		answer = strings.TrimSpace(answer)
		if answer == "" {
			answer = def
		}
		if check == nil {
			return answer, nil
		}
		if err := check(answer); err != nil {
			fmt.Fprintf(w.Out, "  %v\n", err)
			continue
		}
		return answer, nil
	}
	return "", ErrGaveUp
}

// choose asks for one of options, accepting its first letter too, and returns the option in full.
func (w *Wizard) choose(question, def string, options ...string) (string, error) {
	match := func(s string) string {
		for _, o := range options {
			if strings.EqualFold(s, o) || (len(s) == 1 && strings.EqualFold(s, o[:1])) {
				return o
			}
		}
		return ""
	}
	got, err := w.ask(question, def, func(s string) error {
		if match(s) == "" {
			return fmt.Errorf("answer %s", strings.Join(options, " or "))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return match(got), nil
}

func (w *Wizard) secret(question string) (string, error) {
	for try := 0; try < w.MaxTries; try++ {
		s, err := w.Ask.Secret(question)
		if err != nil {
			return "", err
		}
		if s != "" {
			return s, nil
		}
		fmt.Fprintln(w.Out, "  the password is needed")
	}
	return "", ErrGaveUp
}

// authCode asks for the code that will unlock the sync settings; empty generates one.
func (w *Wizard) authCode() (string, error) {
	for try := 0; try < w.MaxTries; try++ {
		code, err := w.Ask.Secret("Authorisation code to protect the sync settings (not shown; Enter to generate one): ")
		if err != nil {
			return "", err
		}
		if code == "" {
			return "", nil
		}
		if len(code) < 6 {
			fmt.Fprintln(w.Out, "  use at least 6 characters")
			continue
		}
		again, err := w.Ask.Secret("The same code again: ")
		if err != nil {
			return "", err
		}
		if again == code {
			return code, nil
		}
		fmt.Fprintln(w.Out, "  the two codes differ; once more")
	}
	return "", ErrGaveUp
}

func hostOf(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Host
	}
	return s
}
