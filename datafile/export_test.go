package datafile

import "database/sql"

// SQL exposes the underlying handle to tests that inspect or set up a datafile below the package's API.
func (db *DB) SQL() *sql.DB { return db.sql }
