package legacy

// currency: central data. An invoice with no currency_ID is in the home one, which must exist.
var currencyTable = register(&translator{
	legacy: "currency", ours: "currency",
	fields: []field{
		{"ID", "id", kText}, {"currency", "code", kText}, {"rate", "rate", kNumber},
		{"is_home_currency", "is_home", kBool}, {"date_updated", "updated_on", kDate},
	},
})
