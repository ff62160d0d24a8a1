package datafile

import "database/sql"

// SQL exposes the underlying handle to tests that inspect or set up a datafile below the package's API.
func (db *DB) SQL() *sql.DB { return db.sql }

// SetKeepRuns changes how many sync runs the log keeps, for a test, until it ends.
func SetKeepRuns(tb interface{ Cleanup(func()) }, n int64) {
	old := keepRuns
	keepRuns = n
	tb.Cleanup(func() { keepRuns = old })
}

// SetReuseStatements turns keeping hot queries prepared on or off, for a benchmark, until it ends.
func SetReuseStatements(tb interface{ Cleanup(func()) }, on bool) {
	old := reuseStatements
	reuseStatements = on
	tb.Cleanup(func() { reuseStatements = old })
}
