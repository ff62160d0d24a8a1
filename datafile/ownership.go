package datafile

import (
	"context"
	"database/sql"
	"errors"
)

// Every record has exactly one place where it may be written: master data on the central server, a store's
// data on the site where the store is active. mayWrite is that rule, and every path that writes a record
// asks it: a local write on this datafile, central checking a site's push before buffering it, the
// integration of a received record, and a store's move.

// writePath is how a record comes to be written.
type writePath int

const (
	// localWrite is a command on this datafile ('record put', 'record delete').
	localWrite writePath = iota
	// pushCheck is central checking a record a site pushed, before it is buffered.
	pushCheck
	// integration writes a received record: on central one a site pushed, on a remote one central sent.
	integration
)

// writeRequest is who wants to write store data of which store, and how.
type writeRequest struct {
	path writePath
	role Role // of this datafile
	// site is the site whose write it is: this site for a local write and for integration on a remote,
	// the pushing site on central.
	site    int64
	table   *Table
	storeID string
	// receivedAt is when central buffered the record, for one integrated later; empty for one received now.
	receivedAt string
}

// verdict is what becomes of a write.
type verdict int

const (
	writeAllowed verdict = iota
	// writeRefused: the writer may not write this record at all (a local write fails; a push is rejected).
	writeRefused
	// writeParked: the change was made while its store was the writer's, but the store has left it since;
	// central keeps it with the reason and never writes it over the store's new site's data. A remote
	// drops such a record instead: central holds it.
	writeParked
	// writeResent: a site that handed its store over pushes a change for it again (its cycle died after
	// central had committed the handover batch). The handover batch held every change the site made for
	// the store, so central already has this one; written again, it could undo the new site's changes.
	writeResent
)

// ownership is mayWrite's answer: the verdict, and for anything but writeAllowed the error that says why.
type ownership struct {
	verdict verdict
	err     *Error
}

const msgStoreMovedAway = "the record's store was moved away from the site that sent it before this change reached the central server"

// mayWrite decides whether req may be carried out.
func mayWrite(ctx context.Context, l *lookups, req writeRequest) (ownership, error) {
	if req.table.Kind == Master {
		if req.role == RoleCentral && req.path == localWrite {
			return ownership{}, nil
		}
		if req.path == localWrite {
			return refused(errorf(EFORBIDDEN, "%s is master data: it can be changed only on the central server", req.table.Name)), nil
		}
		if req.role == RoleCentral {
			return refused(errorf(EFORBIDDEN, "%s is master data: it is changed only on the central server", req.table.Name)), nil
		}
		return ownership{}, nil // a remote takes master data from central
	}
	st, err := l.store(ctx, req.storeID)
	site, moving := st.site, st.moving
	if errors.Is(err, sql.ErrNoRows) {
		if req.path == localWrite {
			return refused(errorf(EINVALID, "field store_id: no store with id %q", req.storeID)), nil
		}
		return refused(errorf(EFORBIDDEN, "the record's store is not active on this site")), nil
	}
	if err != nil {
		return ownership{}, err
	}
	if site == req.site && req.site != 0 {
		if req.path == localWrite && moving {
			// Whatever is written now would have to reach central before the store leaves; the handover
			// promises central that nothing more will.
			return refused(errorf(EFORBIDDEN, "store %q is being moved to another site, so it is read-only here until the move completes", req.storeID).
				withHint("sync this site ('msupply-sync run --remote --once') to hand the store over; enter new data for it on the site it moves to")), nil
		}
		return ownership{}, nil
	}
	switch {
	case req.path == localWrite:
		return refused(errorf(EFORBIDDEN, "store %q is not active on this site, so its %s records cannot be written here", req.storeID, req.table.Name).
			withHint("store data is entered only on the site its store is active on")), nil
	case req.role == RoleRemote:
		// Central sent data of a store that has left this site since: central holds it, this site has no use for it.
		return ownership{verdict: writeParked, err: errorf(EFORBIDDEN, "the record's store is not active on this site")}, nil
	}
	// Central, and the store is not the pushing site's. A change the site made while the store was its own
	// is kept: it was made before the site handed the store over (integrated), or the store was taken from
	// the site by a forced move (parked). A site that never held the store is refused: the message names no
	// store, since which store holds an id is itself another site's business.
	handedOverAfter, lastMove, err := storeLeft(ctx, l.q, req.storeID, req.site, req.receivedAt)
	if err != nil {
		return ownership{}, err
	}
	switch {
	case req.path == integration && handedOverAfter:
		return ownership{}, nil
	case req.path == pushCheck && lastMove == "handover":
		return ownership{verdict: writeResent, err: errorf(EFORBIDDEN, "the record's store was handed over with it already")}, nil
	case lastMove != "":
		return ownership{verdict: writeParked, err: errorf(EFORBIDDEN, "%s", msgStoreMovedAway)}, nil
	}
	return refused(errorf(EFORBIDDEN, "the record's store is not active on this site")), nil
}

func refused(err *Error) ownership { return ownership{verdict: writeRefused, err: err} }

// storeLeft reports how a store last left site by a completed move ("handover", "forced" or "at_once"; ""
// when it never did), and whether a handover from site completed at or after receivedAt (a buffered change
// the site made while the store was its own).
func storeLeft(ctx context.Context, q queryer, storeID string, site int64, receivedAt string) (handedOverAfter bool, lastMove string, err error) {
	var last sql.NullString
	err = q.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM store_move WHERE store_id = ? AND from_site_id = ? AND how = 'handover' AND ? <> '' AND completed_at >= ?),
			(SELECT how FROM store_move WHERE store_id = ? AND from_site_id = ? AND completed_at IS NOT NULL AND how IS NOT NULL
				ORDER BY id DESC LIMIT 1)`,
		storeID, site, receivedAt, receivedAt, storeID, site).Scan(&handedOverAfter, &last)
	return handedOverAfter, last.String, err
}

// asIntegrationError turns a verdict against a received record into the error integration acts on: a
// parked one is errDrop with its reason, which a remote drops and central keeps.
func (o ownership) asIntegrationError() error {
	if o.verdict == writeAllowed {
		return nil
	}
	return dropError{o.err.Message}
}

// errDrop marks a record that can never be integrated here.
var errDrop = errors.New("not integrated")

// dropError is errDrop with the reason, which central keeps with the parked record.
type dropError struct{ reason string }

func (e dropError) Error() string        { return e.reason }
func (e dropError) Is(target error) bool { return target == errDrop }
