package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/msupply-foundation/msupply-sync/secret"
)

// testClock is the server's clock in a test: it moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClockedNet(t *testing.T) (*testNet, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	return newTestNetWith(t, ServerOptions{Now: clock.Now}), clock
}

// failedLogins reads the site's failure streak and block state from central.
func failedLogins(t *testing.T, n *testNet, name string) (int, bool) {
	t.Helper()
	s, err := n.central.FindSite(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.FailedLogins, s.Blocked
}

// TestOnlyTheSitesOwnDeviceCanBlockIt is the regression test for anyone blocking any site with five
// requests: wrong passwords count towards the block only from the device the site is bound to.
func TestOnlyTheSitesOwnDeviceCanBlockIt(t *testing.T) {
	const attempts = MaxFailedLogins + 2
	for _, tc := range []struct {
		name     string
		bind     bool // North has synced from hw-north first
		hardware string
		blocks   bool
	}{
		{"no hardware ID, bound site", true, "", false},
		{"another device, bound site", true, "hw-other", false},
		{"any device, site not yet bound", false, "hw-north", false},
		{"the site's own device", true, "hw-north", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			n.addSite("North", "north-password")
			good := rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-north"}
			if tc.bind {
				if status, _, body := n.do(t, good); status != 200 {
					t.Fatalf("binding login: %d %s", status, body)
				}
			}
			bad := rawCall{method: "GET", path: PathSite, user: "North", password: "wrong-password", hardware: tc.hardware}
			for i := 1; i <= attempts; i++ {
				status, eb, _ := n.do(t, bad)
				wantCode := CodeSiteIncorrectPassword
				if tc.blocks && i >= MaxFailedLogins {
					wantCode = CodeSiteAuthTimeout
				}
				if status != http.StatusUnauthorized || eb.Error.Code != wantCode {
					t.Fatalf("wrong password %d: %d %s, want 401 %s", i, status, eb.Error.Code, wantCode)
				}
			}
			failures, blocked := failedLogins(t, n, "North")
			if blocked != tc.blocks {
				t.Fatalf("after %d wrong passwords the site is blocked: %v, want %v", attempts, blocked, tc.blocks)
			}
			if !tc.blocks && failures != 0 {
				t.Errorf("failures counted against the site: %d", failures)
			}
			status, eb, _ := n.do(t, good)
			if tc.blocks && (status != http.StatusUnauthorized || eb.Error.Code != CodeSiteAuthTimeout) {
				t.Fatalf("right password on a blocked site: %d %s", status, eb.Error.Code)
			}
			if !tc.blocks && status != http.StatusOK {
				t.Fatalf("the real remote after the attack: %d %s", status, eb.Error.Code)
			}
		})
	}
}

