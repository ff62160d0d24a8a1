// Package provision creates and updates sites and stores from a TOML description, idempotently: it works out
// what differs between the file and the datafile, and changes only that.
package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// MaxFileSize bounds what a provisioning file may be.
const MaxFileSize = 4 << 20

// File is the provisioning file.
type File struct {
	Stores []StoreSpec `toml:"store"`
	Sites  []SiteSpec  `toml:"site"`
}

// StoreSpec describes one store.
type StoreSpec struct {
	Code string `toml:"code"`
	Name string `toml:"name"`
}

// SiteSpec describes one site and the stores active on it.
type SiteSpec struct {
	Name        string   `toml:"name"`
	Code        string   `toml:"code"`
	Type        string   `toml:"type"`
	Password    string   `toml:"password"`
	PasswordEnv string   `toml:"password_env"`
	Stores      []string `toml:"stores"`
}

// Parse reads and checks a provisioning file. getenv resolves password_env.
func Parse(r io.Reader, getenv func(string) string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("the file is larger than %d bytes", MaxFileSize)
	}
	var f File
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		// The parser quotes the file, newlines and all.
		return nil, fmt.Errorf("invalid TOML: %s", oneLine(err.Error()))
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = oneLine(k.String())
		}
		return nil, fmt.Errorf("unknown keys: %s (a file has [[store]] with code, name and [[site]] with name, code, type, password or password_env, stores)", strings.Join(keys, ", "))
	}
	return &f, f.check(getenv)
}

// oneLine keeps text from the file on the one line an error takes: control characters (a newline in a
// quoted TOML string, say) are shown escaped.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (f *File) check(getenv func(string) string) error {
	storeCodes := map[string]bool{}
	for i, s := range f.Stores {
		s.Code, s.Name = strings.TrimSpace(s.Code), strings.TrimSpace(s.Name)
		f.Stores[i] = s
		if s.Code == "" || s.Name == "" {
			return fmt.Errorf("[[store]] %d needs a code and a name", i+1)
		}
		// The checks the datafile makes when the store is added, made here too: a name that changes
		// nothing is never added, and must still not pass a control character off as valid.
		for _, err := range []error{datafile.ValidateStoreCode(s.Code), datafile.ValidateStoreName(s.Name)} {
			if err != nil {
				return fmt.Errorf("[[store]] %d (code %q): %w", i+1, s.Code, err)
			}
		}
		key := strings.ToLower(s.Code)
		if storeCodes[key] {
			return fmt.Errorf("store %s appears twice", oneLine(s.Code))
		}
		storeCodes[key] = true
	}
	siteNames := map[string]bool{}
	onSite := map[string]string{}
	for i := range f.Sites {
		s := &f.Sites[i]
		s.Name, s.Code = strings.TrimSpace(s.Name), strings.TrimSpace(s.Code)
		if s.Name == "" {
			return fmt.Errorf("[[site]] %d needs a name", i+1)
		}
		if err := datafile.ValidateSiteName(s.Name); err != nil {
			return fmt.Errorf("[[site]] %d (name %q): %w", i+1, s.Name, err)
		}
		if siteNames[strings.ToLower(s.Name)] {
			return fmt.Errorf("site %q appears twice", s.Name)
		}
		siteNames[strings.ToLower(s.Name)] = true
		if s.Type == "" {
			s.Type = datafile.SiteStandalone
		}
		if s.Type != datafile.SiteStandalone && s.Type != datafile.SiteMobile {
			return fmt.Errorf("site %q: type must be standalone or mobile, not %q", s.Name, s.Type)
		}
		if s.Password != "" && s.PasswordEnv != "" {
			return fmt.Errorf("site %q: give password or password_env, not both", s.Name)
		}
		if s.PasswordEnv != "" {
			s.Password = getenv(s.PasswordEnv)
			if s.Password == "" {
				return fmt.Errorf("site %q: environment variable %s is empty or not set", s.Name, oneLine(s.PasswordEnv))
			}
		}
		if s.Type == datafile.SiteMobile && len(s.Stores) > 1 {
			return fmt.Errorf("site %q is mobile and lists %d stores; a mobile site holds at most one", s.Name, len(s.Stores))
		}
		for _, code := range s.Stores {
			key := strings.ToLower(strings.TrimSpace(code))
			if other, ok := onSite[key]; ok {
				return fmt.Errorf("store %s is listed on both site %q and site %q; a store is on one site", oneLine(code), other, s.Name)
			}
			onSite[key] = s.Name
		}
	}
	return nil
}

