package syncengine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// Limits the server holds every request to.
const (
	MaxRequestBody   = 32 << 20
	DefaultPageLimit = 500
	MaxPageLimit     = datafile.MaxRequestSize
	MaxFailedLogins  = 5
)

// CentralDatafile is what the server needs of the central datafile.
type CentralDatafile interface {
	SiteAuthStore
	SiteStatusStore
	UpdateSiteType(ctx context.Context, siteID int64, siteType string) error
	RecordSyncCompleted(ctx context.Context, siteID int64) error
	CentralRecords(ctx context.Context, siteID int64, after int64, limit int) ([]datafile.OutRecord, int64, error)
	QueuedRecords(ctx context.Context, siteID int64, limit int) ([]datafile.OutRecord, int64, error)
	Acknowledge(ctx context.Context, siteID int64, ids []string) (int, error)
	InitialiseSite(ctx context.Context, siteID int64) (int64, error)
	SiteSyncInfo(ctx context.Context, siteID int64) (datafile.SiteSyncInfo, error)
	ReceivePush(ctx context.Context, siteID int64, records []datafile.InRecord, remaining int64, handedOver []string) (datafile.PushResult, error)
	RetryParked(ctx context.Context) (datafile.IntegrationResult, error)
	ParkRecords(ctx context.Context, siteID int64, records []datafile.InRecord, reason string) (int, error)
	LegacyLookup(ctx context.Context) *datafile.LegacyLookup
}

// SiteAuthStore is what authenticating a site needs of the central datafile.
type SiteAuthStore interface {
	SiteAuthByName(ctx context.Context, name string) (datafile.SiteAuth, error)
	SiteAuthByID(ctx context.Context, id int64) (datafile.SiteAuth, error)
	RecordLoginFailure(ctx context.Context, siteID int64, max int) (bool, error)
	RecordLoginSuccess(ctx context.Context, siteID int64) error
	BindHardwareID(ctx context.Context, siteID int64, hardwareID string) (string, error)
}

// SiteStatusStore is what the metrics of every site's sync state need.
type SiteStatusStore interface {
	SiteSummaries(ctx context.Context) ([]datafile.SiteSummary, error)
}

// Server serves the v5 sync API of a central datafile, with /healthz and /metrics.
type Server struct {
	db      CentralDatafile
	log     *slog.Logger
	auth    *authenticator
	metrics *metrics
	handler http.Handler

	mu      sync.Mutex
	running map[int64]siteWork // sites with a push or initialisation in progress

	retryParked time.Duration
	publicBase  string
}

// siteWork is what the server is doing for a site; one thing at a time.
type siteWork int

const (
	idle siteWork = iota
	pushing
	initialising
)

// ServerOptions tune a Server.
type ServerOptions struct {
	Logger           *slog.Logger
	MaxFailedLogins  int
	ConcurrentHashes int
	Now              func() time.Time
	// PublicURL is where remotes reach this server, given to open-mSupply remotes for their v6 calls; by
	// default, the scheme and host each request came in by. It ends in a slash.
	PublicURL string
	// RetryParked is how often Serve tries again to integrate the records it holds back (default a minute):
	// master data they wait for may arrive by an administrator's edit, not by any site's push.
	RetryParked time.Duration
}

// DefaultRetryParked is how often a server retries parked records unless told otherwise.
const DefaultRetryParked = time.Minute

