package chaos

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Transfers in a trial: the two stores may deal with each other, so an invoice made out to the other
// store's name is a shipment to it, and a request to it an order. The oracle reads central once all has
// settled: every shipped invoice has exactly one supplier invoice, in the receiving store, with the same
// lines, and every sent request exactly one response; nothing is made from what was not shipped or sent,
// or from what was deleted; and each remote holds the transfers made out to its stores as central does.

// setupTransfers lets each trial store deal with the other's name.
func (tr *trial) setupTransfers() {
	states := tr.storeStates()
	a, b := states[sites[0].store], states[sites[1].store]
	tr.put(centralDF, "name_store_join", fmt.Sprintf(`{"id":"join-ab","name_id":%q,"store_id":%q,"is_customer":true,"is_supplier":true}`+"\n"+
		`{"id":"join-ba","name_id":%q,"store_id":%q,"is_customer":true,"is_supplier":true}`, b.NameID, a.ID, a.NameID, b.ID))
}

// otherStore is the trial store that st is not.
func (tr *trial) otherStore(st storeState) storeState {
	for _, s := range sites {
		if s.store != st.Code {
			return tr.storeStates()[s.store]
		}
	}
	return st
}

// orderStep enters a request from a store to the other, with lines, and sends it, on whichever site
// pickWriter chooses; each write may be refused there, and the ledger keeps what was written.
func (tr *trial) orderStep() {
	st := tr.randomStore()
	df := tr.pickWriter(st)
	legit := tr.mayWrite(df, st)
	to := tr.otherStore(st)
	tr.seq++
	id := fmt.Sprintf("req-%s-%d", st.Code, tr.seq)
	if why := tr.tryPut(df, "requisition", fmt.Sprintf(`{"id":%q,"store_id":%q,"name_id":%q,"type":"request","created_at":"2026-01-01T00:00:00Z"}`,
		id, st.ID, to.NameID), true); why != "" {
		tr.event("order from %s on %s (%s): refused: %s", st.Code, df, st, why)
		return
	}
	tr.ledger.wrote(df, "requisition", id, st.Code, map[string]string{"store_id": st.ID, "name_id": to.NameID, "type": "request"}, "draft", tr.seq, legit)
	var b strings.Builder
	n := 1 + tr.rng.Intn(5)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id":"%s-line-%d","requisition_id":%q,"item_id":"item-%03d","requested_quantity":%d}`+"\n", id, i, id, tr.rng.Intn(150), 1+tr.rng.Intn(100))
	}
	if why := tr.tryPut(df, "requisition_line", b.String(), true); why != "" {
		tr.event("order %s on %s: lines refused: %s", id, df, why)
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var l map[string]any
		json.Unmarshal([]byte(line), &l)
		tr.ledger.wrote(df, "requisition_line", fmt.Sprint(l["id"]), st.Code, map[string]string{"requisition_id": id, "store_id": st.ID},
			fmt.Sprint(l["requested_quantity"]), tr.seq, legit)
	}
	if why := tr.tryPut(df, "requisition", fmt.Sprintf(`{"id":%q,"status":"sent"}`, id), true); why != "" {
		tr.event("order %s on %s: sending refused: %s", id, df, why)
		return
	}
	tr.ledger.wrote(df, "requisition", id, st.Code, nil, "sent", tr.seq, legit)
	tr.event("order %s from %s to %s on %s with %d lines, sent (%s)%s", id, st.Code, to.Code, df, n, st, forcedMark(legit))
}

// deleteStep deletes an invoice written earlier, its lines first, mostly on the site its store is on: a
// shipment deleted takes its new supplier invoice with it.
func (tr *trial) deleteStep() {
	rec := tr.ledger.randomOf("invoice", tr.rng.Intn)
	if rec == nil {
		return
	}
	st := tr.storeStates()[rec.store]
	df := tr.pickWriter(st)
	legit := tr.mayWrite(df, st)
	for _, line := range tr.ledger.linesOf(rec.id) {
		if why := tr.tryDelete(df, "invoice_line", line.id); why != "" {
			tr.event("delete invoice %s on %s (%s): line %s refused: %s", rec.id, df, st, line.id, why)
			return
		}
		tr.ledger.wrote(df, "invoice_line", line.id, rec.store, nil, absent, tr.seq, legit)
	}
	if why := tr.tryDelete(df, "invoice", rec.id); why != "" {
		tr.event("delete invoice %s on %s (%s): refused: %s", rec.id, df, st, why)
		return
	}
	tr.ledger.wrote(df, "invoice", rec.id, rec.store, nil, absent, tr.seq, legit)
	tr.event("deleted invoice %s and its lines on %s (%s)%s", rec.id, df, st, forcedMark(legit))
}