// Admin is what provisioning needs of a central datafile.
type Admin interface {
	Sites(ctx context.Context) ([]datafile.Site, error)
	Stores(ctx context.Context, siteRef string) ([]datafile.Store, error)
	AddSite(ctx context.Context, n datafile.NewSite) (datafile.Site, error)
	EditSite(ctx context.Context, ref string, u datafile.SiteUpdate) (datafile.Site, error)
	AddStore(ctx context.Context, code, name, siteRef string) (datafile.Store, error)
	MoveStore(ctx context.Context, storeRef, toSiteRef string, force bool) (datafile.MovePlan, datafile.Store, error)
	VerifySitePassword(ctx context.Context, siteID int64, password string) (bool, error)
}

// Step is one change provisioning makes.
type Step struct {
	Description string
	// Subject names the site or store the step changes, as an error about the step names it.
	Subject string
	apply   func(ctx context.Context, a Admin) error
}

// StepError is a step that failed, with the site or store it was about.
type StepError struct {
	Subject string
	Err     error
}

func (e *StepError) Error() string { return e.Subject + ": " + e.Err.Error() }

func (e *StepError) Unwrap() error { return e.Err }

// Plan works out the steps that bring the datafile to what f describes. An empty plan means nothing differs.
// Stores the file does not mention, and stores of sites that do not list them, are left where they are.
func Plan(ctx context.Context, a Admin, f *File) ([]Step, error) {
	sites, err := a.Sites(ctx)
	if err != nil {
		return nil, err
	}
	stores, err := a.Stores(ctx, "")
	if err != nil {
		return nil, err
	}
	siteByName := map[string]datafile.Site{}
	siteByID := map[int64]datafile.Site{}
	for _, s := range sites {
		siteByName[strings.ToLower(s.Name)] = s
		siteByID[s.ID] = s
	}
	storeByCode := map[string]datafile.Store{}
	for _, s := range stores {
		storeByCode[strings.ToLower(s.Code)] = s
	}
	listedOn := map[string]string{}
	for _, site := range f.Sites {
		for _, code := range site.Stores {
			listedOn[strings.ToLower(strings.TrimSpace(code))] = site.Name
		}
	}
	// Sites first, so that new stores can be added straight onto the site that lists them.
	var siteSteps, storeSteps, moveSteps []Step
	for _, spec := range f.Stores {
		st, ok := storeByCode[strings.ToLower(spec.Code)]
		if !ok {
			spec := spec
			site := listedOn[strings.ToLower(spec.Code)]
			where := "the central site"
			if site != "" {
				where = fmt.Sprintf("site %q", site)
			}
			storeSteps = append(storeSteps, Step{
				Description: fmt.Sprintf("add store %s %q on %s", spec.Code, spec.Name, where),
				Subject:     "store " + spec.Code,
				apply: func(ctx context.Context, a Admin) error {
					_, err := a.AddStore(ctx, spec.Code, spec.Name, site)
					return err
				},
			})
			continue
		}
		if st.Name != spec.Name {
			return nil, &datafile.Error{Code: datafile.ECONFLICT,
				Message: fmt.Sprintf("store %s is called %q in the datafile and %q in the file; provisioning does not rename stores", spec.Code, st.Name, spec.Name),
				Hint:    fmt.Sprintf("rename it with 'msupply-sync store edit %s --name %q', or give its name as it is in the file", st.Code, spec.Name)}
		}
	}
	for _, spec := range f.Sites {
		spec := spec
		existing, ok := siteByName[strings.ToLower(spec.Name)]
		if !ok {
			if spec.Password == "" {
				return nil, problem("site %q is new and needs a password or password_env", spec.Name)
			}
			siteSteps = append(siteSteps, Step{
				Description: fmt.Sprintf("add %s site %q (code %q)", spec.Type, spec.Name, spec.Code),
				Subject:     fmt.Sprintf("site %q", spec.Name),
				apply: func(ctx context.Context, a Admin) error {
					_, err := a.AddSite(ctx, datafile.NewSite{Name: spec.Name, Code: spec.Code, Type: spec.Type, Password: spec.Password})
					return err
				},
			})
		} else {
			var u datafile.SiteUpdate
			var changes []string
			if existing.Code != spec.Code {
				u.Code = &spec.Code
				changes = append(changes, fmt.Sprintf("code %q to %q", existing.Code, spec.Code))
			}
			if existing.Type != spec.Type {
				u.Type = &spec.Type
				changes = append(changes, fmt.Sprintf("type %s to %s", existing.Type, spec.Type))
			}
			if spec.Password != "" {
				same, err := a.VerifySitePassword(ctx, existing.ID, spec.Password)
				if err != nil {
					return nil, err
				}
				if !same {
					u.Password = &spec.Password
					changes = append(changes, "password")
				}
			}
			if len(changes) > 0 {
				if existing.ID == datafile.CentralSiteID && u.Password != nil {
					return nil, problem("site %q is the central site, which has no password", spec.Name)
				}
				ref := strconv.FormatInt(existing.ID, 10)
				siteSteps = append(siteSteps, Step{
					Description: fmt.Sprintf("change site %q: %s", spec.Name, strings.Join(changes, ", ")),
					Subject:     fmt.Sprintf("site %q", spec.Name),
					apply: func(ctx context.Context, a Admin) error {
						_, err := a.EditSite(ctx, ref, u)
						return err
					},
				})
			}
		}
		for _, code := range spec.Stores {
			code = strings.TrimSpace(code)
			st, known := storeByCode[strings.ToLower(code)]
			if !known && !fileHasStore(f, code) {
				return nil, problem("site %q lists store %s, which is neither in the datafile nor in the file's [[store]] list", spec.Name, code)
			}
			// A store already moving to the site waits for its old site's handover: nothing more to do.
			if !known || (ok && (st.SiteID == existing.ID || (st.MovingToSiteID != nil && *st.MovingToSiteID == existing.ID))) {
				continue
			}
			from := fmt.Sprintf("site %q", siteByID[st.SiteID].Name)
			moveSteps = append(moveSteps, Step{
				Description: fmt.Sprintf("move store %s from %s to site %q", code, from, spec.Name),
				Subject:     "store " + code,
				apply: func(ctx context.Context, a Admin) error {
					_, _, err := a.MoveStore(ctx, code, spec.Name, false)
					return err
				},
			})
		}
	}
	return append(append(siteSteps, storeSteps...), moveSteps...), nil
}

// problem is something wrong with the file that only the datafile shows, such as a new site without a
// password.
func problem(format string, args ...any) error {
	return &datafile.Error{Code: datafile.EINVALID, Message: fmt.Sprintf(format, args...)}
}

func fileHasStore(f *File, code string) bool {
	for _, s := range f.Stores {
		if strings.EqualFold(s.Code, code) {
			return true
		}
	}
	return false
}

// Apply carries out the steps in order. A step that fails is a *StepError naming its site or store.
func Apply(ctx context.Context, a Admin, steps []Step) error {
	for _, s := range steps {
		if err := s.apply(ctx, a); err != nil {
			return &StepError{Subject: s.Subject, Err: err}
		}
	}
	return nil
}

// Load parses the file at path.
func Load(path string, getenv func(string) string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no provisioning file at %s", path)
		}
		return nil, err
	}
	defer fh.Close()
	f, err := Parse(fh, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Descriptions returns what each step does, for printing.
func Descriptions(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Description
	}
	return out
}
