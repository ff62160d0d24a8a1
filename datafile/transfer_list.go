package datafile

import (
	"context"
	"database/sql"
)

// Transfer is one transfer as this datafile knows it: the document a store made out to another store's
// name, and the document made from it in that store, once it is here.
type Transfer struct {
	Kind            string  `json:"kind"` // shipment or order
	OutboundID      string  `json:"outbound_id"`
	OutboundStoreID string  `json:"outbound_store_id"`
	OutboundStore   string  `json:"outbound_store"` // its code
	OutboundStatus  string  `json:"outbound_status"`
	InboundID       *string `json:"inbound_id"` // null while none is here
	InboundStoreID  string  `json:"inbound_store_id"`
	InboundStore    string  `json:"inbound_store"`
	InboundStatus   *string `json:"inbound_status"`
	// WaitingFor says what the transfer waits for: "sender" (the outbound is not sent yet),
	// "receiving_site" (sent, and its inbound document has not reached this datafile: it is made on the
	// site of the receiving store), "sending_site" (the outbound does not yet name its inbound: the site
	// of the sending store has not taken it in yet), "receiver" (the receiving store has yet to finish
	// it), or "" when it is done.
	WaitingFor string `json:"waiting_for"`
}

// Pending reports whether a transfer waits on sync or on the other site: it is on its way.
func (t Transfer) Pending() bool {
	return t.WaitingFor == "receiving_site" || t.WaitingFor == "sending_site"
}

// transfersQuery lists every transfer: customer invoices and requests made out to another store's name,
// each with the supplier invoice or response made from it.
const transfersQuery = `
SELECT 'shipment', o.id, o.store_id, o.status, i.id, n.store_id, i.status, o.linked_invoice_id,
	o.status IN ('confirmed', 'finalised'), coalesce(i.status = 'finalised', 0)
FROM invoice o JOIN name n ON n.id = o.name_id
LEFT JOIN invoice i ON i.linked_invoice_id = o.id AND i.type = 'supplier_invoice'
WHERE o.type = 'customer_invoice' AND n.store_id IS NOT NULL AND n.store_id <> o.store_id
UNION ALL
SELECT 'order', o.id, o.store_id, o.status, i.id, n.store_id, i.status, o.linked_requisition_id,
	o.status IN ('sent', 'finalised'), coalesce(i.status = 'finalised', 0)
FROM requisition o JOIN name n ON n.id = o.name_id
LEFT JOIN requisition i ON i.linked_requisition_id = o.id AND i.type = 'response'
WHERE o.type = 'request' AND n.store_id IS NOT NULL AND n.store_id <> o.store_id`

// Transfers lists the transfers this datafile holds, from or to the store storeRef names when it is not
// empty, and only those on their way when pending.
func (db *DB) Transfers(ctx context.Context, storeRef string, pending bool) ([]Transfer, error) {
	q := db.conn()
	var storeID string
	if storeRef != "" {
		st, err := findStore(ctx, q, storeRef)
		if err != nil {
			return nil, err
		}
		storeID = st.ID
	}
	codes := map[string]string{}
	err := queryEach(ctx, q, func(rows *sql.Rows) error {
		var id, code string
		err := rows.Scan(&id, &code)
		codes[id] = code
		return err
	}, `SELECT id, code FROM store`)
	if err != nil {
		return nil, err
	}
	out := []Transfer{}
	err = queryEach(ctx, q, func(rows *sql.Rows) error {
		var t Transfer
		var outboundLink string
		var sent, finished bool
		if err := rows.Scan(&t.Kind, &t.OutboundID, &t.OutboundStoreID, &t.OutboundStatus, &t.InboundID, &t.InboundStoreID,
			&t.InboundStatus, &outboundLink, &sent, &finished); err != nil {
			return err
		}
		t.OutboundStore, t.InboundStore = codes[t.OutboundStoreID], codes[t.InboundStoreID]
		switch {
		case !sent && t.InboundID == nil:
			t.WaitingFor = "sender"
		case t.InboundID == nil:
			t.WaitingFor = "receiving_site"
		case outboundLink != *t.InboundID:
			t.WaitingFor = "sending_site"
		case !finished:
			t.WaitingFor = "receiver"
		}
		if storeID != "" && t.OutboundStoreID != storeID && t.InboundStoreID != storeID || pending && !t.Pending() {
			return nil
		}
		out = append(out, t)
		return nil
	}, `SELECT * FROM (`+transfersQuery+`) ORDER BY 1, 3, 2`)
	return out, err
}

// PendingTransfers counts the transfers on their way.
func (db *DB) PendingTransfers(ctx context.Context) (int, error) {
	ts, err := db.Transfers(ctx, "", true)
	return len(ts), err
}

// PendingTransfersBySite counts, for each site, the transfers on their way from or to a store active there.
func (db *DB) PendingTransfersBySite(ctx context.Context) (map[int64]int, error) {
	ts, err := db.Transfers(ctx, "", true)
	if err != nil || len(ts) == 0 {
		return map[int64]int{}, err
	}
	siteOf := map[string]int64{}
	err = queryEach(ctx, db.conn(), func(rows *sql.Rows) error {
		var id string
		var site int64
		err := rows.Scan(&id, &site)
		siteOf[id] = site
		return err
	}, `SELECT id, site_id FROM store`)
	out := map[int64]int{}
	for _, t := range ts {
		from, to := siteOf[t.OutboundStoreID], siteOf[t.InboundStoreID]
		out[from]++
		if to != from {
			out[to]++
		}
	}
	return out, err
}
