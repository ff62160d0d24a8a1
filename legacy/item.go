package legacy

// item: central data. open-mSupply needs every key below; unit_ID may be "".
var itemTable = register(&translator{
	legacy: "item", ours: "item",
	fields: []field{
		{"ID", "id", kText}, {"item_name", "name", kText}, {"code", "code", kText}, {"unit_ID", "unit_id", kRef},
	},
	defaults: Record{
		"type_of": "general", "default_pack_size": 1, "is_vaccine": false, "VEN_category": "", "strength": "",
		"doses": 0, "category_ID": "", "restricted_location_type_ID": "", "volume_per_pack": 0, "universalcodes_code": "",
	},
	// The unit as free text, and whether the item is in use, have no legacy key.
	oursOnly: []string{"unit", "is_active"},
})
