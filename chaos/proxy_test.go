package chaos

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// faultProxy stands between remotes and the central server. With faults on it fails requests before
// they reach the server, cuts the connection after the server has answered, delays, and sends requests
// twice; it keeps every push and acknowledgement it forwarded, for replay.
type faultProxy struct {
	t        *testing.T
	mu       sync.Mutex
	rng      *rand.Rand
	faults   bool
	target   *url.URL
	url      string
	captured []captured
}

type captured struct {
	path   string
	header http.Header
	body   []byte
}

func newFaultProxy(t *testing.T, rng *rand.Rand, target string) *faultProxy {
	u, _ := url.Parse(target)
	p := &faultProxy{t: t, rng: rand.New(rand.NewSource(rng.Int63())), target: u}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p.url = "http://" + ln.Addr().String()
	return p
}

func (p *faultProxy) setFaults(on bool) {
	p.mu.Lock()
	p.faults = on
	p.mu.Unlock()
}

func (p *faultProxy) roll() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Intn(100), p.faults
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	roll, faults := p.roll()
	if faults {
		switch {
		case roll < 10:
			status := http.StatusInternalServerError
			if roll < 5 {
				status = http.StatusServiceUnavailable
			}
			w.WriteHeader(status)
			return
		case roll < 20:
			time.Sleep(time.Duration(roll*5) * time.Millisecond)
		case roll < 30:
			p.forward(r, body) // the server applies it once more
		}
	}
	status, header, respBody := p.forward(r, body)
	if r.Method == http.MethodPost && status < 300 {
		p.mu.Lock()
		p.captured = append(p.captured, captured{path: r.URL.Path, header: r.Header.Clone(), body: body})
		p.mu.Unlock()
	}
	if faults && roll >= 30 && roll < 40 {
		// The server did the work; the answer never arrives.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	if faults && roll >= 40 && roll < 45 && len(respBody) > 1 {
		w.Write(respBody[:len(respBody)/2]) // cut part way through the body
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	w.Write(respBody)
}

func (p *faultProxy) forward(r *http.Request, body []byte) (int, http.Header, []byte) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return http.StatusBadGateway, nil, nil
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return http.StatusBadGateway, nil, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

func (p *faultProxy) replayAll(rng *rand.Rand) {
	p.mu.Lock()
	caps := append([]captured(nil), p.captured...)
	p.mu.Unlock()
	// Out of order, as a late duplicate arrives: an older push replayed after a newer one.
	rng.Shuffle(len(caps), func(i, j int) { caps[i], caps[j] = caps[j], caps[i] })
	for _, c := range caps {
		for i := 0; i < 1+rng.Intn(5); i++ {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, p.target.String()+c.path, bytes.NewReader(c.body))
			req.Header = c.header.Clone()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
}
