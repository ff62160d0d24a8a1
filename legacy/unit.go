package legacy

// unit: central data, what an item is counted in.
var unitTable = register(&translator{
	legacy: "unit", ours: "unit",
	fields: []field{
		{"ID", "id", kText}, {"units", "name", kText}, {"comment", "comment", kText}, {"order_number", "order_number", kInt},
	},
})
