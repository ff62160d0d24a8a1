package datafile_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// scattered is a deterministic UUID-shaped id whose order is unrelated to i, as real ids are.
func scattered(kind uint64, i int) string {
	x := uint64(i)*0x9e3779b97f4a7c15 ^ kind<<56
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(x>>32), uint16(x>>16), i&0xfff, kind&0xfff, uint64(i)*0x94d049bb133111eb&0xffffffffffff)
}

// BenchmarkReceivePush measures central integrating pushed invoice lines, in batches of 5,000 as a remote
// sends them at most: the server's side of a push, without HTTP or the legacy translation.
func BenchmarkReceivePush(b *testing.B) {
	const items, lines, perInvoice, batch = 20000, 10000, 100, 5000
	ctx := context.Background()
	db := MustOpenUnlockedCentral(b)
	site, err := db.AddSite(ctx, datafile.NewSite{Name: "North", Password: "north-password"})
	if err != nil {
		b.Fatal(err)
	}
	store, err := db.AddStore(ctx, "N1", "N1", "North")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	if _, err := db.PutRecords(ctx, "item", func() (map[string]any, error) {
		if i == items {
			return nil, io.EOF
		}
		i++
		return map[string]any{"id": scattered(1, i), "name": "Amoxicillin 250mg capsules"}, nil
	}); err != nil {
		b.Fatal(err)
	}
	mustPut(b, db, "name", `{"id":"name-1","name":"Supplier","is_supplier":true}`)
	seq := 0
	push := func(records []datafile.InRecord) {
		datafile.Prepare(records)
		res, err := db.ReceivePush(ctx, site.ID, records, 0, nil)
		if err != nil || len(res.Rejections)+len(res.Parked) != 0 {
			b.Fatalf("push: %v %+v", err, res.Rejections)
		}
	}
	record := func(table, id, data string) datafile.InRecord {
		seq++
		return datafile.InRecord{SyncOutID: fmt.Sprintf("bench:%d", seq), Table: table, RecordID: id, Action: "insert", Data: []byte(data)}
	}
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		b.StopTimer()
		var invoices []datafile.InRecord
		for v := 0; v < lines/perInvoice; v++ {
			id := scattered(2, k*lines+v)
			invoices = append(invoices, record("invoice", id, fmt.Sprintf(`{"id":%q,"store_id":%q,"name_id":"name-1","type":"supplier_invoice","status":"new","created_at":"2026-01-01T00:00:00Z"}`, id, store.ID)))
		}
		var pending []datafile.InRecord
		for l := 0; l < lines; l++ {
			id := scattered(3, k*lines+l)
			pending = append(pending, record("invoice_line", id, fmt.Sprintf(`{"id":%q,"invoice_id":%q,"store_id":%q,"item_id":%q,"batch":"B1234","expiry":"2028-06-30","pack_size":1,"quantity":3}`,
				id, scattered(2, k*lines+l/perInvoice), store.ID, scattered(1, 1+(l*7919)%items))))
		}
		b.StartTimer()
		push(invoices)
		for len(pending) > 0 {
			n := min(batch, len(pending))
			push(pending[:n])
			pending = pending[n:]
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
