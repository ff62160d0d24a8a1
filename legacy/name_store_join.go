package legacy

import "fmt"

// name_store_join: which names a store deals with. "inactive" is the reverse of our is_active.
var nameStoreJoinTable = register(&translator{
	legacy: "name_store_join", ours: "name_store_join",
	fields: []field{
		{"ID", "id", kText}, {"name_ID", "name_id", kText}, {"store_ID", "store_id", kText},
		{"om_name_is_customer", "is_customer", kBool}, {"om_name_is_supplier", "is_supplier", kBool},
	},
	derived: []string{"inactive"},
	toLegacy: func(ours, out Record, _ Lookup) error {
		if active, ok := ours["is_active"].(bool); ok {
			out["inactive"] = !active
		}
		return nil
	},
	fromLegacy: func(in, ours Record, _ Lookup) error {
		if v, given := in["inactive"]; given {
			inactive, err := boolean(v)
			if err != nil {
				return fmt.Errorf("field inactive: %w", err)
			}
			ours["is_active"] = !inactive
		}
		return nil
	},
})
