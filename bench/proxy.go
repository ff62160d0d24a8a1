package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a counting TCP proxy on loopback between a remote and the central server. It forwards bytes
// untouched and spools a copy of each direction of each connection to disk; wire statistics are computed
// from the spools only when asked (collect), after the timed run, so that parsing and compressing never
// compete with the processes being measured.
type proxy struct {
	ln     net.Listener
	target string
	dir    string
	// cut, when set, is what the link behind the proxy carries at most per connection and direction before
	// it drops the connection: bytes beyond it were read from the remote but never crossed the link.
	cut int64
	// small makes each connection's buffers small (16 KiB instead of 320 KiB a direction), for a thousand
	// clients that each keep a connection open.
	small bool

	mu    sync.Mutex
	seq   int
	conns []*proxyConn
	wg    sync.WaitGroup
}

type proxyConn struct {
	up, down     string // spool files: client to server, server to client
	upN, downN   atomic.Int64
	done         chan struct{}
	upErr, dnErr error
	small        bool

	mu      sync.Mutex
	sockets []net.Conn // both ends, for closeAll

	// When each read passed the proxy, and when the connection ended: written by the pipes, read after done.
	upMarks, downMarks []mark
	ended              time.Time
}

// mark says that the first off bytes of one direction of a connection had passed the proxy at time at.
type mark struct {
	off int64
	at  time.Time
}

// timeOf returns when the byte at offset off of a direction passed the proxy (the zero time if it never did).
func timeOf(marks []mark, off int64) time.Time {
	i := sort.Search(len(marks), func(i int) bool { return marks[i].off > off })
	if i == len(marks) {
		return time.Time{}
	}
	return marks[i].at
}

// wireStats is what went over the proxy between two collections.
type wireStats struct {
	Conns     int
	Requests  int
	BytesUp   int64 // client to server, everything on the wire
	BytesDown int64 // server to client, everything on the wire
	Cuts      int   // connections the link dropped after carrying its cut (proxy.cut) in a direction

	// Every request with its answer, in the order the requests began.
	Exchanges []exchange

	// Message bodies as sent on the wire, uncompressed, and gzip-compressed. When a body was sent gzipped
	// (Content-Encoding: gzip), Raw is its decompressed size; otherwise Gzip is what gzip (default level) of
	// that body would have been, computed here for comparison.
	Up, Down bodyStats
	ParseErr string
}

type bodyStats struct {
	Wire, Raw, Gzip int64
	Gzipped         int // how many bodies were sent gzipped
}

func (b *bodyStats) add(gz bool, wire, raw, z int64) {
	if gz {
		b.Gzipped++
	}
	b.Wire += wire
	b.Raw += raw
	b.Gzip += z
}

func (w wireStats) total() int64 { return w.BytesUp + w.BytesDown }

// totalUncompressed is the wire total if no body had been compressed.
func (w wireStats) totalUncompressed() int64 {
	return w.total() - w.Up.Wire - w.Down.Wire + w.Up.Raw + w.Down.Raw
}

// totalGzip is the wire total if every body had been gzipped (headers stay as they were).
func (w wireStats) totalGzip() int64 {
	return w.total() - w.Up.Wire - w.Down.Wire + w.Up.Gzip + w.Down.Gzip
}

// serverGzips reports whether the server sent any gzipped response.
func (w wireStats) serverGzips() bool { return w.Down.Gzipped > 0 }

func startProxy(target, dir string) (*proxy, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, dir: dir}
	go p.accept()
	return p, nil
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.seq++
		pc := &proxyConn{
			up:    filepath.Join(p.dir, fmt.Sprintf("conn%05d.up", p.seq)),
			down:  filepath.Join(p.dir, fmt.Sprintf("conn%05d.down", p.seq)),
			done:  make(chan struct{}),
			small: p.small,
		}
		p.conns = append(p.conns, pc)
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			pc.serve(c.(*net.TCPConn), p.target)
		}()
	}
}

