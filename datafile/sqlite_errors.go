package datafile

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's refusals are told apart by their result codes, never by the text of their messages.

// sqliteCode returns the extended result code of a SQLite error.
func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code(), true
}

// IsBusy reports whether err is SQLite's refusal to wait longer for another connection's lock.
func IsBusy(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code&0xff == sqlite3.SQLITE_BUSY
}

// isConstraintError reports whether SQLite refused a write for breaking any constraint of the schema.
func isConstraintError(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code&0xff == sqlite3.SQLITE_CONSTRAINT
}

// isForeignKeyError reports whether SQLite refused a write because a reference points at nothing. Every
// reference field is declared a foreign key, so a new record can be inserted without looking its
// references up first; only a refusal needs checkRefs, for a message that names the field.
func isForeignKeyError(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isPrimaryKeyTaken reports whether SQLite refused an insert because a row has its id already.
func isPrimaryKeyTaken(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isTriggerRefusal reports whether a trigger of the schema refused the write (RAISE(ABORT)): the only one
// is the check that a new record's id is not another table's.
func isTriggerRefusal(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code == sqlite3.SQLITE_CONSTRAINT_TRIGGER
}
