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
	i := 0
	if _, err := n.central.PutRecords(context.Background(), "item", func() (map[string]any, error) {
		if i == items {
			return nil, io.EOF
		}
		i++
		return map[string]any{"id": fmt.Sprintf("item-%07d", i), "code": fmt.Sprintf("C%07d", i), "name": "Amoxicillin 250mg capsules", "unit": "cap"}, nil
	}); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkPush measures a remote pushing invoice lines its store wrote, through the real server.
func BenchmarkPush(b *testing.B) {
	const lines = 5000
	n := newTestNet(b)
	n.addSite("North", "north-password")
	r := n.newRemote("North", "north-password", "hw-north")
	if _, err := r.remote.Cycle(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	store := n.stores["North-store"].ID
	n.put(r.db, "invoice", `{"id":"inv-1","store_id":"`+store+`","name_id":"name-1","type":"customer_invoice"}`)
	i := 0
	if _, err := r.db.PutRecords(context.Background(), "invoice_line", func() (map[string]any, error) {
		if i == lines {
			return nil, io.EOF
		}
		i++
		return map[string]any{"id": fmt.Sprintf("line-%07d", i), "invoice_id": "inv-1", "item_id": "item-1", "quantity": json.Number("3")}, nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, err := r.remote.Cycle(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "records/s")
}
