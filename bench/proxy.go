package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// proxy is a counting TCP proxy on loopback between a remote and the central server. It forwards bytes
// untouched and spools a copy of each direction of each connection to disk; wire statistics are computed
// from the spools only when asked (collect), after the timed run, so that parsing and compressing never
// compete with the processes being measured.
type proxy struct {
	ln     net.Listener
	target string
	dir    string

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
}

// wireStats is what went over the proxy between two collections.
type wireStats struct {
	Conns     int
	Requests  int
	BytesUp   int64 // client to server, everything on the wire
	BytesDown int64 // server to client, everything on the wire

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
			up:   filepath.Join(p.dir, fmt.Sprintf("conn%05d.up", p.seq)),
			down: filepath.Join(p.dir, fmt.Sprintf("conn%05d.down", p.seq)),
			done: make(chan struct{}),
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
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pc.upErr = pipe(server, client, pc.up, &pc.upN)
		server.CloseWrite()
	}()
	go func() {
		defer wg.Done()
		pc.dnErr = pipe(client, server, pc.down, &pc.downN)
		client.CloseWrite()
	}()
	wg.Wait()
}

// pipe copies src to dst, spooling and counting every byte.
func pipe(dst, src *net.TCPConn, spool string, n *atomic.Int64) error {
	f, err := os.Create(spool)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	buf := make([]byte, 64<<10)
	var werr error
	for {
		k, rerr := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
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
	for _, pc := range conns {
		<-pc.done
		st.Conns++
		st.BytesUp += pc.upN.Load()
		st.BytesDown += pc.downN.Load()
		if err := analyseRequests(pc.up, &st); err != nil && st.ParseErr == "" {
			st.ParseErr = err.Error()
		}
		if err := analyseResponses(pc.down, &st); err != nil && st.ParseErr == "" {
			st.ParseErr = err.Error()
		}
		os.Remove(pc.up)
		os.Remove(pc.down)
	}
	return st
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

func analyseRequests(path string, st *wireStats) error {
	return analyseMessages(path, func(br *bufio.Reader) (http.Header, io.ReadCloser, error) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return nil, nil, fmt.Errorf("parse request %d: %w", st.Requests+1, err)
		}
		st.Requests++
		return req.Header, req.Body, nil
	}, st.Up.add)
}

func analyseResponses(path string, st *wireStats) error {
	return analyseMessages(path, func(br *bufio.Reader) (http.Header, io.ReadCloser, error) {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("parse response: %w", err)
		}
		return resp.Header, resp.Body, nil
	}, st.Down.add)
}

// analyseMessages reads the HTTP messages recorded in path one after another (next parses one) and
// passes count the sizes of each body: on the wire, uncompressed, and as gzip would make it.
func analyseMessages(path string, next func(*bufio.Reader) (http.Header, io.ReadCloser, error), count func(gz bool, wire, raw, z int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	zw := gzip.NewWriter(io.Discard)
	for {
		if _, err := br.Peek(1); err != nil {
			return nil // clean end of the stream
		}
		header, body, err := next(br)
		if err != nil {
			return err
		}
		gz := header.Get("Content-Encoding") == "gzip"
		wire, raw, z, err := bodySizes(body, gz, zw)
		body.Close()
		if err != nil {
			return fmt.Errorf("body: %w", err)
		}
		count(gz, wire, raw, z)
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