func (pc *proxyConn) serve(client *net.TCPConn, target string) {
	defer close(pc.done)
	defer client.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		pc.upErr = err
		return
	}
	server := s.(*net.TCPConn)
	defer server.Close()
	pc.mu.Lock()
	pc.sockets = []net.Conn{client, server}
	pc.mu.Unlock()
	spoolBuf, readBuf := 256<<10, 64<<10
	if pc.small {
		spoolBuf, readBuf = 8<<10, 8<<10
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pc.upErr = pipe(server, client, pc.up, &pc.upN, &pc.upMarks, spoolBuf, readBuf)
		server.CloseWrite()
	}()
	go func() {
		defer wg.Done()
		pc.dnErr = pipe(client, server, pc.down, &pc.downN, &pc.downMarks, spoolBuf, readBuf)
		client.CloseWrite()
	}()
	wg.Wait()
	pc.ended = time.Now()
}

// closeAll ends every connection still open, as if each client had hung up: clients that keep their
// connections alive would otherwise keep a collection waiting for good.
func (p *proxy) closeAll() {
	p.mu.Lock()
	conns := slices.Clone(p.conns)
	p.mu.Unlock()
	for _, pc := range conns {
		pc.mu.Lock()
		for _, c := range pc.sockets {
			c.Close()
		}
		pc.mu.Unlock()
	}
}

// pipe copies src to dst, spooling and counting every byte and noting when each read arrived.
func pipe(dst, src *net.TCPConn, spool string, n *atomic.Int64, marks *[]mark, spoolBuf, readBuf int) error {
	f, err := os.Create(spool)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, spoolBuf)
	buf := make([]byte, readBuf)
	var werr error
	for {
		k, rerr := src.Read(buf)
		if k > 0 {
			*marks = append(*marks, mark{off: n.Add(int64(k)), at: time.Now()})
			if _, err := dst.Write(buf[:k]); err != nil && werr == nil {
				werr = err
			}
			if werr != nil {
				break
			}
			bw.Write(buf[:k]) //nolint:errcheck // checked at Flush
		}
		if rerr != nil {
			break
		}
	}
	if err := bw.Flush(); err != nil && werr == nil {
		werr = err
	}
	if err := f.Close(); err != nil && werr == nil {
		werr = err
	}
	return werr
}

// collect waits for the connections opened since the last collection to end (their client processes have
// exited by then), analyses their spools, deletes them and returns the totals.
func (p *proxy) collect() wireStats {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	var st wireStats
	for i, pc := range conns {
		<-pc.done
		st.Conns++
		up, down := pc.upN.Load(), pc.downN.Load()
		if p.cut > 0 {
			if up >= p.cut || down >= p.cut {
				st.Cuts++
			}
			up = min(up, p.cut)
		}
		st.BytesUp += up
		st.BytesDown += down
		reqs, err := analyseRequests(pc.up, &st)
		if err != nil && st.ParseErr == "" {
			st.ParseErr = err.Error()
		}
		resps, err := analyseResponses(pc.down, &st)
		if err != nil && st.ParseErr == "" {
			st.ParseErr = err.Error()
		}
		st.Exchanges = append(st.Exchanges, exchangesOf(i, reqs, resps, pc.upMarks, pc.downMarks, pc.ended)...)
		os.Remove(pc.up)
		os.Remove(pc.down)
	}
	sort.SliceStable(st.Exchanges, func(i, j int) bool { return st.Exchanges[i].start.Before(st.Exchanges[j].start) })
	return st
}

// exchange is one request and its answer as the remote saw them, at the proxy beside it.
type exchange struct {
	conn          int
	method, path  string
	query         url.Values
	contentLength int64  // of the request body, -1 if not given
	bodySum       uint64 // a digest of the request body as sent
	start         time.Time
	// end is when the last byte of the answer reached the remote or, for a request never answered in
	// full, when its connection ended.
	end      time.Time
	answered bool // a complete response arrived
	status   int
}

func (e exchange) wait() time.Duration { return e.end.Sub(e.start) }

// exchangesOf pairs the requests of one connection with its responses (HTTP/1.1 answers in order) and
// times each from the first byte of the request to the last byte of its answer.
func exchangesOf(conn int, reqs, resps []message, upMarks, downMarks []mark, ended time.Time) []exchange {
	var out []exchange
	for i, rq := range reqs {
		e := exchange{conn: conn, method: rq.method, path: rq.path, query: rq.query, contentLength: rq.contentLength,
			bodySum: rq.bodySum, start: timeOf(upMarks, rq.from), end: ended}
		if i < len(resps) && resps[i].complete {
			e.answered, e.status = true, resps[i].status
			if t := timeOf(downMarks, resps[i].to-1); !t.IsZero() {
				e.end = t
			}
		}
		out = append(out, e)
	}
	return out
}

