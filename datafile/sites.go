package datafile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/msupply-foundation/msupply-sync/secret"
)

// Site types.
const (
	SiteStandalone = "standalone"
	SiteMobile     = "mobile"
)

// MinPasswordLength is the shortest site password accepted.
const MinPasswordLength = 8

// Site is a sync site as an administrator sees it. The password hash never leaves the package.
type Site struct {
	ID         int64    `json:"id"`
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	HardwareID string   `json:"hardware_id"`
	Blocked    bool     `json:"blocked"`
	Stores     []string `json:"stores"`
	// LastSyncAt is when the site last completed a sync cycle, as central sees it (RecordSyncCompleted).
	LastSyncAt *time.Time `json:"last_sync_at"`
	// LastContactAt is when the site last made an authenticated request, to the minute.
	LastContactAt *time.Time `json:"last_contact_at"`
	// Parked counts the records this site pushed that central holds back ('sync parked').
	Parked int `json:"-"`
	// Queued counts the records central holds for this site to pull.
	Queued        int  `json:"-"`
	FailedLogins  int  `json:"-"`
	UnsentRecords int  `json:"-"`
	HasPassword   bool `json:"-"`
}

// HasSynced reports whether a remote has ever authenticated as this site, which is when changing its
// name or password starts to matter.
func (s Site) HasSynced() bool {
	return s.HardwareID != "" || s.LastSyncAt != nil || s.LastContactAt != nil
}

const siteColumns = `id, code, name, type, password_hash <> '', hardware_id, failed_logins, blocked, last_sync_at, last_contact_at, unsent_records,
	(SELECT count(*) FROM sync_buffer WHERE sync_buffer.source_site_id = site.id AND site.id <> 1),
	(SELECT count(*) FROM sync_queue WHERE sync_queue.site_id = site.id)`

// scanSite reads the siteColumns of a row, and into extra the columns selected after them.
func scanSite(row scanner, extra ...any) (Site, error) {
	var s Site
	var lastSync, lastContact sql.NullString
	dest := append([]any{&s.ID, &s.Code, &s.Name, &s.Type, &s.HasPassword, &s.HardwareID, &s.FailedLogins, &s.Blocked,
		&lastSync, &lastContact, &s.UnsentRecords, &s.Parked, &s.Queued}, extra...)
	err := row.Scan(dest...)
	if err != nil {
		return s, err
	}
	s.LastSyncAt, s.LastContactAt = parseTimestamp(lastSync), parseTimestamp(lastContact)
	s.Stores = []string{}
	return s, nil
}

// parseTimestamp reads an RFC 3339 column; NULL (never) is nil.
func parseTimestamp(v sql.NullString) *time.Time {
	if !v.Valid {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v.String)
	if err != nil {
		return nil
	}
	return &t
}

