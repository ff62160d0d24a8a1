package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// BenchmarkInitialSync measures a new remote initialising from a central datafile of b.N... items, over
// loopback HTTP with the real server and client; the records/s metric is what to compare with the raw
// insert rate that 'make bench' measures in the same run.
func BenchmarkInitialSync(b *testing.B) {
	const items = 50000
	n := newTestNet(b)
	n.addSite("North", "north-password")
	n.putItems(items, func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprintf("item-%07d", i+1), "code": fmt.Sprintf("C%07d", i+1), "name": "Amoxicillin 250mg capsules", "unit": "cap"}
	})
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		b.StopTimer()
		r := n.newRemoteAs("North", fmt.Sprintf("north-%d", k), "north-password", fmt.Sprintf("hw-%d", k))
		if _, err := n.central.ResetHardwareID(context.Background(), "North"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := r.remote.Cycle(context.Background(), true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "records/s")
}

// scatteredID is a deterministic id shaped like a UUID whose order is unrelated to i: real datafiles hold
// random UUIDs, which land all over an index, and sequential ids would flatter every write.
func scatteredID(kind uint64, i int) string {
	x := uint64(i)*0x9e3779b97f4a7c15 ^ kind<<56
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(x>>32), uint16(x>>16), i&0xfff, kind&0xfff, uint64(i)*0x94d049bb133111eb&0xffffffffffff)
}

// BenchmarkPush measures a remote pushing invoice lines its store wrote, through the real server: lines
// with scattered ids, a hundred to an invoice, each for one of many items, as 'make bench' pushes them.
func BenchmarkPush(b *testing.B) {
	const items, lines, linesPerInvoice = 20000, 5000, 100
	n := newTestNet(b)
	n.addSite("North", "north-password")
	n.putItems(items, func(i int) map[string]any {
		return map[string]any{"id": scatteredID(1, i), "code": fmt.Sprintf("C%07d", i+1), "name": "Amoxicillin 250mg capsules", "unit": "cap"}
	})
	r := n.newRemote("North", "north-password", "hw-north")
	if _, err := r.remote.Cycle(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	store := n.stores["North-store"].ID
	for k := 0; k < lines/linesPerInvoice; k++ {
		n.put(r.db, "invoice", `{"id":"`+scatteredID(2, k)+`","store_id":"`+store+`","name_id":"name-1","type":"supplier_invoice"}`)
	}
	i := 0
	if _, err := r.db.PutRecords(context.Background(), "invoice_line", func() (map[string]any, error) {
		if i == lines {
			return nil, io.EOF
		}
		i++
		return map[string]any{"id": scatteredID(3, i), "invoice_id": scatteredID(2, (i-1)/linesPerInvoice),
			"item_id": scatteredID(1, (i*7919)%items), "batch": "B1234", "expiry": "2028-06-30", "quantity": json.Number("3")}, nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, err := r.remote.Cycle(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "records/s")
}
