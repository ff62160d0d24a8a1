package provision

import (
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// FuzzParse feeds the provisioning parser arbitrary text. It must not panic; it either refuses with one
// line saying what is wrong, or returns a file that keeps every rule check() promises.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"[[store]]\ncode = \"N1\"\nname = \"North Hospital\"\n\n[[site]]\nname = \"North\"\ncode = \"NTH\"\ntype = \"standalone\"\npassword = \"secret\"\nstores = [\"N1\"]\n",
		"[[site]]\nname = \"North\"\npassword_env = \"NORTH_PASSWORD\"\n",
		"[[site]]\nname = \"North\"\npassword_env = \"UNSET\"\n",
		"[[site]]\nname = \"North\"\npassword = \"a\"\npassword_env = \"NORTH_PASSWORD\"\n",
		"[[site]]\nname = \"Tablet\"\ntype = \"mobile\"\nstores = [\"A\", \"B\"]\n",
		"[[site]]\nname = \"X\"\ntype = \"server\"\n",
		"[[site]]\nname = \"  \"\n",
		"[[site]]\nname = \"North\"\n[[site]]\nname = \"north\"\n",
		"[[site]]\nname = \"A\"\nstores = [\"N1\"]\n[[site]]\nname = \"B\"\nstores = [\" n1 \"]\n",
		"[[store]]\ncode = \"N1\"\nname = \"x\"\n[[store]]\ncode = \"n1\"\nname = \"y\"\n",
		"[[store]]\ncode = \"\"\nname = \"x\"\n",
		"[[store]]\ncode = 5\nname = \"x\"\n",
		"[store]\ncode = \"N1\"\n",
		"[[site]]\nname = \"North\"\ncolour = \"red\"\n",
		"[[site]]\nname = \"North\"\nstores = \"N1\"\n",
		"site = [{name = \"North\", stores = [\"N1\"]}]\nstore = [{code = \"N1\", name = \"x\"}]\n",
		"[[site]]\nname = \"Nörth \\u0000\"\ncode = \"\"\"multi\nline\"\"\"\n",
		"[[store]]\ncode = \"a\\nb\"\nname = \"x\"\n[[store]]\ncode = \"A\\nB\"\nname = \"y\"\n",
		"\"key\\nwith newline\" = 1\n",
		"[[site]\n",
		"name = ",
		"",
		"\xff\xfe",
		"[[store]]\ncode = \"X1\"\nname = \"North\\u001b[2J\"\n",
		"[[site]]\nname = \"East:2\"\n",
	} {
		f.Add(seed, "from-the-environment")
	}
	f.Add("[[site]]\nname = \"North\"\npassword_env = \"NORTH_PASSWORD\"\n", "")
	f.Fuzz(func(t *testing.T, data, env string) {
		getenv := func(name string) string {
			if name == "UNSET" {
				return ""
			}
			return env
		}
		file, err := Parse(strings.NewReader(data), getenv)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		if file == nil {
			t.Fatal("no error and no file")
		}
		codes := map[string]bool{}
		for _, st := range file.Stores {
			if st.Code == "" || st.Name == "" || st.Code != strings.TrimSpace(st.Code) || st.Name != strings.TrimSpace(st.Name) ||
				datafile.ValidateStoreCode(st.Code) != nil || datafile.ValidateStoreName(st.Name) != nil {
				t.Fatalf("store %+v accepted", st)
			}
			if codes[strings.ToLower(st.Code)] {
				t.Fatalf("store %q accepted twice", st.Code)
			}
			codes[strings.ToLower(st.Code)] = true
		}
		names := map[string]bool{}
		listed := map[string]bool{}
		for _, site := range file.Sites {
			if site.Name == "" || site.Name != strings.TrimSpace(site.Name) || names[strings.ToLower(site.Name)] || datafile.ValidateSiteName(site.Name) != nil {
				t.Fatalf("site name %q accepted", site.Name)
			}
			names[strings.ToLower(site.Name)] = true
			if site.Type != datafile.SiteStandalone && site.Type != datafile.SiteMobile {
				t.Fatalf("site %q has type %q", site.Name, site.Type)
			}
			if site.PasswordEnv != "" && (site.Password == "" || site.Password != getenv(site.PasswordEnv)) {
				t.Fatalf("site %q: password_env %q not resolved", site.Name, site.PasswordEnv)
			}
			if site.Type == datafile.SiteMobile && len(site.Stores) > 1 {
				t.Fatalf("mobile site %q lists %d stores", site.Name, len(site.Stores))
			}
			for _, code := range site.Stores {
				key := strings.ToLower(strings.TrimSpace(code))
				if listed[key] {
					t.Fatalf("store %q listed on two sites", code)
				}
				listed[key] = true
			}
		}
	})
}

// TestParseErrorsAreOneLine is the regression test for errors that quoted the file, newlines and all:
// an error is one line of stderr.
func TestParseErrorsAreOneLine(t *testing.T) {
	for _, in := range []string{
		" \"ö\\\n",
		"[[store]]\ncode = \"a\\nb\"\nname = \"x\"\n[[store]]\ncode = \"A\\nB\"\nname = \"y\"\n",
		"[[site]]\nname = \"A\"\nstores = [\"x\\ny\"]\n[[site]]\nname = \"B\"\nstores = [\"x\\ny\"]\n",
		"[[site]]\nname = \"A\"\npassword_env = \"A\\nB\"\n",
		"\"key\\nwith newline\" = 1\n",
	} {
		_, err := Parse(strings.NewReader(in), func(string) string { return "" })
		if err == nil || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("Parse(%q) = %q, want an error of one line", in, err)
		}
	}
}
