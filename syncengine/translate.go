package syncengine

import (
	"fmt"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/legacy"
)

// This file is the one place where records change shape between the datafile and the wire. The wire
// carries mSupply's legacy tables and fields (package legacy), for every client, this project's remote
// included; the datafile keeps this project's model. Sites, which legacy has no table for, go as they are.

// toWire is the wire form of a record read from the datafile.
func toWire(r datafile.OutRecord, look legacy.Lookup) (SyncRecord, error) {
	rec := SyncRecord{TableName: r.Table, RecordID: r.RecordID, Action: r.Action}
	legacyTable, translated := legacy.LegacyTable(r.Table)
	if translated {
		rec.TableName = legacyTable
	}
	if r.Action == "delete" {
		return rec, nil
	}
	if !translated {
		rec.RecordData = r.Data // a site
		return rec, nil
	}
	ours, extra := legacy.Record(r.Values), legacy.Record(nil)
	if ours == nil {
		if err := json.Unmarshal(r.Data, &ours); err != nil {
			return rec, fmt.Errorf("%s %s: %w", r.Table, r.RecordID, err)
		}
	}
	if len(r.Extra) > 0 {
		if err := json.Unmarshal(r.Extra, &extra); err != nil {
			return rec, fmt.Errorf("%s %s extras: %w", r.Table, r.RecordID, err)
		}
	}
	_, out, err := legacy.ToLegacy(r.Table, ours, extra, look)
	if err != nil {
		return rec, fmt.Errorf("%s %s: %w", r.Table, r.RecordID, err)
	}
	if rec.RecordData, err = json.Marshal(out); err != nil {
		return rec, fmt.Errorf("%s %s: %w", r.Table, r.RecordID, err)
	}
	return rec, nil
}

// fromWire reads a record from the wire into the datafile's model. A legacy record that is not one of
// ours (a table, type or value this project does not keep) comes back as it was sent, with the reason in
// Unreadable: central keeps it for an administrator. A table of ours that is not a legacy one (a site, or
// store data from a remote older than the legacy wire) is read as it is.
func fromWire(syncOutID string, r SyncRecord, look *datafile.LegacyLookup) datafile.InRecord {
	in := datafile.InRecord{
		SyncOutID: syncOutID,
		Table:     r.TableName,
		RecordID:  r.RecordID,
		// open-mSupply sends Insert/Update/Delete/Merge as well as the lowercase forms.
		Action: strings.ToLower(r.Action),
		Data:   r.RecordData,
	}
	ours, translated := legacy.OurTable(r.TableName)
	if !translated {
		if _, err := datafile.LookupTable(r.TableName); err != nil && r.TableName != "site" && r.TableName != "store" {
			in.Unreadable = fmt.Sprintf("table %q is not one this server keeps", r.TableName)
		}
		return in
	}
	if in.Action == "delete" || in.Action == "merge" || len(r.RecordData) == 0 || string(r.RecordData) == "null" {
		in.Table = ours
		return in
	}
	var sent legacy.Record
	if err := json.Unmarshal(r.RecordData, &sent); err != nil {
		in.Unreadable = "recordData is not a JSON object"
		return in
	}
	_, rec, extra, err := legacy.FromLegacy(r.TableName, sent, look)
	if err != nil {
		in.Unreadable = err.Error()
		return in
	}
	data, err := json.Marshal(rec)
	if err != nil {
		in.Unreadable = err.Error()
		return in
	}
	in.Table, in.Data = ours, data
	if len(extra) > 0 {
		if in.Extra, err = json.Marshal(extra); err != nil {
			in.Unreadable = err.Error()
			in.Table, in.Data = r.TableName, r.RecordData
			return in
		}
	}
	// The lines that follow in the same batch find their store (and an invoice line its direction) through
	// the invoice or requisition, which is not written until the batch is.
	switch ours {
	case "invoice":
		store, _ := rec["store_id"].(string)
		typ, _ := rec["type"].(string)
		look.Pending[r.RecordID] = [2]string{store, typ}
	case "requisition":
		store, _ := rec["store_id"].(string)
		look.PendingRequisitions[r.RecordID] = store
	}
	return in
}