// tryDelete deletes a record on a datafile and returns "", or why the datafile refused (one of the
// refusals, or the record is not there); any other failure ends the trial.
func (tr *trial) tryDelete(df, table, id string) string {
	tr.t.Helper()
	out, err := tr.run(nil, "--datafile", df, "record", "delete", table, id)
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, r := range append(refusals, "no "+table+" with id") {
		if strings.Contains(msg, r) {
			return r
		}
	}
	tr.t.Fatalf("step %d: record delete %s %s on %s: %v %s", tr.step, table, id, df, err, out)
	return ""
}

// generated splits central's rows into those the trial wrote and those transfers made: supplier invoices
// and responses, and their lines.
func generated(rows map[string]map[string]map[string]any) (written, made map[string]map[string]map[string]any) {
	written, made = map[string]map[string]map[string]any{}, map[string]map[string]map[string]any{}
	for _, table := range []string{"invoice", "invoice_line", "requisition", "requisition_line"} {
		written[table], made[table] = map[string]map[string]any{}, map[string]map[string]any{}
	}
	docMade := func(table string, row map[string]any) bool {
		if table == "invoice" {
			return row["type"] == "supplier_invoice"
		}
		return row["type"] == "response"
	}
	for _, doc := range []struct{ table, lines, field string }{{"invoice", "invoice_line", "invoice_id"}, {"requisition", "requisition_line", "requisition_id"}} {
		for id, row := range rows[doc.table] {
			if docMade(doc.table, row) {
				made[doc.table][id] = row
			} else {
				written[doc.table][id] = row
			}
		}
		for id, row := range rows[doc.lines] {
			if _, ok := made[doc.table][fmt.Sprint(row[doc.field])]; ok {
				made[doc.lines][id] = row
			} else {
				written[doc.lines][id] = row
			}
		}
	}
	return written, made
}

// checkTransfers is the transfer oracle over central's rows and parked records; it returns one line per
// problem, and notes in
// the trial's events how many sent transfers it checked.
func (tr *trial) checkTransfers(rows map[string]map[string]map[string]any, parked map[parkedKey]string) []string {
	checked := map[string]int{}
	parkedDocs := map[string]bool{} // the documents central holds parked, by table and id
	for key := range parked {
		parkedDocs[key.table+"/"+key.id] = true
	}
	storeOfName := map[string]string{}
	for _, st := range tr.storeStates() {
		storeOfName[st.NameID] = st.ID
	}
	var problems []string
	linesOf := func(table, field, id, qty string) string {
		var ls []string
		for _, row := range rows[table] {
			if row[field] == id {
				ls = append(ls, fmt.Sprintf("%v×%v", row["item_id"], row[qty]))
			}
		}
		sort.Strings(ls)
		return strings.Join(ls, " ")
	}
	type kind struct{ docs, lines, field, link, out, in, qty string }
	for _, k := range []kind{
		{"invoice", "invoice_line", "invoice_id", "linked_invoice_id", "customer_invoice", "supplier_invoice", "quantity"},
		{"requisition", "requisition_line", "requisition_id", "linked_requisition_id", "request", "response", "requested_quantity"},
	} {
		inbound := map[string][]map[string]any{}
		for _, row := range rows[k.docs] {
			if row["type"] == k.in {
				from := fmt.Sprint(row[k.link])
				inbound[from] = append(inbound[from], row)
			}
		}
		for id, row := range rows[k.docs] {
			to, isTransfer := storeOfName[fmt.Sprint(row["name_id"])]
			if row["type"] != k.out || !isTransfer || to == row["store_id"] {
				continue
			}
			status := row["status"]
			sent := status == "confirmed" || status == "finalised" || status == "sent"
			made := inbound[id]
			delete(inbound, id)
			switch {
			case !sent && len(made) > 0:
				problems = append(problems, fmt.Sprintf("%s %s is %v, yet %d %s were made from it", k.docs, id, status, len(made), k.in))
			case sent && len(made) != 1:
				problems = append(problems, fmt.Sprintf("%s %s is %v and has %d %s, want exactly 1", k.docs, id, status, len(made), k.in))
			case sent:
				checked[k.docs]++
				in := made[0]
				if in["store_id"] != to {
					problems = append(problems, fmt.Sprintf("%s %v made from %s is in store %v, not the receiving store %s", k.in, in["id"], id, in["store_id"], to))
				}
				want, got := linesOf(k.lines, k.field, id, k.qty), linesOf(k.lines, k.field, fmt.Sprint(in["id"]), k.qty)
				if want != got {
					problems = append(problems, fmt.Sprintf("%s %v has lines [%s], its %s %s has [%s]", k.in, in["id"], got, k.out, id, want))
				}
				if row[k.link] != in["id"] {
					problems = append(problems, fmt.Sprintf("%s %s links %q, not its %s %v", k.docs, id, row[k.link], k.in, in["id"]))
				}
			}
		}
		for from, made := range inbound {
			if parkedDocs[k.docs+"/"+from] {
				// Its source was made on a site its store was then forced away from: parked on central,
				// it is for an administrator, and so is what was made from it.
				continue
			}
			for _, in := range made {
				problems = append(problems, fmt.Sprintf("%s %v was made from %s %s, which central does not hold as a transfer", k.in, in["id"], k.out, from))
			}
		}
	}
	sort.Strings(problems)
	tr.event("transfers checked: %d shipped invoices, %d sent requests", checked["invoice"], checked["requisition"])
	return problems
}

