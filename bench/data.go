package main

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
)

// The rows every scenario writes come from one deterministic generator, so the raw baseline, the bulk import
// and the sync all handle exactly the same items: random-looking UUIDs (inserted in no particular key order,
// as real ids are), short codes, and medicine names and units of realistic length.

var (
	drugs = []string{"Amoxicillin", "Paracetamol", "Ibuprofen", "Metformin", "Amlodipine", "Ceftriaxone",
		"Artemether/Lumefantrine", "Oral rehydration salts", "Zinc sulphate", "Cotrimoxazole", "Ferrous sulphate",
		"Folic acid", "Oxytocin", "Magnesium sulphate", "Gentamicin", "Metronidazole", "Salbutamol",
		"Hydrochlorothiazide", "Enalapril", "Tenofovir/Lamivudine/Dolutegravir", "Rifampicin/Isoniazid",
		"Doxycycline", "Ciprofloxacin", "Diazepam", "Lidocaine", "Chlorhexidine", "Albendazole", "Fluconazole"}
	strengths = []string{"5mg", "10mg", "20mg", "50mg", "100mg", "250mg", "500mg", "1g", "2.5mg/ml", "40mg/ml"}
	forms     = []string{"tablets", "capsules", "oral suspension", "injection", "dispersible tablets", "syrup"}
	units     = []string{"tablet", "capsule", "bottle 100ml", "vial 10ml", "ampoule", "sachet", "tube 15g"}
)

// splitmix64 turns an index into well-spread bits: a cheap, deterministic source of "random" ids.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// uuidFor returns a version-4-shaped UUID derived from (kind, i); different kinds never collide in practice.
func uuidFor(kind, i uint64) string {
	var b [16]byte
	hi, lo := splitmix64(kind<<40^i), splitmix64(^(kind<<40 ^ i))
	for k := 0; k < 8; k++ {
		b[k] = byte(hi >> (8 * k))
		b[8+k] = byte(lo >> (8 * k))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

const (
	kindItem = iota + 1
	kindInvoice
	kindInvoiceLine
)

// item is one row of the item table.
type item struct{ id, code, name, unit string }

// itemRow returns item i (0-based): about 36 + 8 + 30 + 8 characters, like a real catalogue row.
func itemRow(i int) item {
	h := splitmix64(uint64(i))
	name := drugs[h%uint64(len(drugs))] + " " + strengths[(h>>8)%uint64(len(strengths))] + " " +
		forms[(h>>16)%uint64(len(forms))]
	code := "I" + strconv.FormatInt(int64(1000000+i), 10)
	return item{id: uuidFor(kindItem, uint64(i)), code: code, name: name, unit: units[(h>>24)%uint64(len(units))]}
}

// itemID is the id of item i without building the rest of the row.
func itemID(i int) string { return uuidFor(kindItem, uint64(i)) }

// appendJSONString appends s as a JSON string; the generated text needs no escaping beyond quotes and slashes.
func appendJSONString(b []byte, s string) []byte {
	return strconv.AppendQuote(b, s)
}

// writeJSONL writes lines [from, to) to path, line i as appendLine appends it (newline included), through
// one reused buffer: the generated files run to hundreds of megabytes.
func writeJSONL(path string, from, to int, appendLine func(b []byte, i int) []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b []byte
	for i := from; i < to; i++ {
		b = appendLine(b[:0], i)
		if _, err := w.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeItemsJSONL writes items [from, to) as JSON lines, the input of 'record put item -'.
func writeItemsJSONL(path string, from, to int) error {
	return writeJSONL(path, from, to, func(b []byte, i int) []byte {
		it := itemRow(i)
		b = append(b, `{"id":`...)
		b = appendJSONString(b, it.id)
		b = append(b, `,"code":`...)
		b = appendJSONString(b, it.code)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, it.name)
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, it.unit)
		return append(b, "}\n"...)
	})
}

// linesPerInvoice is how many invoice lines each generated invoice gets: a large but ordinary delivery.
const linesPerInvoice = 100

// writeInvoicesJSONL writes the invoices that lines [0, lines) belong to, in store storeID, from supplier
// nameID, and returns how many there are.
func writeInvoicesJSONL(path string, lines int, storeID, nameID string) (int, error) {
	n := (lines + linesPerInvoice - 1) / linesPerInvoice
	return n, writeJSONL(path, 0, n, func(b []byte, k int) []byte {
		b = append(b, `{"id":`...)
		b = appendJSONString(b, uuidFor(kindInvoice, uint64(k)))
		b = append(b, `,"store_id":`...)
		b = appendJSONString(b, storeID)
		b = append(b, `,"name_id":`...)
		b = appendJSONString(b, nameID)
		b = append(b, `,"type":"supplier_invoice","status":"new","their_ref":`...)
		b = appendJSONString(b, "PO-"+strconv.Itoa(100000+k))
		return append(b, "}\n"...)
	})
}

// writeInvoiceLinesJSONL writes invoice lines [0, lines), each for one of the first items items.
func writeInvoiceLinesJSONL(path string, lines, items int) error {
	return writeJSONL(path, 0, lines, func(b []byte, i int) []byte {
		h := splitmix64(uint64(i) ^ 0x5eed)
		b = append(b, `{"id":`...)
		b = appendJSONString(b, uuidFor(kindInvoiceLine, uint64(i)))
		b = append(b, `,"invoice_id":`...)
		b = appendJSONString(b, uuidFor(kindInvoice, uint64(i/linesPerInvoice)))
		b = append(b, `,"item_id":`...)
		b = appendJSONString(b, itemID(int(h%uint64(items))))
		b = append(b, `,"batch":"B`...)
		b = strconv.AppendInt(b, int64(h>>40%100000), 10)
		b = append(b, `","expiry":"20`...)
		b = strconv.AppendInt(b, int64(27+h>>20%4), 10)
		b = append(b, `-06-30","quantity":`...)
		b = strconv.AppendInt(b, int64(1+h>>8%500), 10)
		return append(b, "}\n"...)
	})
}
