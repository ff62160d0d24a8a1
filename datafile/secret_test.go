package datafile_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"golang.org/x/crypto/argon2"
)

// secretForms lists the ways a secret could leak into a file: as typed, as the v5 protocol's digest
// (lowercase and uppercase hex), and as the raw SHA-256 bytes.
func secretForms(secret string) map[string][]byte {
	sum := sha256.Sum256([]byte(secret))
	digest := datafile.PasswordDigest(secret)
	return map[string][]byte{
		"in clear":         []byte(secret),
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
		mustPut(t, db, "item", `{"id":"item-1"}`)
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
		if name != testRemoteSiteName || digest != datafile.PasswordDigest(testRemotePassword) {
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
		if err != nil || name != testRemoteSiteName || digest != datafile.PasswordDigest("newer-password-1") {
			t.Errorf("after a password change: %q, %q, %v", name, digest, err)
		}
		// A rename keeps the password.
		if _, err := db.EditSite(ctx, testRemoteSiteName, datafile.SiteUpdate{Name: ptr("Northern")}); err != nil {
			t.Fatal(err)
		}
		name, digest, err = db.RemoteCredential(ctx)
		if err != nil || name != "Northern" || digest != datafile.PasswordDigest("newer-password-1") {
			t.Errorf("after a rename: %q, %q, %v", name, digest, err)
		}
		// A lost key file is replaced when a new password is set.
		if err := os.Remove(datafile.KeyFilePath(db.Path())); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EditSite(ctx, "Northern", datafile.SiteUpdate{Password: ptr("newest-password-1")}); err != nil {
			t.Fatal(err)
		}
		if _, digest, err = db.RemoteCredential(ctx); err != nil || digest != datafile.PasswordDigest("newest-password-1") {
			t.Errorf("after replacing the key file: %q, %v", digest, err)
		}
	})
}

func TestPasswordDigest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"password": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
	} {
		if got := datafile.PasswordDigest(in); got != want {
			t.Errorf("PasswordDigest(%q) = %s, want %s", in, got, want)
		}
	}
}

// cheapHash builds an argon2id hash in HashSecret's format with small parameters, so that tests of the
// parser do not pay for a full-strength hash each time.
func cheapHash(secret string, salt []byte, mem, time uint32, threads uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(secret), salt, time, mem, threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, mem, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestHashSecret(t *testing.T) {
	t.Parallel()
	const secret = "the-secret-1"
	one, err := datafile.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	two, err := datafile.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if one == two {
		t.Error("two hashes of one secret are equal: the salt is not random")
	}
	if !strings.HasPrefix(one, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(one, secret) {
		t.Errorf("hash = %q", one)
	}
	for _, h := range []string{one, two} {
		if !datafile.VerifySecret(h, secret) {
			t.Errorf("VerifySecret(%q, secret) = false", h)
		}
		if datafile.VerifySecret(h, secret+"x") || datafile.VerifySecret(h, "") {
			t.Error("VerifySecret accepted a wrong secret")
		}
	}
}

func TestVerifySecretRejectsBadHashes(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-value"
	salt := []byte("0123456789abcdef")
	good := cheapHash(secret, salt, 64, 1, 1, 32)
	if !datafile.VerifySecret(good, secret) {
		t.Fatalf("VerifySecret refused a well-formed hash with its own parameters: %s", good)
	}
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	flipped := []byte(parts[5])
	if flipped[3] == 'A' {
		flipped[3] = 'B'
	} else {
		flipped[3] = 'A'
	}
	b64 := base64.RawStdEncoding
	for _, tc := range []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"garbage", "not a hash at all"},
		{"dollars only", "$$$$$"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"unknown version", with(2, "v=16")},
		{"no version", with(2, "v=")},
		{"missing field", strings.Join(parts[:5], "$")},
		{"extra field", good + "$extra"},
		{"tampered key", with(5, string(flipped))},
		{"other salt", with(4, b64.EncodeToString([]byte("fedcba9876543210")))},
		{"no parameters", with(3, "")},
		{"zero memory", with(3, "m=0,t=1,p=1")},
		{"zero time", with(3, "m=64,t=0,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"negative memory", with(3, "m=-64,t=1,p=1")},
		{"threads overflow", with(3, "m=64,t=1,p=256")},
		{"huge memory", with(3, "m=4294967295,t=1,p=1")},
		{"just above the memory bound", with(3, fmt.Sprintf("m=%d,t=1,p=1", 1<<20+1))},
		{"too many passes", with(3, "m=64,t=17,p=1")},
		{"bad salt encoding", with(4, "!!!")},
		{"bad key encoding", with(5, "###")},
		{"empty key", with(5, "")},
		{"key too long", with(5, b64.EncodeToString(bytes.Repeat([]byte{1}, 129)))},
		{"padded base64", with(5, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0")))},
		{"whitespace", " " + good},
		{"truncated", good[:len(good)-10]},
		{"nul bytes", strings.ReplaceAll(good, "$", "\x00")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if datafile.VerifySecret(tc.hash, secret) {
				t.Errorf("VerifySecret accepted %q", tc.hash)
			}
		})
	}
	// Other parameters are honoured, not assumed.
	for _, p := range []struct {
		mem, time uint32
		threads   uint8
		keyLen    uint32
	}{{8, 1, 1, 16}, {128, 3, 2, 64}, {64, 1, 1, 128}} {
		h := cheapHash(secret, salt, p.mem, p.time, p.threads, p.keyLen)
		if !datafile.VerifySecret(h, secret) || datafile.VerifySecret(h, secret+"!") {
			t.Errorf("parameters %+v not honoured: %s", p, h)
		}
	}
}
