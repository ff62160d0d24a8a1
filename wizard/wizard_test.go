package wizard

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// scripted answers questions from a list and records what was asked.
type scripted struct {
	answers []string
	asked   []string
	secrets int
}

func (s *scripted) next(q string) (string, error) {
	s.asked = append(s.asked, q)
	if len(s.answers) == 0 {
		return "", io.ErrUnexpectedEOF
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

func (s *scripted) Line(q string) (string, error)   { return s.next(q) }
func (s *scripted) Secret(q string) (string, error) { s.secrets++; return s.next(q) }

type recorder struct {
	connectOK      bool
	central        []string
	remote         []string
	synced         bool
	connectionTrys int
}

func (r *recorder) ValidateURL(u string) error {
	if strings.Contains(u, " ") {
		return errors.New("bad URL")
	}
	return nil
}
func (r *recorder) ValidateSiteName(n string) error {
	if strings.Contains(n, ":") {
		return errors.New("no colons")
	}
	return nil
}
func (r *recorder) CheckConnection(_ context.Context, u, n, p string) error {
	r.connectionTrys++
	if !r.connectOK || p != "right-password" {
		return errors.New("wrong password")
	}
	return nil
}
func (r *recorder) CreateCentral(_ context.Context, name, code, auth string) error {
	r.central = []string{name, code, auth}
	return nil
}
func (r *recorder) CreateRemote(_ context.Context, u, n, p, auth string) error {
	r.remote = []string{u, n, p, auth}
	return nil
}
func (r *recorder) FirstSync(context.Context) error { r.synced = true; return nil }

func TestWizard(t *testing.T) {
	tests := []struct {
		name       string
		answers    []string
		connectOK  bool
		wantErr    bool
		wantCentr  []string
		wantRemote []string
		wantSynced bool
	}{
		{
			name:      "central with defaults and a generated code",
			answers:   []string{"central", "", "HQ", ""},
			wantCentr: []string{"Central", "HQ", ""},
		},
		{
			name:       "remote, re-asking bad answers",
			answers:    []string{"", "central.example.org", "https://c.example.org:8443", "No:rth", "North", "", "right-password", "short", "code-1234", "code-1234"},
			connectOK:  true,
			wantRemote: []string{"https://c.example.org:8443", "North", "right-password", "code-1234"},
			wantSynced: true,
		},
		{
			name:       "remote, wrong password then retry",
			answers:    []string{"r", "https://c:1", "North", "wrong", "retry", "https://c:1", "North", "right-password", "", ""},
			connectOK:  true,
			wantRemote: []string{"https://c:1", "North", "right-password", ""},
			wantSynced: true,
		},
		{
			name:       "remote created without a connection",
			answers:    []string{"remote", "https://c:1", "North", "pw", "create", ""},
			wantRemote: []string{"https://c:1", "North", "pw", ""},
		},
		{
			name:    "quit after a failed connection creates nothing",
			answers: []string{"remote", "https://c:1", "North", "pw", "q"},
			wantErr: true,
		},
		{
			name:    "input ends",
			answers: []string{"remote", "https://c:1"},
			wantErr: true,
		},
		{
			name:    "gives up after five bad answers",
			answers: []string{"x", "y", "z", "w", "v"},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ask := &scripted{answers: tt.answers}
			do := &recorder{connectOK: tt.connectOK}
			var out strings.Builder
			w := &Wizard{Ask: ask, Out: &out, Do: do, Datafile: "test.db"}
			err := w.Run(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v\n%s", err, tt.wantErr, out.String())
			}
			if strings.Join(do.central, "|") != strings.Join(tt.wantCentr, "|") {
				t.Errorf("central = %q, want %q", do.central, tt.wantCentr)
			}
			if strings.Join(do.remote, "|") != strings.Join(tt.wantRemote, "|") {
				t.Errorf("remote = %q, want %q", do.remote, tt.wantRemote)
			}
			if do.synced != tt.wantSynced {
				t.Errorf("synced = %v, want %v", do.synced, tt.wantSynced)
			}
			if strings.Contains(out.String(), "right-password") || strings.Contains(out.String(), "code-1234") {
				t.Error("a secret was written to the output")
			}
		})
	}
}
