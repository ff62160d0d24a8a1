package legacy

import (
	"fmt"
	"time"
)

// requisition: store data, an internal order: a store's request to the store that supplies it, and that
// store's response. Imprest and stock history requisitions, and mSupply's supply and report ones, are not
// kept here.
var requisitionTable = register(&translator{
	legacy: "requisition", ours: "requisition",
	fields: []field{
		{"ID", "id", kText}, {"store_ID", "store_id", kText}, {"name_ID", "name_id", kText},
		{"serial_number", "requisition_number", kInt}, {"requester_reference", "their_ref", kText},
		{"linked_requisition_id", "linked_requisition_id", kText},
	},
	defaults: Record{
		"user_ID": "", "lastModifiedAt": 0, "thresholdMOS": 0, "daysToSupply": 0, "comment": "",
		"authorisationStatus": "", "orderType": "", "periodID": "", "programID": "",
	},
	derived:    []string{"type", "status", "om_status", "date_entered"},
	toLegacy:   requisitionOut,
	fromLegacy: requisitionIn,
	tidyExtra: func(ours, extra Record) {
		if extra["om_created_datetime"] == legacyDateTime(ours["created_at"]) {
			delete(extra, "om_created_datetime")
		}
	},
})

// requisitionStatusesOut are the legacy status and open-mSupply's status of ours, by type. Legacy writes a
// sent request and a finalised one alike ("fn"); om_status, read whenever om_created_datetime is set, keeps
// them apart.
var requisitionStatusesOut = map[string]map[string][2]string{
	"request": {
		"draft": {"sg", "DRAFT"}, "sent": {"fn", "SENT"}, "finalised": {"fn", "FINALISED"},
	},
	"response": {
		"new": {"sg", "NEW"}, "finalised": {"fn", "FINALISED"},
	},
}

// requisitionStatusesIn are our statuses of the legacy ones, by type, as open-mSupply reads a requisition
// without om_ fields.
var requisitionStatusesIn = map[string]map[string]string{
	"request":  {"sg": "draft", "nw": "draft", "cn": "sent", "fn": "sent"},
	"response": {"sg": "new", "cn": "new", "nw": "new", "fn": "finalised"},
}

// requisitionOMStatusesIn are our statuses of open-mSupply's, by type. open-mSupply has no new request, and
// makes no response draft or sent.
var requisitionOMStatusesIn = map[string]map[string]string{
	"request":  {"DRAFT": "draft", "NEW": "draft", "SENT": "sent", "FINALISED": "finalised"},
	"response": {"NEW": "new", "FINALISED": "finalised"},
}

// openingStatus is the status a requisition of each type starts in.
var openingStatus = map[string]string{"request": "draft", "response": "new"}

// omRequisitionStatuses are the values of om_status open-mSupply reads at all; any other fails the record.
var omRequisitionStatuses = map[string]bool{"DRAFT": true, "NEW": true, "SENT": true, "FINALISED": true}

func requisitionOut(ours, out Record, _ Lookup) error {
	typ, _ := ours["type"].(string)
	status, _ := ours["status"].(string)
	pair, ok := requisitionStatusesOut[typ][status]
	if !ok {
		// A status its type does not have (a new request) goes as the type's first, so that one such record
		// does not hold up every record queued behind it.
		pair = requisitionStatusesOut[typ][openingStatus[typ]]
	}
	out["type"], out["status"], out["om_status"] = typ, pair[0], pair[1]
	created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(ours["created_at"]))
	if err != nil {
		return fmt.Errorf("requisition created_at %v: %w", ours["created_at"], err)
	}
	out["date_entered"] = created.UTC().Format(time.DateOnly)
	out["om_created_datetime"] = keptOrLegacyDateTime(out["om_created_datetime"], ours["created_at"])
	return nil
}

func requisitionIn(in, ours Record, _ Lookup) error {
	typ, _ := in["type"].(string)
	if typ != "request" && typ != "response" {
		return fmt.Errorf("field type: requisitions of type %v are not kept here (only request and response)", in["type"])
	}
	ours["type"] = typ
	legacyStatus, err := text(in["status"])
	if err != nil {
		return fmt.Errorf("field status: %w", err)
	}
	byStatus, known := requisitionStatusesIn[typ][legacyStatus]
	omStatus, err := text(in["om_status"])
	if err != nil {
		return fmt.Errorf("field om_status: %w", err)
	}
	if omStatus != "" && !omRequisitionStatuses[omStatus] {
		return fmt.Errorf("field om_status: %q is not a status (DRAFT, NEW, SENT or FINALISED)", omStatus)
	}
	// open-mSupply drops every om_ key of a response whose om_status says otherwise than its status: mSupply
	// copies a request's om_ fields into the response it makes of it.
	useOM := in["om_created_datetime"] != nil && in["om_created_datetime"] != ""
	if st, ok := requisitionOMStatusesIn[typ][omStatus]; typ == "response" && omStatus != "" && (!ok || !known || st != byStatus) {
		useOM = false
	}
	if useOM {
		created, err := optionalDateTime(in["om_created_datetime"])
		if err != nil {
			return fmt.Errorf("field om_created_datetime: %w", err)
		}
		if omStatus == "" {
			return fmt.Errorf("field om_status: required when om_created_datetime is set")
		}
		st, ok := requisitionOMStatusesIn[typ][omStatus]
		if !ok {
			return fmt.Errorf("field om_status: %q is not a status of a %s", omStatus, typ)
		}
		ours["status"], ours["created_at"] = st, created
		return nil
	}
	if !known {
		return fmt.Errorf("field status: %v is not a status kept here (sg, cn, fn or nw)", in["status"])
	}
	ours["status"] = byStatus
	date, err := parseDate(in["date_entered"])
	if err != nil {
		return fmt.Errorf("field date_entered: %w", err)
	}
	if date != nil {
		ours["created_at"] = fmt.Sprintf("%sT00:00:00Z", date)
	}
	return nil
}
