package datafile

// KeyFilePath is where the key that seals a remote's credential lives: beside the datafile, never in it, so
// that a copy of the datafile alone does not carry a usable credential.
func KeyFilePath(datafilePath string) string { return datafilePath + ".key" }
