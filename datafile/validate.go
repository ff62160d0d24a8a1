package datafile

// ValidateSiteName explains what is wrong with a site name, or returns nil.
func ValidateSiteName(name string) error { return validateSiteName(name) }

// ValidateStoreName explains what is wrong with a store name, or returns nil.
func ValidateStoreName(name string) error { return validateStoreName(name) }

// ValidateStoreCode explains what is wrong with a store code, or returns nil.
func ValidateStoreCode(code string) error { return validateStoreCode(code) }
