package legacy

import "fmt"

// trans_line: store data, a line of an invoice, in the invoice's store. Its item_name and its direction
// (stock out of a customer invoice, into a supplier invoice) are made from the item and the invoice.
var transLineTable = register(&translator{
	legacy: "trans_line", ours: "invoice_line",
	fields: []field{
		{"ID", "id", kText}, {"transaction_ID", "invoice_id", kText}, {"item_ID", "item_id", kText},
		{"batch", "batch", kText}, {"expiry_date", "expiry", kDate}, {"quantity", "quantity", kNumber},
		{"pack_size", "pack_size", kNumber}, {"cost_price", "cost_price", kNumber}, {"sell_price", "sell_price", kNumber},
	},
	defaults: Record{
		"item_line_ID": "", "location_ID": "", "note": "",
		"optionID": "", "linked_transact_id": "", "donor_id": "", "vaccine_vial_monitor_status_ID": "",
		"volume_per_pack": 0,
	},
	// Legacy finds a line's store through its invoice; this project keeps it on the line as well.
	oursOnly: []string{"store_id"},
	derived:  []string{"item_name", "type"},
	toLegacy: func(ours, out Record, look Lookup) error {
		item, _ := ours["item_id"].(string)
		name, err := look.ItemName(item)
		if err != nil {
			return fmt.Errorf("the name of item %s: %w", item, err)
		}
		out["item_name"] = name
		invoice, _ := ours["invoice_id"].(string)
		typ, err := look.InvoiceType(invoice)
		if err != nil {
			return fmt.Errorf("the type of invoice %s: %w", invoice, err)
		}
		out["type"] = "stock_in"
		if typ == "customer_invoice" {
			out["type"] = "stock_out"
		}
		return nil
	},
	fromLegacy: func(in, ours Record, look Lookup) error {
		switch in["type"] {
		case nil, "stock_in", "stock_out":
		default:
			return fmt.Errorf("field type: invoice lines of type %v are not kept here (only stock_in and stock_out)", in["type"])
		}
		if _, given := ours["store_id"]; given {
			return nil
		}
		invoice, _ := ours["invoice_id"].(string)
		store, err := look.InvoiceStore(invoice)
		if err != nil {
			return err
		}
		if store != "" {
			ours["store_id"] = store
		}
		return nil
	},
})
