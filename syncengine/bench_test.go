package syncengine

import (
	"context"
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
