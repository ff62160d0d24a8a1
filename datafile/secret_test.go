package datafile_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// secretForms lists the ways a secret could leak into a file: as typed, as the v5 protocol's digest
// (lowercase and uppercase hex), and as the raw SHA-256 bytes.
func secretForms(clear string) map[string][]byte {
	sum := sha256.Sum256([]byte(clear))
	digest := secret.PasswordDigest(clear)
	return map[string][]byte{
		"in clear":         []byte(clear),
		"as SHA-256 hex":   []byte(digest),
		"as SHA-256 HEX":   []byte(strings.ToUpper(digest)),
		"as SHA-256 bytes": sum[:],
	}
}

// assertNoSecrets reads the datafile and every file SQLite keeps beside it (-wal, -shm, journal) and fails
// if any form of any secret appears in them.
func assertNoSecrets(t *testing.T, path string, secrets map[string]string) {
	t.Helper()
	files, err := filepath.Glob(path + "*")
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, f := range files {
		if f == datafile.KeyFilePath(path) {
			continue // the key seals the credential; it holds no secret of its own
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		read++
		for what, secret := range secrets {
			for form, needle := range secretForms(secret) {
				if bytes.Contains(b, needle) {
					t.Errorf("%s holds the %s %s", filepath.Base(f), what, form)
				}
			}
		}
	}
	if read == 0 {
		t.Fatalf("no datafile at %s", path)
	}
}

func TestSecretsNotStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const newRemotePassword = "changed-remote-password-8u"

	t.Run("remote", func(t *testing.T) {
		db := MustOpenRemote(t)
		if _, err := db.Unlock(ctx, testAuthCode, 0); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdatePrefs(ctx, datafile.PrefsUpdate{RequestSize: ptr(250)}); err != nil {
			t.Fatal(err)
		}
		becomeSite(t, db, 2, "north-store")
		mustPut(t, db, "stock_line", `{"id":"sl-1","store_id":"north-store","item_id":"item-1","quantity":3}`)
		// The remote's password is changed to match a change made on central.
		if _, err := db.EditSite(ctx, testRemoteSiteName, datafile.SiteUpdate{Password: ptr(newRemotePassword)}); err != nil {
			t.Fatal(err)
		}
		secrets := map[string]string{"auth code": testAuthCode, "first password": testRemotePassword, "new password": newRemotePassword}
		if _, err := os.Stat(db.Path() + "-wal"); err != nil {
			t.Fatalf("expected a -wal file while the datafile is open: %v", err)
		}
		assertNoSecrets(t, db.Path(), secrets)
		db.Close()
		assertNoSecrets(t, db.Path(), secrets)
	})

	t.Run("central", func(t *testing.T) {
		db := MustOpenCentral(t)
		if _, err := db.Unlock(ctx, testAuthCode, 0); err != nil {
			t.Fatal(err)
		}
		secrets := map[string]string{"auth code": testAuthCode}
		for _, name := range []string{"North", "South"} {
			mustAddSite(t, db, name, datafile.SiteStandalone)
			secrets[name+" password"] = sitePassword(name)
		}
		if _, err := db.EditSite(ctx, "South", datafile.SiteUpdate{Password: ptr("south-second-password")}); err != nil {
			t.Fatal(err)
		}
		secrets["South's new password"] = "south-second-password"
		if ok, err := db.VerifySitePassword(ctx, 2, sitePassword("North")); !ok || err != nil {
			t.Fatalf("VerifySitePassword = %v, %v", ok, err)
		}
		if err := db.CheckAuthCode(ctx, testAuthCode); err != nil {
			t.Fatal(err)
		}
		mustAddStore(t, db, "N1", "North")
		mustPut(t, db, "item", `{"id":"item-1","name":"item-1"}`)
		if _, err := os.Stat(db.Path() + "-wal"); err != nil {
			t.Fatalf("expected a -wal file while the datafile is open: %v", err)
		}
		assertNoSecrets(t, db.Path(), secrets)
		db.Close()
		assertNoSecrets(t, db.Path(), secrets)
	})
}

