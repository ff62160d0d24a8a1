package legacy

import "fmt"

// name: central data, customers, suppliers and the names that stand for stores. open-mSupply pushes names
// only for patients, which are not kept here.
var nameTable = register(&translator{
	legacy: "name", ours: "name",
	fields: []field{
		{"ID", "id", kText}, {"name", "name", kText}, {"code", "code", kText},
		{"customer", "is_customer", kBool}, {"supplier", "is_supplier", kBool},
	},
	defaults: Record{
		"supplying_store_id": "", "first": "", "last": "", "female": false, "date_of_birth": noDate, "phone": "",
		"charge code": "", "comment": "", "country": "", "bill_address1": "", "bill_address2": "", "email": "",
		"url": "", "manufacturer": false, "donor": false, "hold": false, "NEXT_OF_KIN_ID": "",
		"next_of_kin_relative": "", "created_date": noDate, "national_health_number": "", "isDeceased": false,
		"om_created_datetime": "", "om_gender": "",
	},
	// Which store a name stands for is told by the store's name_ID in legacy, and here by the name.
	oursOnly: []string{"store_id", "is_active"},
	derived:  []string{"type"},
	toLegacy: func(ours, out Record, _ Lookup) error {
		if store, _ := ours["store_id"].(string); store != "" {
			out["type"] = "store"
		} else {
			out["type"] = "facility"
		}
		return nil
	},
	fromLegacy: func(in, _ Record, _ Lookup) error {
		switch t := in["type"]; t {
		case nil, "", "facility", "store":
			return nil
		default:
			return fmt.Errorf("names of type %v are not kept here (only facilities and stores)", t)
		}
	},
})
