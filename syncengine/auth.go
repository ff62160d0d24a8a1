package syncengine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/secret"
)

// credentialCacheTTL is how long a verified credential is trusted without hashing it again.
const credentialCacheTTL = 10 * time.Minute

// authenticatedSite is who a request comes from.
type authenticatedSite struct {
	ID    int64
	Code  string
	Name  string
	Store int
}

type cachedCredential struct {
	siteID      int64
	authVersion int64
	expires     time.Time
	touched     time.Time
}

// authenticator checks the credential every v5 request carries. argon2id is slow by design, so a verified
// credential is remembered in memory, keyed by a keyed hash (never the credential itself), and forgotten
// as soon as the site's password, hardware ID or block state changes (its auth_version moves).
type authenticator struct {
	db          SiteAuthStore
	maxFailures int
	now         func() time.Time
	key         []byte
	slots       chan struct{} // bounds concurrent argon2id work, each of which takes 19 MiB
	dummyHash   string
	backoff     *addressBackoff

	mu    sync.Mutex
	cache map[string]cachedCredential
}

func newAuthenticator(db SiteAuthStore, maxFailures, concurrentHashes int, now func() time.Time) (*authenticator, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	dummy, err := secret.Hash("not a password")
	if err != nil {
		return nil, err
	}
	return &authenticator{
		db: db, maxFailures: maxFailures, now: now, key: key,
		slots: make(chan struct{}, concurrentHashes), dummyHash: dummy,
		cache: map[string]cachedCredential{}, backoff: newAddressBackoff(),
	}, nil
}

func (a *authenticator) cacheKey(name, digest string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(digest))
	return string(m.Sum(nil))
}

// authFailure is a refusal with its status and v5 error code.
type authFailure struct {
	status int
	code   string
	msg    string
	data   any
}

func (f *authFailure) Error() string { return f.msg }

// backoffData is the data of a too_many_failed_logins refusal.
type backoffData struct {
	RetryAfterSeconds int64 `json:"retryAfterSeconds"`
}

// remembered reports whether the credential was verified lately: a site that has just synced from an
// address that is now refused (others behind the same NAT failing their logins) keeps syncing.
func (a *authenticator) remembered(name, digest string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	entry, ok := a.cache[a.cacheKey(name, digest)]
	return ok && now.Before(entry.expires)
}

func (a *authenticator) verify(ctx context.Context, digest, hash string) (bool, error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.slots }()
	return secret.Verify(hash, digest), nil
}

