package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// Role says whether a datafile is the central server's or a remote site's.
type Role string

// The two roles a datafile can have.
const (
	RoleCentral Role = "central"
	RoleRemote  Role = "remote"
)

// CentralSiteID is the ID the central site always has.
const CentralSiteID = 1

// Bounds on the records-per-request preference.
const (
	MinRequestSize = 10
	MaxRequestSize = 5000
)

// DefaultUnlockWindow is how long 'unlock' opens sync settings for editing when no duration is given.
const DefaultUnlockWindow = 15 * time.Minute

const credentialAD = "msupply-sync remote credential v1"

// Settings are this datafile's own settings and sync preferences.
type Settings struct {
	Role          Role
	ThisSiteID    int64 // 0 on a remote that has not yet learnt its site ID from the central server
	UnlockedUntil time.Time
	UnlockWindow  time.Duration
	ServerURL     string
	SyncInterval  int // minutes; 0 pauses sync
	// RequestSize is the records per request a remote asks for now, adapted to its connection within
	// MinRequestSize and RequestSizeSetting, the most the administrator allows.
	RequestSize        int
	RequestSizeSetting int
	AltHTTPClient      bool
	SiteName           string // a remote's credential name
	CreatedAt          time.Time
}

// SyncConfigured reports whether this site takes part in sync, which is what lets the sync interval and
// the alternate-HTTP-client switch be changed without unlocking.
func (s Settings) SyncConfigured() bool { return s.ThisSiteID > 0 }

// CentralOptions are what a new central datafile needs.
type CentralOptions struct {
	SiteName string
	SiteCode string
	AuthCode string
	// Currency is the code of the home currency, the one every invoice without another is in (USD when
	// empty).
	Currency string
}

// RemoteOptions are what a new remote datafile needs.
type RemoteOptions struct {
	ServerURL string
	SiteName  string
	Password  string
	AuthCode  string
}

func validateAuthCode(code string) error {
	if len(code) < 6 {
		return errorf(EINVALID, "the authorisation code must be at least 6 characters")
	}
	return nil
}

// ValidateServerURL checks that u is an absolute http or https URL with a host, a valid port if any, and
// no user name or password. It is the one check of a server URL, made by init, prefs set, the wizard and
// the sync client alike. A URL that may hold a password is never repeated in the error.
func ValidateServerURL(u string) error {
	const example = "give the central server's address with its port, e.g. https://central.example.org:8443"
	p, err := url.Parse(u)
	if err == nil && p.User != nil || err != nil && strings.Contains(u, "@") {
		return errorf(EINVALID, "a server URL must not hold a user name or password").
			withHint("the site name and password are given apart from it (--site-name, --password-stdin); %s", example)
	}
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Hostname() == "" {
		return errorf(EINVALID, "server URL %q is not an http:// or https:// URL", u).withHint("%s", example)
	}
	if port := p.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errorf(EINVALID, "server URL %q has port %s; a port is a number from 1 to 65535", u, port).withHint("%s", example)
		}
	}
	return nil
}

// DefaultCurrency is the home currency of a central datafile created without one.
const DefaultCurrency = "USD"

// ValidateCurrencyCode accepts three capital letters, as ISO 4217 codes are.
func ValidateCurrencyCode(code string) error {
	if len(code) == 3 && strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		return nil
	}
	return errorf(EINVALID, "currency %q is not a three-letter code", code).withHint("give the home currency's ISO 4217 code, e.g. --currency USD or --currency KES")
}

