package datafile

import (
	"encoding/json"
)

// InRecord is a record received by sync.
type InRecord struct {
	SyncOutID string
	Table     string
	RecordID  string
	Action    string // insert, update, delete or merge
	Data      json.RawMessage
	// Extra is what the sender sent of the record beyond our fields (a JSON object), kept with it.
	Extra json.RawMessage
	// Unreadable, when set, says why the record as sent is not one of ours (a table, type or value this
	// project does not keep); Table and Data are then as sent. Central keeps such a record for an
	// administrator; it is never written.
	Unreadable string

	// checked is the record as checkPushed decoded and normalised it, so that writing it does not decode
	// it a second time.
	checked *Record
	// absent says checkPushed found no record with this id, so that writing it need not look again: the
	// lookup of a scattered id is a B-tree descent of its own.
	absent bool
}

// Prepare decodes and validates the content of received records ahead of IntegrateBatch or ReceivePush,
// which then do not do it again: a remote prepares the next page on one core while it writes the current
// one on the other, and the server prepares a push on every core before it takes the write lock. A record
// that does not decode or validate is left as it is, for integration to refuse or buffer with its reason.
// Prepare may run on disjoint parts of one slice at once.
func Prepare(records []InRecord) {
	for i := range records {
		r := &records[i]
		t, ok := tablesByName[r.Table]
		if !ok || r.checked != nil || r.Data == nil {
			continue
		}
		switch r.Action {
		case "insert", "update", "upsert":
		default:
			continue
		}
		if rec, err := decodeReceived(t, r.RecordID, r.Data); err == nil {
			r.checked = &rec
		}
	}
}

// decodeReceived decodes the content of a received record of t and checks it: valid, and with the id the
// record says it has. A refusal is an EINVALID *Error.
func decodeReceived(t *Table, recordID string, data []byte) (Record, error) {
	raw, err := DecodeObject(data)
	if err != nil {
		return Record{}, err
	}
	if id, _ := raw["id"].(string); id != recordID {
		return Record{}, errorf(EINVALID, "recordData.id does not match recordId")
	}
	rec, err := t.normalise(raw, nil)
	if err != nil {
		return Record{}, errorf(EINVALID, "%v", err)
	}
	return rec, nil
}

// syncTableRank places the site and store tables ahead of the record tables that refer to them.
func syncTableRank(table string) (int, bool) {
	switch table {
	case "site":
		return 0, true
	case "store":
		return 1, true
	}
	if t, ok := tablesByName[table]; ok {
		return t.Rank, true
	}
	return 0, false
}
