package legacy

// store: central data. open-mSupply takes a store in only with its name (name_ID), and counts as its own
// the stores whose sync_id_remote_site is its site.
var storeTable = register(&translator{
	legacy: "store", ours: "store",
	fields: []field{
		{"ID", "id", kText}, {"code", "code", kText}, {"name_ID", "name_id", kText}, {"sync_id_remote_site", "site_id", kInt},
	},
	defaults: Record{"logo": "", "store_mode": "store", "created_date": noDate, "disabled": false},
	// A store's name lives in its name record in legacy; a pending move has no legacy form.
	oursOnly: []string{"name", "moving_to_site_id"},
})