// NewServer returns a server of db.
func NewServer(db CentralDatafile, opts ServerOptions) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxFailedLogins <= 0 {
		opts.MaxFailedLogins = MaxFailedLogins
	}
	if opts.ConcurrentHashes <= 0 {
		opts.ConcurrentHashes = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryParked <= 0 {
		opts.RetryParked = DefaultRetryParked
	}
	auth, err := newAuthenticator(db, opts.MaxFailedLogins, opts.ConcurrentHashes, opts.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{db: db, log: opts.Logger, auth: auth, metrics: newMetrics(), running: map[int64]siteWork{}, retryParked: opts.RetryParked, publicBase: opts.PublicURL}
	s.metrics.registry.MustRegister(&siteCollector{db: db, log: opts.Logger})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET "+PathSite, s.authed("site", s.handleSite))
	mux.HandleFunc("GET "+PathSiteStatus, s.authed("site_status", s.handleSiteStatus))
	mux.HandleFunc("POST "+PathInitialise, s.authed("initialise", s.handleInitialise))
	mux.HandleFunc("GET "+PathCentralRecords, s.authed("central_records", gzipped(s.handleCentralRecords)))
	mux.HandleFunc("GET "+PathQueuedRecords, s.authed("queued_records", gzipped(s.handleGetQueued)))
	mux.HandleFunc("POST "+PathQueuedRecords, s.authed("push", s.handlePush))
	mux.HandleFunc("POST "+PathAcknowledgedRecords, s.authed("acknowledged_records", s.handleAcknowledge))
	mux.HandleFunc("POST "+PathV6Pull, s.v6Handler("v6_pull", s.handleV6Pull))
	mux.HandleFunc("POST "+PathV6Push, s.v6Handler("v6_push", s.handleV6Push))
	mux.HandleFunc("POST "+PathV6SiteStatus, s.v6Handler("v6_site_status", s.handleV6SiteStatus))
	// Whatever no route takes still gets a v5 error body: a known path with another method is 405, any
	// other path 404.
	for path, allow := range map[string]string{
		"/healthz": "GET, HEAD", "/metrics": "GET, HEAD", PathSite: "GET, HEAD", PathSiteStatus: "GET, HEAD",
		PathInitialise: "POST", PathCentralRecords: "GET, HEAD", PathQueuedRecords: "GET, HEAD, POST",
		PathAcknowledgedRecords: "POST", PathV6Pull: "POST", PathV6Push: "POST", PathV6SiteStatus: "POST",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on "+path+"; use "+allow, nil)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint; the sync API is under /sync/v5/", nil)
	})
	s.handler = s.recoverPanics(advertiseGzip(mux))
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx is cancelled, then shuts down, letting requests in flight finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	retrying := make(chan struct{})
	retryCtx, stopRetrying := context.WithCancel(ctx)
	go func() {
		defer close(retrying)
		s.retryParkedEvery(retryCtx)
	}()
	defer func() {
		stopRetrying()
		<-retrying
	}()
	go func() {
		if tlsConfig != nil {
			errc <- srv.Serve(tls.NewListener(ln, tlsConfig))
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// retryParkedEvery tries the parked records again every retryParked until ctx ends, and says what came of it.
func (s *Server) retryParkedEvery(ctx context.Context) {
	t := time.NewTicker(s.retryParked)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.db.RetryParked(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("retry parked records", "error", err)
		case res.Integrated > 0:
			s.metrics.integrated.Add(float64(res.Integrated))
			s.log.Info("integrated parked records", "integrated", res.Integrated, "still_parked", res.Failed)
		}
	}
}

// statusRecorder remembers the status written, for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// recoverPanics turns a panic into a 500, so that no input can take the server down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, CodeInternal, "internal error", nil)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type siteHandler func(w http.ResponseWriter, r *http.Request, site authenticatedSite) error

// authed authenticates a request, runs h, and turns its error into a v5 error response.
func (s *Server) authed(endpoint string, h siteHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r.Body = http.MaxBytesReader(rec, r.Body, MaxRequestBody)
		site, err := s.auth.authenticate(r)
		if err == nil {
			err = h(rec, r, site)
		}
		if err != nil {
			s.writeFailure(rec, r, endpoint, site, err, v5ErrorBody)
		}
		s.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(rec.status)).Inc()
		s.log.Debug("request", "endpoint", endpoint, "site", site.Name, "status", rec.status, "duration", time.Since(start))
	}
}

// errorBody shapes the body of an error answer: v5's {"error": {...}}, or the v6 form.
type errorBody func(APIError) any

func v5ErrorBody(e APIError) any { return ErrorBody{Error: e} }

