package legacy

// list_master: central data. open-mSupply reads a list without "inactive" (or with null) as inactive, so
// it is always sent.
var listMasterTable = register(&translator{
	legacy: "list_master", ours: "master_list",
	fields: []field{
		{"ID", "id", kText}, {"description", "name", kText}, {"code", "code", kText},
	},
	defaults: Record{"note": "", "inactive": false},
})

var listMasterLineTable = register(&translator{
	legacy: "list_master_line", ours: "master_list_line",
	fields: []field{
		{"ID", "id", kText}, {"item_master_ID", "master_list_id", kText}, {"item_ID", "item_id", kText},
	},
})

// list_master_name_join: which master lists a name sees; a store's items are those of the lists joined to
// the store's own name.
var listMasterNameJoinTable = register(&translator{
	legacy: "list_master_name_join", ours: "master_list_name_join",
	fields: []field{
		{"ID", "id", kText}, {"list_master_ID", "master_list_id", kText}, {"name_ID", "name_id", kText},
	},
})