// Sites returns every site with the codes of its stores, in ID order.
func (db *DB) Sites(ctx context.Context) ([]Site, error) {
	rows, err := db.conn().QueryContext(ctx, `SELECT `+siteColumns+` FROM site ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sites []Site
	index := map[int64]int{}
	for rows.Next() {
		s, err := scanSite(rows)
		if err != nil {
			return nil, err
		}
		index[s.ID] = len(sites)
		sites = append(sites, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = queryEach(ctx, db.conn(), func(rows *sql.Rows) error {
		var siteID int64
		var code string
		if err := rows.Scan(&siteID, &code); err != nil {
			return err
		}
		if i, ok := index[siteID]; ok {
			sites[i].Stores = append(sites[i].Stores, code)
		}
		return nil
	}, `SELECT site_id, code FROM store ORDER BY code`)
	return sites, err
}

// FindSite resolves SITE, which may be a site's ID, code or name.
func (db *DB) FindSite(ctx context.Context, ref string) (Site, error) {
	return findSite(ctx, db.conn(), ref)
}

// findSite resolves SITE. A reference that is one site's ID, code or name and another's as well is refused
// rather than taken for either: a code equal to another site's name would otherwise decide which site a
// command deletes or edits.
func findSite(ctx context.Context, q rowsQueryer, ref string) (Site, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Site{}, errorf(EINVALID, "no site given")
	}
	var id any // NULL: a reference that is not a number is no site's ID
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil {
		id = n
	}
	rows, err := q.QueryContext(ctx, `SELECT `+siteColumns+`, id IS ?, code <> '' AND code = ? COLLATE NOCASE, name = ?
		FROM site WHERE id IS ? OR (code <> '' AND code = ? COLLATE NOCASE) OR name = ? ORDER BY id`, id, ref, ref, id, ref, ref)
	if err != nil {
		return Site{}, err
	}
	var matches []Site
	var how []string
	for rows.Next() {
		var byID, byCode, byName bool
		s, err := scanSite(rows, &byID, &byCode, &byName)
		if err != nil {
			rows.Close()
			return Site{}, err
		}
		var fields []string
		for _, f := range []struct {
			matched bool
			field   string
		}{{byID, "ID"}, {byCode, "code"}, {byName, "name"}} {
			if f.matched {
				fields = append(fields, f.field)
			}
		}
		matches = append(matches, s)
		how = append(how, fmt.Sprintf("the %s of site %d %q", strings.Join(fields, " and "), s.ID, s.Name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Site{}, err
	}
	switch len(matches) {
	case 0:
		return Site{}, errorf(ENOTFOUND, "no site with ID, code or name %q", ref).withHint("'msupply-sync site list' shows the sites")
	case 1:
	default:
		return Site{}, errorf(ECONFLICT, "%q could mean more than one site: it is %s", ref, strings.Join(how, " and ")).
			withHint("give the site's ID instead ('msupply-sync site list' shows it), and give one of them another code or name with 'msupply-sync site edit'")
	}
	s := matches[0]
	stores, err := q.QueryContext(ctx, `SELECT code FROM store WHERE site_id = ? ORDER BY code`, s.ID)
	if err != nil {
		return Site{}, err
	}
	defer stores.Close()
	for stores.Next() {
		var code string
		if err := stores.Scan(&code); err != nil {
			return Site{}, err
		}
		s.Stores = append(s.Stores, code)
	}
	return s, stores.Err()
}

func validateSiteName(name string) error {
	if name == "" {
		return errorf(EINVALID, "a site needs a name")
	}
	if len(name) > 100 {
		return errorf(EINVALID, "a site name must be at most 100 characters")
	}
	for _, r := range name {
		// The name is the user name of HTTP Basic auth, where a colon ends the user name.
		if r == ':' || unicode.IsControl(r) {
			return errorf(EINVALID, "a site name must not contain a colon or control characters")
		}
	}
	return nil
}

func validateSiteCode(code string) error {
	if len(code) > 50 {
		return errorf(EINVALID, "a site code must be at most 50 characters")
	}
	if _, err := strconv.ParseInt(code, 10, 64); err == nil {
		return errorf(EINVALID, "a site code must not be a number, since SITE arguments take IDs as numbers")
	}
	for _, r := range code {
		if unicode.IsControl(r) {
			return errorf(EINVALID, "a site code must not contain control characters")
		}
	}
	return nil
}

func validateSiteType(t string) error {
	if t != SiteStandalone && t != SiteMobile {
		return errorf(EINVALID, "site type %q is not standalone or mobile", t)
	}
	return nil
}

func validatePassword(p string) error {
	if len(p) < MinPasswordLength {
		return errorf(EINVALID, "a site password must be at least %d characters", MinPasswordLength)
	}
	if len(p) > 1024 {
		return errorf(EINVALID, "a site password must be at most 1024 characters")
	}
	return nil
}

// NewSite is what adding a site takes.
type NewSite struct {
	Name     string
	Code     string
	Type     string
	Password string
}

// RequireCentralUnlocked refuses unless this is the central datafile and its sync settings may be edited, so
// that a command can say so before it asks any questions.
func (db *DB) RequireCentralUnlocked(ctx context.Context, what string) error {
	if _, err := db.requireCentral(ctx, what); err != nil {
		return err
	}
	return db.requireUnlocked(ctx)
}

func (db *DB) requireCentral(ctx context.Context, what string) (Settings, error) {
	s, err := db.Settings(ctx)
	if err != nil {
		return s, err
	}
	if s.Role != RoleCentral {
		return s, errorf(EFORBIDDEN, "%s is done on the central server", what).
			withHint("sites and stores are master data: change them on the central datafile and they reach this remote by sync")
	}
	return s, nil
}

// AddSite creates a site with the next free ID. It needs the sync settings unlocked.
func (db *DB) AddSite(ctx context.Context, n NewSite) (Site, error) {
	if err := db.RequireCentralUnlocked(ctx, "adding a site"); err != nil {
		return Site{}, err
	}
	n.Name, n.Code = strings.TrimSpace(n.Name), strings.TrimSpace(n.Code)
	if n.Type == "" {
		n.Type = SiteStandalone
	}
	for _, err := range []error{validateSiteName(n.Name), validateSiteCode(n.Code), validateSiteType(n.Type), validatePassword(n.Password)} {
		if err != nil {
			return Site{}, err
		}
	}
	hash, err := secret.Hash(secret.PasswordDigest(n.Password))
	if err != nil {
		return Site{}, err
	}
	var id int64
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		if err := checkSiteClash(ctx, tx, 0, n.Name, n.Code); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO site (code, name, type, password_hash) VALUES (?, ?, ?, ?)`,
			n.Code, n.Name, n.Type, hash)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Site{}, err
	}
	return db.FindSite(ctx, strconv.FormatInt(id, 10))
}