func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, endpoint string, site authenticatedSite, err error, body errorBody) {
	answer := func(status int, code, msg string, data any) {
		writeJSON(w, status, body(APIError{Code: code, Message: msg, Data: marshalData(data)}))
	}
	var af *authFailure
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &af):
		if af.code != CodeAPIVersionIncompatible {
			name, _, _ := r.BasicAuth()
			s.metrics.authFailures.WithLabelValues(af.code).Inc()
			level := slog.LevelWarn
			if d, ok := af.data.(backoffData); ok {
				w.Header().Set("Retry-After", strconv.FormatInt(d.RetryAfterSeconds, 10))
				level = slog.LevelDebug // the failures that brought it on were each logged as a warning
			}
			s.log.Log(r.Context(), level, "sync request refused", "endpoint", endpoint, "site", name, "code", af.code, "remote_addr", r.RemoteAddr)
		}
		answer(af.status, af.code, af.msg, af.data)
	case errors.As(err, &mbe):
		answer(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, fmt.Sprintf("request body over %d bytes", MaxRequestBody), nil)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody is there to answer.
	default:
		s.log.Error("sync request failed", "endpoint", endpoint, "site", site.Name, "error", err)
		answer(http.StatusInternalServerError, CodeInternal, "internal error; the server log has details", nil)
	}
}

func badRequest(format string, args ...any) error {
	return &authFailure{http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf(format, args...), nil}
}

func writeError(w http.ResponseWriter, status int, code, msg string, data any) {
	writeJSON(w, status, v5ErrorBody(APIError{Code: code, Message: msg, Data: marshalData(data)}))
}

func marshalData(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// tryLockSite marks a site busy with a push or initialisation; false means one is already running.
func (s *Server) tryLockSite(id int64, work siteWork) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[id] != idle {
		return false
	}
	s.running[id] = work
	return true
}

func (s *Server) unlockSite(id int64) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
}

func (s *Server) siteBusy(id int64) siteWork {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
}

var errSyncRunning = &authFailure{http.StatusServiceUnavailable, CodeSyncIsRunning, "a sync of this site is already running; try again later", nil}

func (s *Server) handleSite(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	if siteType := reportedSiteType(r.Header.Get(HeaderAppName)); siteType != "" {
		if err := s.db.UpdateSiteType(r.Context(), site.ID, siteType); err != nil {
			return err
		}
	}
	info, err := s.db.SiteSyncInfo(r.Context(), site.ID)
	if err != nil {
		return err
	}
	status := info.InitialisationStatus
	if s.siteBusy(site.ID) == initialising {
		// open-mSupply skips its initialise call while central says "started", and reads what is queued
		// once central is idle again: "started" means central is still building the queue, no more.
		status = "started"
	}
	hasStore := site.Store > 0
	writeJSON(w, http.StatusOK, SiteInfo{
		ID: strconv.FormatInt(site.ID, 10), SiteID: site.ID, Code: site.Code, Name: site.Name,
		InitialisationStatus: status, MSupplyCentralSiteID: datafile.CentralSiteID,
		OmSupplyCentralServerURL: s.publicURL(r), QueueLength: info.QueueLength, HasStore: &hasStore,
	})
	return nil
}

func (s *Server) handleSiteStatus(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	st := SiteStatus{Code: "idle"}
	switch s.siteBusy(site.ID) {
	case pushing:
		st = SiteStatus{Code: "integration_in_progress", Message: "the server is integrating this site's records"}
	case initialising:
		st = SiteStatus{Code: "initialisation_in_progress", Message: "the server is queuing what this site must hold"}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) handleInitialise(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	if site.Store == 0 {
		return &authFailure{http.StatusBadRequest, CodeSiteHasNoStore, "the site has no store; add one on the central server first", nil}
	}
	if !s.tryLockSite(site.ID, initialising) {
		return errSyncRunning
	}
	defer s.unlockSite(site.ID)
	n, err := s.db.InitialiseSite(r.Context(), site.ID)
	if err != nil {
		return err
	}
	s.log.Info("site initialisation queued", "site", site.Name, "queued", n)
	writeJSON(w, http.StatusOK, InitialiseResponse{QueueLength: n})
	return nil
}

func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return DefaultPageLimit, nil
	}
	n, err := strconv.Atoi(v)
	if errors.Is(err, strconv.ErrRange) {
		return 0, badRequest("limit is too large to read; pages hold at most %d records, so ask for %d", MaxPageLimit, MaxPageLimit)
	}
	if err != nil || n < 1 {
		return 0, badRequest("limit must be a whole number of at least 1")
	}
	return min(n, MaxPageLimit), nil
}

