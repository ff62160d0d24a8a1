package main

import (
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFindLink(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	page := func(cursor, limit string, from, to float64, answered bool) exchange {
		return exchange{method: "GET", path: "/sync/v5/central_records", query: url.Values{"cursor": {cursor}, "limit": {limit}},
			start: at(from), end: at(to), answered: answered, status: 200}
	}
	push := func(sum uint64, length int64, from, to float64, answered bool) exchange {
		return exchange{method: "POST", path: "/sync/v5/queued_records", contentLength: length, bodySum: sum,
			start: at(from), end: at(to), answered: answered, status: 200}
	}
	ex := []exchange{
		page("0", "500", 0, 2, true),
		page("500", "500", 2, 40, false), // cut: the retry asks for as much again
		page("500", "500", 41, 43, true), // not a refetch: the first never completed
		page("500", "250", 43, 44, true), // a refetch of a page answered in full
		page("1000", "250", 44, 45, false),
		page("1000", "125", 46, 47, true), // a retry that shrank
		push(7, 9000, 50, 52, true),
		push(7, 9000, 52, 53, true), // the same body again after an answer
		push(8, 9000, 53, 60, false),
		push(9, 12000, 61, 62, true), // a retry that grew
	}
	f := findLink(ex)
	if f.requests != 10 || f.unanswered != 3 {
		t.Errorf("requests %d, unanswered %d: want 10, 3", f.requests, f.unanswered)
	}
	if f.refetched != 1 || f.resent != 1 {
		t.Errorf("refetched %d, resent %d: want 1, 1", f.refetched, f.resent)
	}
	if f.retries != 3 || f.notSmaller != 2 {
		t.Errorf("retries %d, not smaller %d: want 3, 2", f.retries, f.notSmaller)
	}
	if w := f.longest.wait(); w != 38*time.Second || f.longest.query.Get("cursor") != "500" || f.longest.answered {
		t.Errorf("longest = %v at cursor %s (answered %v), want the 38 s cut page at 500", w, f.longest.query.Get("cursor"), f.longest.answered)
	}
	if got := f.pageLimits; len(got) != 6 || got[0] != 500 || got[5] != 125 {
		t.Errorf("page limits = %v", got)
	}
}

// TestCutConnection parses the spools of a connection the link dropped in the middle of its second
// answer: the first exchange is timed from its request's first byte to its answer's last, the second is
// unanswered and lasts until the connection ended.
func TestCutConnection(t *testing.T) {
	dir := t.TempDir()
	req := "GET /sync/v5/central_records?cursor=0&limit=2 HTTP/1.1\r\nHost: x\r\n\r\n"
	req2 := "GET /sync/v5/central_records?cursor=2&limit=2 HTTP/1.1\r\nHost: x\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
	cut := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"
	up, down := filepath.Join(dir, "up"), filepath.Join(dir, "down")
	if err := os.WriteFile(up, []byte(req+req2), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(down, []byte(resp+cut), 0o644); err != nil {
		t.Fatal(err)
	}
	var st wireStats
	reqs, err := analyseRequests(up, &st)
	if err != nil {
		t.Fatal(err)
	}
	resps, err := analyseResponses(down, &st)
	if err != nil {
		t.Fatalf("a cut answer is not a parse error: %v", err)
	}
	if len(reqs) != 2 || !reqs[0].complete || !reqs[1].complete || reqs[1].from != int64(len(req)) {
		t.Fatalf("requests = %+v", reqs)
	}
	if len(resps) != 2 || !resps[0].complete || resps[1].complete || resps[0].to != int64(len(resp)) || resps[1].to != int64(len(resp+cut)) {
		t.Fatalf("responses = %+v", resps)
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	upMarks := []mark{{int64(len(req)), at(0)}, {int64(len(req + req2)), at(3)}}
	// The first answer arrives in two reads, the second in one read of part of it.
	downMarks := []mark{{20, at(1)}, {int64(len(resp)), at(2.5)}, {int64(len(resp + cut)), at(4)}}
	ex := exchangesOf(0, reqs, resps, upMarks, downMarks, at(9))
	if len(ex) != 2 {
		t.Fatalf("exchanges = %+v", ex)
	}
	if !ex[0].answered || ex[0].wait() != 2500*time.Millisecond {
		t.Errorf("first exchange: answered %v, wait %v; want true, 2.5s", ex[0].answered, ex[0].wait())
	}
	if ex[1].answered || ex[1].wait() != 6*time.Second || ex[1].query.Get("cursor") != "2" {
		t.Errorf("second exchange: answered %v, wait %v, cursor %s; want false, 6s (to the end of the connection), 2",
			ex[1].answered, ex[1].wait(), ex[1].query.Get("cursor"))
	}
}

func TestPlanShrinksTheSlowLink(t *testing.T) {
	cfg, err := parseFlags([]string{"-budget", "10m", "-sites", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	b := &bench{cfg: cfg, versionSecs: 0.01, planDeadline: time.Now().Add(10 * time.Minute),
		raw:  map[int]rawResult{1_000_000: {secs: 2}, 10_000: {secs: 0.02}, 100_000: {secs: 0.2}},
		fair: map[int]rawResult{1_000_000: {secs: 2}, 10_000: {secs: 0.02}, 100_000: {secs: 0.2}}}
	// Fast enough locally that only the link does not fit: 70 bytes an item and 100 a pushed record make
	// 15 MB, 469 s at 32,000 B/s, with about 90 round trips of 0.6 s besides.
	b.small = &pipelineResult{items: 10_000, pushLines: 10_000, invoices: 100, idleWalls: []float64{0.05},
		importRes: procResult{Wall: sec(0.1)}, syncRes: procResult{Wall: sec(0.2)}, verifySecs: 0.02,
		putRes: procResult{Wall: sec(0.05)}, pushRes: procResult{Wall: sec(0.05)},
		syncWire: wireStats{BytesDown: 700_000}, pushWire: wireStats{BytesUp: 1_010_000}}
	full := slowMargin * b.slowEstimate(slowItems, slowLines)
	if full < 570 {
		t.Fatalf("the slow link's estimate %.0f s should be over the 570 s left", full)
	}
	p := b.makePlan()
	if p.items != 1_000_000 || p.pushLines != 100_000 || p.perSite != 10_000 {
		t.Errorf("items %d, push lines %d, per site %d: want all kept", p.items, p.pushLines, p.perSite)
	}
	if p.slowItems >= slowItems || p.slowLines >= slowLines || p.slowItems < 1 || p.slowLines < 1 {
		t.Errorf("slow link at %d items and %d lines: want both reduced", p.slowItems, p.slowLines)
	}
	if p.estimate > 570 {
		t.Errorf("estimate %.0f s is over the time left", p.estimate)
	}
	if len(p.notes) != 2 || !strings.HasPrefix(p.notes[0], "plan: the full sizes do not fit") || !strings.Contains(p.notes[1], "REDUCED: slow link at 200,000 items and 10,000 invoice lines") {
		t.Errorf("notes = %q", p.notes)
	}
}

func TestRequestsGrowUntilEachTakesItsFewSeconds(t *testing.T) {
	// 500 records take 0.5 s: the requests grow by a quarter each (500, 625, ... ) until one takes 5 s, at
	// 11 requests' worth (0.5 × 1.25^11 ≈ 5.8 s, 5,820 records); the rest go at that size.
	first := 0.0
	page := float64(slowPage)
	for range 11 {
		first += page
		page *= 1.25
	}
	if got := slowRounds(first, 0.5); got != 11 {
		t.Errorf("%.0f records in %v requests, want 11", first, got)
	}
	if got := slowRounds(first+10*page, 0.5); got != 21 {
		t.Errorf("%.0f records in %v requests, want 21", first+10*page, got)
	}
	if got := slowRounds(0, 0.5); got != 0 {
		t.Errorf("no records in %v requests, want none", got)
	}
}