// bodySizes measures one message body: wire size, decompressed size and gzip size.
func bodySizes(body io.Reader, gzipped bool, zw *gzip.Writer) (wire, raw, gz int64, err error) {
	if gzipped {
		cr := &countingReader{r: body}
		zr, err := gzip.NewReader(cr)
		if err != nil {
			if errors.Is(err, io.EOF) { // an empty body
				return cr.n, 0, cr.n, nil
			}
			return 0, 0, 0, err
		}
		raw, err = io.Copy(io.Discard, zr)
		if err != nil {
			return 0, 0, 0, err
		}
		io.Copy(io.Discard, cr) //nolint:errcheck // trailing bytes, if any
		return cr.n, raw, cr.n, nil
	}
	cw := &countingWriter{}
	zw.Reset(cw)
	raw, err = io.Copy(zw, body)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, 0, err
	}
	if raw == 0 {
		return 0, 0, 0, nil // nothing to compress: a server would not gzip it
	}
	return raw, raw, cw.n, nil
}

// message is one HTTP message found in a spool.
type message struct {
	from, to int64 // where it lies in its direction's stream
	complete bool  // false: the stream ended inside it, so the connection was cut

	method, path  string // requests
	query         url.Values
	contentLength int64
	bodySum       uint64
	status        int // responses
}

func analyseRequests(path string, st *wireStats) ([]message, error) {
	return analyseMessages(path, func(br *bufio.Reader, m *message) (http.Header, io.ReadCloser, error) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return nil, nil, fmt.Errorf("parse request %d: %w", st.Requests+1, err)
		}
		st.Requests++
		m.method, m.path, m.query, m.contentLength = req.Method, req.URL.Path, req.URL.Query(), req.ContentLength
		return req.Header, req.Body, nil
	}, st.Up.add)
}

func analyseResponses(path string, st *wireStats) ([]message, error) {
	return analyseMessages(path, func(br *bufio.Reader, m *message) (http.Header, io.ReadCloser, error) {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("parse response: %w", err)
		}
		m.status = resp.StatusCode
		return resp.Header, resp.Body, nil
	}, st.Down.add)
}

// analyseMessages reads the HTTP messages recorded in path one after another (next parses one), passes
// count the sizes of each complete body (on the wire, uncompressed, and as gzip would make it) and returns
// where each message lies. A stream that ends inside a message is a cut connection, not an error: its last
// message is returned as incomplete.
func analyseMessages(path string, next func(*bufio.Reader, *message) (http.Header, io.ReadCloser, error), count func(gz bool, wire, raw, z int64)) ([]message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := &countingReader{r: f}
	br := bufio.NewReaderSize(cr, 256<<10)
	offset := func() int64 { return cr.n - int64(br.Buffered()) }
	atEnd := func() bool { _, err := br.Peek(1); return err != nil }
	zw := gzip.NewWriter(io.Discard)
	var msgs []message
	for {
		if atEnd() {
			return msgs, nil // clean end of the stream
		}
		m := message{from: offset()}
		header, body, err := next(br, &m)
		if err != nil {
			if atEnd() {
				m.to = offset()
				return append(msgs, m), nil
			}
			return msgs, err
		}
		gz := header.Get("Content-Encoding") == "gzip"
		sum := fnv.New64a()
		wire, raw, z, err := bodySizes(io.TeeReader(body, sum), gz, zw)
		if err != nil {
			io.Copy(io.Discard, body) //nolint:errcheck // only to find where the stream ends
			body.Close()
			if atEnd() {
				m.to = offset()
				return append(msgs, m), nil
			}
			return msgs, fmt.Errorf("body: %w", err)
		}
		body.Close()
		m.to, m.complete, m.bodySum = offset(), true, sum.Sum64()
		count(gz, wire, raw, z)
		msgs = append(msgs, m)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