func TestRemoteCredential(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("returns the digest sealed at init", func(t *testing.T) {
		db := MustOpenRemote(t)
		name, digest, err := db.RemoteCredential(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if name != testRemoteSiteName || digest != secret.PasswordDigest(testRemotePassword) {
			t.Errorf("credential = %q, %q", name, digest)
		}
	})

	t.Run("without the key file", func(t *testing.T) {
		db := MustOpenRemote(t)
		key := datafile.KeyFilePath(db.Path())
		if err := os.Rename(key, key+".moved"); err != nil {
			t.Fatal(err)
		}
		_, digest, err := db.RemoteCredential(ctx)
		wantCode(t, err, datafile.ENOTFOUND)
		wantErrContains(t, err, "cannot read the credential key file", key)
		if digest != "" {
			t.Errorf("digest %q returned with an error", digest)
		}
		var e *datafile.Error
		if !errors.As(err, &e) || !strings.Contains(e.Hint, "--password-stdin") {
			t.Errorf("hint %q does not say how to recover", e.Hint)
		}
	})

	t.Run("with a damaged key file", func(t *testing.T) {
		db := MustOpenRemote(t)
		if err := os.WriteFile(datafile.KeyFilePath(db.Path()), []byte("not hex at all\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := db.RemoteCredential(ctx)
		wantErrContains(t, err, "is damaged")
	})

	t.Run("with another datafile's key file", func(t *testing.T) {
		one, two := MustOpenRemote(t), MustOpenRemote(t)
		key, err := os.ReadFile(datafile.KeyFilePath(two.Path()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(datafile.KeyFilePath(one.Path()), key, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err = one.RemoteCredential(ctx)
		wantErrContains(t, err, "does not match this datafile")
	})

	t.Run("a copy of the datafile alone carries no credential", func(t *testing.T) {
		db := MustOpenRemote(t)
		db.Close()
		copyPath := filepath.Join(t.TempDir(), "copy.db")
		b, err := os.ReadFile(db.Path())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(copyPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err = mustOpen(t, copyPath).RemoteCredential(ctx)
		wantCode(t, err, datafile.ENOTFOUND)
	})

	t.Run("not on central", func(t *testing.T) {
		_, _, err := MustOpenCentral(t).RemoteCredential(ctx)
		wantCode(t, err, datafile.EINVALID)
	})

	t.Run("changed through the remote's own site", func(t *testing.T) {
		db := MustOpenRemote(t)
		_, err := db.EditSite(ctx, testRemoteSiteName, datafile.SiteUpdate{Password: ptr("newer-password-1")})
		wantErrIs(t, err, datafile.ErrLocked)
		db.SetAuthCode(testAuthCode)
		for _, tc := range []struct {
			name string
			ref  string
			u    datafile.SiteUpdate
		}{
			{"another site", "Elsewhere", datafile.SiteUpdate{Password: ptr("newer-password-1")}},
			{"its code", testRemoteSiteName, datafile.SiteUpdate{Code: ptr("X")}},
			{"its type", testRemoteSiteName, datafile.SiteUpdate{Type: ptr(datafile.SiteMobile)}},
		} {
			_, err := db.EditSite(ctx, tc.ref, tc.u)
			wantCode(t, err, datafile.EFORBIDDEN)
		}
		_, err = db.EditSite(ctx, testRemoteSiteName, datafile.SiteUpdate{Password: ptr("")})
		wantCode(t, err, datafile.EINVALID)

		if _, err := db.EditSite(ctx, strings.ToLower(testRemoteSiteName), datafile.SiteUpdate{Password: ptr("newer-password-1")}); err != nil {
			t.Fatal(err)
		}
		name, digest, err := db.RemoteCredential(ctx)
		if err != nil || name != testRemoteSiteName || digest != secret.PasswordDigest("newer-password-1") {
			t.Errorf("after a password change: %q, %q, %v", name, digest, err)
		}
		// A rename keeps the password.
		if _, err := db.EditSite(ctx, testRemoteSiteName, datafile.SiteUpdate{Name: ptr("Northern")}); err != nil {
			t.Fatal(err)
		}
		name, digest, err = db.RemoteCredential(ctx)
		if err != nil || name != "Northern" || digest != secret.PasswordDigest("newer-password-1") {
			t.Errorf("after a rename: %q, %q, %v", name, digest, err)
		}
		// A lost key file is replaced when a new password is set.
		if err := os.Remove(datafile.KeyFilePath(db.Path())); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EditSite(ctx, "Northern", datafile.SiteUpdate{Password: ptr("newest-password-1")}); err != nil {
			t.Fatal(err)
		}
		if _, digest, err = db.RemoteCredential(ctx); err != nil || digest != secret.PasswordDigest("newest-password-1") {
			t.Errorf("after replacing the key file: %q, %v", digest, err)
		}
	})
}
