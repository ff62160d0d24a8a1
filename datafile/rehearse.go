package datafile

import (
	"context"
	"database/sql"
	"errors"
)

// errRehearsed rolls back the transaction of a rehearsal.
var errRehearsed = errors.New("rehearsal: rolled back")

// Rehearse runs fn with a handle whose every read and write joins one transaction, as Atomically does, and
// then rolls back whatever fn did, returning fn's error. A dry run made this way goes through every check
// of the real run, not an imitation of them. Since nothing is kept, edits need no unlocking within it;
// an authorisation code given to this handle is still checked, as the real run would check it.
func (db *DB) Rehearse(ctx context.Context, fn func(*DB) error) error {
	if db.tx != nil {
		// Rolling back the enclosing transaction would undo more than the rehearsal.
		return errors.New("rehearse: already in a transaction")
	}
	var fnErr error
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		inner := *db
		inner.tx = tx
		if inner.authCode == "" {
			inner.authorized = true
		}
		fnErr = fn(&inner)
		return errRehearsed
	})
	if errors.Is(err, errRehearsed) {
		return fnErr
	}
	return err
}
