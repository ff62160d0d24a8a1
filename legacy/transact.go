package legacy

import (
	"fmt"
	"time"
)

// transact: store data, an invoice. Only shipments out of a store (ci) and into one (si) are kept here;
// prescriptions, inventory adjustments, repacks and returns are not.
var transactTable = register(&translator{
	legacy: "transact", ours: "invoice",
	fields: []field{
		{"ID", "id", kText}, {"name_ID", "name_id", kText}, {"store_ID", "store_id", kText},
		{"their_ref", "their_ref", kText}, {"invoice_num", "invoice_number", kInt},
		{"linked_transaction_id", "linked_invoice_id", kText}, {"requisition_ID", "requisition_id", kText},
		// When the supplier invoice of a transfer was received and verified; open-mSupply reads them only as
		// times, and never requires them.
		{"om_delivered_datetime", "received_at", kDateTime}, {"om_verified_datetime", "verified_at", kDateTime},
	},
	defaults: Record{
		"user_ID": "", "hold": false, "comment": "", "prescriber_ID": "", "currency_ID": "", "currency_rate": 1,
		"goods_received_ID": "", "original_PO_ID": "", "nameInsuranceJoinID": "", "donor_default_id": "",
		"insuranceDiscountAmount": 0, "insuranceDiscountRate": 0,
		"confirm_date": noDate, "confirm_time": 0, "finalised_date": noDate, "finalised_time": 0, "mode": "store",
	},
	derived:    []string{"type", "status", "entry_date", "entry_time"},
	toLegacy:   transactOut,
	fromLegacy: transactIn,
	tidyExtra: func(ours, extra Record) {
		if extra["om_created_datetime"] == legacyDateTime(ours["created_at"]) {
			delete(extra, "om_created_datetime")
		}
		for _, k := range []string{"confirm_time", "finalised_time"} {
			if v, given := extra[k]; given {
				extra[k] = secondsSinceMidnight(v)
			}
		}
	},
})

var invoiceTypes = map[string]string{"customer_invoice": "ci", "supplier_invoice": "si"}
var invoiceStatuses = map[string]string{"new": "nw", "confirmed": "cn", "finalised": "fn"}

// omTypes are open-mSupply's finer invoice types that are kept here.
var omTypes = map[string]string{"OUTBOUND_SHIPMENT": "customer_invoice", "INBOUND_SHIPMENT": "supplier_invoice"}

// omStatus is our status of open-mSupply's finer one, which depends on the direction, as open-mSupply maps
// it to the legacy status it pushes beside it.
func omStatus(invoiceType, s string) (string, bool) {
	if invoiceType == "customer_invoice" {
		switch s {
		case "NEW", "ALLOCATED":
			return "new", true
		case "PICKED":
			return "confirmed", true
		case "SHIPPED", "DELIVERED", "DELIVERED_NO_STOCK", "RECEIVED", "VERIFIED", "CANCELLED":
			return "finalised", true
		}
		return "", false
	}
	switch s {
	case "NEW", "ALLOCATED", "PICKED", "SHIPPED", "DELIVERED", "DELIVERED_NO_STOCK":
		return "new", true
	case "RECEIVED":
		return "confirmed", true
	case "VERIFIED", "CANCELLED":
		return "finalised", true
	}
	return "", false
}

func transactOut(ours, out Record, _ Lookup) error {
	typ, _ := ours["type"].(string)
	status, _ := ours["status"].(string)
	out["type"] = invoiceTypes[typ]
	out["status"] = invoiceStatuses[status]
	// open-mSupply reads om_type and om_status over type and status: kept from what a site sent only while
	// they still say the same.
	if t, _ := out["om_type"].(string); t != "" && omTypes[t] != typ {
		delete(out, "om_type")
	}
	if s, _ := out["om_status"].(string); s != "" {
		if st, ok := omStatus(typ, s); !ok || st != status {
			delete(out, "om_status")
		}
	}
	created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(ours["created_at"]))
	if err != nil {
		return fmt.Errorf("invoice created_at %v: %w", ours["created_at"], err)
	}
	created = created.UTC()
	out["entry_date"] = created.Format(time.DateOnly)
	out["entry_time"] = created.Hour()*3600 + created.Minute()*60 + created.Second()
	out["om_created_datetime"] = keptOrLegacyDateTime(out["om_created_datetime"], ours["created_at"])
	return nil
}

func transactIn(in, ours Record, _ Lookup) error {
	var typ string
	if t, _ := in["om_type"].(string); t != "" {
		if typ = omTypes[t]; typ == "" {
			return fmt.Errorf("invoices of type %s are not kept here (only outbound and inbound shipments)", t)
		}
	} else {
		switch in["type"] {
		case "ci":
			typ = "customer_invoice"
			if in["mode"] == "dispensary" {
				return fmt.Errorf("prescriptions are not kept here (only outbound and inbound shipments)")
			}
		case "si":
			typ = "supplier_invoice"
		default:
			return fmt.Errorf("field type: invoices of type %v are not kept here (only ci and si)", in["type"])
		}
	}
	ours["type"] = typ
	if s, _ := in["om_status"].(string); s != "" {
		st, ok := omStatus(typ, s)
		if !ok {
			return fmt.Errorf("field om_status: %q is not a status of a %s", s, typ)
		}
		ours["status"] = st
	} else if s, given := in["status"]; given {
		// Lowercase, as open-mSupply reads them; "FN" is the one alias it takes.
		switch s {
		case "nw", "sg":
			ours["status"] = "new"
		case "cn":
			ours["status"] = "confirmed"
		case "fn", "FN":
			ours["status"] = "finalised"
		default:
			return fmt.Errorf("field status: %v is not a status kept here (nw, sg, cn or fn)", s)
		}
	}
	if created, ok := parseDateTime(in["om_created_datetime"]); ok {
		ours["created_at"] = created
		return nil
	}
	date, err := parseDate(in["entry_date"])
	if err != nil {
		return fmt.Errorf("field entry_date: %w", err)
	}
	if date != nil {
		secs := secondsSinceMidnight(in["entry_time"])
		ours["created_at"] = fmt.Sprintf("%sT%02d:%02d:%02dZ", date, secs/3600, secs/60%60, secs%60)
	}
	return nil
}