func (s *Server) handleCentralRecords(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	var cursor int64
	if v := r.URL.Query().Get("cursor"); v != "" {
		if cursor, err = strconv.ParseInt(v, 10, 64); err != nil || cursor < 0 {
			return badRequest("cursor must be a whole number, 0 or more")
		}
	}
	recs, maxCursor, err := s.db.CentralRecords(r.Context(), site.ID, cursor, limit)
	if err != nil {
		return err
	}
	batch := CentralBatch{MaxCursor: maxCursor, Data: make([]CentralRecord, 0, len(recs))}
	look := s.db.LegacyLookup(r.Context())
	if err := look.Preload(recs); err != nil {
		return err
	}
	for _, rec := range recs {
		wire, err := toWire(rec, look)
		if err != nil {
			return err
		}
		batch.Data = append(batch.Data, CentralRecord{ID: rec.Cursor, SyncRecord: wire})
	}
	s.answerPull(w, "central", len(recs), batch)
	return nil
}

func (s *Server) handleGetQueued(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	recs, total, err := s.db.QueuedRecords(r.Context(), site.ID, limit)
	if err != nil {
		return err
	}
	// A site has completed a sync cycle, as far as central can tell, when it reads its queue and finds it
	// empty. Both this project's remote and open-mSupply's v5 client push first, then read the queue page
	// by page, acknowledging each, until a read brings nothing; a push that fails ends the cycle before that
	// read. So the empty read closes every successful cycle, the first after initialise included, while a
	// request that only authenticates (check-connection, GET site) is mere contact. A pull without a push
	// (sync retrieve) counts too: central cannot tell it from a cycle with nothing to push.
	if total == 0 {
		if err := s.db.RecordSyncCompleted(r.Context(), site.ID); err != nil {
			// Bookkeeping: the site's pull is answered all the same.
			s.log.Warn("record completed sync", "site", site.Name, "error", err)
		}
	}
	batch := QueuedBatch{QueueLength: total, Data: make([]QueuedRecord, 0, len(recs))}
	look := s.db.LegacyLookup(r.Context())
	if err := look.Preload(recs); err != nil {
		return err
	}
	for _, rec := range recs {
		wire, err := toWire(rec, look)
		if err != nil {
			return err
		}
		batch.Data = append(batch.Data, QueuedRecord{SyncOutID: rec.SyncOutID, SyncRecord: wire})
	}
	s.answerPull(w, "queue", len(recs), batch)
	return nil
}

// answerPull sends a page of records a remote pulled from source ("central" or "queue"), counting them.
func (s *Server) answerPull(w http.ResponseWriter, source string, records int, batch any) {
	s.metrics.pulled.WithLabelValues(source).Add(float64(records))
	writeJSON(w, http.StatusOK, batch)
}

func decodeBody(r *http.Request, v any) error {
	body, err := requestBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		if bodyFailure(err) {
			return err
		}
		return badRequest("request body is not valid JSON: %v", err)
	}
	// Only the end of the body may follow the value: More() alone would let a stray "]" or "}" through.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if bodyFailure(err) {
			return err
		}
		return badRequest("request body holds more than one JSON value")
	}
	return nil
}

// bodyFailure tells a body that could not be read (too long, or not the gzip it claimed to be), which is
// answered as it is, from one that is not the JSON it should be.
func bodyFailure(err error) bool {
	var mbe *http.MaxBytesError
	var af *authFailure
	return errors.As(err, &mbe) || errors.As(err, &af)
}

