package chaos

import (
	"fmt"
	"sort"
	"strings"
)

// The ledger is the oracle's memory: every store record write that succeeded, on which datafile, with the
// content it gave the record. A write made on a site that its store was then forced away from (before the
// write was known to have been pushed), or made there afterwards, is marked forced: central may have
// integrated it or must hold it parked, but never lose it.

// write is one successful 'record put' of a store record.
type write struct {
	rec     *ledgerRecord
	seq     int
	df      string // the datafile it was made on
	content string // the fields the write set, as contentOf reads them back
	forced  bool
}

// ledgerRecord is one store record the trial wrote, and every write of it in order.
type ledgerRecord struct {
	table, id string
	store     string            // store code
	fixed     map[string]string // fields set when the record was created and never changed
	writes    []*write
}

type ledger struct {
	records map[string]*ledgerRecord // table + "/" + id
	order   []*ledgerRecord
	// unpushed holds, for each datafile, the writes made there that no completed sync of it has pushed
	// since: a forced move of their store away from it makes them forced.
	unpushed map[string][]*write
	// forcedOn says a datafile has made forced writes: its sync may park records on central (exit 3).
	forcedOn map[string]bool
	// forcedFrom says a forced move has taken a store away from a datafile. Its transfer processing may
	// have written for that store, in the last sync before the move or after it, what it had not pushed:
	// central parks those records too.
	forcedFrom map[string]bool
}

func newLedger() *ledger {
	return &ledger{records: map[string]*ledgerRecord{}, unpushed: map[string][]*write{}, forcedOn: map[string]bool{}, forcedFrom: map[string]bool{}}
}

// wrote records a successful write. legit says the store was on the writing site on
// central when it was made; a write that was not is forced from the start: its site did not know yet
// that a forced move had taken the store away.
func (l *ledger) wrote(df, table, id, store string, fixed map[string]string, content string, seq int, legit bool) *write {
	key := table + "/" + id
	rec := l.records[key]
	if rec == nil {
		rec = &ledgerRecord{table: table, id: id, store: store, fixed: fixed}
		l.records[key] = rec
		l.order = append(l.order, rec)
	}
	w := &write{rec: rec, seq: seq, df: df, content: content, forced: !legit}
	rec.writes = append(rec.writes, w)
	if legit {
		l.unpushed[df] = append(l.unpushed[df], w)
	} else {
		l.forcedOn[df] = true
	}
	return w
}

// pushed records that a sync of df ran to the end: every write made there before it started has reached
// central (integrated or parked).
func (l *ledger) pushed(df string) { l.unpushed[df] = nil }

// forcedAway marks the writes df has not been seen to push for a store that a forced move has just taken
// away from it, and returns how many there were.
func (l *ledger) forcedAway(df, store string) int {
	l.forcedFrom[df] = true
	n := 0
	for _, w := range l.unpushed[df] {
		if w.rec.store == store && !w.forced {
			w.forced = true
			n++
		}
	}
	if n > 0 {
		l.forcedOn[df] = true
	}
	return n
}

// randomOf picks one of the records of a table, nil when there is none.
func (l *ledger) randomOf(table string, pick func(int) int) *ledgerRecord {
	var of []*ledgerRecord
	for _, rec := range l.order {
		if rec.table == table {
			of = append(of, rec)
		}
	}
	if len(of) == 0 {
		return nil
	}
	return of[pick(len(of))]
}

// linesOf are the invoice lines written for an invoice.
func (l *ledger) linesOf(invoiceID string) []*ledgerRecord {
	var out []*ledgerRecord
	for _, rec := range l.order {
		if rec.table == "invoice_line" && rec.fixed["invoice_id"] == invoiceID {
			out = append(out, rec)
		}
	}
	return out
}

// madeByTransfers says whether central may hold a record parked from df that no write of the trial
// explains: df's transfer processing wrote it (a supplier invoice or a response made there, or a
// transfer's link set on its own document) that it had not pushed when a forced move took the store
// away, or wrote afterwards, before it knew.
func (l *ledger) madeByTransfers(key parkedKey, df string) bool {
	if !l.forcedFrom[df] {
		return false
	}
	rec := l.records[key.table+"/"+key.id]
	if rec == nil {
		return true
	}
	for _, w := range rec.writes {
		if w.forced && w.df == df {
			return false // the trial's own forced write explains it
		}
	}
	return rec.table == "requisition" || rec.table == "invoice" && rec.fixed["name_id"] != "name-1"
}