// refuseNumericSiteName refuses a name that SITE arguments would read as an ID. It applies to the names
// central gives its sites; a remote takes whatever name central has.
func refuseNumericSiteName(name string) error {
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return errorf(EINVALID, "a site name must not be a number, since SITE arguments take IDs as numbers")
	}
	return nil
}

// checkSiteClash refuses a name or code that a SITE argument could take for another site than self: one
// equal, ignoring case, to another site's name or code, or a name that is a number, which SITE takes as an
// ID (codes that are numbers are refused by validateSiteCode). An empty name or code is not checked, so that
// an edit checks only what it changes.
func checkSiteClash(ctx context.Context, tx *sql.Tx, self int64, name, code string) error {
	const crossHint = "SITE arguments take a site's ID, code or name, so no site's code may be another site's name"
	if name != "" {
		if err := refuseNumericSiteName(name); err != nil {
			return err
		}
		var other int64
		var otherName string
		var sameName bool
		// The name column compares without case (COLLATE NOCASE in the schema).
		err := tx.QueryRowContext(ctx, `SELECT id, name, name = ? FROM site WHERE id <> ? AND (name = ? OR (code <> '' AND code = ? COLLATE NOCASE))
			ORDER BY name = ? DESC, id LIMIT 1`, name, self, name, name, name).Scan(&other, &otherName, &sameName)
		switch {
		case err == nil && sameName:
			// Named as stored: the names compare without case, and "already called "north"" of a site
			// called "North" reads as a contradiction.
			return errorf(ECONFLICT, "site %d is already called %q", other, otherName).withHint("site names must be unique, whatever their case; they are what remotes authenticate with")
		case err == nil:
			return errorf(ECONFLICT, "the name %q is already the code of site %d %q", name, other, otherName).withHint("%s", crossHint)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	if code != "" {
		var other int64
		var otherName, otherCode string
		var sameCode bool
		err := tx.QueryRowContext(ctx, `SELECT id, name, code, code <> '' AND code = ? COLLATE NOCASE FROM site
			WHERE id <> ? AND ((code <> '' AND code = ? COLLATE NOCASE) OR name = ?) ORDER BY 4 DESC, id LIMIT 1`,
			code, self, code, code).Scan(&other, &otherName, &otherCode, &sameCode)
		switch {
		case err == nil && sameCode:
			return errorf(ECONFLICT, "site %d %q already has the code %q", other, otherName, otherCode).withHint("site codes must be unique, whatever their case")
		case err == nil:
			return errorf(ECONFLICT, "the code %q is already the name of site %d %q", code, other, otherName).withHint("%s", crossHint)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	return nil
}

// SiteUpdate holds the changes of one site edit; nil fields stay as they are.
type SiteUpdate struct {
	Name     *string
	Code     *string
	Type     *string
	Password *string
}

// BreaksSync reports whether the update changes what the site's remote authenticates with.
func (u SiteUpdate) BreaksSync(s Site) bool {
	return (u.Name != nil && strings.TrimSpace(*u.Name) != s.Name) || u.Password != nil
}

// EditSite applies all of an update or none of it. On central it edits any site; on a remote it changes
// only the name and password this remote authenticates with.
func (db *DB) EditSite(ctx context.Context, ref string, u SiteUpdate) (Site, error) {
	s, err := db.Settings(ctx)
	if err != nil {
		return Site{}, err
	}
	if s.Role == RoleRemote {
		return Site{}, db.editOwnCredential(ctx, s, ref, u)
	}
	if err := db.requireUnlocked(ctx); err != nil {
		return Site{}, err
	}
	site, err := db.FindSite(ctx, ref)
	if err != nil {
		return Site{}, err
	}
	name, code, typ := site.Name, site.Code, site.Type
	if u.Name != nil {
		name = strings.TrimSpace(*u.Name)
		if err := validateSiteName(name); err != nil {
			return Site{}, err
		}
	}
	if u.Code != nil {
		code = strings.TrimSpace(*u.Code)
		if err := validateSiteCode(code); err != nil {
			return Site{}, err
		}
	}
	if u.Type != nil {
		typ = *u.Type
		if err := validateSiteType(typ); err != nil {
			return Site{}, err
		}
		if typ == SiteMobile && len(site.Stores) > 1 {
			return Site{}, errorf(ECONFLICT, "site %q has %d stores and a mobile site holds at most one", site.Name, len(site.Stores)).
				withHint("move all but one store off the site first")
		}
	}
	var hash string
	if u.Password != nil {
		if site.ID == CentralSiteID {
			return Site{}, errorf(EINVALID, "the central site has no password: remotes authenticate to it, not it to them")
		}
		if err := validatePassword(*u.Password); err != nil {
			return Site{}, err
		}
		if hash, err = secret.Hash(secret.PasswordDigest(*u.Password)); err != nil {
			return Site{}, err
		}
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		changedName, changedCode := name, code
		if name == site.Name {
			changedName = ""
		}
		if code == site.Code {
			changedCode = ""
		}
		if err := checkSiteClash(ctx, tx, site.ID, changedName, changedCode); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE site SET name = ?, code = ?, type = ? WHERE id = ?`, name, code, typ, site.ID); err != nil {
			return err
		}
		if hash != "" || name != site.Name {
			_, err := tx.ExecContext(ctx, `UPDATE site SET password_hash = CASE WHEN ? <> '' THEN ? ELSE password_hash END,
				auth_version = auth_version + 1 WHERE id = ?`, hash, hash, site.ID)
			return err
		}
		return nil
	})
	if err != nil {
		return Site{}, err
	}
	return db.FindSite(ctx, strconv.FormatInt(site.ID, 10))
}

func (db *DB) editOwnCredential(ctx context.Context, s Settings, ref string, u SiteUpdate) error {
	own := strings.EqualFold(strings.TrimSpace(ref), s.SiteName) || (s.ThisSiteID > 0 && ref == strconv.FormatInt(s.ThisSiteID, 10))
	if !own {
		if site, err := db.FindSite(ctx, ref); err == nil && site.ID == s.ThisSiteID {
			own = true
		}
	}
	if !own || u.Code != nil || u.Type != nil {
		return errorf(EFORBIDDEN, "on a remote datafile only this site's own name and password can be changed").
			withHint("edit sites on the central server; change the name or password here only to match a change made there")
	}
	name := ""
	if u.Name != nil {
		name = strings.TrimSpace(*u.Name)
		if err := validateSiteName(name); err != nil {
			return err
		}
	}
	password := ""
	if u.Password != nil {
		if *u.Password == "" {
			return errorf(EINVALID, "the new password is empty")
		}
		password = *u.Password
	}
	return db.SetRemoteCredential(ctx, name, password)
}

// DeleteSite deletes a site that has no stores and is not the active site of this datafile, and returns it.
func (db *DB) DeleteSite(ctx context.Context, ref string) (Site, error) {
	s, err := db.requireCentral(ctx, "deleting a site")
	if err != nil {
		return Site{}, err
	}
	if err := db.requireUnlocked(ctx); err != nil {
		return Site{}, err
	}
	var site Site
	return site, db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		site, err = findSite(ctx, tx, ref)
		if err != nil {
			return err
		}
		if site.ID == s.ThisSiteID {
			return errorf(ECONFLICT, "site %q is the active site of this datafile and cannot be deleted", site.Name)
		}
		if len(site.Stores) > 0 {
			return errorf(ECONFLICT, "site %q still has stores: %s", site.Name, strings.Join(site.Stores, ", ")).
				withHint("move or remove its stores first ('msupply-sync store remove STORE' moves a store to the central site)")
		}
		var incoming string
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(group_concat(code, ', '), '') FROM store WHERE moving_to_site_id = ?`, site.ID).Scan(&incoming); err != nil {
			return err
		}
		if incoming != "" {
			return errorf(ECONFLICT, "stores are moving to site %q: %s", site.Name, incoming).
				withHint("move them elsewhere first ('msupply-sync store move STORE --to SITE'), or move them back to the site they are on to cancel the move")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_queue WHERE site_id = ?`, site.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM site WHERE id = ?`, site.ID)
		return err
	})
}

// ResetHardwareID clears a site's hardware binding so that the next device to authenticate binds it.
func (db *DB) ResetHardwareID(ctx context.Context, ref string) (Site, error) {
	return db.updateSiteAuth(ctx, ref, "resetting a hardware ID", `hardware_id = ''`)
}

// UnblockSite lets a site blocked by failed logins try again.
func (db *DB) UnblockSite(ctx context.Context, ref string) (Site, error) {
	return db.updateSiteAuth(ctx, ref, "unblocking a site", `blocked = 0, failed_logins = 0`)
}

func (db *DB) updateSiteAuth(ctx context.Context, ref, what, set string) (Site, error) {
	if _, err := db.requireCentral(ctx, what); err != nil {
		return Site{}, err
	}
	if err := db.requireUnlocked(ctx); err != nil {
		return Site{}, err
	}
	site, err := db.FindSite(ctx, ref)
	if err != nil {
		return Site{}, err
	}
	if site.ID == CentralSiteID {
		return Site{}, errorf(EINVALID, "the central site does not authenticate to a server, so %s does not apply to it", what)
	}
	if _, err := db.conn().ExecContext(ctx, fmt.Sprintf(`UPDATE site SET %s, auth_version = auth_version + 1 WHERE id = ?`, set), site.ID); err != nil {
		return Site{}, err
	}
	return db.FindSite(ctx, strconv.FormatInt(site.ID, 10))
}
