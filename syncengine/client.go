package syncengine

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// MaxResponseBody bounds what the client reads of one response.
const MaxResponseBody = 256 << 20

// Errors of the transport, apart from what the server answers.
var (
	// ErrUnreachable means no connection to the server could be made.
	ErrUnreachable = errors.New("the central server cannot be reached")
	// ErrTimeout means the server took too long; trying again later may well work.
	ErrTimeout = errors.New("the central server took too long to answer")
	// ErrUntrusted means the server's TLS certificate could not be verified.
	ErrUntrusted = errors.New("the central server's certificate is not trusted")
	// ErrPlainHTTP means an https:// URL reached a server that speaks plain HTTP.
	ErrPlainHTTP = errors.New("the central server speaks plain HTTP, not HTTPS")
	// ErrHTTPSOnly means an http:// URL reached a server that speaks only HTTPS.
	ErrHTTPSOnly = errors.New("the central server speaks HTTPS only")
)

// httpsOnlyAnswer is what Go's HTTPS servers answer a plain HTTP request with.
const httpsOnlyAnswer = "Client sent an HTTP request to an HTTPS server"

// ClientConfig is how a remote reaches its central server.
type ClientConfig struct {
	ServerURL      string
	SiteName       string
	PasswordDigest string
	HardwareID     string
	AppName        string
	AppVersion     string
	// AltHTTPClient selects the configuration for awkward networks: HTTP/1.1 without keep-alive, through
	// the proxy the environment names.
	AltHTTPClient bool
	// CAFile names PEM certificates to trust for the server besides the system's.
	CAFile string
	// RequestTimeout bounds one whole request; 0 means two minutes.
	RequestTimeout time.Duration
}

// Client speaks the v5 protocol to a central server.
type Client struct {
	base *url.URL
	cfg  ClientConfig
	http *http.Client
	// gzipBodies: the server has said it reads gzipped request bodies (RFC 7694's Accept-Encoding in an
	// answer); until it does, bodies go plain, as every v5 server reads them.
	gzipBodies atomic.Bool
}

// gzipBodiesFrom is the size from which a request body is worth compressing.
const gzipBodiesFrom = 1024

// NewClient returns a client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := datafile.ValidateServerURL(cfg.ServerURL); err != nil {
		return nil, err
	}
	base, err := url.Parse(cfg.ServerURL)
	if err != nil {
		return nil, err
	}
	if err := ValidateHardwareID(cfg.HardwareID); err != nil {
		return nil, fmt.Errorf("%w (check MSUPPLY_HARDWARE_ID, which overrides the machine's)", err)
	}
	if cfg.AppName == "" {
		cfg.AppName = "msupply-sync"
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 90 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	if cfg.AltHTTPClient {
		transport.ForceAttemptHTTP2 = false
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		transport.DisableKeepAlives = true
		transport.Proxy = http.ProxyFromEnvironment
	}
	return &Client{base: base, cfg: cfg, http: &http.Client{Transport: transport, Timeout: cfg.RequestTimeout}}, nil
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	gzipBody := false
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if gzipBody = c.gzipBodies.Load() && len(b) >= gzipBodiesFrom; gzipBody {
			b = gzipBytes(b)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if gzipBody {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.SetBasicAuth(c.cfg.SiteName, c.cfg.PasswordDigest)
	req.Header.Set(HeaderHardwareID, c.cfg.HardwareID)
	req.Header.Set(HeaderAppName, c.cfg.AppName)
	req.Header.Set(HeaderAppVersion, c.cfg.AppVersion)
	req.Header.Set(HeaderVersion, strconv.Itoa(APIVersion))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return classifyTransportError(err)
	}
	defer resp.Body.Close()
	// Every answer says it afresh, so a server replaced behind the same URL is never sent what it cannot read.
	c.gzipBodies.Store(strings.Contains(resp.Header.Get("Accept-Encoding"), "gzip"))
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err != nil {
		return classifyTransportError(err)
	}
	if resp.StatusCode == http.StatusBadRequest && bytes.Contains(data, []byte(httpsOnlyAnswer)) {
		return ErrHTTPSOnly
	}
	if resp.StatusCode >= 300 {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			eb.Error.Status = resp.StatusCode
			return &eb.Error
		}
		return &APIError{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode),
			Message: fmt.Sprintf("the server answered %s", resp.Status)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the server's answer to %s is not what the v5 protocol says: %w", path, err)
	}
	return nil
}

func classifyTransportError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	if errors.Is(err, http.ErrSchemeMismatch) {
		return ErrPlainHTTP
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return fmt.Errorf("%w: %v", ErrUntrusted, cve.Err)
	}
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) && oe.Op == "dial" || errors.As(err, &de) {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return fmt.Errorf("connection to the central server failed: %w", err)
}

// Retryable reports whether err is worth trying again: a timeout, a dropped connection or a busy server.
func Retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Code == CodeSyncIsRunning
	}
	// A URL with the wrong scheme, or a certificate not trusted, stays so however often it is tried.
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrUntrusted) &&
		!errors.Is(err, ErrPlainHTTP) && !errors.Is(err, ErrHTTPSOnly)
}

// SiteInfo asks the server who this site is.
func (c *Client) SiteInfo(ctx context.Context) (SiteInfo, error) {
	var info SiteInfo
	err := c.do(ctx, http.MethodGet, PathSite, nil, nil, &info)
	return info, err
}

// SiteStatus asks whether the server is busy with this site.
func (c *Client) SiteStatus(ctx context.Context) (SiteStatus, error) {
	var st SiteStatus
	err := c.do(ctx, http.MethodGet, PathSiteStatus, nil, nil, &st)
	return st, err
}

// Initialise asks the server to queue everything this site must hold.
func (c *Client) Initialise(ctx context.Context) (int64, error) {
	var resp InitialiseResponse
	err := c.do(ctx, http.MethodPost, PathInitialise, nil, struct{}{}, &resp)
	return resp.QueueLength, err
}

// CentralRecords reads master data after cursor.
func (c *Client) CentralRecords(ctx context.Context, cursor int64, limit int) (CentralBatch, error) {
	var b CentralBatch
	q := url.Values{"cursor": {strconv.FormatInt(cursor, 10)}, "limit": {strconv.Itoa(limit)}}
	err := c.do(ctx, http.MethodGet, PathCentralRecords, q, nil, &b)
	return b, err
}

// QueuedRecords reads the head of this site's queue.
func (c *Client) QueuedRecords(ctx context.Context, limit int) (QueuedBatch, error) {
	var b QueuedBatch
	err := c.do(ctx, http.MethodGet, PathQueuedRecords, url.Values{"limit": {strconv.Itoa(limit)}}, nil, &b)
	return b, err
}

// Acknowledge tells the server these queue entries are safely stored here.
func (c *Client) Acknowledge(ctx context.Context, ids []string) error {
	return c.do(ctx, http.MethodPost, PathAcknowledgedRecords, nil, AcknowledgeRequest{SyncIDs: ids}, nil)
}

// Push sends this site's changes.
func (c *Client) Push(ctx context.Context, batch QueuedBatch) (PushResponse, error) {
	var resp PushResponse
	err := c.do(ctx, http.MethodPost, PathQueuedRecords, nil, batch, &resp)
	return resp, err
}
