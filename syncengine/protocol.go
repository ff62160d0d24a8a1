// Package syncengine moves records between a central server and remote sites over the mSupply sync API v5:
// the protocol types, the central server's HTTP handler, the remote's client and its sync cycle.
package syncengine

import (
	"encoding/json"
	"fmt"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// API paths of the v5 protocol.
const (
	PathSite                = "/sync/v5/site"
	PathSiteStatus          = "/sync/v5/site_status"
	PathInitialise          = "/sync/v5/initialise"
	PathCentralRecords      = "/sync/v5/central_records"
	PathQueuedRecords       = "/sync/v5/queued_records"
	PathAcknowledgedRecords = "/sync/v5/acknowledged_records"
)

// API paths of the three calls open-mSupply makes to an open-mSupply central server (v6.go).
const (
	PathV6Pull       = "/central/sync/pull"
	PathV6Push       = "/central/sync/push"
	PathV6SiteStatus = "/central/sync/site_status"
)

// Headers every request carries.
const (
	HeaderHardwareID = "msupply-site-uuid"
	HeaderAppName    = "app-name"
	HeaderAppVersion = "app-version"
	HeaderVersion    = "version"
)

// The sync API versions this server accepts: open-mSupply's v5 client sends 14; the window leaves room for
// the clients just before and after it.
const (
	APIVersion    = 14
	MinAPIVersion = 12
	MaxAPIVersion = 16
	APIMajor      = 5
)

// Error codes of the v5 protocol, and this server's own for malformed requests.
const (
	CodeSiteNameNotFound      = "site_name_not_found"
	CodeSiteIncorrectPassword = "site_incorrect_password"
	CodeSiteIncorrectHardware = "site_incorrect_hardware_id"
	CodeSiteHasNoStore        = "site_has_no_store"
	CodeSiteAuthTimeout       = "site_auth_timeout"
	// CodeTooManyFailedLogins (429, this server's own) refuses an address after many failed logins that
	// did not come from a site's own device; data.retryAfterSeconds says how long to wait.
	CodeTooManyFailedLogins    = "too_many_failed_logins"
	CodeAPIVersionIncompatible = "api_version_incompatible"
	CodeSyncIsRunning          = "sync_is_running"
	CodeInvalidRequest         = "invalid_request"
	CodeRequestTooLarge        = "request_too_large"
	// CodeUnsupportedEncoding (415) refuses a request body in a Content-Encoding other than gzip.
	CodeUnsupportedEncoding = "unsupported_encoding"
	CodeInternal            = "internal_error"
	CodeNotFound            = "not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
)

// SyncRecord is the part common to every record on the wire.
type SyncRecord struct {
	TableName  string          `json:"tableName"`
	RecordID   string          `json:"recordId"`
	Action     string          `json:"action"`
	RecordData json.RawMessage `json:"recordData,omitempty"`
}

// CentralRecord is a master-data record read by cursor.
type CentralRecord struct {
	ID int64 `json:"ID"`
	SyncRecord
}

// CentralBatch answers GET central_records.
type CentralBatch struct {
	MaxCursor int64           `json:"maxCursor"`
	Data      []CentralRecord `json:"data"`
}

// QueuedRecord is a record of a site's queue, or one a remote pushes.
type QueuedRecord struct {
	SyncOutID string `json:"syncOutId"`
	SyncRecord
}

// QueuedBatch answers GET queued_records, and is the body of POST queued_records.
type QueuedBatch struct {
	QueueLength int64          `json:"queueLength"`
	Data        []QueuedRecord `json:"data"`
	// HandedOverStores is this project's addition to a push: the stores moving away from the pushing site
	// that it hands over with this batch, having sent every change it made for them.
	HandedOverStores []string `json:"handedOverStores,omitempty"`
}

// PushResponse answers POST queued_records. Rejected and HighWater are this server's additions, which v5
// clients ignore.
type PushResponse struct {
	IntegrationStarted bool        `json:"integrationStarted"`
	Rejected           []Rejection `json:"rejected,omitempty"`
	// HighWater is the highest sequence of the pushing datafile's syncOutIds integrated so far.
	HighWater int64 `json:"highWater,omitempty"`
	// Parked are records of the batch that central keeps without integrating them yet, with the reason.
	Parked []Rejection `json:"parked,omitempty"`
}

// Rejection says why a pushed record was refused or parked; the datafile decides it.
type Rejection = datafile.Rejection

// AcknowledgeRequest is the body of POST acknowledged_records.
type AcknowledgeRequest struct {
	SyncIDs []string `json:"syncIDs"`
}

// InitialiseResponse answers POST initialise.
type InitialiseResponse struct {
	QueueLength int64 `json:"queueLength"`
}

// SiteInfo answers GET site.
type SiteInfo struct {
	ID                       string `json:"id"`
	SiteID                   int64  `json:"siteId"`
	Code                     string `json:"code"`
	Name                     string `json:"name"`
	InitialisationStatus     string `json:"initialisationStatus"`
	IsOmSupplyCentralServer  bool   `json:"isOmSupplyCentralServer"`
	OmSupplyCentralServerURL string `json:"omSupplyCentralServerUrl"`
	MSupplyCentralSiteID     int64  `json:"mSupplyCentralSiteId"`
	QueueLength              int64  `json:"queueLength"`
	// HasStore is this server's own addition, which v5 clients ignore, as they ignore a push's rejected:
	// whether the site has a store at all, so that a connection check can say that a site without one
	// has nothing to sync. Other servers leave it out.
	HasStore *bool `json:"hasStore,omitempty"`
}

// SiteStatus answers GET site_status.
type SiteStatus struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Data    *string `json:"data"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error APIError `json:"error"`
}

// APIError is an error the server reported.
type APIError struct {
	Status  int             `json:"-"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server refused: %s (%s)", e.Message, e.Code)
}