func (s *Server) handleAcknowledge(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	var req AcknowledgeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.SyncIDs) > MaxPageLimit*2 {
		return badRequest("at most %d syncIDs a request", MaxPageLimit*2)
	}
	if _, err := s.db.Acknowledge(r.Context(), site.ID, req.SyncIDs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
	var batch QueuedBatch
	if err := decodeBody(r, &batch); err != nil {
		return err
	}
	if len(batch.Data) > MaxPageLimit {
		return badRequest("at most %d records a request", MaxPageLimit)
	}
	if !s.tryLockSite(site.ID, pushing) {
		return errSyncRunning
	}
	defer s.unlockSite(site.ID)
	records := make([]datafile.InRecord, 0, len(batch.Data))
	look := s.db.LegacyLookup(r.Context())
	for _, rec := range batch.Data {
		records = append(records, fromWire(rec.SyncOutID, rec.SyncRecord, look))
	}
	prepareInParallel(records)
	// queueLength counts the batch it comes with: what is left after it is what the site has still to send.
	remaining := max(batch.QueueLength-int64(len(batch.Data)), 0)
	pushed, err := s.db.ReceivePush(r.Context(), site.ID, records, remaining, batch.HandedOverStores)
	if err != nil {
		return err
	}
	rejections, result := pushed.Rejections, pushed.Integration
	resp := PushResponse{IntegrationStarted: true, HighWater: pushed.HighWater}
	resp.Rejected, resp.Parked = rejections, pushed.Parked
	if len(pushed.Parked) > 0 {
		s.log.Warn("pushed records parked: kept, and integrated once they can be ('msupply-sync sync parked')", "site", site.Name,
			"parked", len(pushed.Parked), "first_reason", pushed.Parked[0].Message)
	}
	if pushed.HandedOver > 0 {
		s.log.Info("stores handed over; their moves are complete", "site", site.Name, "stores", pushed.HandedOver)
	}
	s.metrics.pushed.Add(float64(len(records)))
	s.metrics.rejected.Add(float64(len(rejections)))
	s.metrics.integrated.Add(float64(result.Integrated))
	if len(rejections) > 0 {
		s.log.Warn("pushed records refused", "site", site.Name, "refused", len(rejections), "first_code", rejections[0].Code, "first_reason", rejections[0].Message)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// prepareInParallel decodes and validates pushed records on every core, before the write lock is taken:
// the transaction that writes them then holds the lock only for the writing.
func prepareInParallel(records []datafile.InRecord) {
	workers := min(runtime.GOMAXPROCS(0), len(records)/200)
	if workers < 2 {
		datafile.Prepare(records)
		return
	}
	var wg sync.WaitGroup
	per := (len(records) + workers - 1) / workers
	for from := 0; from < len(records); from += per {
		part := records[from:min(from+per, len(records))]
		wg.Go(func() { datafile.Prepare(part) })
	}
	wg.Wait()
}

// reportedSiteType reads the site type from the app a remote runs: mSupply Mobile and open-mSupply on
// Android are mobile sites, mSupply and open-mSupply desktops are standalone. Other clients, this one
// included, say nothing about it, and the type an administrator set stands.
func reportedSiteType(appName string) string {
	name := strings.ToLower(appName)
	switch {
	case strings.Contains(name, "android"), strings.Contains(name, "mobile"):
		return "mobile"
	case strings.Contains(name, "desktop"):
		return "standalone"
	}
	return ""
}

type metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	pulled       *prometheus.CounterVec
	pushed       prometheus.Counter
	rejected     prometheus.Counter
	integrated   prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry:     prometheus.NewRegistry(),
		requests:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "msupply_sync_requests_total", Help: "Sync API requests by endpoint and HTTP status."}, []string{"endpoint", "status"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "msupply_sync_auth_failures_total", Help: "Refused sync requests by v5 error code."}, []string{"code"}),
		pulled:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "msupply_sync_records_pulled_total", Help: "Records sent to remote sites, by source (central change log or site queue)."}, []string{"source"}),
		pushed:       prometheus.NewCounter(prometheus.CounterOpts{Name: "msupply_sync_records_pushed_total", Help: "Records pushed by remote sites."}),
		rejected:     prometheus.NewCounter(prometheus.CounterOpts{Name: "msupply_sync_records_rejected_total", Help: "Pushed records refused."}),
		integrated:   prometheus.NewCounter(prometheus.CounterOpts{Name: "msupply_sync_records_integrated_total", Help: "Pushed records integrated into the central datafile."}),
	}
	m.registry.MustRegister(m.requests, m.authFailures, m.pulled, m.pushed, m.rejected, m.integrated,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// siteCollector reports each site's sync state from the datafile when metrics are scraped, so the numbers
// are never stale and cost nothing between scrapes.
type siteCollector struct {
	db  SiteStatusStore
	log *slog.Logger
}

var (
	descSiteBlocked   = prometheus.NewDesc("msupply_sync_site_blocked", "1 when the site is blocked after failed logins.", []string{"site"}, nil)
	descSiteQueue     = prometheus.NewDesc("msupply_sync_site_queue_length", "Records queued on the central server for the site.", []string{"site"}, nil)
	descSiteUnsent    = prometheus.NewDesc("msupply_sync_site_unsent_records", "Records the site last said it still had to push.", []string{"site"}, nil)
	descSiteParked    = prometheus.NewDesc("msupply_sync_site_parked_records", "Records the site pushed that the central server holds back ('sync parked').", []string{"site"}, nil)
	descSiteLastSync  = prometheus.NewDesc("msupply_sync_site_last_sync_timestamp_seconds", "When the site last completed a sync cycle (Unix time; absent if never).", []string{"site"}, nil)
	descSiteContact   = prometheus.NewDesc("msupply_sync_site_last_contact_timestamp_seconds", "When the site last made an authenticated request, to the minute (Unix time; absent if never).", []string{"site"}, nil)
	descSiteTransfers = prometheus.NewDesc("msupply_sync_site_transfers_pending", "Transfers from or to the site's stores on their way between sites ('transfer list --pending').", []string{"site"}, nil)
	descBlockedSites  = prometheus.NewDesc("msupply_sync_blocked_sites", "How many sites are blocked.", nil, nil)
)

func (c *siteCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSiteBlocked, descSiteQueue, descSiteUnsent, descSiteParked, descSiteLastSync, descSiteContact, descSiteTransfers, descBlockedSites} {
		ch <- d
	}
}

