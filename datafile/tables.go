package datafile

import (
	"cmp"
	"slices"
	"strings"
)

// Kind says who may write a table's records.
type Kind int

// The two kinds of synced data.
const (
	// Master data is created and edited only on the central server and pushed to every remote.
	Master Kind = iota
	// Store data belongs to one store and is written only on the site where that store is active.
	StoreData
)

func (k Kind) String() string {
	if k == Master {
		return "master"
	}
	return "store"
}

// FieldType is the type of a synced field, as it appears in JSON.
type FieldType int

// Field types.
const (
	Text     FieldType = iota
	Bool               // JSON true/false, stored as 0/1
	Number             // a finite JSON number, zero or more
	Enum               // one of Field.Enum
	Date               // YYYY-MM-DD, or null
	DateTime           // RFC 3339, stored in UTC
	Ref                // the id of a record in Field.Ref
)

// Field is one synced column beyond id.
type Field struct {
	Name     string
	Type     FieldType
	Ref      string   // the table a Ref points at
	Enum     []string // the values an Enum may take; the first is the default unless Required
	Required bool     // must be given when a record is created
	Nullable bool     // null is a value (Date and optional Ref)
	// DefaultTrue makes true the value of a Bool left out of a new record.
	DefaultTrue bool
	// DefaultOne makes 1 the value of a Number left out of a new record (a pack size).
	DefaultOne bool
}

// Table describes a synced table.
type Table struct {
	Name string
	Kind Kind
	// Rank orders tables so that a record comes after every record it refers to: integration writes in
	// rising rank, and deletes in falling rank.
	Rank   int
	Fields []Field
}

// Field returns the field called name.
func (t *Table) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Columns returns id followed by the field names, in their stable order.
func (t *Table) Columns() []string {
	cols := []string{"id"}
	for _, f := range t.Fields {
		cols = append(cols, f.Name)
	}
	return cols
}

// StoreField is the field that ties store data to its store.
const StoreField = "store_id"

