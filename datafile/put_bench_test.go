package datafile_test

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkPutInvoiceLines measures the local write path for store data, whose every record checks its
// references, its invoice's store and its own store.
func BenchmarkPutInvoiceLines(b *testing.B) {
	db := MustOpenUnlockedCentral(b)
	ctx := context.Background()
	store, err := db.AddStore(ctx, "HQ", "HQ", "")
	if err != nil {
		b.Fatal(err)
	}
	mustPut(b, db, "item", `{"id":"item-1","name":"Amoxicillin"}`)
	mustPut(b, db, "name", `{"id":"name-1","name":"Clinic"}`)
	mustPut(b, db, "invoice", fmt.Sprintf(`{"id":"inv-1","store_id":%q,"name_id":"name-1","type":"customer_invoice"}`, store.ID))
	b.ResetTimer()
	i := 0
	if _, err := db.PutRecords(ctx, "invoice_line", func() (map[string]any, error) {
		if i == b.N {
			return nil, io.EOF
		}
		i++
		return map[string]any{"id": fmt.Sprintf("line-%08d", i), "invoice_id": "inv-1", "item_id": "item-1", "batch": "B1"}, nil
	}); err != nil {
		b.Fatal(err)
	}
}
