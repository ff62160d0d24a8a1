package syncengine

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// open-mSupply remotes also sync with an open-mSupply central server ("v6"), at the URL the site answer
// gives as omSupplyCentralServerUrl. A client given no usable URL stops every cycle, so this server names
// itself and answers the three calls a cycle makes: nothing to pull, never integrating, and a push that
// central keeps. The tables that travel that way are open-mSupply's own (vaccinations, asset logs, ...);
// this server does not model them, so what is pushed is parked for an administrator, never dropped.

// V6Settings are the v5 credentials a v6 request carries in its body, in place of headers (with the app's
// name and version, and the server URL, which are not read).
type V6Settings struct {
	Username       string `json:"username"`
	PasswordSha256 string `json:"passwordSha256"`
	SiteUUID       string `json:"siteUuid"`
	SyncVersion    string `json:"syncVersion"`
}

// V6Request is the body of the three v6 calls; each uses its own part of it.
type V6Request struct {
	Settings V6Settings `json:"syncV5Settings"`
	Cursor   uint64     `json:"cursor"`
	Batch    *V6Batch   `json:"batch,omitempty"`
}

// V6Batch is a page of records pulled from or pushed to a v6 central server.
type V6Batch struct {
	EndCursor    uint64     `json:"end_cursor"`
	TotalRecords uint64     `json:"total_records"`
	Records      []V6Record `json:"records"`
	IsLastBatch  bool       `json:"is_last_batch"`
}

// V6Record is one record of a v6 batch.
type V6Record struct {
	Cursor uint64     `json:"cursor"`
	Record SyncRecord `json:"record"`
}

type v6PushResult struct {
	RecordsPushed uint64 `json:"records_pushed"`
}

type v6SiteStatus struct {
	IsIntegrating bool `json:"is_integrating"`
}

// v6Handler answers a v6 call: it reads the body, authenticates the credentials in it exactly as a v5
// request's headers are, and writes {"data": ...} or {"error": ...}. open-mSupply reads the body whatever
// the status, so an error is told in the body; the status is the v5 one all the same, for anyone else.
func (s *Server) v6Handler(endpoint string, h func(*http.Request, V6Request, authenticatedSite) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r.Body = http.MaxBytesReader(rec, r.Body, MaxRequestBody)
		var req V6Request
		var site authenticatedSite
		err := decodeBody(r, &req)
		if err == nil {
			site, err = s.auth.authenticate(v6AsV5(r, req.Settings))
		}
		var data any
		if err == nil {
			data, err = h(r, req, site)
		}
		if err != nil {
			s.writeFailure(rec, r, endpoint, site, err, v6ErrorBody)
		} else {
			writeJSON(rec, http.StatusOK, map[string]any{"data": data})
		}
		s.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(rec.status)).Inc()
		s.log.Debug("request", "endpoint", endpoint, "site", site.Name, "status", rec.status, "duration", time.Since(start))
	}
}

// v6AsV5 is r with the credentials of a v6 body where a v5 request carries them, so that one
// authentication, with its blocking and back-off, serves both.
func v6AsV5(r *http.Request, cred V6Settings) *http.Request {
	r5 := r.Clone(r.Context())
	r5.Header = http.Header{}
	r5.SetBasicAuth(cred.Username, cred.PasswordSha256)
	r5.Header.Set(HeaderHardwareID, cred.SiteUUID)
	version := strings.TrimSpace(cred.SyncVersion)
	if version == "" {
		version = strconv.Itoa(APIVersion) // a v6 body need not say; the v6 version is its own matter
	}
	r5.Header.Set(HeaderVersion, version)
	return r5
}

// v6ErrorBody is an error as open-mSupply reads a v5 server's error from a v6 call: {"error":
// {"legacyServerError": {code, message, data}}}.
func v6ErrorBody(e APIError) any {
	return map[string]any{"error": map[string]any{"legacyServerError": e}}
}

func (s *Server) handleV6Pull(r *http.Request, req V6Request, site authenticatedSite) (any, error) {
	// Nothing comes from here: every record this server sends goes by v5. The cursor stays where the
	// client has it.
	return V6Batch{EndCursor: req.Cursor, Records: []V6Record{}, IsLastBatch: true}, nil
}

func (s *Server) handleV6SiteStatus(r *http.Request, req V6Request, site authenticatedSite) (any, error) {
	return v6SiteStatus{IsIntegrating: false}, nil
}

func (s *Server) handleV6Push(r *http.Request, req V6Request, site authenticatedSite) (any, error) {
	if req.Batch == nil {
		return nil, badRequest("a v6 push needs a batch")
	}
	if len(req.Batch.Records) > MaxPageLimit {
		return nil, badRequest("at most %d records a request", MaxPageLimit)
	}
	if !s.tryLockSite(site.ID, pushing) {
		return nil, errSyncRunning
	}
	defer s.unlockSite(site.ID)
	records := make([]datafile.InRecord, 0, len(req.Batch.Records))
	for _, rec := range req.Batch.Records {
		// Kept as sent: these are open-mSupply's own tables, which have no form of ours.
		records = append(records, datafile.InRecord{Table: rec.Record.TableName, RecordID: rec.Record.RecordID,
			Action: strings.ToLower(rec.Record.Action), Data: rec.Record.RecordData})
	}
	reason := "sent to the open-mSupply central server (sync v6), which this server is not"
	parked, err := s.db.ParkRecords(r.Context(), site.ID, records, reason)
	if err != nil {
		return nil, err
	}
	if parked > 0 {
		s.log.Warn("v6 records parked: this server does not integrate open-mSupply's own tables ('msupply-sync sync parked')",
			"site", site.Name, "parked", parked)
	}
	s.metrics.pushed.Add(float64(len(records)))
	return v6PushResult{RecordsPushed: uint64(len(req.Batch.Records))}, nil
}

// publicURL is the URL open-mSupply remotes are given for the v6 calls: the configured one, or the
// scheme and host the request came in by. It ends in a slash, as the client joins "central/sync/" to it.
func (s *Server) publicURL(r *http.Request) string {
	if s.publicBase != "" {
		return s.publicBase
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/", scheme, r.Host)
}
