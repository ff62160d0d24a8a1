package main

import (
	"runtime"
	"time"

	json "github.com/goccy/go-json"

	"github.com/msupply-foundation/msupply-sync/legacy"
)

// translation measures, in this process and on one core, what the legacy wire costs a sync of items
// items: each record's fields, as the server reads them from its datafile, translated to their legacy form
// and encoded (the server's part), then decoded, translated back and encoded (the remote's). Encoding the
// record in this project's own shape, which the server did before, is not taken off. It returns the wall
// seconds.
func translation(items int) (float64, error) {
	runtime.GC()
	t0 := time.Now()
	for i := range items {
		it := itemRow(i)
		ours := legacy.Record{"id": it.id, "code": it.code, "name": it.name, "unit": it.unit, "is_active": true, "unit_id": nil}
		table, out, err := legacy.ToLegacy("item", ours, nil, nil)
		if err != nil {
			return 0, err
		}
		wire, err := json.Marshal(out)
		if err != nil {
			return 0, err
		}
		var sent legacy.Record
		if err := json.Unmarshal(wire, &sent); err != nil {
			return 0, err
		}
		_, back, _, err := legacy.FromLegacy(table, sent, nil)
		if err != nil {
			return 0, err
		}
		if _, err := json.Marshal(back); err != nil {
			return 0, err
		}
	}
	return time.Since(t0).Seconds(), nil
}
