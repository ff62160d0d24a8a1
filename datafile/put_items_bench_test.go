package datafile_test

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkPutItems measures the bulk import path for master data on central.
func BenchmarkPutItems(b *testing.B) {
	db := MustOpenCentral(b)
	b.ResetTimer()
	i := 0
	if _, err := db.PutRecords(context.Background(), "item", func() (map[string]any, error) {
		if i == b.N {
			return nil, io.EOF
		}
		i++
		return map[string]any{"id": fmt.Sprintf("%08x-4c1e-4a2b-9d3f-%012x", i*2654435761%4294967296, i), "code": fmt.Sprintf("C%07d", i), "name": "Amoxicillin 250mg capsules", "unit": "cap"}, nil
	}); err != nil {
		b.Fatal(err)
	}
}