// transferTables are the tables whose records travel as transfers.
var transferTables = []string{"invoice", "invoice_line", "requisition", "requisition_line"}

// checkCopies confirms that a remote holds, of a store that is not on it, exactly the transfers made out to
// its own stores, as central holds them.
func (tr *trial) checkCopies(df string, st storeState, home string) {
	tr.t.Helper()
	states := tr.storeStates()
	here := map[string]bool{} // the names of the stores on df
	for _, s := range states {
		if tr.siteDF[s.SiteID] == df {
			here[s.NameID] = true
		}
	}
	read := func(df, table string) map[string]string {
		var list []map[string]any
		out := tr.must(nil, "--datafile", df, "record", "list", table, "--where", "store_id="+st.ID, "--output", "json")
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			tr.t.Fatal(err)
		}
		rows := map[string]string{}
		for _, row := range list {
			b, _ := json.Marshal(row)
			rows[fmt.Sprint(row["id"])] = string(b)
		}
		return rows
	}
	for i := 0; i < len(transferTables); i += 2 {
		docs, lines := transferTables[i], transferTables[i+1]
		field := docs + "_id"
		centralDocs, held := read(centralDF, docs), read(df, docs)
		want := map[string]string{}
		for id, row := range centralDocs {
			var r map[string]any
			json.Unmarshal([]byte(row), &r)
			if here[fmt.Sprint(r["name_id"])] {
				want[id] = row
			}
		}
		wantLines := map[string]string{}
		for id, row := range read(centralDF, lines) {
			var r map[string]any
			json.Unmarshal([]byte(row), &r)
			if _, ok := want[fmt.Sprint(r[field])]; ok {
				wantLines[id] = row
			}
		}
		for table, pair := range map[string][2]map[string]string{docs: {want, held}, lines: {wantLines, read(df, lines)}} {
			w, h := pair[0], pair[1]
			for id, row := range w {
				if h[id] != row {
					tr.t.Errorf("%s: transfer %s %s of store %s (on %s) is %s there, %s on central", df, table, id, st.Code, home, orAbsent(h[id], h[id] != ""), row)
				}
			}
			for id := range h {
				if _, ok := w[id]; !ok {
					tr.t.Errorf("%s holds %s %s of store %s, which is on %s and is no transfer made out to a store here", df, table, id, st.Code, home)
				}
			}
		}
	}
	if n := tr.checksum(df, st.Code)["stock_line"].Count; n != 0 {
		tr.t.Errorf("%s holds %d stock lines of store %s, which is on %s", df, n, st.Code, home)
	}
}