func (c *siteCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sites, err := c.db.SiteSummaries(ctx)
	if err != nil {
		c.log.Error("read site metrics", "error", err)
		return
	}
	blocked := 0
	for _, s := range sites {
		b := 0.0
		if s.Blocked {
			b = 1
			blocked++
		}
		ch <- prometheus.MustNewConstMetric(descSiteBlocked, prometheus.GaugeValue, b, s.Name)
		ch <- prometheus.MustNewConstMetric(descSiteQueue, prometheus.GaugeValue, float64(s.Queued), s.Name)
		ch <- prometheus.MustNewConstMetric(descSiteUnsent, prometheus.GaugeValue, float64(s.Unsent), s.Name)
		ch <- prometheus.MustNewConstMetric(descSiteParked, prometheus.GaugeValue, float64(s.Parked), s.Name)
		ch <- prometheus.MustNewConstMetric(descSiteTransfers, prometheus.GaugeValue, float64(s.TransfersPending), s.Name)
		if s.LastSyncAt != nil {
			ch <- prometheus.MustNewConstMetric(descSiteLastSync, prometheus.GaugeValue, float64(s.LastSyncAt.Unix()), s.Name)
		}
		if s.LastContactAt != nil {
			ch <- prometheus.MustNewConstMetric(descSiteContact, prometheus.GaugeValue, float64(s.LastContactAt.Unix()), s.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(descBlockedSites, prometheus.GaugeValue, float64(blocked))
}
