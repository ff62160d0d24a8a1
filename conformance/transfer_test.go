package conformance

import (
	"encoding/json"
	"testing"
	"time"
)

// storeOf reads a store's id and the id of the name that stands for it from 'store list --output json'.
func storeOf(t *testing.T, c *central, code string) (id, nameID string) {
	t.Helper()
	var stores []struct {
		ID     string `json:"id"`
		Code   string `json:"code"`
		NameID string `json:"name_id"`
	}
	if err := json.Unmarshal([]byte(c.cli("", "store", "list", "--output", "json")), &stores); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		if s.Code == code {
			return s.ID, s.NameID
		}
	}
	t.Fatalf("no store %s", code)
	return "", ""
}

// TestOpenMSupplyTransfers: a warehouse on central ships to, and answers an order of, a store on an
// open-mSupply site. The site gets the shipment in its queue in shapes it reads, makes its own inbound
// shipment as its transfer processor does and pushes it; central links its shipment to it, makes no receipt
// of its own, and answers the site's order with a response the site reads.
func TestOpenMSupplyTransfers(t *testing.T) {
	c := startCentral(t)
	om := newOMClient(t, c.url, "North", "north-secret-pass", "om-device-north")
	c.cli("", "store", "add", "--code", "WH", "--name", "Warehouse", "--auth-code", authCode)
	warehouse, warehouseName := storeOf(t, c, "WH")
	north, northName := storeOf(t, c, "N1")
	c.cli("", "record", "put", "name_store_join", `[{"name_id":"`+northName+`","store_id":"`+warehouse+`","is_customer":true},`+
		`{"name_id":"`+warehouseName+`","store_id":"`+north+`","is_supplier":true}]`)

	var initialised struct {
		QueueLength uint64 `json:"queueLength"`
	}
	om.call("POST", "/sync/v5/initialise", map[string]any{}, &initialised)
	om.waitIdle(50*time.Millisecond, 100)
	readQueue(t, om, 500)

	// The warehouse ships: North's queue brings the shipment and its line, made out to N1's name.
	c.cli("", "record", "put", "invoice", `{"id":"ci-wh-1","store_id":"`+warehouse+`","name_id":"`+northName+`","type":"customer_invoice","status":"finalised"}`)
	c.cli("", "record", "put", "invoice_line", `{"id":"ci-wh-1-amx","invoice_id":"ci-wh-1","item_id":"item-amx","batch":"B9","pack_size":10,"quantity":3,"sell_price":12.5}`)
	queued := readQueue(t, om, 500)
	ci, line := queued["transact ci-wh-1"], queued["trans_line ci-wh-1-amx"]
	must(t, ci["name_ID"] == northName && ci["store_ID"] == warehouse && ci["type"] == "ci" && ci["status"] == "fn",
		"the shipment as North gets it: %v", ci)
	must(t, line["pack_size"] == 10.0 && line["sell_price"] == 12.5 && line["type"] == "stock_out", "its line: %v", line)
	got := c.cli("", "record", "list", "invoice", "--where", "linked_invoice_id=ci-wh-1", "--output", "json")
	must(t, got == "[]\n", "central made a receipt for a store on North: %s", got)

	// open-mSupply's processor makes the inbound shipment, received, and pushes it.
	inbound := map[string]any{
		"ID": "om-si-1", "name_ID": warehouseName, "store_ID": north, "invoice_num": 7.0, "type": "si", "status": "cn",
		"om_type": "INBOUND_SHIPMENT", "om_status": "RECEIVED", "their_ref": "From invoice number 1", "comment": nil,
		"linked_transaction_id": "ci-wh-1", "requisition_ID": nil, "entry_date": "2026-11-05T00:00:00", "entry_time": "09:30:15",
		"currency_rate": 1.0, "mode": "store", "hold": false, "om_created_datetime": "2026-11-05T09:30:15",
	}
	inboundLine := map[string]any{
		"ID": "om-si-1-amx", "transaction_ID": "om-si-1", "item_ID": "item-amx", "item_name": "Amoxicillin 250mg",
		"batch": "B9", "expiry_date": nil, "pack_size": 10.0, "quantity": 3.0, "type": "stock_in",
		"cost_price": 12.5, "sell_price": 0.0, "note": nil,
	}
	// And an order of its own to the warehouse, sent, as open-mSupply pushes one.
	request := map[string]any{
		"ID": "om-req-1", "serial_number": 3, "name_ID": warehouseName, "store_ID": north, "type": "request", "status": "fn",
		"user_ID": nil, "date_entered": "2026-11-05T00:00:00", "lastModifiedAt": 1762335015, "requester_reference": nil,
		"linked_requisition_id": nil, "thresholdMOS": 3.0, "daysToSupply": 90, "comment": nil, "authorisationStatus": nil,
		"orderType": nil, "periodID": nil, "programID": nil, "om_created_datetime": "2026-11-05T09:00:00",
		"om_sent_datetime": "2026-11-05T09:30:15", "om_status": "SENT", "om_max_months_of_stock": 3.0,
	}
	requestLine := map[string]any{
		"ID": "om-req-1-par", "requisition_ID": "om-req-1", "item_ID": "item-par", "itemName": "Paracetamol 500mg",
		"Cust_stock_order": 200.0, "suggested_quantity": 180.0, "actualQuan": 0.0, "stock_on_hand": 20.0, "daily_usage": 1.5,
		"approved_quantity": 0.0, "authoriser_comment": nil, "comment": nil, "om_snapshot_datetime": nil,
		"Cust_prev_stock_balance": 20.0, "Cust_stock_received": 0.0, "Cust_stock_issued": 0.0, "stockLosses": 0.0,
		"stockAdditions": 0.0, "stockExpiring": 0.0, "days_out_or_new_demand": 0.0, "optionID": nil, "Cust_loss_adjust": 0.0,
	}
	batch := []map[string]any{}
	for i, r := range []struct {
		table string
		rec   map[string]any
	}{{"transact", inbound}, {"trans_line", inboundLine}, {"requisition", request}, {"requisition_line", requestLine}} {
		batch = append(batch, map[string]any{"syncOutId": itoa(uint64(100 + i)), "tableName": r.table, "recordId": r.rec["ID"], "action": "Update", "recordData": r.rec})
	}
	var answer struct {
		IntegrationStarted bool `json:"integrationStarted"`
	}
	om.call("POST", "/sync/v5/queued_records", map[string]any{"queueLength": len(batch), "data": batch}, &answer)
	om.call("POST", "/sync/v5/queued_records", map[string]any{"queueLength": 0, "data": []any{}}, &answer)
	om.waitIdle(50*time.Millisecond, 30)

	var shipment map[string]any
	if err := json.Unmarshal([]byte(c.cli("", "record", "get", "invoice", "ci-wh-1", "--output", "json")), &shipment); err != nil {
		t.Fatal(err)
	}
	must(t, shipment["linked_invoice_id"] == "om-si-1" && shipment["received_at"] != nil && shipment["verified_at"] == nil,
		"the warehouse's shipment after North received it: %v", shipment)
	receipts := c.cli("", "record", "list", "invoice", "--where", "linked_invoice_id=ci-wh-1", "--output", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(receipts), &list); err != nil || len(list) != 1 || list[0]["id"] != "om-si-1" {
		t.Fatalf("receipts of the shipment on central: %s", receipts)
	}

	// The order: central makes the warehouse's response, which North reads, with the order's line.
	queued = readQueue(t, om, 500)
	var response, responseLine map[string]any
	for key, rec := range queued {
		switch {
		case len(key) > 12 && key[:12] == "requisition " && rec["type"] == "response":
			response = rec
		case len(key) > 17 && key[:17] == "requisition_line ":
			responseLine = rec
		}
	}
	must(t, response != nil && response["linked_requisition_id"] == "om-req-1" && response["store_ID"] == warehouse &&
		response["name_ID"] == northName && response["status"] == "sg" && response["om_status"] == "NEW",
		"the response North gets: %v (queue %v)", response, keys(queued))
	must(t, responseLine != nil && responseLine["Cust_stock_order"] == 200.0 && responseLine["actualQuan"] == 0.0 &&
		responseLine["requisition_ID"] == response["ID"], "the response's line: %v", responseLine)
	must(t, queued["transact ci-wh-1"]["linked_transaction_id"] == "om-si-1", "North is sent the shipment linked to its receipt: %v", queued["transact ci-wh-1"])
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
