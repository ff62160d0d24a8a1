package provision

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// TestDryRunChecksAsTheRunDoes plans and applies files inside a rehearsal, as 'provision --dry-run' does,
// on a real datafile: what the real run refuses, the rehearsal refuses with the same error naming the
// site or store, and neither leaves anything behind.
func TestDryRunChecksAsTheRunDoes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	if err := datafile.CreateCentral(ctx, path, datafile.CentralOptions{SiteName: "Central", AuthCode: "central-code"}); err != nil {
		t.Fatal(err)
	}
	db, err := datafile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sites := func() int {
		all, err := db.Sites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	for _, tc := range []struct {
		name, file, subject, want string
	}{
		{"a short password", "[[site]]\nname = \"East\"\npassword = \"short\"\n", `site "East"`, "a site password must be at least 8 characters"},
		{"a numeric site code", "[[site]]\nname = \"East\"\ncode = \"7\"\npassword = \"east-secret-pass\"\n", `site "East"`, "a site code must not be a number"},
		{"a second site after a good one", "[[site]]\nname = \"West\"\npassword = \"west-secret-pass\"\n[[site]]\nname = \"East\"\npassword = \"tiny\"\n", `site "East"`, "at least 8 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tc.file), func(string) string { return "" })
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			run := func(tx *datafile.DB) error {
				steps, err := Plan(ctx, tx, f)
				if err != nil {
					return err
				}
				return Apply(ctx, tx, steps)
			}
			before := sites()
			dry := db.Rehearse(ctx, run)
			db.SetAuthCode("central-code")
			real := db.Atomically(ctx, run)
			db.SetAuthCode("")
			for name, err := range map[string]error{"dry run": dry, "real run": real} {
				var se *StepError
				if !errors.As(err, &se) || se.Subject != tc.subject || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v, want a step error about %s saying %q", name, err, tc.subject, tc.want)
				}
			}
			if after := sites(); after != before {
				t.Errorf("%d sites after refused runs, %d before", after, before)
			}
		})
	}
}
