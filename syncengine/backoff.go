package syncengine

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Failed logins that cannot count towards a site's block (no credential, an unknown site name, a wrong
// password from a device other than the site's own) are counted per client address instead. Counting them
// against the site would let anyone block any site with five requests, and tell its real remote to fix a
// password that was never wrong.
const (
	// backoffFreeFailures is how many such failures an address has before it is refused at all: enough
	// for a remote being set up with a mistyped password, or several behind one NAT.
	backoffFreeFailures = 10
	// backoffFirst is the first refusal; each failure after it doubles the next, up to backoffMax.
	backoffFirst = 30 * time.Second
	backoffMax   = 15 * time.Minute
	// backoffForget is how long an address must stay quiet for its failures to be forgotten.
	backoffForget = time.Hour
	// backoffMaxAddresses bounds the memory the counts take.
	backoffMaxAddresses = 10000
)

type addressFailures struct {
	failures int
	last     time.Time // of the last failure
	until    time.Time // refused before this
}

// addressBackoff counts failed logins per client address, in memory only.
type addressBackoff struct {
	mu    sync.Mutex
	addrs map[string]*addressFailures
}

func newAddressBackoff() *addressBackoff {
	return &addressBackoff{addrs: map[string]*addressFailures{}}
}

// clientAddress is who a request comes from, for the backoff: the peer of the connection, never a header a
// client could set. An IPv6 client is its /64, the block one host or one customer usually holds, so that it
// cannot start afresh with every address it has.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// wait returns how long addr is still refused at now, or 0.
func (b *addressBackoff) wait(addr string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.addrs[addr]; ok && now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

// fail counts a failed login from addr at now.
func (b *addressBackoff) fail(addr string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.addrs[addr]
	if !ok {
		if len(b.addrs) >= backoffMaxAddresses {
			b.evict(now)
		}
		e = &addressFailures{}
		b.addrs[addr] = e
	}
	if now.Sub(e.last) >= backoffForget && !now.Before(e.until) {
		e.failures = 0
	}
	e.failures++
	e.last = now
	if over := e.failures - backoffFreeFailures; over >= 0 {
		wait := backoffMax
		if over < 16 {
			wait = min(backoffFirst<<over, backoffMax)
		}
		e.until = now.Add(wait)
	}
}

// evict makes room for new addresses, a tenth of the map at a time, so that a flood of new addresses costs
// one pass over it per thousand. The addresses not refused now go first, those that failed longest ago
// first; only then the refusals that end soonest.
func (b *addressBackoff) evict(now time.Time) {
	type candidate struct {
		addr    string
		refused bool
		t       time.Time
	}
	all := make([]candidate, 0, len(b.addrs))
	for addr, e := range b.addrs {
		c := candidate{addr: addr, refused: now.Before(e.until), t: e.last}
		if c.refused {
			c.t = e.until
		}
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b candidate) int {
		if a.refused != b.refused {
			if !a.refused {
				return -1
			}
			return 1
		}
		return a.t.Compare(b.t)
	})
	for _, c := range all[:len(all)-backoffMaxAddresses*9/10] {
		delete(b.addrs, c.addr)
	}
}
