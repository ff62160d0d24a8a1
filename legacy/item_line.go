package legacy

// item_line: store data, a batch of an item in a store. quantity is the packs there are, available those
// not yet allocated to an outgoing shipment, which only the site that sent it knows: kept as it came while
// it is not more than there are.
var itemLineTable = register(&translator{
	legacy: "item_line", ours: "stock_line",
	fields: []field{
		{"ID", "id", kText}, {"store_ID", "store_id", kText}, {"item_ID", "item_id", kText},
		{"batch", "batch", kText}, {"expiry_date", "expiry", kDate}, {"quantity", "quantity", kNumber},
	},
	defaults: Record{
		"hold": false, "location_ID": "", "pack_size": 1, "cost_price": 0, "sell_price": 0, "note": "", "name_ID": "",
		"barcodeID": "", "vvm_status_id": "", "total_volume": 0, "volume_per_pack": 0,
	},
	toLegacy: func(ours, out Record, _ Lookup) error {
		quantity, _ := ours["quantity"].(float64)
		if available, err := number(out["available"]); err != nil || out["available"] == nil || available > quantity {
			out["available"] = quantity
		}
		return nil
	},
	tidyExtra: func(ours, extra Record) {
		if extra["available"] == ours["quantity"] {
			delete(extra, "available")
		}
	},
})