// mayPark says whether central may hold back records df pushes: the trial's own forced writes, or what
// df's transfer processing wrote for a store forced away from it.
func (l *ledger) mayPark(df string) bool { return l.forcedOn[df] || l.forcedFrom[df] }

func (l *ledger) random(pick func(int) int) *ledgerRecord {
	if len(l.order) == 0 {
		return nil
	}
	return l.order[pick(len(l.order))]
}

// parkedKey names a record central holds back: the site that sent it, the table and the id.
type parkedKey struct{ site, table, id string }

// check compares central's store records and parked list with the ledger. central maps table to id to the
// row as 'record list --output json' prints it; siteName names each datafile's site. It returns one line
// per disagreement.
func (l *ledger) check(central map[string]map[string]map[string]any, parked map[parkedKey]string, siteName map[string]string) []string {
	var problems []string
	for _, rec := range l.order {
		row, present := central[rec.table][rec.id]
		got := absent
		if present {
			got = contentOf(rec.table, row)
			for field, want := range rec.fixed {
				if v := fmt.Sprint(row[field]); v != want {
					problems = append(problems, fmt.Sprintf("%s %s on central: %s is %q, written as %q", rec.table, rec.id, field, v, want))
				}
			}
		}
		// From the newest write back: each one is on central, or was forced away and is parked there
		// (then the one before it must be on central, and so on).
		matched := !present
		for i := len(rec.writes) - 1; i >= 0; i-- {
			w := rec.writes[i]
			if w.content == got {
				matched = true
				break
			}
			key := parkedKey{siteName[w.df], rec.table, rec.id}
			if _, ok := parked[key]; w.forced && ok {
				continue
			}
			what := "lost"
			if present {
				what = "overwritten"
			}
			problems = append(problems, fmt.Sprintf("%s %s: write #%d on %s (%s) %s: central holds %s and does not hold it parked%s; writes: %s",
				rec.table, rec.id, w.seq, w.df, w.content, what, got, forcedNote(w), rec.history()))
			matched = true
			break
		}
		if !matched {
			problems = append(problems, fmt.Sprintf("%s %s: central holds %s, which no write gave it; writes: %s", rec.table, rec.id, got, rec.history()))
		}
	}
	// Then, in an order of their own, what central holds that no write explains.
	var unexplained []string
	for table, rows := range central {
		for id := range rows {
			if l.records[table+"/"+id] == nil {
				unexplained = append(unexplained, fmt.Sprintf("%s %s is on central but was never written", table, id))
			}
		}
	}
	for key, reason := range parked {
		rec := l.records[key.table+"/"+key.id]
		ok := false
		if rec != nil {
			for _, w := range rec.writes {
				ok = ok || (w.forced && siteName[w.df] == key.site)
			}
		}
		if !ok {
			unexplained = append(unexplained, fmt.Sprintf("central parks %s %s from %s (%s), which that site never wrote after its store was forced away", key.table, key.id, key.site, reason))
		}
	}
	sort.Strings(unexplained)
	return append(problems, unexplained...)
}

func forcedNote(w *write) string {
	if w.forced {
		return " (a forced-away write)"
	}
	return ""
}

func (rec *ledgerRecord) history() string {
	parts := make([]string, len(rec.writes))
	for i, w := range rec.writes {
		mark := ""
		if w.forced {
			mark = " forced"
		}
		parts[i] = fmt.Sprintf("#%d %s %s%s", w.seq, w.df, w.content, mark)
	}
	return strings.Join(parts, ", ")
}

// absent is the content of a record deleted.
const absent = "(absent)"

// contentOf reads back the fields that writes change: an invoice's status and reference, a line's quantity,
// a requisition's status, its line's requested quantity.
func contentOf(table string, row map[string]any) string {
	switch table {
	case "invoice":
		return fmt.Sprintf("%v|%v", row["status"], row["their_ref"])
	case "invoice_line":
		return fmt.Sprint(row["quantity"])
	case "requisition":
		return fmt.Sprint(row["status"])
	case "requisition_line":
		return fmt.Sprint(row["requested_quantity"])
	}
	return ""
}