// CreateCentral creates a new central datafile at path, with the central site as site 1.
func CreateCentral(ctx context.Context, path string, opts CentralOptions) error {
	if strings.TrimSpace(opts.SiteName) == "" {
		return errorf(EINVALID, "the central site needs a name")
	}
	if err := validateSiteName(strings.TrimSpace(opts.SiteName)); err != nil {
		return err
	}
	if err := refuseNumericSiteName(strings.TrimSpace(opts.SiteName)); err != nil {
		return err
	}
	if err := validateSiteCode(strings.TrimSpace(opts.SiteCode)); err != nil {
		return err
	}
	if err := validateAuthCode(opts.AuthCode); err != nil {
		return err
	}
	hash, err := secret.Hash(opts.AuthCode)
	if err != nil {
		return err
	}
	currency := strings.ToUpper(strings.TrimSpace(opts.Currency))
	if currency == "" {
		currency = DefaultCurrency
	}
	if err := ValidateCurrencyCode(currency); err != nil {
		return err
	}
	return createAtomically(ctx, path, func(db *DB) error {
		return db.withTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (singleton, role, this_site_id, auth_code_hash, created_at, datafile_id)
				VALUES (1, 'central', ?, ?, ?, ?)`, CentralSiteID, hash, db.timestamp(), uuid.NewString()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO site (id, code, name, type) VALUES (?, ?, ?, 'standalone')`,
				CentralSiteID, strings.TrimSpace(opts.SiteCode), strings.TrimSpace(opts.SiteName)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO currency (id, code, rate, is_home) VALUES (?, ?, 1, 1)`, "currency-"+currency, currency)
			return err
		})
	})
}

// CreateRemote creates a new remote datafile at path, and beside it the key file that seals its credential.
// It does not contact the server: the first sync does.
func CreateRemote(ctx context.Context, path string, opts RemoteOptions) error {
	if err := ValidateServerURL(opts.ServerURL); err != nil {
		return err
	}
	if strings.TrimSpace(opts.SiteName) == "" {
		return errorf(EINVALID, "the remote needs the site name it authenticates with")
	}
	if err := validateSiteName(strings.TrimSpace(opts.SiteName)); err != nil {
		return err
	}
	if opts.Password == "" {
		return errorf(EINVALID, "the remote needs the site's password")
	}
	if err := validateAuthCode(opts.AuthCode); err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return ErrDatafileExists
	}
	hash, err := secret.Hash(opts.AuthCode)
	if err != nil {
		return err
	}
	keyPath := KeyFilePath(path)
	// A key file with no datafile beside it may be left by an init killed part way, but it may as well seal
	// the credential of a datafile that was moved, or is kept as a backup: overwritten, that datafile
	// could never log in again. Only a person can tell which.
	if _, err := os.Lstat(keyPath); err == nil {
		return errorf(ECONFLICT, "a credential key file already exists at %s", keyPath).
			withHint("it may belong to a datafile that was moved or is kept as a backup: move it away, or delete it if you are sure it belongs to nothing, then run init again")
	}
	key, err := secret.CreateKey(keyPath)
	if err != nil {
		return err
	}
	sealed, err := secret.Seal(key, secret.PasswordDigest(opts.Password), credentialAD)
	if err != nil {
		os.Remove(keyPath)
		return err
	}
	err = createAtomically(ctx, path, func(db *DB) error {
		_, err := db.conn().ExecContext(ctx, `INSERT INTO settings (singleton, role, auth_code_hash, server_url,
			credential_site_name, credential_sealed, created_at, datafile_id) VALUES (1, 'remote', ?, ?, ?, ?, ?, ?)`,
			hash, opts.ServerURL, strings.TrimSpace(opts.SiteName), sealed, db.timestamp(), uuid.NewString())
		return err
	})
	if err != nil && !errors.Is(err, ErrDatafileExists) {
		os.Remove(keyPath)
	}
	return err
}

func (db *DB) timestamp() string { return db.now().UTC().Format(time.RFC3339) }

// Settings reads this datafile's settings.
func (db *DB) Settings(ctx context.Context) (Settings, error) {
	return db.settings(ctx, db.conn())
}

func (db *DB) settings(ctx context.Context, q queryer) (Settings, error) {
	var s Settings
	var siteID sql.NullInt64
	var unlocked int64
	var windowMin int
	var created string
	err := q.QueryRowContext(ctx, `SELECT role, this_site_id, unlocked_until, unlock_window_minutes, server_url,
		sync_interval_minutes, request_size, request_size_setting, alt_http_client, credential_site_name, created_at FROM settings`).
		Scan(&s.Role, &siteID, &unlocked, &windowMin, &s.ServerURL, &s.SyncInterval, &s.RequestSize,
			&s.RequestSizeSetting, &s.AltHTTPClient, &s.SiteName, &created)
	if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	s.ThisSiteID = siteID.Int64
	if unlocked > 0 {
		s.UnlockedUntil = time.Unix(unlocked, 0)
	}
	s.UnlockWindow = minutesToDuration(int64(windowMin), time.Minute, MaxUnlockWindow)
	s.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return s, nil
}

// SetAuthCode gives this handle an authorisation code to use for one command instead of an unlock window.
func (db *DB) SetAuthCode(code string) { db.authCode = code; db.authorized = false }

// UseAuthCode checks code at once and gives it to this handle as SetAuthCode does: a wrong code is refused
// whatever the command, rather than only by the commands that turn out to need it.
func (db *DB) UseAuthCode(ctx context.Context, code string) error {
	if err := db.CheckAuthCode(ctx, code); err != nil {
		return err
	}
	db.authCode, db.authorized = code, true
	return nil
}

// CheckAuthCode reports ErrWrongAuthCode unless code is this datafile's authorisation code.
func (db *DB) CheckAuthCode(ctx context.Context, code string) error {
	var hash string
	if err := db.conn().QueryRowContext(ctx, `SELECT auth_code_hash FROM settings`).Scan(&hash); err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if !secret.Verify(hash, code) {
		return ErrWrongAuthCode
	}
	return nil
}

// Unlock checks code and opens the sync settings for editing for d (the datafile's window when d is 0).
func (db *DB) Unlock(ctx context.Context, code string, d time.Duration) (time.Time, error) {
	if err := db.CheckAuthCode(ctx, code); err != nil {
		return time.Time{}, err
	}
	s, err := db.Settings(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if d == 0 {
		d = s.UnlockWindow
	}
	if d < 0 || d > MaxUnlockWindow {
		return time.Time{}, errorf(EINVALID, "an unlock window must be between 1 second and 24 hours")
	}
	until := db.now().Add(d).Truncate(time.Second)
	_, err = db.conn().ExecContext(ctx, `UPDATE settings SET unlocked_until = ?`, until.Unix())
	return until, err
}

// Lock closes the edit window at once.
func (db *DB) Lock(ctx context.Context) error {
	_, err := db.conn().ExecContext(ctx, `UPDATE settings SET unlocked_until = 0`)
	return err
}

// requireUnlocked refuses unless the edit window is open or this handle holds the right authorisation code.
func (db *DB) requireUnlocked(ctx context.Context) error {
	if db.authorized {
		return nil
	}
	if db.authCode != "" {
		if err := db.CheckAuthCode(ctx, db.authCode); err != nil {
			return err
		}
		db.authorized = true
		return nil
	}
	s, err := db.Settings(ctx)
	if err != nil {
		return err
	}
	if db.now().Before(s.UnlockedUntil) {
		return nil
	}
	return ErrLocked
}

// PrefsUpdate holds the preferences to change; nil fields stay as they are.
type PrefsUpdate struct {
	SyncInterval  *int
	RequestSize   *int
	ServerURL     *string
	AltHTTPClient *bool
}

// UpdatePrefs changes sync preferences. The interval and the alternate-HTTP-client switch need no unlocking
// once sync is configured on this site; everything else does.
func (db *DB) UpdatePrefs(ctx context.Context, u PrefsUpdate) error {
	s, err := db.Settings(ctx)
	if err != nil {
		return err
	}
	if s.Role == RoleCentral && (u.SyncInterval != nil || u.RequestSize != nil || u.ServerURL != nil) {
		return errorf(EINVALID, "the sync interval, request size and server URL apply only to remote sites").
			withHint("the central server answers remotes; it does not sync on an interval of its own")
	}
	needsUnlock := u.RequestSize != nil || u.ServerURL != nil ||
		((u.SyncInterval != nil || u.AltHTTPClient != nil) && !s.SyncConfigured())
	if needsUnlock {
		if err := db.requireUnlocked(ctx); err != nil {
			return err
		}
	}
	if u.SyncInterval != nil {
		if err := ValidateSyncInterval(*u.SyncInterval); err != nil {
			return err
		}
	}
	if u.RequestSize != nil && (*u.RequestSize < MinRequestSize || *u.RequestSize > MaxRequestSize) {
		return errorf(EINVALID, "the sync request size must be between %d and %d records", MinRequestSize, MaxRequestSize)
	}
	if u.ServerURL != nil {
		if err := ValidateServerURL(*u.ServerURL); err != nil {
			return err
		}
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if u.SyncInterval != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET sync_interval_minutes = ?`, *u.SyncInterval); err != nil {
				return err
			}
		}
		if u.RequestSize != nil {
			// A new setting is also where adapting starts again from: the administrator has just said
			// what suits this connection.
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET request_size_setting = ?, request_size = ?`, *u.RequestSize, *u.RequestSize); err != nil {
				return err
			}
		}
		if u.ServerURL != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET server_url = ?`, *u.ServerURL); err != nil {
				return err
			}
		}
		if u.AltHTTPClient != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET alt_http_client = ?`, *u.AltHTTPClient); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoteCredential returns the site name and password digest a remote authenticates with.
func (db *DB) RemoteCredential(ctx context.Context) (siteName, passwordDigest string, err error) {
	var sealed []byte
	if err := db.conn().QueryRowContext(ctx, `SELECT credential_site_name, credential_sealed FROM settings WHERE role = 'remote'`).
		Scan(&siteName, &sealed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", errorf(EINVALID, "this is not a remote datafile")
		}
		return "", "", err
	}
	key, err := secret.ReadKey(KeyFilePath(db.path))
	if errors.Is(err, secret.ErrNoKey) {
		return "", "", &Error{Code: ENOTFOUND, Message: err.Error(), cause: err,
			Hint: "the key file is created by 'init --remote' beside the datafile; if it is lost, set the password again with 'msupply-sync site edit <this site> --password-stdin'"}
	}
	if err != nil {
		return "", "", err
	}
	digest, err := secret.Unseal(key, sealed, credentialAD)
	return siteName, digest, err
}

// SetRemoteCredential changes the name and, when password is not empty, the password a remote
// authenticates with. A lost key file is replaced, since a new password makes the old seal useless anyway.
func (db *DB) SetRemoteCredential(ctx context.Context, siteName, password string) error {
	if err := db.requireUnlocked(ctx); err != nil {
		return err
	}
	s, err := db.Settings(ctx)
	if err != nil {
		return err
	}
	if s.Role != RoleRemote {
		return errorf(EINVALID, "this is not a remote datafile")
	}
	if strings.TrimSpace(siteName) == "" {
		siteName = s.SiteName
	}
	if password == "" {
		_, err := db.conn().ExecContext(ctx, `UPDATE settings SET credential_site_name = ?`, strings.TrimSpace(siteName))
		return err
	}
	keyPath := KeyFilePath(db.path)
	key, err := secret.ReadKey(keyPath)
	if err != nil {
		os.Remove(keyPath)
		if key, err = secret.CreateKey(keyPath); err != nil {
			return err
		}
	}
	sealed, err := secret.Seal(key, secret.PasswordDigest(password), credentialAD)
	if err != nil {
		return err
	}
	_, err = db.conn().ExecContext(ctx, `UPDATE settings SET credential_site_name = ?, credential_sealed = ?`,
		strings.TrimSpace(siteName), sealed)
	return err
}
