package legacy

import "fmt"

// requisition_line: store data, an item a requisition asks for, in the requisition's store. Quantities are
// in units, not packs. Its itemName is made from the item.
var requisitionLineTable = register(&translator{
	legacy: "requisition_line", ours: "requisition_line",
	fields: []field{
		{"ID", "id", kText}, {"requisition_ID", "requisition_id", kText}, {"item_ID", "item_id", kText},
		{"Cust_stock_order", "requested_quantity", kNumber}, {"actualQuan", "supplied_quantity", kNumber},
	},
	defaults: Record{
		"suggested_quantity": 0, "stock_on_hand": 0, "daily_usage": 0, "approved_quantity": 0,
		"authoriser_comment": "", "comment": "", "om_snapshot_datetime": nil, "Cust_prev_stock_balance": 0,
		"Cust_stock_received": 0, "Cust_stock_issued": 0, "stockLosses": 0, "stockAdditions": 0,
		"stockExpiring": 0, "days_out_or_new_demand": 0, "optionID": "", "Cust_loss_adjust": 0,
	},
	// Legacy finds a line's store through its requisition; this project keeps it on the line as well.
	oursOnly: []string{"store_id"},
	derived:  []string{"itemName"},
	toLegacy: func(ours, out Record, look Lookup) error {
		item, _ := ours["item_id"].(string)
		name, err := look.ItemName(item)
		if err != nil {
			return fmt.Errorf("the name of item %s: %w", item, err)
		}
		out["itemName"] = name
		return nil
	},
	fromLegacy: func(_, ours Record, look Lookup) error {
		if _, given := ours["store_id"]; given {
			return nil
		}
		requisition, _ := ours["requisition_id"].(string)
		store, err := look.RequisitionStore(requisition)
		if err != nil {
			return err
		}
		if store != "" {
			ours["store_id"] = store
		}
		return nil
	},
})