// TestAddressBackoff: failures that do not count against a site count against the client's address, which
// is refused for a while after backoffFreeFailures of them, longer after each failure, within bounds; a
// credential verified lately still gets in, and the address starts afresh after a quiet hour.
func TestAddressBackoff(t *testing.T) {
	n, clock := newClockedNet(t)
	n.addSite("North", "north-password")
	n.addSite("South", "south-password")
	n.addSite("East", "east-password")
	north := rawCall{method: "GET", path: PathSite, user: "North", password: "north-password", hardware: "hw-north"}
	if status, _, _ := n.do(t, north); status != 200 {
		t.Fatal("North's first login failed")
	}
	south := rawCall{method: "GET", path: PathSite, user: "South", password: "south-password", hardware: "hw-south"}
	attacks := []rawCall{
		{method: "GET", path: PathSite, hardware: "hw-x"},
		{method: "GET", path: PathSite, user: "Nobody", password: "x", hardware: "hw-x"},
		{method: "GET", path: PathSite, user: "North", password: "guess"},
		{method: "GET", path: PathSite, user: "North", password: "guess", hardware: "hw-x"},
		{method: "GET", path: PathSite, user: "South", password: "guess", hardware: "hw-south"},
	}
	for i := 0; i < backoffFreeFailures; i++ {
		if status, eb, _ := n.do(t, attacks[i%len(attacks)]); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s, want 401", i+1, status, eb.Error.Code)
		}
	}
	// East logs in for the first time from the refused address.
	refused := func(wantSeconds int64) {
		t.Helper()
		req, _ := http.NewRequest("GET", n.http.URL+PathSite, nil)
		req.SetBasicAuth("East", secret.PasswordDigest("east-password"))
		req.Header.Set(HeaderHardwareID, "hw-east")
		req.Header.Set(HeaderVersion, "14")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		var data backoffData
		json.Unmarshal(eb.Error.Data, &data)
		if resp.StatusCode != http.StatusTooManyRequests || eb.Error.Code != CodeTooManyFailedLogins || data.RetryAfterSeconds != wantSeconds ||
			resp.Header.Get("Retry-After") != fmt.Sprint(wantSeconds) {
			t.Fatalf("a new login from a backed-off address: %d %s %s, Retry-After %q; want 429 %s with %d seconds",
				resp.StatusCode, eb.Error.Code, eb.Error.Data, resp.Header.Get("Retry-After"), CodeTooManyFailedLogins, wantSeconds)
		}
	}
	refused(30)
	if status, _, _ := n.do(t, north); status != 200 {
		t.Fatalf("North, verified a moment ago, is refused with its address: %d", status)
	}
	if _, blocked := failedLogins(t, n, "South"); blocked {
		t.Fatal("South was blocked by failures of a device it is not bound to")
	}

	clock.advance(20 * time.Second)
	refused(10)
	clock.advance(10 * time.Second)
	if status, eb, _ := n.do(t, south); status != 200 {
		t.Fatalf("after the wait: %d %s", status, eb.Error.Code)
	}
	// Each failure after the free ones doubles the wait, up to backoffMax.
	n.do(t, attacks[0])
	refused(60)
	for i := 0; i < 10; i++ {
		clock.advance(backoffMax)
		n.do(t, attacks[1])
	}
	refused(int64(backoffMax / time.Second))

	// A quiet hour forgets the address: it has its free failures again.
	clock.advance(backoffMax + backoffForget)
	for i := 0; i < backoffFreeFailures-1; i++ {
		n.do(t, attacks[0])
	}
	if status, eb, _ := n.do(t, south); status != 200 {
		t.Fatalf("after a quiet hour and %d failures: %d %s", backoffFreeFailures-1, status, eb.Error.Code)
	}
}

func TestClientAddress(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:51000":                   "192.0.2.7",
		"[::ffff:192.0.2.7]:51000":          "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443":        "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443":        "2001:db8:1:2::/64",
		"[fe80::1%eth0]:443":                "fe80::/64",
		"not an address":                    "not an address",
		"@":                                 "@",
		"[2001:db8:1:3:3:4:5:6]:1":          "2001:db8:1:3::/64",
		"203.0.113.255:65535":               "203.0.113.255",
		"[2001:db8::abcd:1234:5678:9]:8443": "2001:db8::/64",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		// A header cannot choose the address.
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		if got := clientAddress(r); got != want {
			t.Errorf("clientAddress(%q) = %q, want %q", remote, got, want)
		}
	}
}

// TestAddressBackoffIsBounded: however many addresses fail, the map holds at most backoffMaxAddresses,
// and the addresses refused now are the last to make room.
func TestAddressBackoffIsBounded(t *testing.T) {
	b := newAddressBackoff()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := 0; i < backoffFreeFailures; i++ {
		b.fail("198.51.100.1", now)
	}
	for i := 0; i < 2*backoffMaxAddresses; i++ {
		now = now.Add(time.Millisecond)
		b.fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if len(b.addrs) > backoffMaxAddresses {
		t.Fatalf("%d addresses held, want at most %d", len(b.addrs), backoffMaxAddresses)
	}
	if b.wait("198.51.100.1", now) == 0 {
		t.Fatal("the refused address was evicted to make room for ones that failed once")
	}
}