var syncedTables = []*Table{
	{Name: "unit", Kind: Master, Rank: 1, Fields: []Field{
		{Name: "name", Type: Text}, {Name: "comment", Type: Text}, {Name: "order_number", Type: Number},
	}},
	{Name: "currency", Kind: Master, Rank: 1, Fields: []Field{
		{Name: "code", Type: Text}, {Name: "rate", Type: Number}, {Name: "is_home", Type: Bool},
		{Name: "updated_on", Type: Date, Nullable: true},
	}},
	{Name: "item", Kind: Master, Rank: 2, Fields: []Field{
		{Name: "code", Type: Text}, {Name: "name", Type: Text}, {Name: "unit", Type: Text},
		{Name: "is_active", Type: Bool, DefaultTrue: true},
		{Name: "unit_id", Type: Ref, Ref: "unit", Nullable: true},
	}},
	{Name: "name", Kind: Master, Rank: 2, Fields: []Field{
		{Name: "code", Type: Text}, {Name: "name", Type: Text},
		{Name: "is_customer", Type: Bool}, {Name: "is_supplier", Type: Bool},
		{Name: "store_id", Type: Ref, Ref: "store", Nullable: true},
		{Name: "is_active", Type: Bool, DefaultTrue: true},
	}},
	{Name: "master_list", Kind: Master, Rank: 2, Fields: []Field{
		{Name: "code", Type: Text}, {Name: "name", Type: Text},
	}},
	{Name: "master_list_line", Kind: Master, Rank: 3, Fields: []Field{
		{Name: "master_list_id", Type: Ref, Ref: "master_list", Required: true},
		{Name: "item_id", Type: Ref, Ref: "item", Required: true},
	}},
	// Which names a store deals with, as customers or suppliers.
	{Name: "name_store_join", Kind: Master, Rank: 3, Fields: []Field{
		{Name: "name_id", Type: Ref, Ref: "name", Required: true},
		{Name: "store_id", Type: Ref, Ref: "store", Required: true},
		{Name: "is_customer", Type: Bool}, {Name: "is_supplier", Type: Bool},
		{Name: "is_active", Type: Bool, DefaultTrue: true},
	}},
	// Which master lists a name (a store's own name, for its items) sees.
	{Name: "master_list_name_join", Kind: Master, Rank: 3, Fields: []Field{
		{Name: "master_list_id", Type: Ref, Ref: "master_list", Required: true},
		{Name: "name_id", Type: Ref, Ref: "name", Required: true},
	}},
	{Name: "invoice", Kind: StoreData, Rank: 4, Fields: []Field{
		{Name: "store_id", Type: Ref, Ref: "store", Required: true},
		{Name: "name_id", Type: Ref, Ref: "name", Required: true},
		{Name: "type", Type: Enum, Enum: []string{"customer_invoice", "supplier_invoice"}, Required: true},
		{Name: "status", Type: Enum, Enum: []string{"new", "confirmed", "finalised"}},
		{Name: "their_ref", Type: Text},
		{Name: "created_at", Type: DateTime},
		// Numbered within the store, from 1, when the invoice is created; 0 on invoices older than numbers.
		{Name: "invoice_number", Type: Number},
		// A transfer's other half: on a supplier invoice the customer invoice it was made from, and on that
		// customer invoice the supplier invoice, once it is known. Another store's record, which need not be
		// on this site, so not a reference the schema checks.
		{Name: "linked_invoice_id", Type: Text},
		// The requisition a customer invoice answers (a response), or a supplier invoice receives (a request).
		{Name: "requisition_id", Type: Text},
		// When the supplier invoice made from this customer invoice was received and verified in its store.
		{Name: "received_at", Type: DateTime, Nullable: true},
		{Name: "verified_at", Type: DateTime, Nullable: true},
	}},
	{Name: "invoice_line", Kind: StoreData, Rank: 5, Fields: []Field{
		{Name: "invoice_id", Type: Ref, Ref: "invoice", Required: true},
		{Name: "store_id", Type: Ref, Ref: "store", Required: true},
		{Name: "item_id", Type: Ref, Ref: "item", Required: true},
		{Name: "batch", Type: Text},
		{Name: "expiry", Type: Date, Nullable: true},
		{Name: "quantity", Type: Number},
		{Name: "pack_size", Type: Number, DefaultOne: true},
		{Name: "cost_price", Type: Number},
		{Name: "sell_price", Type: Number},
	}},
	// An internal order: a store's request to the store that supplies it, and that store's response.
	{Name: "requisition", Kind: StoreData, Rank: 4, Fields: []Field{
		{Name: "store_id", Type: Ref, Ref: "store", Required: true},
		{Name: "name_id", Type: Ref, Ref: "name", Required: true},
		{Name: "type", Type: Enum, Enum: []string{"request", "response"}, Required: true},
		// A request goes draft, sent, finalised; a response new, finalised.
		{Name: "status", Type: Enum, Enum: []string{"draft", "sent", "new", "finalised"}},
		{Name: "linked_requisition_id", Type: Text},
		{Name: "their_ref", Type: Text},
		{Name: "created_at", Type: DateTime},
		{Name: "requisition_number", Type: Number},
	}},
	{Name: "requisition_line", Kind: StoreData, Rank: 5, Fields: []Field{
		{Name: "requisition_id", Type: Ref, Ref: "requisition", Required: true},
		{Name: "store_id", Type: Ref, Ref: "store", Required: true},
		{Name: "item_id", Type: Ref, Ref: "item", Required: true},
		{Name: "requested_quantity", Type: Number},
		{Name: "supplied_quantity", Type: Number},
	}},
	{Name: "stock_line", Kind: StoreData, Rank: 4, Fields: []Field{
		{Name: "store_id", Type: Ref, Ref: "store", Required: true},
		{Name: "item_id", Type: Ref, Ref: "item", Required: true},
		{Name: "batch", Type: Text},
		{Name: "expiry", Type: Date, Nullable: true},
		{Name: "quantity", Type: Number},
	}},
}

var tablesByName = func() map[string]*Table {
	m := map[string]*Table{}
	for _, t := range syncedTables {
		m[t.Name] = t
	}
	return m
}()

// Tables returns the synced record tables in dependency order.
func Tables() []*Table {
	out := append([]*Table(nil), syncedTables...)
	slices.SortStableFunc(out, func(a, b *Table) int { return cmp.Compare(a.Rank, b.Rank) })
	return out
}

// TableNames returns the names of the synced record tables, in dependency order.
func TableNames() []string {
	var names []string
	for _, t := range Tables() {
		names = append(names, t.Name)
	}
	return names
}

// LookupTable returns the synced table called name, or an error that lists the tables there are.
func LookupTable(name string) (*Table, error) {
	if t, ok := tablesByName[name]; ok {
		return t, nil
	}
	return nil, errorf(EINVALID, "unknown table %q", name).
		withHint("the synced tables are %s", strings.Join(TableNames(), ", "))
}

// referrers lists every (table, field) that refers to target.
func referrers(target string) []struct{ table, field string } {
	var out []struct{ table, field string }
	for _, t := range syncedTables {
		for _, f := range t.Fields {
			if f.Type == Ref && f.Ref == target {
				out = append(out, struct{ table, field string }{t.Name, f.Name})
			}
		}
	}
	return out
}