// authenticate checks version, credential and hardware ID of r.
//
// A wrong password counts towards blocking the site only when the request comes from the device the site
// is bound to (its hardware ID): anyone can send a site's name, but only its own device can have it
// blocked. Every other failed login counts against the client's address instead, which is refused for a
// while after a few (see addressBackoff).
func (a *authenticator) authenticate(r *http.Request) (authenticatedSite, error) {
	ctx := r.Context()
	if err := checkVersion(r.Header.Get(HeaderVersion)); err != nil {
		return authenticatedSite{}, err
	}
	addr := clientAddress(r)
	name, digest, ok := r.BasicAuth()
	if wait := a.backoff.wait(addr, a.now()); wait > 0 && !(ok && a.remembered(name, digest, a.now())) {
		secs := int64((wait + time.Second - 1) / time.Second)
		return authenticatedSite{}, &authFailure{http.StatusTooManyRequests, CodeTooManyFailedLogins,
			"too many failed logins from this address; try again in " + strconv.FormatInt(secs, 10) + " seconds",
			backoffData{RetryAfterSeconds: secs}}
	}
	if !ok || name == "" {
		a.backoff.fail(addr, a.now())
		return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteNameNotFound, "no site credentials in the request (HTTP Basic auth)", nil}
	}
	hardwareID := strings.TrimSpace(r.Header.Get(HeaderHardwareID))
	if hardwareID != "" && ValidateHardwareID(hardwareID) != nil {
		// Refused before anything is looked up, let alone bound to a site and shown in every site list.
		return authenticatedSite{}, badRequest("the %s header must be 1 to %d printable ASCII characters", HeaderHardwareID, MaxHardwareIDLength)
	}
	site, err := a.db.SiteAuthByName(ctx, name)
	if datafile.ErrorCode(err) == datafile.ENOTFOUND || (err == nil && site.ID == datafile.CentralSiteID) {
		// Spend what a real check would, so timing does not tell which site names exist.
		a.verify(ctx, digest, a.dummyHash)
		a.backoff.fail(addr, a.now())
		return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteNameNotFound, "no site with that name", nil}
	}
	if err != nil {
		return authenticatedSite{}, err
	}
	if site.Blocked {
		return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteAuthTimeout,
			"the site is blocked after too many failed logins; an administrator must unblock it",
			map[string]any{"blocked": true, "retryAfterSeconds": nil}}
	}
	key := a.cacheKey(name, digest)
	now := a.now()
	a.mu.Lock()
	entry, cached := a.cache[key]
	a.mu.Unlock()
	cached = cached && entry.siteID == site.ID && entry.authVersion == site.AuthVersion && now.Before(entry.expires)
	if !cached {
		ok, err := a.verify(ctx, digest, site.PasswordHash)
		if err != nil {
			return authenticatedSite{}, err
		}
		if !ok {
			if hardwareID == "" || hardwareID != site.HardwareID {
				a.backoff.fail(addr, a.now())
				return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteIncorrectPassword, "incorrect password for the site", nil}
			}
			blocked, err := a.db.RecordLoginFailure(ctx, site.ID, a.maxFailures)
			if err != nil {
				return authenticatedSite{}, err
			}
			if blocked {
				return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteAuthTimeout,
					"too many failed logins: the site is now blocked until an administrator unblocks it",
					map[string]any{"blocked": true, "retryAfterSeconds": nil}}
			}
			return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteIncorrectPassword, "incorrect password for the site", nil}
		}
	}
	if hardwareID == "" {
		return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteIncorrectHardware, "the request has no " + HeaderHardwareID + " header", nil}
	}
	if site.HardwareID == "" {
		bound, err := a.db.BindHardwareID(ctx, site.ID, hardwareID)
		if err != nil {
			return authenticatedSite{}, err
		}
		site.HardwareID = bound
		if site, err = a.db.SiteAuthByID(ctx, site.ID); err != nil {
			return authenticatedSite{}, err
		}
	}
	if site.HardwareID != hardwareID {
		return authenticatedSite{}, &authFailure{http.StatusUnauthorized, CodeSiteIncorrectHardware,
			"the site is bound to another device; an administrator can reset its hardware ID", nil}
	}
	if !cached || site.FailedLogins > 0 || now.Sub(entry.touched) > time.Minute {
		if err := a.db.RecordLoginSuccess(ctx, site.ID); err != nil {
			return authenticatedSite{}, err
		}
		entry.touched = now
	}
	if !cached {
		entry.expires = now.Add(credentialCacheTTL)
	}
	entry.siteID, entry.authVersion = site.ID, site.AuthVersion
	a.mu.Lock()
	if len(a.cache) > 10000 {
		a.cache = map[string]cachedCredential{}
	}
	a.cache[key] = entry
	a.mu.Unlock()
	return authenticatedSite{ID: site.ID, Code: site.Code, Name: site.Name, Store: site.Stores}, nil
}

func checkVersion(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err == nil && n >= MinAPIVersion && n <= MaxAPIVersion {
		return nil
	}
	data, _ := json.Marshal(map[string]int{"major": APIMajor, "minor": APIVersion})
	return &authFailure{http.StatusConflict, CodeAPIVersionIncompatible,
		"sync API version " + strconv.Quote(v) + " is not supported; this server accepts " + strconv.Itoa(MinAPIVersion) + " to " + strconv.Itoa(MaxAPIVersion),
		json.RawMessage(data)}
}
