package datafile

// ValidateSiteName explains what is wrong with a site name, or returns nil.
func ValidateSiteName(name string) error { return validateSiteName(name) }
