package main

import (
	"fmt"
	"runtime"
	"time"

	json "github.com/goccy/go-json"

	"github.com/msupply-foundation/msupply-sync/legacy"
)

// translation measures, in this process and on one core, what the legacy wire costs a sync of items
// items: each record's datafile JSON decoded, translated to its legacy form and encoded (the server's
// part), then decoded, translated back and encoded (the remote's). It returns the wall seconds.
func translation(items int) (float64, error) {
	runtime.GC()
	t0 := time.Now()
	var b []byte
	for i := range items {
		it := itemRow(i)
		b = fmt.Appendf(b[:0], `{"id":%q,"code":%q,"name":%q,"unit":%q,"is_active":true,"unit_id":null}`, it.id, it.code, it.name, it.unit)
		var ours legacy.Record
		if err := json.Unmarshal(b, &ours); err != nil {
			return 0, err
		}
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
