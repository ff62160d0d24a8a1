package syncengine

import (
	"strings"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// This file is the one place where records change shape between the datafile and the wire. Today the
// wire carries this project's own tables and fields; translating to mSupply Desktop's table and field
// names belongs here and nowhere else.

func toWire(r datafile.OutRecord) SyncRecord {
	rec := SyncRecord{TableName: r.Table, RecordID: r.RecordID, Action: r.Action}
	if r.Action != "delete" {
		rec.RecordData = r.Data
	}
	return rec
}

func fromWire(syncOutID string, r SyncRecord) datafile.InRecord {
	return datafile.InRecord{
		SyncOutID: syncOutID,
		Table:     r.TableName,
		RecordID:  r.RecordID,
		// open-mSupply sends Insert/Update/Delete/Merge as well as the lowercase forms.
		Action: strings.ToLower(r.Action),
		Data:   r.RecordData,
	}
}
