package legacy

import (
	"fmt"
	"maps"
	"slices"
)

// Record is one record in either shape: its fields as encoding/json decodes them.
type Record = map[string]any

// Lookup is what translating a record needs of the datafile it comes from or goes to.
type Lookup interface {
	// ItemName is an item's name; "" when there is no such item.
	ItemName(itemID string) (string, error)
	// InvoiceType is our type of an invoice (customer_invoice or supplier_invoice); "" when unknown.
	InvoiceType(invoiceID string) (string, error)
	// InvoiceStore is the store an invoice belongs to; "" when unknown.
	InvoiceStore(invoiceID string) (string, error)
	// RequisitionStore is the store a requisition belongs to; "" when unknown.
	RequisitionStore(requisitionID string) (string, error)
}

type fieldKind int

const (
	kText fieldKind = iota
	kRef            // an optional reference: the id, or "" when unset
	kBool
	kNumber
	kInt
	kDate     // YYYY-MM-DD, "0000-00-00" when unset
	kDateTime // an optional om_*_datetime: ours RFC 3339 or nil, legacy without a zone or null
)

// field pairs a legacy key with one of our fields.
type field struct {
	legacy, ours string
	kind         fieldKind
}

// translator is the translation of one table. Translating out, a record starts from the keys it came
// with (its extras), gains the legacy keys we have no field for (defaults) where it lacks them, then takes
// our fields. Translating in, every key that is not made again from our fields is kept as an extra, so
// that what a client sent goes back to it unchanged.
type translator struct {
	legacy, ours string
	fields       []field
	// defaults are the keys legacy requires that we do not model, with the value sent when a record
	// brings none of its own.
	defaults Record
	// oursOnly are our fields that legacy has no key for: sent under their own names, which no legacy
	// table uses, so that this project's remotes lose nothing; other clients ignore them.
	oursOnly []string
	// derived are the legacy keys toLegacy writes from our fields, beyond fields.
	derived []string
	// toLegacy and fromLegacy translate what a field-for-field mapping cannot.
	toLegacy   func(ours, out Record, look Lookup) error
	fromLegacy func(in, ours Record, look Lookup) error
	// tidyExtra drops extras that toLegacy would make again from ours just as they are, and writes the
	// rest in the forms open-mSupply reads, where it pushes another.
	tidyExtra func(ours, extra Record)

	// remade are the legacy keys made again from our fields on the way out, so not kept as extras: those
	// of fields, oursOnly and derived, gathered once by register.
	remade map[string]bool
}

var translators = map[string]*translator{} // by our table name
var byLegacy = map[string]*translator{}    // by legacy table name

func register(t *translator) *translator {
	t.remade = map[string]bool{}
	for _, f := range t.fields {
		t.remade[f.legacy] = true
	}
	for _, k := range append(slices.Clone(t.oursOnly), t.derived...) {
		t.remade[k] = true
	}
	translators[t.ours] = t
	byLegacy[t.legacy] = t
	return t
}

// LegacyTable is the legacy name of one of our tables; false for a table of ours that is not translated
// (site).
func LegacyTable(ours string) (string, bool) {
	t, ok := translators[ours]
	if !ok {
		return "", false
	}
	return t.legacy, true
}

// OurTable is our name of a legacy table; false for one this project does not model.
func OurTable(legacyTable string) (string, bool) {
	t, ok := byLegacy[legacyTable]
	if !ok {
		return "", false
	}
	return t.ours, true
}

// LegacyTables lists the legacy tables translated, sorted.
func LegacyTables() []string {
	return slices.Sorted(maps.Keys(byLegacy))
}

// ToLegacy translates one of our records of table ours, with the extras kept from when it was received,
// into its legacy table and record.
func ToLegacy(ours string, rec, extra Record, look Lookup) (string, Record, error) {
	t, ok := translators[ours]
	if !ok {
		return "", nil, fmt.Errorf("table %q has no legacy form", ours)
	}
	out := make(Record, len(extra)+len(t.defaults)+len(t.fields))
	maps.Copy(out, extra)
	for k, v := range t.defaults {
		if _, given := out[k]; !given {
			out[k] = v
		}
	}
	for _, f := range t.fields {
		v, ok := rec[f.ours]
		if !ok {
			continue
		}
		switch f.kind {
		case kRef:
			out[f.legacy] = refOrEmpty(v)
		case kInt:
			out[f.legacy] = wholeNumber(v)
		case kDate:
			out[f.legacy] = legacyDate(v)
		case kDateTime:
			if v == nil {
				out[f.legacy] = nil
			} else {
				out[f.legacy] = keptOrLegacyDateTime(out[f.legacy], v)
			}
		default:
			out[f.legacy] = v
		}
	}
	for _, k := range t.oursOnly {
		if v, ok := rec[k]; ok {
			out[k] = v
		}
	}
	if t.toLegacy != nil {
		if err := t.toLegacy(rec, out, look); err != nil {
			return "", nil, err
		}
	}
	return t.legacy, out, nil
}

// FromLegacy translates a legacy record into our table and record, and the extras to keep with it: every
// key of the record that ours is not made from. An error says why the record cannot be one of ours.
func FromLegacy(legacyTable string, in Record, look Lookup) (string, Record, Record, error) {
	t, ok := byLegacy[legacyTable]
	if !ok {
		return "", nil, nil, fmt.Errorf("table %q is not one this server keeps", legacyTable)
	}
	rec := Record{}
	for _, f := range t.fields {
		v, given := in[f.legacy]
		if !given {
			continue
		}
		var err error
		switch f.kind {
		case kText:
			rec[f.ours], err = text(v)
		case kRef:
			rec[f.ours], err = optionalRef(v)
		case kBool:
			rec[f.ours], err = boolean(v)
		case kNumber, kInt:
			rec[f.ours], err = number(v)
		case kDate:
			rec[f.ours], err = parseDate(v)
		case kDateTime:
			rec[f.ours], err = optionalDateTime(v)
		}
		if err != nil {
			return "", nil, nil, fmt.Errorf("field %s: %w", f.legacy, err)
		}
	}
	for _, k := range t.oursOnly {
		if v, ok := in[k]; ok {
			rec[k] = v
		}
	}
	if t.fromLegacy != nil {
		if err := t.fromLegacy(in, rec, look); err != nil {
			return "", nil, nil, err
		}
	}
	extra := Record{}
	for k, v := range in {
		if !t.remade[k] && !t.isDefault(k, v) {
			extra[k] = v
		}
	}
	for _, f := range t.fields {
		// Ours keeps whole seconds: a time sent with a fraction is kept as it came, to go back unchanged.
		if s, _ := in[f.legacy].(string); f.kind == kDateTime && s != "" && s != legacyDateTime(rec[f.ours]) {
			extra[f.legacy] = s
		}
	}
	if t.tidyExtra != nil {
		t.tidyExtra(rec, extra)
	}
	return t.ours, rec, extra, nil
}

// isDefault reports whether v is what ToLegacy sends for key when a record brings nothing: keeping it
// as an extra would only store it again.
func (t *translator) isDefault(key string, v any) bool {
	d, ok := t.defaults[key]
	if !ok {
		return false
	}
	switch d := d.(type) {
	case nil:
		return v == nil
	case int:
		n, ok := v.(float64)
		return ok && n == float64(d)
	case string, bool:
		return v == d
	}
	return false
}
